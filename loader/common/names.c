// SPDX-License-Identifier: GPL-2.0-only
/* The vocabulary (names.h). The namespace labels are one table for the
 * process, refreshed from /run/netns whenever that directory changed. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "json.h"
#include "names.h"
#include "netns.h"
#include "vxray.h"

/* ---- namespaces ---------------------------------------------------------- */

struct ns_label {
	uint32_t inum;
	bool named; /* from /run/netns, now or earlier */
	bool gone;  /* that namespace ended (vx_ns_label_forget) */
	char text[VX_NETNS_NAME_MAX];
};

static struct ns_label labels[VX_NS_LABELS];
static int n_labels;
static uint32_t host_inum;
static struct timespec run_netns_mtime;
static uint64_t checked_at; /* CLOCK_MONOTONIC ns of the last mtime check */

static struct ns_label *label_find(uint32_t inum)
{
	for (int i = 0; i < n_labels; i++)
		if (labels[i].inum == inum && !labels[i].gone)
			return &labels[i];
	return NULL;
}

static struct ns_label *label_slot(uint32_t inum)
{
	struct ns_label *l = label_find(inum);

	if (l)
		return l;
	if (n_labels == VX_NS_LABELS)
		return NULL;
	labels[n_labels].inum = inum;
	return &labels[n_labels++];
}

/* Names come from /run/netns; a namespace deleted since keeps the name it
 * had for the records it left (its inode is not reused while anything of
 * it is alive, and vxray only names what it saw alive). */
static void refresh_names(void)
{
	static char names[VX_MAX_NETNS * 4][VX_NETNS_NAME_MAX];
	int n = vx_netns_list(names, VX_MAX_NETNS * 4);

	for (int i = 0; i < n; i++) {
		uint32_t inum = vx_netns_inum(names[i]);
		struct ns_label *l;

		if (!inum || inum == host_inum || !(l = label_slot(inum)))
			continue;
		l->named = true;
		snprintf(l->text, sizeof(l->text), "%s", names[i]);
	}
}

/* The node's own namespace, init_net: kthreadd's (pid 2, a kernel thread,
 * always there), else pid 1's (a PID namespace of its own hides kthreadd),
 * else vxray's. Not pid 1's first: an init system may live in a
 * namespace of its own, and /proc/1/ns may be closed to a process that
 * entered another namespace. */
static uint32_t find_host_inum(void)
{
	char comm[32] = "";
	struct stat st;
	FILE *f = fopen("/proc/2/comm", "re");

	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	if (!strcmp(comm, "kthreadd\n") && !stat("/proc/2/ns/net", &st))
		return (uint32_t)st.st_ino;
	if (!stat("/proc/1/ns/net", &st))
		return (uint32_t)st.st_ino;
	return vx_netns_inum(NULL);
}

/* At most one stat(2) of /run/netns per 100 ms, whatever the event rate. */
static void names_maybe_changed(bool miss)
{
	uint64_t now = vx_now_ns();
	struct stat st;

	if (!host_inum) {
		host_inum = find_host_inum();
		miss = true;
	}
	if (!miss && now - checked_at < 100000000ULL)
		return;
	checked_at = now;
	if (stat("/run/netns", &st))
		memset(&st, 0, sizeof(st));
	if (!miss && st.st_mtim.tv_sec == run_netns_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == run_netns_mtime.tv_nsec)
		return;
	run_netns_mtime = st.st_mtim;
	refresh_names();
}

uint32_t vx_ns_host_inum(void)
{
	names_maybe_changed(false);
	return host_inum;
}

const char *vx_ns_label(uint32_t inum)
{
	static char overflow[4][VX_NETNS_NAME_MAX];
	static unsigned int next;
	struct ns_label *l;

	names_maybe_changed(false);
	if (inum == host_inum)
		return "host";
	l = label_find(inum);
	if (!l) {
		/* Never seen: perhaps created since the last look. A known
		 * unnamed one waits for /run/netns to change (at most
		 * 100 ms): a drop storm in a container's namespace must not
		 * list /run/netns per event. */
		names_maybe_changed(true);
		l = label_find(inum);
		if (!l)
			l = label_slot(inum);
	}
	if (!l) {
		char *b = overflow[next++ % 4];

		snprintf(b, VX_NETNS_NAME_MAX, "netns:%u", inum);
		return b;
	}
	if (!l->named && !l->text[0])
		snprintf(l->text, sizeof(l->text), "netns:%u", inum);
	return l->text;
}

const char *vx_ns_label_of(const char *netns)
{
	if (netns && netns[0] && vx_netns_is_name(netns))
		return netns;
	return vx_ns_label(vx_netns_inum(netns));
}

void vx_ns_label_forget(uint32_t inum)
{
	struct ns_label *l = label_find(inum);

	if (l && inum != host_inum)
		l->gone = true;
}

/* ---- interfaces ------------------------------------------------------------ */

struct if_name {
	uint32_t inum;
	uint32_t ifindex;
	char name[IF_NAMESIZE];
};

#define MAX_IF_NAMES 128

const char *vx_dev_label(uint32_t inum, uint32_t ifindex)
{
	static struct if_name cache[MAX_IF_NAMES];
	static int n;
	static char unnamed[IF_NAMESIZE + 8];
	char name[IF_NAMESIZE] = "";
	const char *ns = NULL;
	int saved = -1;

	if (!ifindex)
		return "-";
	for (int i = 0; i < n; i++)
		if (cache[i].inum == inum && cache[i].ifindex == ifindex)
			return cache[i].name;
	if (inum != vx_netns_inum(NULL)) {
		ns = vx_ns_label(inum);
		/* Only a namespace with a live name can be entered. */
		if (inum == vx_ns_host_inum() || !strncmp(ns, "netns:", 6) ||
		    vx_netns_inum(ns) != inum || vx_netns_enter(ns, &saved))
			goto unnamed;
	}
	if (!if_indextoname(ifindex, name))
		name[0] = '\0';
	if (ns)
		vx_netns_leave(saved);
	if (!name[0])
		goto unnamed;
	if (n < MAX_IF_NAMES) {
		struct if_name *e = &cache[n++];

		e->inum = inum;
		e->ifindex = ifindex;
		snprintf(e->name, sizeof(e->name), "%s", name);
		return e->name;
	}
	snprintf(unnamed, sizeof(unnamed), "%s", name);
	return unnamed;
unnamed:
	snprintf(unnamed, sizeof(unnamed), "if%u", ifindex);
	return unnamed;
}

/* ---- protocols and addresses ------------------------------------------------ */

const char *vx_proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_GRE: return "gre";
	}
	snprintf(buf, len, "proto%u", p);
	return buf;
}

const char *vx_ethertype_name(uint16_t ethertype)
{
	return ethertype == 0x0806 ? "arp" : "non-ip";
}

/* IPv4 by hand: this runs several times per printed event, and glibc's
 * inet_ntop goes through sprintf. */
const char *vx_addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (family == 4 && len >= INET_ADDRSTRLEN) {
		char *o = buf;

		for (int i = 0; i < 4; i++) {
			if (a[i] >= 100)
				*o++ = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				*o++ = (char)('0' + a[i] / 10 % 10);
			*o++ = (char)('0' + a[i] % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *vx_ip_addr_str(const struct vxd_ip *ip, const uint8_t *a, char *buf, size_t len)
{
	return vx_addr_str(ip->family == 6 ? 6 : 4, a, buf, len);
}

const char *vx_vni_str(uint32_t vni, char *buf, size_t len)
{
	if (vni == VX_VNI_UNKNOWN)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%u", vni);
	return buf;
}

void vx_vni_json(struct jw *w, const char *key, uint32_t vni)
{
	if (vni == VX_VNI_UNKNOWN)
		jw_null(w, key);
	else
		jw_uint(w, key, vni);
}

bool vx_ip_has_ports(const struct vxd_ip *ip)
{
	return ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP || ip->proto == IPPROTO_SCTP;
}

bool vx_proto_is_icmp(uint8_t p)
{
	return p == IPPROTO_ICMP || p == IPPROTO_ICMPV6;
}

void vx_ip_fmt(const struct vxd_ip *ip, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN], dd[INET6_ADDRSTRLEN], pb[16];
	const char *p = vx_proto_name(ip->proto, pb, sizeof(pb));
	const char *lb = ip->family == 6 ? "[" : "", *rb = ip->family == 6 ? "]" : "";
	int fam = ip->family == 6 ? 6 : 4;

	vx_addr_str(fam, ip->saddr, s, sizeof(s));
	vx_addr_str(fam, ip->daddr, dd, sizeof(dd));
	if (vx_ip_has_ports(ip))
		snprintf(out, len, "%s %s%s%s:%u→%s%s%s:%u", p, lb, s, rb, ip->sport, lb, dd, rb,
			 ip->dport);
	else if (vx_proto_is_icmp(ip->proto))
		snprintf(out, len, "%s→%s %s type %u code %u", s, dd, p, ip->sport, ip->dport);
	else
		snprintf(out, len, "%s→%s %s", s, dd, p);
}

void vx_ip_json(struct jw *w, const char *key, const struct vxd_ip *ip)
{
	char a[INET6_ADDRSTRLEN], pb[16];
	int fam = ip->family == 6 ? 6 : 4;

	jw_obj_open(w, key);
	jw_int(w, "ip_version", ip->family);
	jw_str(w, "proto", vx_proto_name(ip->proto, pb, sizeof(pb)));
	jw_str(w, "src", vx_addr_str(fam, ip->saddr, a, sizeof(a)));
	jw_str(w, "dst", vx_addr_str(fam, ip->daddr, a, sizeof(a)));
	if (vx_ip_has_ports(ip)) {
		jw_uint(w, "sport", ip->sport);
		jw_uint(w, "dport", ip->dport);
	} else if (vx_proto_is_icmp(ip->proto)) {
		jw_uint(w, "icmp_type", ip->sport);
		jw_uint(w, "icmp_code", ip->dport);
	}
	jw_obj_close(w);
}

void vx_ip_set(struct vxd_ip *ip, uint8_t family, const uint8_t *s, const uint8_t *d, uint8_t proto,
	       uint16_t sport, uint16_t dport)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	ip->proto = proto;
	memcpy(ip->saddr, s, 16);
	memcpy(ip->daddr, d, 16);
	ip->sport = sport;
	ip->dport = dport;
}

/* ---- datapath hooks ------------------------------------------------------------ */

const char *vx_at_short(uint8_t at)
{
	switch (at) {
	case VX_AT_XDP_UL_IN: return "xdp-in";
	case VX_AT_TC_UL_IN:
	case VX_AT_TC_VX_IN: return "in";
	case VX_AT_TC_UL_OUT:
	case VX_AT_TC_VX_OUT: return "out";
	}
	return "?";
}

const char *vx_at_path(uint8_t at)
{
	switch (at) {
	case VX_AT_XDP_UL_IN: return "xdp/underlay-in";
	case VX_AT_TC_UL_IN: return "tc/underlay-in";
	case VX_AT_TC_UL_OUT: return "tc/underlay-out";
	case VX_AT_TC_VX_IN: return "tc/vxlan-in";
	case VX_AT_TC_VX_OUT: return "tc/vxlan-out";
	}
	return "?";
}

const char *vx_at_what(uint8_t at)
{
	switch (at) {
	case VX_AT_TC_VX_OUT: return "ENCAP";	 /* inner, about to be encapsulated */
	case VX_AT_TC_UL_OUT: return "WIRE-OUT"; /* outer, leaving */
	case VX_AT_XDP_UL_IN:
	case VX_AT_TC_UL_IN: return "WIRE-IN"; /* outer, arriving */
	case VX_AT_TC_VX_IN: return "DECAP";   /* inner, decapsulated */
	}
	return "?";
}

const char *vx_at_kind(uint8_t at)
{
	switch (at) {
	case VX_AT_TC_VX_OUT:
	case VX_AT_TC_UL_OUT: return "ENCAP"; /* leaving through the tunnel */
	case VX_AT_XDP_UL_IN:
	case VX_AT_TC_UL_IN: return "RX"; /* received, not decapsulated yet */
	case VX_AT_TC_VX_IN: return "DECAP";
	}
	return "?";
}

const char *vx_at_capture(uint8_t at)
{
	switch (at) {
	case VX_AT_XDP_UL_IN: return "xdp-ingress";
	case VX_AT_TC_UL_IN:
	case VX_AT_TC_VX_IN: return "tc-ingress";
	case VX_AT_TC_UL_OUT:
	case VX_AT_TC_VX_OUT: return "tc-egress";
	}
	return "?";
}

bool vx_at_leaving(uint8_t at)
{
	return at == VX_AT_TC_UL_OUT || at == VX_AT_TC_VX_OUT;
}

/* ---- netfilter hooks ----------------------------------------------------------- */

enum vx_nf_hook vx_nf_hook_from_num(unsigned int hooknum, unsigned int pf)
{
	/* NFPROTO_NETDEV (5) numbers its hooks INGRESS=0, EGRESS=1 */
	if (pf == 5)
		return hooknum == 0 ? VX_NFH_INGRESS :
		       hooknum == 1 ? VX_NFH_OUTPUT :
				      VX_NFH_UNKNOWN;
	/* NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING, also for bridge and
	 * ARP's IN (0) / OUT (1) / FORWARD (2) */
	switch (hooknum) {
	case 0: return VX_NFH_PREROUTING;
	case 1: return pf == 3 ? VX_NFH_OUTPUT : VX_NFH_INPUT;
	case 2: return VX_NFH_FORWARD;
	case 3: return VX_NFH_OUTPUT;
	case 4: return VX_NFH_POSTROUTING;
	case 5: return VX_NFH_INGRESS;
	}
	return VX_NFH_UNKNOWN;
}

const char *vx_nf_hook_name(enum vx_nf_hook h)
{
	static const char *const n[] = {
		[VX_NFH_UNKNOWN] = "?",	      [VX_NFH_PREROUTING] = "PREROUTING",
		[VX_NFH_INPUT] = "INPUT",     [VX_NFH_FORWARD] = "FORWARD",
		[VX_NFH_OUTPUT] = "OUTPUT",   [VX_NFH_POSTROUTING] = "POSTROUTING",
		[VX_NFH_INGRESS] = "INGRESS",
	};

	return (unsigned int)h < sizeof(n) / sizeof(n[0]) ? n[h] : "?";
}
