// SPDX-License-Identifier: GPL-2.0-only
/* The traffic of `vxray diagnose --probe` (see probe.h): choosing the
 * targets, the child that sends pings and the TCP exchange, and reading
 * its report back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "log.h"
#include "loop.h"
#include "netns.h"
#include "probe.h"
/* Last: it #defines icmp_id, a field name of vxray.h's structs. */
#include <netinet/ip_icmp.h>

#define PROBE_MAGIC 0x76787261u /* "vxra" */

/* ---- targets -------------------------------------------------------------- */

/* A @family address of @dev in @netns (any device when @dev is NULL and
 * @match is the address to look for): IPv4, or a global IPv6 one (a
 * link-local address is the same on no two links and routes nowhere). */
static int netns_addr(const char *netns, const char *dev, int family, uint8_t out[16],
		      const uint8_t *match)
{
	struct ifaddrs *ifa, *p;
	int saved, err = -ENOENT;

	if (vx_netns_enter(netns, &saved))
		return -ENOENT;
	if (getifaddrs(&ifa)) {
		err = -errno;
		vx_netns_leave(saved);
		return err;
	}
	vx_netns_leave(saved);
	for (p = ifa; p && err; p = p->ifa_next) {
		const uint8_t *a;
		size_t n = family == AF_INET ? 4 : 16;

		if (!p->ifa_addr || p->ifa_addr->sa_family != family ||
		    (dev && strcmp(p->ifa_name, dev)))
			continue;
		a = family == AF_INET ?
			    (const uint8_t *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr :
			    (const uint8_t *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
		if (family == AF_INET6 && (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
			continue;
		if (match && memcmp(a, match, n))
			continue;
		memcpy(out, a, n);
		err = 0;
	}
	freeifaddrs(ifa);
	return err;
}

/* Where tunnel end @t's overlay address lives: on its VXLAN device, or,
 * bridged, on the bridge the device is a port of. */
static int overlay_addr(const struct vx_ev_tunnel *t, int family, uint8_t out[16])
{
	if (!netns_addr(t->netns, t->device, family, out, NULL))
		return 0;
	return t->master[0] ? netns_addr(t->netns, t->master, family, out, NULL) : -ENOENT;
}

/* The overlay address to probe between two tunnel ends: IPv4 where both
 * have one, else global IPv6. */
static int overlay_pair(const struct vx_ev_tunnel *t, const struct vx_ev_tunnel *p,
			struct vx_probe_target *g)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	uint8_t src[16];

	for (int i = 0; i < 2; i++) {
		if (!overlay_addr(p, fams[i], g->dst) && !overlay_addr(t, fams[i], src)) {
			g->family = fams[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* The remote VTEP of tunnel @t, for @g's underlay pings. */
static void underlay_target(struct vx_probe_target *g, const struct vx_ev_tunnel *t)
{
	g->ul_family = 0;
	if (inet_pton(AF_INET, t->remote, g->ul_dst) == 1)
		g->ul_family = AF_INET;
	else if (inet_pton(AF_INET6, t->remote, g->ul_dst) == 1)
		g->ul_family = AF_INET6;
}

/* From each chosen namespace's VXLAN device to its peer's overlay address,
 * both ends inside named namespaces: vxray never probes from or to the
 * namespace it runs in. */
void vx_probe_pick_targets(struct vx_probe *pr, const struct vx_evidence *ev)
{
	for (int i = 0; i < ev->n_tun && pr->n_tg < VX_EV_MAX_PROBES; i++) {
		const struct vx_ev_tunnel *t = &ev->tun[i], *p;
		struct vx_probe_target *g = &pr->tg[pr->n_tg];

		if (t->peer < 0)
			continue;
		p = &ev->tun[t->peer];
		if (!t->netns[0] || !p->netns[0] || overlay_pair(t, p, g))
			continue;
		g->tun = i;
		vx_probe_cpy(g->src_ns, sizeof(g->src_ns), t->netns);
		vx_probe_cpy(g->dst_ns, sizeof(g->dst_ns), p->netns);
		g->dst_known = true;
		g->mtu = t->mtu;
		underlay_target(g, t);
		pr->n_tg++;
	}
}

static int n_tunnels_in(const struct vx_evidence *ev, const char *netns)
{
	int n = 0;

	for (int t = 0; t < ev->n_tun; t++)
		n += !strcmp(ev->tun[t].netns, netns);
	return n;
}

/* The targets the user named with --target: sent from their namespace,
 * to an address that may live in one of this host's named namespaces (then
 * the TCP exchange has somewhere to listen) or anywhere else (pings only).
 * Returns -ENOENT with the sentence printed when a source namespace does
 * not exist. */
int vx_probe_user_targets(struct vx_probe *pr, const struct vx_target_spec *specs, int n_specs,
			  const struct vx_evidence *ev, const char diag_names[][VX_NETNS_NAME_MAX],
			  int n_diag)
{
	char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n = vx_netns_list(names, VX_MAX_NETNS);

	for (int i = 0; i < n_specs && pr->n_tg < VX_EV_MAX_PROBES; i++) {
		const struct vx_target_spec *s = &specs[i];
		struct vx_probe_target *g = &pr->tg[pr->n_tg];
		uint8_t any[16];
		int saved;

		memset(g, 0, sizeof(*g));
		if (s->netns[0] && vx_netns_enter(s->netns, &saved)) {
			pr_err("--target: no network namespace '%s' (see `ip netns list`)",
			       s->netns);
			return -ENOENT;
		}
		if (s->netns[0])
			vx_netns_leave(saved);
		vx_probe_cpy(g->src_ns, sizeof(g->src_ns), s->netns);
		g->family = s->family;
		memcpy(g->dst, s->addr, sizeof(g->dst));
		g->tun = -1;
		for (int t = 0; t < ev->n_tun && g->tun < 0; t++)
			if (!strcmp(ev->tun[t].netns, s->netns))
				g->tun = t;
		g->mtu = g->tun >= 0 ? ev->tun[g->tun].mtu : 0;
		/* The only tunnel of the namespace leads to the target's VTEP;
		 * with several, which one does is not known. */
		if (g->tun >= 0 && n_tunnels_in(ev, s->netns) == 1)
			underlay_target(g, &ev->tun[g->tun]);
		/* The same overlay address may exist in many namespaces (labs
		 * side by side): the diagnosed ones first, then the others. */
		for (int k = 0; k < n_diag && !g->dst_known; k++) {
			if (diag_names[k][0] &&
			    !netns_addr(diag_names[k], NULL, s->family, any, s->addr)) {
				vx_probe_cpy(g->dst_ns, sizeof(g->dst_ns), diag_names[k]);
				g->dst_known = true;
			}
		}
		for (int k = 0; k < n && !g->dst_known; k++) {
			if (!netns_addr(names[k], NULL, s->family, any, s->addr)) {
				vx_probe_cpy(g->dst_ns, sizeof(g->dst_ns), names[k]);
				g->dst_known = true;
			}
		}
		pr->n_tg++;
	}
	return 0;
}

/* ---- the child ----------------------------------------------------------- */

/* The target's address, printable. */
const char *vx_probe_target_addr(const struct vx_probe_target *g, char *buf, size_t len)
{
	return inet_ntop(g->family, g->dst, buf, (socklen_t)len) ? buf : "?";
}

static uint16_t csum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct ping_payload {
	uint64_t sent_ns;
	uint32_t target;
	uint32_t magic;
};

static int socket_in(const char *netns, int domain, int type, int proto)
{
	int saved, fd;

	if (vx_netns_enter(netns, &saved))
		return -1;
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	vx_netns_leave(saved);
	return fd;
}

/* Echo requests: ICMP over a raw socket; ICMPv6 likewise, where the
 * kernel fills in the checksum (RFC 3542: always on for ICMPv6 raw
 * sockets). @size is the IP payload for IPv4 and IPv6 alike. */
static void send_ping(int fd, const struct vx_probe_target *g, int idx, uint16_t seq, size_t size,
		      bool df)
{
	static uint8_t pkt[9000];
	struct icmphdr *h = (struct icmphdr *)pkt;
	struct ping_payload pl = { .sent_ns = vx_now_ns(),
				   .target = (uint32_t)idx,
				   .magic = PROBE_MAGIC };
	struct sockaddr_storage to = { 0 };
	socklen_t tolen;

	if (size < sizeof(*h) + sizeof(pl))
		size = sizeof(*h) + sizeof(pl);
	if (size > sizeof(pkt))
		size = sizeof(pkt);
	memset(pkt, 0, size);
	h->type = g->family == AF_INET6 ? 128 /* ICMP6_ECHO_REQUEST */ : ICMP_ECHO;
	h->un.echo.id = htons((uint16_t)(getpid() & 0xffff));
	h->un.echo.sequence = htons(seq);
	memcpy(pkt + sizeof(*h), &pl, sizeof(pl));
	if (g->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
		int pmtu = df ? IPV6_PMTUDISC_PROBE : IPV6_PMTUDISC_DONT;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, g->dst, 16);
		tolen = sizeof(*a);
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;
		int pmtu = df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, g->dst, 4);
		tolen = sizeof(*a);
		h->checksum = csum(pkt, size);
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	sendto(fd, pkt, size, 0, (struct sockaddr *)&to, tolen);
}

/* An ICMP "fragmentation needed" (ICMPv6 "packet too big") about one of
 * target @g's pings: the error quotes the ping's IP header (to @g's
 * address) and echo header (this process's id). @p is the ICMP message,
 * @n its length. Reported as "F idx mtu"; true when it was one. */
static bool too_big_report(const uint8_t *p, size_t n, const struct vx_probe_target *g, int idx,
			   int out)
{
	bool v6 = g->family == AF_INET6;
	size_t ihl = v6 ? 40 : 0, alen = v6 ? 16 : 4;
	uint32_t mtu;
	uint16_t id;
	char line[64];
	int len;

	if (n < 8 + 20 || p[0] != (v6 ? 2 : 3) || (!v6 && p[1] != 4))
		return false;
	if (v6) {
		mtu = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
		if (n < 8 + 40 + 8 || p[8 + 6] != IPPROTO_ICMPV6 || p[8 + 40] != 128)
			return true;
	} else {
		mtu = (uint32_t)p[6] << 8 | p[7];
		ihl = (size_t)(p[8] & 0x0f) * 4;
		if (ihl < 20 || n < 8 + ihl + 8 || p[8 + 9] != IPPROTO_ICMP ||
		    p[8 + ihl] != ICMP_ECHO)
			return true;
	}
	id = (uint16_t)(p[8 + ihl + 4] << 8 | p[8 + ihl + 5]);
	if (id != (getpid() & 0xffff) || memcmp(p + 8 + (v6 ? 24 : 16), g->dst, alen))
		return true;
	len = snprintf(line, sizeof(line), "F %d %u\n", idx, mtu);
	if (write(out, line, (size_t)len) < 0)
		pr_debug("probe: cannot report");
	return true;
}

/* Read echo replies on @fd, target @idx's socket, until none is waiting;
 * report each of that target's. Every raw socket of a namespace gets every
 * reply, so the target in the payload decides. An IPv4 raw socket delivers
 * the IP header, an ICMPv6 one does not. */
static void read_replies(int fd, int idx, const struct vx_probe_target *g, int out, uint64_t t0)
{
	int family = g->family;
	uint8_t buf[9100];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct iphdr *ip = (const struct iphdr *)buf;
		const struct icmphdr *h;
		struct ping_payload pl;
		size_t hl;
		char line[96];
		int len;

		if (n <= 0)
			return;
		hl = family == AF_INET6 ? 0 : (size_t)ip->ihl * 4;
		if ((size_t)n > hl && too_big_report(buf + hl, (size_t)n - hl, g, idx, out))
			continue;
		if ((size_t)n < hl + sizeof(*h) + sizeof(pl))
			continue;
		h = (const struct icmphdr *)(buf + hl);
		if (h->type != (family == AF_INET6 ? 129 /* ICMP6_ECHO_REPLY */ : ICMP_ECHOREPLY) ||
		    ntohs(h->un.echo.id) != (getpid() & 0xffff))
			continue;
		memcpy(&pl, buf + hl + sizeof(*h), sizeof(pl));
		if (pl.magic != PROBE_MAGIC || pl.target != (uint32_t)idx)
			continue;
		len = snprintf(line, sizeof(line), "R %u %.3f %.1f %zu\n", pl.target,
			       (double)(pl.sent_ns - t0) / 1e6,
			       (double)(vx_now_ns() - pl.sent_ns) / 1e3, (size_t)n - hl);
		if (write(out, line, (size_t)len) < 0)
			return;
	}
}

/* One short TCP exchange: @bytes from src_ns to a listener vxray opens in
 * dst_ns on the overlay address, bounded by @timeout_ms. */
static void tcp_exchange(const struct vx_probe_target *g, int idx, size_t bytes, int timeout_ms,
			 int out)
{
	struct sockaddr_storage a = { 0 };
	socklen_t alen =
		g->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int lfd = socket_in(g->dst_ns, g->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int cfd = socket_in(g->src_ns, g->family, SOCK_STREAM | SOCK_NONBLOCK, 0), afd = -1;
	uint64_t end = vx_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	size_t sent = 0, recvd = 0;
	static char buf[65536];
	char line[96];
	int len;

	a.ss_family = (sa_family_t)g->family;
	if (g->family == AF_INET6)
		memcpy(&((struct sockaddr_in6 *)&a)->sin6_addr, g->dst, 16);
	else
		memcpy(&((struct sockaddr_in *)&a)->sin_addr, g->dst, 4);
	if (lfd < 0 || cfd < 0 || bind(lfd, (struct sockaddr *)&a, alen) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		goto out;
	if (connect(cfd, (struct sockaddr *)&a, alen) && errno != EINPROGRESS)
		goto out;
	memset(buf, 'v', sizeof(buf));
	while (recvd < bytes && vx_now_ns() < end && !vx_exiting) {
		struct pollfd p[2] = { { .fd = cfd, .events = sent < bytes ? POLLOUT : 0 },
				       { .fd = afd >= 0 ? afd : lfd, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, 50) < 0 && errno != EINTR)
			break;
		if (afd < 0 && (p[1].revents & POLLIN))
			afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		else if (afd >= 0 && (p[1].revents & POLLIN)) {
			n = read(afd, buf, sizeof(buf));
			if (n <= 0)
				break;
			recvd += (size_t)n;
		}
		if (p[0].revents & POLLOUT) {
			size_t want = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);

			n = send(cfd, buf, want, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				break;
		}
	}
out:
	len = snprintf(line, sizeof(line), "T %d %zu %zu\n", idx, sent, recvd);
	if (write(out, line, (size_t)len) < 0)
		pr_debug("probe: cannot report");
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
}

/* The size sweep (probe.h): DF pings from just under the full size down,
 * largest first, so that a queue overflowing under the burst loses the
 * last, smallest ones rather than faking a size limit. Each is reported
 * as "Z idx size" (IP payload bytes). */
static void send_sweep(int fd, const struct vx_probe_target *g, int idx, uint16_t *seq, int out)
{
	size_t hdr = g->family == AF_INET6 ? 40 : 20, size, coarse = 0;
	char line[64];
	int len;

	if (fd < 0 || g->mtu < hdr + VX_PROBE_SWEEP_FLOOR + VX_PROBE_SWEEP_STEP)
		return;
	size = g->mtu - hdr;
	for (int k = 0; k < VX_PROBE_SWEEP; k++) {
		if (k == VX_PROBE_SWEEP_FINE && size > VX_PROBE_SWEEP_FLOOR)
			coarse = (size - VX_PROBE_SWEEP_FLOOR) /
				 (VX_PROBE_SWEEP - VX_PROBE_SWEEP_FINE);
		size -= coarse > VX_PROBE_SWEEP_STEP ? coarse : VX_PROBE_SWEEP_STEP;
		if (size < VX_PROBE_SWEEP_FLOOR)
			break;
		send_ping(fd, g, idx, (*seq)++, size, true);
		len = snprintf(line, sizeof(line), "Z %d %zu\n", idx, size);
		if (write(out, line, (size_t)len) < 0)
			_exit(1);
	}
}

/* The sender's route MTU toward target @g, as PMTU discovery left it
 * after the burst (a connected UDP socket's IP_MTU): "P idx mtu". Where
 * the path's ICMP works, the kernel has learned the smaller MTU by then
 * (the VXLAN driver hands it on to the overlay route); in a black hole it
 * has not. */
static void report_route_mtu(const struct vx_probe_target *g, int idx, int out)
{
	struct sockaddr_storage a = { 0 };
	socklen_t alen =
		g->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket_in(g->src_ns, g->family, SOCK_DGRAM, 0), mtu = 0;
	socklen_t mlen = sizeof(mtu);
	char line[64];
	int len;

	if (fd < 0)
		return;
	a.ss_family = (sa_family_t)g->family;
	if (g->family == AF_INET6) {
		memcpy(&((struct sockaddr_in6 *)&a)->sin6_addr, g->dst, 16);
		((struct sockaddr_in6 *)&a)->sin6_port = htons(9);
	} else {
		memcpy(&((struct sockaddr_in *)&a)->sin_addr, g->dst, 4);
		((struct sockaddr_in *)&a)->sin_port = htons(9);
	}
	if (!connect(fd, (struct sockaddr *)&a, alen) &&
	    !getsockopt(fd, g->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
			g->family == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu, &mlen) &&
	    mtu > 0) {
		len = snprintf(line, sizeof(line), "P %d %d\n", idx, mtu);
		if (write(out, line, (size_t)len) < 0)
			pr_debug("probe: cannot report");
	}
	close(fd);
}

/* The probe, in a child process so the engines keep draining: small pings
 * to every target every 200 ms for the whole window; in the middle, three
 * full-size pings (the overlay MTU, DF), the size sweep and one 256 KiB
 * TCP exchange per target. All of it between addresses of the lab's own
 * namespaces. */
static void probe_child(const struct vx_probe *pr, int out, uint64_t window_ns)
{
	uint64_t t0 = vx_now_ns(), end = t0 + window_ns - 700 * NSEC_PER_MSEC;
	uint64_t mid = t0 + window_ns * 2 / 5, next = t0;
	int fds[VX_EV_MAX_PROBES], ulfds[VX_EV_MAX_PROBES];
	struct vx_probe_target ul[VX_EV_MAX_PROBES];
	bool mid_done = false;
	uint16_t seq = 0;
	char line[64];
	int len;

	for (int i = 0; i < pr->n_tg; i++) {
		fds[i] = socket_in(pr->tg[i].src_ns, pr->tg[i].family, SOCK_RAW,
				   pr->tg[i].family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		/* The remote VTEP, pinged as a target of its own. */
		ul[i] = pr->tg[i];
		ul[i].family = pr->tg[i].ul_family;
		memcpy(ul[i].dst, pr->tg[i].ul_dst, sizeof(ul[i].dst));
		ulfds[i] = ul[i].family ? socket_in(ul[i].src_ns, ul[i].family, SOCK_RAW,
						    ul[i].family == AF_INET6 ? IPPROTO_ICMPV6 :
									       IPPROTO_ICMP) :
					  -1;
	}
	while (vx_now_ns() < end && !vx_exiting) {
		uint64_t now = vx_now_ns();

		if (now >= next) {
			for (int i = 0; i < pr->n_tg; i++) {
				if (fds[i] < 0)
					continue;
				send_ping(fds[i], &pr->tg[i], i, seq, 64, false);
				len = snprintf(line, sizeof(line), "S %d\n", i);
				if (write(out, line, (size_t)len) < 0)
					_exit(1);
				if (ulfds[i] < 0)
					continue;
				send_ping(ulfds[i], &ul[i], VX_PROBE_UL + i, seq, 64, false);
				len = snprintf(line, sizeof(line), "S %d\n", VX_PROBE_UL + i);
				if (write(out, line, (size_t)len) < 0)
					_exit(1);
			}
			seq++;
			next += 200 * NSEC_PER_MSEC;
		}
		if (!mid_done && now >= mid) {
			mid_done = true;
			if (write(out, "M 0\n", 4) < 0)
				_exit(1);
			for (int i = 0; i < pr->n_tg; i++) {
				/* Full size: the overlay MTU less the IP header. */
				size_t big =
					pr->tg[i].mtu - (pr->tg[i].family == AF_INET6 ? 40 : 20);

				for (int k = 0; k < 3 && fds[i] >= 0 && pr->tg[i].mtu > 128; k++) {
					send_ping(fds[i], &pr->tg[i], i, seq++, big, true);
					len = snprintf(line, sizeof(line), "B %d\n", i);
					if (write(out, line, (size_t)len) < 0)
						_exit(1);
				}
				send_sweep(fds[i], &pr->tg[i], i, &seq, out);
				if (pr->tg[i].dst_known)
					tcp_exchange(&pr->tg[i], i, 256 * 1024, 1500, out);
				report_route_mtu(&pr->tg[i], i, out);
				for (int k = 0; k < pr->n_tg; k++)
					if (fds[k] >= 0)
						read_replies(fds[k], k, &pr->tg[k], out, t0);
			}
			if (write(out, "M 1\n", 4) < 0)
				_exit(1);
			next = vx_now_ns();
		}
		{
			struct pollfd p[2 * VX_EV_MAX_PROBES];
			int n = pr->n_tg;

			for (int i = 0; i < n; i++) {
				p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
				p[n + i] = (struct pollfd){ .fd = ulfds[i], .events = POLLIN };
			}
			poll(p, (nfds_t)(2 * n), 20);
			for (int i = 0; i < n; i++) {
				if (fds[i] >= 0 && (p[i].revents & POLLIN))
					read_replies(fds[i], i, &pr->tg[i], out, t0);
				if (ulfds[i] >= 0 && (p[n + i].revents & POLLIN))
					read_replies(ulfds[i], VX_PROBE_UL + i, &ul[i], out, t0);
			}
		}
	}
	_exit(0);
}

/* ---- its report ---------------------------------------------------------- */

static int sweep_index(const struct vx_probe_target *g, size_t size)
{
	for (int k = 0; k < g->n_sw; k++)
		if (g->sw_size[k] == size)
			return k;
	return -1;
}

static void sweep_sent(struct vx_probe_target *g, size_t size)
{
	int k = sweep_index(g, size);

	if (k < 0 && g->n_sw < VX_PROBE_SWEEP && size <= UINT16_MAX) {
		k = g->n_sw++;
		g->sw_size[k] = (uint16_t)size;
	}
	if (k >= 0 && g->sw_sent[k] < UINT8_MAX)
		g->sw_sent[k]++;
}

static bool sweep_got(struct vx_probe_target *g, size_t size)
{
	int k = sweep_index(g, size);

	if (k < 0)
		return false;
	if (g->sw_got[k] < UINT8_MAX)
		g->sw_got[k]++;
	return true;
}

/* A line about target @g's underlay pings: sent, or answered. */
static void underlay_line(struct vx_probe_target *g, const char *line)
{
	unsigned idx;
	double at, rtt;
	size_t size;

	if (line[0] == 'S')
		g->ul_sent++;
	else if (line[0] == 'R' && sscanf(line, "R %u %lf %lf %zu", &idx, &at, &rtt, &size) == 4) {
		g->ul_received++;
		if (g->n_ul_rtt < VX_PROBE_MAX_RTT)
			g->ul_rtt_us[g->n_ul_rtt++] = rtt;
	}
}

void vx_probe_parse(struct vx_probe *pr)
{
	char *save = NULL, *line;

	pr->buf[pr->len] = '\0';
	for (line = strtok_r(pr->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned idx;
		double at, rtt;
		size_t size, a, b;
		struct vx_probe_target *g;

		if (sscanf(line + 1, " %u", &idx) != 1)
			continue;
		if (idx >= VX_PROBE_UL && idx - VX_PROBE_UL < (unsigned)pr->n_tg) {
			underlay_line(&pr->tg[idx - VX_PROBE_UL], line);
			continue;
		}
		if (idx >= (unsigned)pr->n_tg)
			continue;
		g = &pr->tg[idx];
		if (line[0] == 'S') {
			g->sent++;
		} else if (line[0] == 'B') {
			g->big_sent++;
		} else if (line[0] == 'Z' && sscanf(line, "Z %u %zu", &idx, &size) == 2) {
			sweep_sent(g, size);
		} else if (line[0] == 'P' && sscanf(line, "P %u %zu", &idx, &size) == 2) {
			g->route_mtu = (uint32_t)size;
		} else if (line[0] == 'F' && sscanf(line, "F %u %zu", &idx, &size) == 2) {
			g->too_big++;
			g->too_big_mtu = (uint32_t)size;
		} else if (line[0] == 'R' &&
			   sscanf(line, "R %u %lf %lf %zu", &idx, &at, &rtt, &size) == 4) {
			/* A swept size, else one of the full-size pings. */
			if (size > 200 && sweep_got(g, size))
				continue;
			if (size > 200) {
				g->big_received++;
				continue;
			}
			g->received++;
			if (g->n_rtt < VX_PROBE_MAX_RTT) {
				g->rtt_ms_at[g->n_rtt] = at;
				g->rtt_us[g->n_rtt++] = rtt;
			}
		} else if (line[0] == 'T' && sscanf(line, "T %u %zu %zu", &idx, &a, &b) == 3) {
			g->tcp_sent = a;
			g->tcp_received = b;
			g->tcp_done = true;
		}
	}
}

int vx_probe_start(struct vx_probe *pr, uint64_t window_ns)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	pr->pid = fork();
	if (pr->pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pr->pid) {
		int fl = fcntl(pfd[1], F_GETFL);

		/* Bounded even when vxray is killed: the probe dies with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);

		close(pfd[0]);
		fcntl(pfd[1], F_SETFL, fl & ~O_NONBLOCK);
		probe_child(pr, pfd[1], window_ns);
	}
	close(pfd[1]);
	pr->fd = pfd[0];
	return 0;
}

int vx_probe_fd(const struct vx_probe *pr)
{
	return pr->fd;
}

/* The burst marks ("M 0" before, "M 1" after), on whole lines as they
 * arrive. */
int vx_probe_read(struct vx_probe *pr, vx_probe_mark_cb cb, void *ctx)
{
	ssize_t n = read(pr->fd, pr->buf + pr->len, sizeof(pr->buf) - 1 - pr->len);
	char *nl;

	if (n <= 0)
		return 0;
	pr->len += (size_t)n;
	while ((nl = memchr(pr->buf + pr->scanned, '\n', pr->len - pr->scanned))) {
		const char *line = pr->buf + pr->scanned;

		if (cb && !strncmp(line, "M 0\n", 4))
			cb(ctx, VX_PROBE_BURST_BEGIN);
		else if (cb && !strncmp(line, "M 1\n", 4))
			cb(ctx, VX_PROBE_BURST_END);
		pr->scanned = (size_t)(nl - pr->buf) + 1;
	}
	return 0;
}

void vx_probe_stop(struct vx_probe *pr)
{
	int status;

	if (pr->pid <= 0)
		return;
	for (int i = 0; i < 40 && waitpid(pr->pid, &status, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(pr->pid, &status, WNOHANG) == 0) {
		kill(pr->pid, SIGKILL);
		waitpid(pr->pid, &status, 0);
	}
	/* The child is gone: read what is left in the pipe. */
	while (pr->len < sizeof(pr->buf) - 1) {
		ssize_t n = read(pr->fd, pr->buf + pr->len, sizeof(pr->buf) - 1 - pr->len);

		if (n <= 0)
			break;
		pr->len += (size_t)n;
	}
	close(pr->fd);
	pr->pid = 0;
	vx_probe_parse(pr);
}
