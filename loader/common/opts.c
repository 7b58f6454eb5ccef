// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opts.h"
#include "vxray.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

int vx_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "ms", NSEC_PER_MSEC },
		{ "s", NSEC_PER_SEC },
		{ "", NSEC_PER_SEC },
		{ "m", 60 * NSEC_PER_SEC },
		{ "h", 3600 * NSEC_PER_SEC },
	};
	unsigned long long whole = 0, frac = 0, frac_div = 1;
	const char *p = s;

	if (!s || !*s)
		return ERR("empty duration: give a number with a unit, e.g. 10s, 500ms, 2m");
	if (*p == '-')
		return ERR("duration '%s' is negative: give a positive time such as 10s", s);
	if (!isdigit((unsigned char)*p))
		return ERR("duration '%s' is not a number: use e.g. 10s, 500ms, 2m or 1h", s);
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (unsigned)(*p++ - '0');
		if (whole > 1000000000000ULL)
			return ERR("duration '%s' is absurdly long: the maximum is 7 days", s);
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return ERR("duration '%s' has no digits after the decimal point", s);
		while (isdigit((unsigned char)*p)) {
			if (frac_div < 1000000000ULL) {
				frac = frac * 10 + (unsigned)(*p - '0');
				frac_div *= 10;
			}
			p++;
		}
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		long double v;

		if (strcmp(p, units[i].suffix))
			continue;
		v = ((long double)whole + (long double)frac / frac_div) * units[i].mult;
		if (v > (long double)VX_MAX_DURATION_NS)
			return ERR("duration '%s' is absurdly long: the maximum is 7 days", s);
		if (v < 1000000.0L)
			return ERR("duration '%s' is too short: the minimum is 1ms", s);
		*ns = (uint64_t)v;
		return 0;
	}
	return ERR("duration '%s' has an unknown unit '%s': use ns, us, ms, s, m or h", s, p);
}

bool vx_valid_netns_name(const char *s)
{
	size_t n = strlen(s);

	/* `ip netns` names are files in /run/netns: no slashes, no dot names. */
	if (n == 0 || n >= VX_NETNS_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strchr(s, '/') == NULL;
}

int vx_netns_spec_pid(const char *spec)
{
	long v = 0;

	if (strncmp(spec, "pid:", 4) || !spec[4])
		return 0;
	for (const char *p = spec + 4; *p; p++) {
		if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 0x7fffffff)
			return 0;
	}
	return (int)v;
}

bool vx_netns_is_name(const char *spec)
{
	return spec[0] != '/' && strncmp(spec, "pid:", 4);
}

int vx_parse_netns(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	static const char *const dirs[] = { "/run/netns/", "/var/run/netns/" };
	size_t n = strlen(s);

	if (!strncmp(s, "pid:", 4)) {
		if (!vx_netns_spec_pid(s))
			return ERR("network namespace '%s': pid: takes the id of a running "
				   "process, such as pid:1234",
				   s);
		snprintf(out, outlen, "%s", s);
		return 0;
	}
	if (s[0] == '/') {
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			const char *name = s + strlen(dirs[i]);

			if (!strncmp(s, dirs[i], strlen(dirs[i])) && vx_valid_netns_name(name)) {
				snprintf(out, outlen, "%s", name);
				return 0;
			}
		}
		if (n >= VX_NETNS_NAME_MAX || n >= outlen)
			return ERR("network namespace path '%s' is too long (at most %d "
				   "characters): bind-mount it under /run/netns and give its name",
				   s, VX_NETNS_NAME_MAX - 1);
		snprintf(out, outlen, "%s", s);
		return 0;
	}
	if (strchr(s, '/'))
		return ERR("network namespace '%s' is neither a name (no '/') nor an absolute "
			   "path: give a name from `ip netns list`, a path such as "
			   "/proc/PID/ns/net, or pid:PID",
			   s);
	if (!vx_valid_netns_name(s))
		return ERR("'%s' is not a valid network namespace name: give a name from "
			   "`ip netns list`, a path such as /proc/PID/ns/net, or pid:PID",
			   s);
	snprintf(out, outlen, "%s", s);
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

int vx_parse_iface_spec(const char *s, struct vx_iface_spec *out, char *err, size_t errlen)
{
	/* The interface follows the first ':' of a name, the one after
	 * pid:PID, and the last of a path (an interface holds no ':'). */
	const char *colon = s[0] == '/'		   ? strrchr(s, ':') :
			    !strncmp(s, "pid:", 4) ? strchr(s + 4, ':') :
						     strchr(s, ':');

	memset(out, 0, sizeof(*out));
	if (colon) {
		char ns[VX_NETNS_NAME_MAX], why[200];
		size_t nslen = (size_t)(colon - s);

		if (nslen == 0 || nslen >= VX_NETNS_NAME_MAX)
			return ERR(
				"interface '%s': the namespace before ':' must be 1-%d characters",
				s, VX_NETNS_NAME_MAX - 1);
		memcpy(ns, s, nslen);
		ns[nslen] = '\0';
		if (vx_netns_is_name(ns) && !vx_valid_netns_name(ns))
			return ERR("interface '%s': '%s' is not a valid network namespace name", s,
				   ns);
		if (vx_parse_netns(ns, out->netns, sizeof(out->netns), why, sizeof(why)))
			return ERR("interface '%s': %s", s, why);
		s = colon + 1;
	}
	if (!valid_ifname(s))
		return ERR(
			"interface name '%s' is not valid: 1-%d characters, no '/', ':' or spaces",
			s, IF_NAMESIZE - 1);
	strcpy(out->name, s);
	return 0;
}

int vx_parse_sample(const char *s, uint8_t *out, char *err, size_t errlen)
{
	uint32_t n;

	if (!strcmp(s, "auto")) {
		*out = VX_SAMPLE_DEFAULT;
		return 0;
	}
	if (vx_parse_u32(s, "--sample", 1, 1u << VX_SAMPLE_SHIFT_MAX, &n, err, errlen) ||
	    (n & (n - 1))) {
		snprintf(err, errlen,
			 "--sample '%s' is not a sampling: give auto, or 1 in N packets with N a "
			 "power of two from 1 (every packet) to %u",
			 s, 1u << VX_SAMPLE_SHIFT_MAX);
		return -EINVAL;
	}
	*out = (uint8_t)vx_log2_32(n);
	return 0;
}

const char *vx_sample_str(uint8_t sample, char *buf, size_t len)
{
	if (sample & VX_SAMPLE_AUTO)
		snprintf(buf, len, "auto");
	else if (!sample)
		snprintf(buf, len, "1");
	else
		snprintf(buf, len, "1/%u", 1u << sample);
	return buf;
}

int vx_parse_u32(const char *s, const char *what, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return ERR("%s '%s' is not a number: give a whole number from %u to %u", what,
			   s ? s : "", min, max);
	errno = 0;
	v = strtoull(s, &end, 0);
	if ((errno && errno != ERANGE) || *end)
		return ERR("%s '%s' is not a number: give a whole number from %u to %u", what, s,
			   min, max);
	/* All digits but past 2^64: a number, just far out of range. */
	if (errno == ERANGE || v < min || v > max)
		return ERR("%s %s is out of range: give a whole number from %u to %u", what, s, min,
			   max);
	*out = (uint32_t)v;
	return 0;
}

int vx_parse_vni(const char *s, uint32_t *vni, char *err, size_t errlen)
{
	/* VNIs are 24 bits (RFC 7348). */
	return vx_parse_u32(s, "VNI", 0, 0xffffff, vni, err, errlen);
}

int vx_parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	uint32_t v;
	int ret = vx_parse_u32(s, "port", 1, 65535, &v, err, errlen);

	if (!ret)
		*port = (uint16_t)v;
	return ret;
}

int vx_parse_proto(const char *s, int *proto, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{ "tcp", IPPROTO_TCP },	      { "udp", IPPROTO_UDP },	   { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "icmp6", IPPROTO_ICMPV6 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*proto = names[i].proto;
			return 0;
		}
	}
	return ERR("protocol '%s' is not known: use tcp, udp, icmp or icmpv6", s);
}

/* "ADDR", "NETNS:ADDR" or "NETNS:[ADDR]": an address that parses as it
 * stands is taken whole (an IPv6 literal holds colons), then a bracketed
 * one, then the namespace before the first colon. */
int vx_parse_target(const char *s, struct vx_target_spec *out, char *err, size_t errlen)
{
	char addr[64];
	const char *colon, *a = s;
	size_t n;

	memset(out, 0, sizeof(*out));
	colon = strchr(s, ':');
	if (inet_pton(AF_INET, s, out->addr) == 1 || inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = strchr(s, ':') ? AF_INET6 : AF_INET;
		return 0;
	}
	if (colon && colon != s && !strchr(s, '[')) {
		a = colon + 1;
	} else if (colon && strstr(s, ":[")) {
		colon = strstr(s, ":[");
		a = colon + 1;
	} else if (*s != '[') {
		return ERR("--target '%s' is not an address: give ADDR or NETNS:ADDR, such as "
			   "172.16.0.2 or vxlab-a:172.16.0.2 (NETNS:[fd10::2] for IPv6)",
			   s);
	}
	if (a != s) {
		n = (size_t)(colon - s);
		if (n >= VX_NETNS_NAME_MAX)
			return ERR(
				"--target '%s': the namespace before ':' must be 1-%d characters",
				s, VX_NETNS_NAME_MAX - 1);
		memcpy(out->netns, s, n);
		if (!vx_valid_netns_name(out->netns))
			return ERR("--target '%s': '%s' is not a valid network namespace name", s,
				   out->netns);
	}
	n = strlen(a);
	if (*a == '[') {
		if (n < 3 || a[n - 1] != ']')
			return ERR("--target '%s': a bracketed address must end with ']'", s);
		a++;
		n -= 2;
	}
	if (n >= sizeof(addr))
		return ERR("--target '%s': the address is too long", s);
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return ERR("--target '%s': '%s' is not an IPv4 or IPv6 address", s, addr);
	return 0;
}

int vx_parse_host(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char a[16];
	int af = AF_INET;

	if (inet_pton(AF_INET, s, a) != 1) {
		af = AF_INET6;
		if (inet_pton(AF_INET6, s, a) != 1)
			return ERR(
				"--host '%s' is not an IPv4 or IPv6 address: give one such as 10.0.0.1 or fd00::1",
				s);
	}
	if (!inet_ntop(af, a, out, (socklen_t)outlen))
		return ERR("--host '%s': no room to store the address", s);
	return 0;
}

const char *vx_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns % (3600 * NSEC_PER_SEC) == 0 && ns)
		snprintf(buf, len, "%lluh", (unsigned long long)(ns / (3600 * NSEC_PER_SEC)));
	else if (ns % (60 * NSEC_PER_SEC) == 0 && ns)
		snprintf(buf, len, "%llum", (unsigned long long)(ns / (60 * NSEC_PER_SEC)));
	else if (ns % NSEC_PER_SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / NSEC_PER_SEC));
	else if (ns % NSEC_PER_MSEC == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / NSEC_PER_MSEC));
	else
		snprintf(buf, len, "%.3fs", (double)ns / NSEC_PER_SEC);
	return buf;
}
