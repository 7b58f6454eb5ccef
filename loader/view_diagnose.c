// SPDX-License-Identifier: GPL-2.0-only
/* `vxray diagnose`: watch the chosen namespaces for a window with every
 * engine at once, fill a struct vx_evidence and print what findings.c
 * concludes from it. Evidence sources:
 *   - the inventory: VXLAN devices, their peers (A's remote VTEP is B's
 *     local), MTUs;
 *   - the VXLAN and underlay devices' own packet counters (/proc/net/dev in
 *     each namespace): a VXLAN device's tx is what it encapsulated, its rx
 *     what it decapsulated;
 *   - kernel drops with reason, location and device (dropsrc.c);
 *   - netfilter rule counters before and after (policy.c: nftables,
 *     iptables-nft, iptables-legacy), which name the rule behind a
 *     NETFILTER_DROP;
 *   - conntrack count/max/failures (conntrack.c);
 *   - TCP retransmits per tunnel (retranssrc.c);
 *   - with --probe, overlay round trips measured by vxray's own pings,
 *     against --baseline FILE or the window's first third.
 * --probe is the only thing that sends traffic; see probe_run(). */
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
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "cmd.h"
#include "conntrack.h"
#include "datapath.h"
#include "dropsrc.h"
#include "findings.h"
#include "hist.h"
#include "inventory.h"
#include "json.h"
#include "lathooks.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "policy.h"
#include "retranssrc.h"
#include "sysinfo.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"
/* Last: it #defines icmp_id, a field name of vxray.h's structs. */
#include <netinet/ip_icmp.h>

#define MAX_RULES 256
#define MAX_RTT 512
#define PROBE_MIN_NS (4 * NSEC_PER_SEC)
#define PROBE_MAGIC 0x76787261u	/* "vxra" */

#define MAX_LAT_ROWS 64
/* The latency stages a diagnosis compares (xmit is inside encap). */
static const char *const stage_names[VX_ST__MAX] = {
	[VX_ST_ENCAP] = "encap", [VX_ST_WIRE] = "wire", [VX_ST_DECAP] = "decap",
	[VX_ST_DELIVERY] = "delivery", [VX_ST_XMIT] = "xmit",
};
/* Fewer samples than this in a stage say nothing about it. */
#define LAT_MIN_SAMPLES 8

struct lat_row {
	struct vx_lat_key k;
	struct vx_lat_hist h;
};

struct if_counts {
	uint64_t rx, tx;
};

struct rule_count {
	char netns[VX_NETNS_NAME_MAX];
	char rule[200];
	uint64_t before, after;
	bool seen_before;
};

/* A probe target: from tunnel @tun's namespace to its peer's overlay
 * address, or an address the user named (--target) from a namespace of
 * theirs; @tun -1 when no diagnosed tunnel starts in that namespace.
 * @dst_ns is where the address lives, "" (with @dst_known false) when it
 * is on no namespace of this host: then only pings go. */
struct target {
	int tun;
	char src_ns[VX_NETNS_NAME_MAX], dst_ns[VX_NETNS_NAME_MAX];
	bool dst_known;
	int family;			/* AF_INET, AF_INET6 */
	uint8_t dst[16];
	uint32_t mtu;
	/* Results, from the probe's pipe. */
	double rtt_us[MAX_RTT];
	double rtt_ms_at[MAX_RTT];	/* when, from the window's start */
	int n_rtt;
	unsigned sent, received, big_sent, big_received;
	uint64_t tcp_sent, tcp_received;
	bool tcp_done;
};

struct diag {
	struct vx_opts *o;
	char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n_names;
	struct vx_inventory inv;
	struct vx_evidence ev;
	struct if_counts vx0[VX_EV_MAX_TUN], ul0[VX_EV_MAX_TUN];
	struct rule_count rules[MAX_RULES];
	int n_rules;
	struct vx_nf_ruleset rs[VX_MAX_NETNS];	/* each namespace's rules at the start */
	bool have_rs[VX_MAX_NETNS];
	struct vx_dropsrc *drops;
	struct vx_retranssrc *rt;
	struct vx_ct *ct;
	uint64_t drops_lost;
	bool have_rules;
	char gaps[8][160];
	int n_gaps;
	struct target tg[VX_EV_MAX_TUN];
	int n_tg;
	pid_t probe_pid;
	int probe_fd;
	char probe_buf[65536];
	size_t probe_len;
	const char *baseline;
	uint64_t window_ns;
	/* Per-stage latency from the datapath (datapath.c + lathooks.c). */
	struct vx_opts dpo;		/* o, narrowed to the chosen namespaces */
	struct vx_dp dp;
	struct vx_lathooks hooks;
	bool dp_up;
	struct lat_row mid[MAX_LAT_ROWS];	/* at the end of the window's first third */
	int n_mid;
	/* Around the probe's own burst (full-size pings, the TCP exchange):
	 * its queueing is vxray's doing, never a fault, so its samples are
	 * taken out of every stage. */
	struct lat_row burst0[MAX_LAT_ROWS], burst1[MAX_LAT_ROWS];
	int n_burst0, n_burst1;
	size_t probe_scanned;		/* probe_buf bytes scanned for burst marks */
	bool mid_taken;
	uint64_t start_ns;
};

/* snprintf("%s") between fields of the one static struct diag trips
 * -Wrestrict; they never overlap, but say it with memmove. */
static void cpy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

static void gap(struct diag *d, const char *fmt, const char *arg)
{
	if (d->n_gaps < 8)
		snprintf(d->gaps[d->n_gaps++], sizeof(d->gaps[0]), fmt, arg);
}

static bool add_name(struct diag *d, const char *name)
{
	for (int i = 0; i < d->n_names; i++)
		if (!strcmp(d->names[i], name))
			return true;
	if (d->n_names >= VXR_MAX_NETNS)
		return false;
	snprintf(d->names[d->n_names++], VX_NETNS_NAME_MAX, "%s", name);
	return true;
}

/* --netns and -i namespaces; nothing named (or --auto): every namespace
 * that holds a VXLAN device. */
static int pick(struct diag *d)
{
	static char all[VX_MAX_NETNS + 1][VX_NETNS_NAME_MAX];
	struct vx_opts *o = d->o;
	char err[256];
	int n;

	for (int i = 0; i < o->n_netns; i++) {
		if (vx_netns_check(o->netns[i], err, sizeof(err))) {
			pr_err("%s", err);
			return -ENOENT;
		}
		if (!add_name(d, o->netns[i]))
			goto too_many;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		int ifindex;

		if (vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err))) {
			pr_err("%s", err);
			return -ENODEV;
		}
		if (!add_name(d, o->ifaces[i].netns))
			goto too_many;
	}
	if (d->n_names && !o->auto_attach) {
		for (int i = 0; i < d->n_names; i++)
			vx_inventory_collect(&d->inv, d->names[i]);
		return 0;
	}
	all[0][0] = '\0';
	n = 1 + vx_netns_list(all + 1, VX_MAX_NETNS);
	for (int i = 0; i < n; i++)
		vx_inventory_collect(&d->inv, all[i]);
	for (int i = 0; i < d->inv.n; i++)
		if (!add_name(d, d->inv.devs[i].netns))
			goto too_many;
	if (!d->n_names) {
		pr_err("no VXLAN device found in any namespace: name the namespaces that hold "
		       "the tunnel with --netns");
		return -ENOENT;
	}
	return 0;
too_many:
	pr_err("diagnose watches at most %d namespaces at once; name fewer with --netns",
	       VXR_MAX_NETNS);
	return -E2BIG;
}

static const char *addr_str(int family, const union vx_addr *a, char *buf, size_t len)
{
	if (!family || !inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "%s", "");
	return buf;
}

/* Tunnels from the inventory, each with its peer. */
static void fill_tunnels(struct diag *d)
{
	struct vx_evidence *ev = &d->ev;

	for (int i = 0; i < d->inv.n && ev->n_tun < VX_EV_MAX_TUN; i++) {
		const struct vx_vxlan_dev *v = &d->inv.devs[i];
		struct vx_ev_tunnel *t = &ev->tun[ev->n_tun++];
		bool in = false;

		for (int k = 0; k < d->n_names; k++)
			in |= !strcmp(d->names[k], v->netns);
		if (!in) {
			ev->n_tun--;
			continue;
		}
		snprintf(t->netns, sizeof(t->netns), "%s", v->netns);
		snprintf(t->device, sizeof(t->device), "%s", v->name);
		snprintf(t->underlay, sizeof(t->underlay), "%s", v->underlay);
		t->vni = v->vni;
		addr_str(v->local_family, &v->local, t->local, sizeof(t->local));
		addr_str(v->remote_family, &v->remote, t->remote, sizeof(t->remote));
		t->dstport = v->dstport;
		t->mtu = v->mtu;
		t->underlay_mtu = v->underlay_mtu;
		t->mtu_bad = vx_mtu_problem(v, t->mtu_msg, sizeof(t->mtu_msg));
		t->peer = -1;
	}
	for (int i = 0; i < ev->n_tun; i++)
		for (int k = 0; k < ev->n_tun; k++)
			if (k != i && ev->tun[k].vni == ev->tun[i].vni && ev->tun[i].remote[0] &&
			    !strcmp(ev->tun[k].local, ev->tun[i].remote))
				ev->tun[i].peer = k;
}

/* The inventory entry of evidence tunnel @t. */
static int inv_index(const struct diag *d, const struct vx_ev_tunnel *t)
{
	for (int i = 0; i < d->inv.n; i++)
		if (!strcmp(d->inv.devs[i].netns, t->netns) && !strcmp(d->inv.devs[i].name, t->device))
			return i;
	return -1;
}

/* ---- device counters ------------------------------------------------------ */

/* rx/tx packets of @dev in @netns from /proc/net/dev, read from inside it. */
static int if_counts(const char *netns, const char *dev, struct if_counts *c)
{
	char line[512], name[IF_NAMESIZE + 2];
	int saved, err = -ENOENT;
	FILE *f;

	memset(c, 0, sizeof(*c));
	if (!dev[0] || vx_netns_enter(netns, &saved))
		return -ENOENT;
	f = fopen("/proc/thread-self/net/dev", "re");
	vx_netns_leave(saved);
	if (!f)
		return -errno;
	snprintf(name, sizeof(name), "%s:", dev);
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		unsigned long long v[10];

		while (*p == ' ')
			p++;
		if (strncmp(p, name, strlen(name)))
			continue;
		if (sscanf(p + strlen(name), "%llu %llu %*u %*u %*u %*u %*u %*u %llu %llu", &v[0],
			   &v[1], &v[8], &v[9]) == 4) {
			c->rx = v[1];
			c->tx = v[9];
			err = 0;
		}
		break;
	}
	fclose(f);
	return err;
}

static void snap_devices(struct diag *d, bool end)
{
	for (int i = 0; i < d->ev.n_tun; i++) {
		struct vx_ev_tunnel *t = &d->ev.tun[i];
		struct if_counts v, u;

		if_counts(t->netns, t->device, &v);
		if_counts(t->netns, t->underlay, &u);
		if (!end) {
			d->vx0[i] = v;
			d->ul0[i] = u;
			continue;
		}
		t->encap = v.tx - d->vx0[i].tx;
		t->decap = v.rx - d->vx0[i].rx;
		t->underlay_rx = u.rx - d->ul0[i].rx;
	}
}

/* ---- netfilter rule counters ---------------------------------------------- */

static struct rule_count *rule_slot(struct diag *d, const char *netns, const char *rule)
{
	for (int i = 0; i < d->n_rules; i++)
		if (!strcmp(d->rules[i].netns, netns) && !strcmp(d->rules[i].rule, rule))
			return &d->rules[i];
	if (d->n_rules >= MAX_RULES)
		return NULL;
	snprintf(d->rules[d->n_rules].netns, VX_NETNS_NAME_MAX, "%s", netns);
	snprintf(d->rules[d->n_rules].rule, sizeof(d->rules[0].rule), "%s", rule);
	return &d->rules[d->n_rules++];
}

/* The rules of every namespace (policy.c: nftables, iptables-nft and
 * -legacy); at the end, each DROP/REJECT rule whose counter rose. */
static void snap_rules(struct diag *d, bool end)
{
	static struct vx_nf_hit hits[MAX_RULES];

	for (int n = 0; n < d->n_names; n++) {
		struct vx_nf_ruleset now = {};
		int k, ret = vx_nf_read_ruleset(d->names[n], &now);

		if (ret) {
			pr_debug("diagnose: cannot read the rules of %s: %s", vx_ns_label_of(d->names[n]),
				 vx_strerror(ret));
			vx_nf_ruleset_free(&now);
			continue;
		}
		d->have_rules = true;
		if (!end) {
			vx_nf_ruleset_free(&d->rs[n]);
			d->rs[n] = now;
			d->have_rs[n] = true;
			continue;
		}
		k = vx_nf_counter_hits(d->have_rs[n] ? &d->rs[n] : NULL, &now, hits, MAX_RULES);
		for (int i = 0; i < k && i < MAX_RULES; i++) {
			const struct vx_nf_rule *r = hits[i].rule;
			struct rule_count *rc;
			char text[sizeof(rc->rule)];

			if (r->policy)
				snprintf(text, sizeof(text), "policy %s of %s %s/%s",
					 vx_nf_verdict_name(r->verdict), r->family, r->table, r->chain);
			else if (!strncmp(r->text, "-A ", 3))
				snprintf(text, sizeof(text), "%s", r->text);
			else
				snprintf(text, sizeof(text), "%s %s/%s: %s", r->family, r->table,
					 r->chain, r->text);
			rc = rule_slot(d, d->names[n], text);
			if (!rc)
				break;
			rc->seen_before = true;
			rc->after += hits[i].packets;
		}
		vx_nf_ruleset_free(&now);
	}
}

/* A rule that matches the encapsulated packets: UDP to a tunnel's port, or
 * traffic arriving on a tunnel's underlay device. */
static bool rule_is_outer(const struct diag *d, const struct rule_count *r)
{
	for (int i = 0; i < d->ev.n_tun; i++) {
		const struct vx_ev_tunnel *t = &d->ev.tun[i];
		char port[32], ul[32];

		if (strcmp(t->netns, r->netns))
			continue;
		char nport[32], nul[40];

		/* iptables and nft spellings of "UDP to the VXLAN port" and "in
		 * on the underlay". */
		snprintf(port, sizeof(port), "--dport %u", t->dstport);
		snprintf(ul, sizeof(ul), "-i %s ", t->underlay);
		snprintf(nport, sizeof(nport), "udp dport %u", t->dstport);
		snprintf(nul, sizeof(nul), "iifname \"%s\"", t->underlay);
		if ((strstr(r->rule, "-p udp") && strstr(r->rule, port)) ||
		    strstr(r->rule, nport) ||
		    (t->underlay[0] && (strstr(r->rule, ul) || strstr(r->rule, nul))))
			return true;
	}
	return false;
}

/* ---- drops ---------------------------------------------------------------- */

/* UDP to any watched tunnel's port: an encapsulated packet even when the
 * drop probe, which knows one VXLAN port, did not parse it as one (a
 * sender using another tunnel's port is the wrong-port fault itself). */
static bool outer_udp(const struct diag *d, const struct vxd_event *e)
{
	if (!(e->flags & VXD_F_OUTER) || e->outer.proto != IPPROTO_UDP || (e->flags & VXD_F_DECAP))
		return false;
	for (int i = 0; i < d->ev.n_tun; i++)
		if (d->ev.tun[i].dstport == e->outer.dport)
			return true;
	return false;
}

static void on_drop(void *ctx, const struct vx_drop *x)
{
	struct diag *d = ctx;
	struct vx_evidence *ev = &d->ev;
	const struct vxd_event *e = x->ev;
	const char *reason = x->reason ? x->reason : "?", *dev;
	bool outer = ((e->flags & VXD_F_TUNNEL) && !(e->flags & VXD_F_DECAP)) ||
		     outer_udp(d, e);
	/* The evidence's namespaces are as the options name them: "" for
	 * vxray's own. */
	const char *ns = e->netns == vx_netns_inum(NULL) ? "" : vx_ns_label(e->netns);
	struct vx_ev_drop *r = NULL;

	if (!strncmp(reason, "SKB_DROP_REASON_", 16))
		reason += 16;
	dev = e->ifindex ? vx_dev_label(e->netns, e->ifindex) : "";
	for (int i = 0; i < ev->n_drops && !r; i++) {
		struct vx_ev_drop *y = &ev->drops[i];

		if (y->outer == outer && !strcmp(y->netns, ns) && !strcmp(y->reason, reason) &&
		    !strcmp(y->location, x->location ? x->location : "") &&
		    !strcmp(y->device, dev ? dev : "") &&
		    y->has_vni == !!(e->flags & VXD_F_TUNNEL) && (!y->has_vni || y->vni == e->vni))
			r = y;
	}
	if (!r) {
		if (ev->n_drops >= VX_EV_MAX_DROPS)
			return;
		r = &ev->drops[ev->n_drops++];
		snprintf(r->netns, sizeof(r->netns), "%s", ns);
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
		snprintf(r->location, sizeof(r->location), "%s",
			 x->location && strcmp(x->location, "-") ? x->location : "");
		snprintf(r->device, sizeof(r->device), "%s", dev ? dev : "");
		r->outer = outer;
		r->has_vni = e->flags & VXD_F_TUNNEL;
		r->vni = e->vni;
	}
	r->count++;
}

/* How many DROP/REJECT rules in @rc's namespace, of its kind (outer or
 * inner), dropped something in the window. */
static int rules_rose(const struct diag *d, const struct rule_count *rc)
{
	int n = 0;

	for (int i = 0; i < d->n_rules; i++) {
		const struct rule_count *r = &d->rules[i];

		n += !strcmp(r->netns, rc->netns) && r->after > r->before &&
		     rule_is_outer(d, r) == rule_is_outer(d, rc);
	}
	return n;
}

/* Put names on the NETFILTER_DROP drops: each DROP/REJECT rule whose
 * counter rose becomes its own drop entry; what the rules do not account
 * for (conntrack's own drops) stays without a rule. */
static void attach_rules(struct diag *d)
{
	struct vx_evidence *ev = &d->ev;

	for (int i = 0; i < d->n_rules; i++) {
		struct rule_count *rc = &d->rules[i];
		uint64_t delta = rc->after - (rc->seen_before ? rc->before : 0);
		bool outer = rule_is_outer(d, rc);
		struct vx_ev_drop *x, *from = NULL;

		if (!delta || rc->after < rc->before)
			continue;
		/* The matching kernel drops, to take their location and count. */
		for (int k = 0; k < ev->n_drops; k++) {
			struct vx_ev_drop *y = &ev->drops[k];

			if (!y->rule[0] && y->outer == outer && !strcmp(y->netns, rc->netns) &&
			    !strcmp(y->reason, "NETFILTER_DROP") && y->count)
				from = y;
		}
		if (from && rules_rose(d, rc) == 1) {
			/* The only rule of its kind that dropped: every such drop
			 * is its (the counters are read a moment apart from the
			 * probe's window, so take the larger count). */
			snprintf(from->rule, sizeof(from->rule), "%s", rc->rule);
			if (from->count < delta)
				from->count = delta;
			continue;
		}
		if (ev->n_drops >= VX_EV_MAX_DROPS)
			break;
		x = &ev->drops[ev->n_drops++];
		memset(x, 0, sizeof(*x));
		snprintf(x->netns, sizeof(x->netns), "%s", rc->netns);
		snprintf(x->reason, sizeof(x->reason), "NETFILTER_DROP");
		snprintf(x->rule, sizeof(x->rule), "%s", rc->rule);
		if (from) {
			snprintf(x->location, sizeof(x->location), "%s", from->location);
			snprintf(x->device, sizeof(x->device), "%s", from->device);
			from->count = from->count > delta ? from->count - delta : 0;
		}
		x->outer = outer;
		x->count = delta;
	}
	/* Drop entries emptied by the rules above. */
	for (int k = 0; k < ev->n_drops; k++) {
		if (ev->drops[k].count)
			continue;
		memmove(&ev->drops[k], &ev->drops[k + 1],
			sizeof(ev->drops[0]) * (size_t)(ev->n_drops - k - 1));
		ev->n_drops--;
		k--;
	}
}

/* ---- the probe ------------------------------------------------------------ */

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

		if (!p->ifa_addr || p->ifa_addr->sa_family != family || (dev && strcmp(p->ifa_name, dev)))
			continue;
		a = family == AF_INET ? (const uint8_t *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr :
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

/* The overlay address to probe between two tunnel ends: IPv4 where both
 * have one, else global IPv6. */
static int overlay_pair(const struct vx_ev_tunnel *t, const struct vx_ev_tunnel *p,
			struct target *g)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	uint8_t src[16];

	for (int i = 0; i < 2; i++) {
		if (!netns_addr(p->netns, p->device, fams[i], g->dst, NULL) &&
		    !netns_addr(t->netns, t->device, fams[i], src, NULL)) {
			g->family = fams[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* From each chosen namespace's VXLAN device to its peer's overlay address,
 * both ends inside named namespaces: vxray never probes from or to the
 * namespace it runs in. */
static void pick_targets(struct diag *d)
{
	for (int i = 0; i < d->ev.n_tun && d->n_tg < VX_EV_MAX_TUN; i++) {
		const struct vx_ev_tunnel *t = &d->ev.tun[i], *p;
		struct target *g = &d->tg[d->n_tg];

		if (t->peer < 0)
			continue;
		p = &d->ev.tun[t->peer];
		if (!t->netns[0] || !p->netns[0] || overlay_pair(t, p, g))
			continue;
		g->tun = i;
		cpy(g->src_ns, sizeof(g->src_ns), t->netns);
		cpy(g->dst_ns, sizeof(g->dst_ns), p->netns);
		g->dst_known = true;
		g->mtu = t->mtu;
		d->n_tg++;
	}
}

/* The targets the user named with --target: sent from their namespace,
 * to an address that may live in one of this host's named namespaces (then
 * the TCP exchange has somewhere to listen) or anywhere else (pings only).
 * Returns -ENOENT with the sentence printed when a source namespace does
 * not exist. */
static int user_targets(struct diag *d)
{
	char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n = vx_netns_list(names, VX_MAX_NETNS);

	for (int i = 0; i < d->o->n_targets && d->n_tg < VX_EV_MAX_TUN; i++) {
		const struct vx_target_spec *s = &d->o->targets[i];
		struct target *g = &d->tg[d->n_tg];
		uint8_t any[16];
		int saved;

		memset(g, 0, sizeof(*g));
		if (s->netns[0] && vx_netns_enter(s->netns, &saved)) {
			pr_err("--target: no network namespace '%s' (see `ip netns list`)", s->netns);
			return -ENOENT;
		}
		if (s->netns[0])
			vx_netns_leave(saved);
		cpy(g->src_ns, sizeof(g->src_ns), s->netns);
		g->family = s->family;
		memcpy(g->dst, s->addr, sizeof(g->dst));
		g->tun = -1;
		for (int t = 0; t < d->ev.n_tun && g->tun < 0; t++)
			if (!strcmp(d->ev.tun[t].netns, s->netns))
				g->tun = t;
		g->mtu = g->tun >= 0 ? d->ev.tun[g->tun].mtu : 0;
		/* The same overlay address may exist in many namespaces (labs
		 * side by side): the diagnosed ones first, then the others. */
		for (int k = 0; k < d->n_names && !g->dst_known; k++) {
			if (d->names[k][0] && !netns_addr(d->names[k], NULL, s->family, any, s->addr)) {
				cpy(g->dst_ns, sizeof(g->dst_ns), d->names[k]);
				g->dst_known = true;
			}
		}
		for (int k = 0; k < n && !g->dst_known; k++) {
			if (!netns_addr(names[k], NULL, s->family, any, s->addr)) {
				cpy(g->dst_ns, sizeof(g->dst_ns), names[k]);
				g->dst_known = true;
			}
		}
		d->n_tg++;
	}
	return 0;
}

/* The target's address, printable. */
static const char *target_addr(const struct target *g, char *buf, size_t len)
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
static void send_ping(int fd, const struct target *g, int idx, uint16_t seq, size_t size, bool df)
{
	static uint8_t pkt[9000];
	struct icmphdr *h = (struct icmphdr *)pkt;
	struct ping_payload pl = { .sent_ns = vx_now_ns(), .target = (uint32_t)idx,
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

/* Read echo replies on @fd, target @idx's socket, until none is waiting;
 * report each of that target's. Every raw socket of a namespace gets every
 * reply, so the target in the payload decides. An IPv4 raw socket delivers
 * the IP header, an ICMPv6 one does not. */
static void read_replies(int fd, int idx, int family, int out, uint64_t t0)
{
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
static void tcp_exchange(const struct target *g, int idx, size_t bytes, int timeout_ms, int out)
{
	struct sockaddr_storage a = { 0 };
	socklen_t alen = g->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
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

/* The probe, in a child process so the engines keep draining: small pings
 * to every target every 200 ms for the whole window; in the middle, three
 * full-size pings (the overlay MTU, DF) and one 256 KiB TCP exchange per
 * target. All of it between addresses of the lab's own namespaces. */
static void probe_child(struct diag *d, int out, uint64_t window_ns)
{
	uint64_t t0 = vx_now_ns(), end = t0 + window_ns - 700 * NSEC_PER_MSEC;
	uint64_t mid = t0 + window_ns * 2 / 5, next = t0;
	int fds[VX_EV_MAX_TUN];
	bool mid_done = false;
	uint16_t seq = 0;
	char line[64];
	int len;

	for (int i = 0; i < d->n_tg; i++)
		fds[i] = socket_in(d->tg[i].src_ns, d->tg[i].family, SOCK_RAW,
				   d->tg[i].family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	while (vx_now_ns() < end && !vx_exiting) {
		uint64_t now = vx_now_ns();

		if (now >= next) {
			for (int i = 0; i < d->n_tg; i++) {
				if (fds[i] < 0)
					continue;
				send_ping(fds[i], &d->tg[i], i, seq, 64, false);
				len = snprintf(line, sizeof(line), "S %d\n", i);
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
			for (int i = 0; i < d->n_tg; i++) {
				/* Full size: the overlay MTU less the IP header. */
				size_t big = d->tg[i].mtu - (d->tg[i].family == AF_INET6 ? 40 : 20);

				for (int k = 0; k < 3 && fds[i] >= 0 && d->tg[i].mtu > 128; k++) {
					send_ping(fds[i], &d->tg[i], i, seq++, big, true);
					len = snprintf(line, sizeof(line), "B %d\n", i);
					if (write(out, line, (size_t)len) < 0)
						_exit(1);
				}
				if (d->tg[i].dst_known)
					tcp_exchange(&d->tg[i], i, 256 * 1024, 1500, out);
				for (int k = 0; k < d->n_tg; k++)
					if (fds[k] >= 0)
						read_replies(fds[k], k, d->tg[k].family, out, t0);
			}
			if (write(out, "M 1\n", 4) < 0)
				_exit(1);
			next = vx_now_ns();
		}
		{
			struct pollfd p[VX_EV_MAX_TUN];

			for (int i = 0; i < d->n_tg; i++)
				p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
			poll(p, (nfds_t)d->n_tg, 20);
			for (int i = 0; i < d->n_tg; i++)
				if (fds[i] >= 0 && (p[i].revents & POLLIN))
					read_replies(fds[i], i, d->tg[i].family, out, t0);
		}
	}
	_exit(0);
}

static void parse_probe(struct diag *d)
{
	char *save = NULL, *line;

	d->probe_buf[d->probe_len] = '\0';
	for (line = strtok_r(d->probe_buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned idx;
		double at, rtt;
		size_t size, a, b;
		struct target *g;

		if (sscanf(line + 1, " %u", &idx) != 1 || idx >= (unsigned)d->n_tg)
			continue;
		g = &d->tg[idx];
		if (line[0] == 'S') {
			g->sent++;
		} else if (line[0] == 'B') {
			g->big_sent++;
		} else if (line[0] == 'R' && sscanf(line, "R %u %lf %lf %zu", &idx, &at, &rtt, &size) == 4) {
			if (size > 200) {
				g->big_received++;
				continue;
			}
			g->received++;
			if (g->n_rtt < MAX_RTT) {
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

static int read_hists(struct diag *d, struct lat_row *rows, int max);

/* The probe's burst marks ("M 0" before, "M 1" after), on whole lines as
 * they arrive: the histograms are read at each. */
static void scan_burst_marks(struct diag *d)
{
	char *nl;

	while ((nl = memchr(d->probe_buf + d->probe_scanned, '\n',
			    d->probe_len - d->probe_scanned))) {
		const char *line = d->probe_buf + d->probe_scanned;

		if (d->dp_up && !strncmp(line, "M 0\n", 4)) {
			d->n_burst0 = read_hists(d, d->burst0, MAX_LAT_ROWS);
			/* The first third's reading is due about now (ticks come
			 * every 0.5 s): never after the burst began. */
			if (!d->mid_taken) {
				memcpy(d->mid, d->burst0, sizeof(d->mid[0]) * (size_t)d->n_burst0);
				d->n_mid = d->n_burst0;
				d->mid_taken = true;
			}
		}
		else if (d->dp_up && !strncmp(line, "M 1\n", 4))
			d->n_burst1 = read_hists(d, d->burst1, MAX_LAT_ROWS);
		d->probe_scanned = (size_t)(nl - d->probe_buf) + 1;
	}
}

static int on_probe_output(void *ctx)
{
	struct diag *d = ctx;
	ssize_t n = read(d->probe_fd, d->probe_buf + d->probe_len,
			 sizeof(d->probe_buf) - 1 - d->probe_len);

	if (n > 0) {
		d->probe_len += (size_t)n;
		scan_burst_marks(d);
	}
	return 0;
}

static int probe_start(struct diag *d)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	d->probe_pid = fork();
	if (d->probe_pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!d->probe_pid) {
		int fl = fcntl(pfd[1], F_GETFL);

		/* Bounded even when vxray is killed: the probe dies with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);

		close(pfd[0]);
		fcntl(pfd[1], F_SETFL, fl & ~O_NONBLOCK);
		probe_child(d, pfd[1], d->window_ns);
	}
	close(pfd[1]);
	d->probe_fd = pfd[0];
	return 0;
}

static void probe_stop(struct diag *d)
{
	int status;

	if (d->probe_pid <= 0)
		return;
	for (int i = 0; i < 40 && waitpid(d->probe_pid, &status, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(d->probe_pid, &status, WNOHANG) == 0) {
		kill(d->probe_pid, SIGKILL);
		waitpid(d->probe_pid, &status, 0);
	}
	/* The child is gone: read what is left in the pipe. */
	while (d->probe_len < sizeof(d->probe_buf) - 1) {
		ssize_t n = read(d->probe_fd, d->probe_buf + d->probe_len,
				 sizeof(d->probe_buf) - 1 - d->probe_len);

		if (n <= 0)
			break;
		d->probe_len += (size_t)n;
	}
	close(d->probe_fd);
	d->probe_pid = 0;
	parse_probe(d);
}

/* ---- latency -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q)
{
	int i;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	i = (int)ceil(q * n) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void fill_latency(struct diag *d, const struct vx_baseline *base)
{
	for (int i = 0; i < d->n_tg && d->ev.n_lat < VX_EV_MAX_LAT; i++) {
		struct target *g = &d->tg[i];
		/* A user's target outside every diagnosed tunnel is named by its
		 * source namespace and address. */
		const char *netns = g->tun >= 0 ? d->ev.tun[g->tun].netns : g->src_ns;
		char dev[INET6_ADDRSTRLEN + 8];
		struct vx_ev_lat *l;
		double v[MAX_RTT];
		int n = g->n_rtt, first = 0;

		if (!n)
			continue;
		if (g->tun >= 0)
			cpy(dev, sizeof(dev), d->ev.tun[g->tun].device);
		else
			snprintf(dev, sizeof(dev), "to %s", target_addr(g, dev + 8, sizeof(dev) - 8));
		l = &d->ev.lat[d->ev.n_lat++];
		cpy(l->netns, sizeof(l->netns), netns);
		cpy(l->device, sizeof(l->device), dev);
		snprintf(l->stage, sizeof(l->stage), "rtt");
		if (base && vx_baseline_lookup(base, l->netns, l->device, "rtt",
						 &l->base_p50_us, &l->base_p90_us)) {
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "--baseline %s", d->baseline);
		} else if (n >= 9) {
			/* The window's own first third, in time order. */
			first = n / 3;
			memcpy(v, g->rtt_us, sizeof(double) * (size_t)first);
			l->base_p50_us = pct(v, first, 0.5);
			l->base_p90_us = pct(v, first, 0.9);
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "the window's first third");
		}
		memcpy(v, g->rtt_us + first, sizeof(double) * (size_t)(n - first));
		l->p50_us = pct(v, n - first, 0.5);
		l->p90_us = pct(v, n - first, 0.9);
		l->samples = (uint64_t)(n - first);
	}
}

/* ---- per-stage latency ---------------------------------------------------- */

static int dp_before_load(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct diag *d = ctx;
	struct vx_dp_config *c = (struct vx_dp_config *)&in->tc->rodata->cfg;
	int err;

	c->latency = 1;
	c->latency_delivery = d->hooks.delivery;
	if ((err = vx_lathooks_share(&d->hooks, in->tc->obj)))
		return err;
	if (in->xdp) {
		c = (struct vx_dp_config *)&in->xdp->rodata->cfg;
		c->latency = 1;
		c->latency_delivery = d->hooks.delivery;
		return vx_lathooks_share(&d->hooks, in->xdp->obj);
	}
	return 0;
}

static void dp_on_change(void *ctx, const struct vx_dp_watched *w, bool added)
{
	struct diag *d = ctx;

	vx_lathooks_on_change(&d->hooks, w, added);
}

/* Attach the datapath with latency joining to every VXLAN device and
 * underlay of the chosen namespaces. Not fatal: without it the probe's
 * round trip is the only latency evidence. */
static void dp_start(struct diag *d)
{
	struct vx_dp_opts po = { .o = &d->dpo, .events = false, .flows = true,
				 .before_load = dp_before_load, .on_change = dp_on_change, .ctx = d };
	int ret;

	d->dpo = *d->o;
	d->dpo.n_ifaces = 0;
	d->dpo.auto_attach = true;
	d->dpo.has_vni = false;
	d->dpo.n_netns = d->n_names;
	for (int i = 0; i < d->n_names; i++)
		memcpy(d->dpo.netns[i], d->names[i], VX_NETNS_NAME_MAX);
	vx_dp_init(&d->dp, &po);
	if ((ret = vx_dp_pick(&d->dp)) || (ret = vx_lathooks_open(&d->hooks, VX_BACKEND_AUTO, NULL, NULL)) ||
	    (ret = vx_dp_load(&d->dp)) || (ret = vx_dp_attach(&d->dp))) {
		gap(d, "%s", "no per-stage latency: the datapath programs could not attach "
		    "(see above); latency is the probe's overlay round trip");
		vx_dp_close(&d->dp);
		vx_lathooks_close(&d->hooks);
		return;
	}
	for (int i = 0; i < d->dp.n_w; i++)
		if (d->dp.w[i].active)
			dp_on_change(d, &d->dp.w[i], true);
	d->dp_up = true;
	/* Retransmits are counted on the tunnel the flow table says. */
	if (d->rt)
		vx_retranssrc_use_flows(d->rt, vx_dp_map_fd(&d->dp, "vxp_flow"));
}

static void dp_stop(struct diag *d)
{
	if (!d->dp_up)
		return;
	vx_dp_close(&d->dp);
	vx_lathooks_close(&d->hooks);
	d->dp_up = false;
}

/* Every stage histogram, summed over CPUs. */
static int read_hists(struct diag *d, struct lat_row *rows, int max)
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_map_fd(&d->dp, "vxl_hist"), n = 0;
	struct vx_lat_hist *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	struct vx_lat_key k, next;
	bool first = true;

	while (vals && fd >= 0 && n < max && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (bpf_map_lookup_elem(fd, &k, vals) || k.stage >= VX_ST__MAX)
			continue;
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].k = k;
		for (int c = 0; c < ncpu; c++)
			vx_hist_merge(&rows[n].h, &vals[c]);
		n++;
	}
	free(vals);
	return n;
}

/* The window's first third ends: keep the histograms as they are. */
static void on_tick(void *ctx, uint64_t now)
{
	struct diag *d = ctx;

	if (d->dp_up && !d->mid_taken && now - d->start_ns >= d->window_ns / 3) {
		d->n_mid = read_hists(d, d->mid, MAX_LAT_ROWS);
		d->mid_taken = true;
	}
}

/* @h minus @base, slot by slot (the histograms only grow). */
static void hist_sub(struct vx_lat_hist *h, const struct vx_lat_hist *base)
{
	h->count -= base->count < h->count ? base->count : h->count;
	h->sum_ns -= base->sum_ns < h->sum_ns ? base->sum_ns : h->sum_ns;
	for (int i = 0; i < VX_HIST_SLOTS; i++)
		h->slot[i] -= base->slot[i] < h->slot[i] ? base->slot[i] : h->slot[i];
}

/* The row of @k among @n @rows, NULL when absent. */
static const struct lat_row *row_of(const struct lat_row *rows, int n, const struct vx_lat_key *k)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(&rows[i].k, k, sizeof(*k)))
			return &rows[i];
	return NULL;
}

static void fill_stage_latency(struct diag *d, const struct vx_baseline *base)
{
	static struct lat_row rows[MAX_LAT_ROWS];
	int n;

	if (!d->dp_up)
		return;
	n = read_hists(d, rows, MAX_LAT_ROWS);
	for (int i = 0; i < n && d->ev.n_lat < VX_EV_MAX_LAT; i++) {
		const struct vx_dp_watched *w = vx_dp_lookup(&d->dp, rows[i].k.netns, rows[i].k.ifindex);
		const struct lat_row *m = row_of(d->mid, d->n_mid, &rows[i].k);
		const struct lat_row *b0 = row_of(d->burst0, d->n_burst0, &rows[i].k);
		const struct lat_row *b1 = row_of(d->burst1, d->n_burst1, &rows[i].k);
		struct vx_ev_lat *l = &d->ev.lat[d->ev.n_lat];
		struct vx_lat_hist first = { 0 };
		bool have_first = m != NULL;

		if (!w || rows[i].k.stage == VX_ST_XMIT)
			continue;
		if (m)
			first = m->h;
		/* The probe's burst out: what it added between its two marks. */
		if (b1) {
			struct vx_lat_hist burst = b1->h;

			if (b0)
				hist_sub(&burst, &b0->h);
			hist_sub(&rows[i].h, &burst);
		}
		memset(l, 0, sizeof(*l));
		cpy(l->netns, sizeof(l->netns), w->netns);
		cpy(l->device, sizeof(l->device), w->name);
		cpy(l->stage, sizeof(l->stage), stage_names[rows[i].k.stage]);
		if (base && vx_baseline_lookup(base, l->netns, l->device, l->stage,
						 &l->base_p50_us, &l->base_p90_us)) {
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "--baseline %s", d->baseline);
		} else if (have_first && first.count >= LAT_MIN_SAMPLES) {
			l->base_p50_us = (double)vx_hist_quantile(&first, 0.5) / 1e3;
			l->base_p90_us = (double)vx_hist_quantile(&first, 0.9) / 1e3;
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "the window's first third");
			hist_sub(&rows[i].h, &first);
		}
		if (rows[i].h.count < LAT_MIN_SAMPLES)
			continue;
		l->p50_us = (double)vx_hist_quantile(&rows[i].h, 0.5) / 1e3;
		l->p90_us = (double)vx_hist_quantile(&rows[i].h, 0.9) / 1e3;
		l->samples = rows[i].h.count;
		d->ev.n_lat++;
	}
}

/* ---- output --------------------------------------------------------------- */

static void print_text(const struct diag *d, const struct vx_finding *f, int n)
{
	int faults = 0;

	for (int i = 0; i < n; i++)
		faults += f[i].verdict != VX_V_HEALTHY;
	printf("vxray diagnose: %.1fs over", d->ev.window_s);
	for (int i = 0; i < d->n_names; i++)
		printf("%s %s", i ? "," : "", vx_ns_label_of(d->names[i]));
	printf("%s; %d finding%s\n", d->ev.probed ? " (with probe traffic)" : "", faults,
	       faults == 1 ? "" : "s");
	for (int i = 0; i < n; i++) {
		printf("\n%s [%s] %s\n", f[i].verdict == VX_V_HEALTHY ? "HEALTHY" : "FINDING",
		       vx_verdict_id(f[i].verdict), f[i].sentence);
		for (int k = 0; k < f[i].n_evidence; k++)
			printf("  evidence: %s\n", f[i].evidence[k]);
		printf("  next: %s\n", f[i].next);
	}
	if (d->ev.probed) {
		printf("\nprobe:");
		for (int i = 0; i < d->n_tg; i++) {
			const struct target *g = &d->tg[i];
			char a[INET6_ADDRSTRLEN];

			printf("%s %s -> %s: ping %u/%u, full-size %u/%u", i ? ";" : "",
			       vx_ns_label_of(g->src_ns), target_addr(g, a, sizeof(a)), g->received, g->sent,
			       g->big_received, g->big_sent);
			if (g->dst_known)
				printf(", TCP %llu/%llu bytes", (unsigned long long)g->tcp_received,
				       (unsigned long long)g->tcp_sent);
			else
				printf(", no TCP (the address is in no namespace of this host)");
		}
		printf("\n");
	}
	for (int i = 0; i < d->n_gaps; i++)
		printf("note: %s\n", d->gaps[i]);
}

static void print_json(const struct diag *d, const struct vx_finding *f, int n)
{
	const struct vx_evidence *ev = &d->ev;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", "diagnosis");
	jw_double(&w, "window_s", ev->window_s);
	jw_bool(&w, "probe", ev->probed);
	jw_arr_open(&w, "probe_targets");
	for (int i = 0; ev->probed && i < d->n_tg; i++) {
		const struct target *g = &d->tg[i];
		char a[INET6_ADDRSTRLEN];

		jw_obj_open(&w, NULL);
		jw_str(&w, "from_netns", g->src_ns);
		jw_str(&w, "to", target_addr(g, a, sizeof(a)));
		jw_str(&w, "to_netns", g->dst_known ? g->dst_ns : NULL);
		jw_uint(&w, "pings_sent", g->sent);
		jw_uint(&w, "pings_received", g->received);
		jw_uint(&w, "full_size_sent", g->big_sent);
		jw_uint(&w, "full_size_received", g->big_received);
		if (g->dst_known) {
			jw_uint(&w, "tcp_sent", g->tcp_sent);
			jw_uint(&w, "tcp_received", g->tcp_received);
		}
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "namespaces");
	for (int i = 0; i < d->n_names; i++)
		jw_str(&w, NULL, vx_ns_label_of(d->names[i]));
	jw_arr_close(&w);
	jw_bool(&w, "fault", f[0].verdict != VX_V_HEALTHY);
	jw_arr_open(&w, "findings");
	for (int i = 0; i < n; i++) {
		jw_obj_open(&w, NULL);
		jw_str(&w, "verdict", vx_verdict_id(f[i].verdict));
		jw_str(&w, "sentence", f[i].sentence);
		jw_str(&w, "netns", f[i].netns[0] ? f[i].netns : NULL);
		jw_str(&w, "device", f[i].device[0] ? f[i].device : NULL);
		jw_arr_open(&w, "evidence");
		for (int k = 0; k < f[i].n_evidence; k++)
			jw_str(&w, NULL, f[i].evidence[k]);
		jw_arr_close(&w);
		jw_str(&w, "next", f[i].next);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "tunnels");
	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *t = &ev->tun[i];

		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", t->netns);
		jw_str(&w, "device", t->device);
		jw_uint(&w, "vni", t->vni);
		jw_str(&w, "local_vtep", t->local);
		jw_str(&w, "remote_vtep", t->remote);
		jw_str(&w, "peer_netns", t->peer >= 0 ? ev->tun[t->peer].netns : NULL);
		jw_uint(&w, "mtu", t->mtu);
		jw_str(&w, "underlay", t->underlay);
		jw_uint(&w, "underlay_mtu", t->underlay_mtu);
		jw_uint(&w, "encap", t->encap);
		jw_uint(&w, "decap", t->decap);
		jw_uint(&w, "underlay_rx", t->underlay_rx);
		jw_uint(&w, "retrans_full", t->rt_full);
		jw_uint(&w, "retrans_small", t->rt_small);
		jw_uint(&w, "retrans_synack", t->rt_synack);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "drops");
	for (int i = 0; i < ev->n_drops; i++) {
		const struct vx_ev_drop *x = &ev->drops[i];

		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", x->netns);
		jw_str(&w, "reason", x->reason);
		jw_str(&w, "location", x->location);
		jw_str(&w, "device", x->device);
		jw_str(&w, "rule", x->rule[0] ? x->rule : NULL);
		jw_bool(&w, "outer", x->outer);
		jw_uint(&w, "count", x->count);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_uint(&w, "drops_lost", d->drops_lost);
	jw_arr_open(&w, "conntrack");
	for (int i = 0; i < ev->n_ct; i++) {
		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", ev->ct[i].netns);
		jw_uint(&w, "count", ev->ct[i].count);
		jw_uint(&w, "max", ev->ct[i].max);
		jw_uint(&w, "insert_failed", ev->ct[i].insert_failed);
		jw_uint(&w, "drop", ev->ct[i].drop);
		jw_uint(&w, "early_drop", ev->ct[i].early_drop);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	/* Flat objects: a later run reads them back with --baseline. */
	jw_arr_open(&w, "latency");
	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *l = &ev->lat[i];

		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", l->netns);
		jw_str(&w, "device", l->device);
		jw_str(&w, "stage", l->stage);
		jw_double(&w, "p50_us", l->p50_us);
		jw_double(&w, "p90_us", l->p90_us);
		jw_uint(&w, "samples", l->samples);
		if (l->has_base) {
			jw_double(&w, "base_p50_us", l->base_p50_us);
			jw_str(&w, "base_from", l->base_from);
		}
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "notes");
	for (int i = 0; i < d->n_gaps; i++)
		jw_str(&w, NULL, d->gaps[i]);
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_end_line(&w);
}

/* ---- the command ---------------------------------------------------------- */

static int start_engines(struct diag *d)
{
	struct vxd_scope_key scope[VX_MAX_NETNS];
	struct vx_dropsrc_cfg dcfg = { .backend = d->o->backend, .scope = scope };
	uint32_t inums[VXR_MAX_NETNS];
	char err[512];
	int ret;

	for (int i = 0; i < d->n_names; i++) {
		inums[i] = vx_netns_inum(d->names[i]);
		scope[i] = (struct vxd_scope_key){ .netns = inums[i] };
	}
	dcfg.n_scope = d->n_names;
	if (d->inv.n)
		dcfg.vxlan_port = d->inv.devs[0].dstport;
	ret = vx_dropsrc_open(&d->drops, &dcfg, on_drop, d);
	if (ret) {
		gap(d, "%s", "no kernel drops: the drop probe could not attach (see above)");
		d->drops = NULL;
	}
	ret = vx_retranssrc_open(&d->rt, &d->inv, inums, d->n_names, NULL, NULL);
	if (ret) {
		pr_warn("cannot watch TCP retransmits: %s", vx_strerror(ret));
		gap(d, "%s", "no TCP retransmit counts: the retransmit tracepoints refused to attach");
		d->rt = NULL;
	}
	ret = vx_ct_open(&d->ct, (const char (*)[VX_NETNS_NAME_MAX])d->names, d->n_names, err,
			 sizeof(err));
	if (!ret)
		ret = vx_ct_attach(d->ct, VX_BACKEND_AUTO, err, sizeof(err));
	if (ret) {
		pr_warn("%s", err);
		gap(d, "%s", "no conntrack evidence: the conntrack engine could not start");
		vx_ct_close(d->ct);
		d->ct = NULL;
	}
	return 0;
}

static void fill_conntrack(struct diag *d)
{
	static struct vx_ct_snapshot s;

	if (!d->ct || vx_ct_snapshot(d->ct, &s))
		return;
	for (int i = 0; i < s.n && d->ev.n_ct < VX_MAX_NETNS; i++) {
		struct vx_ev_ct *c = &d->ev.ct[d->ev.n_ct];

		if (!s.ns[i].have_count)
			continue;
		d->ev.n_ct++;
		snprintf(c->netns, sizeof(c->netns), "%s", s.ns[i].netns);
		c->count = s.ns[i].count;
		c->max = s.ns[i].max;
		c->insert_failed = s.ns[i].insert_failed;
		c->drop = s.ns[i].drop;
		c->early_drop = s.ns[i].early_drop;
	}
}

static void fill_retrans(struct diag *d)
{
	if (!d->rt)
		return;
	for (int i = 0; i < d->ev.n_tun; i++) {
		struct vx_ev_tunnel *t = &d->ev.tun[i];
		const struct vx_retrans_tun *r = vx_retranssrc_tun(d->rt, inv_index(d, t));

		if (!r)
			continue;
		t->rt_full = r->full;
		t->rt_small = r->small;
		t->rt_synack = r->synack;
		t->rt_max_len = r->max_len;
	}
}

int cmd_diagnose(struct vx_opts *o)
{
	static struct diag d;
	static struct vx_finding f[VX_MAX_FINDINGS];
	struct vx_loop loop = { .epfd = -1 };
	struct vx_baseline *base = NULL;
	char buf[32], err[512];
	struct vx_sysinfo si;
	uint64_t start;
	const char *priv;
	int ret, n;

	memset(&d, 0, sizeof(d));
	d.o = o;
	d.baseline = o->baseline;
	d.window_ns = o->duration_ns ? o->duration_ns : 10 * NSEC_PER_SEC;
	if (o->probe && d.window_ns < PROBE_MIN_NS) {
		pr_err("--probe needs a window of at least %s (-d)",
		       vx_fmt_duration(PROBE_MIN_NS, buf, sizeof(buf)));
		return VX_EXIT_USAGE;
	}
	if (o->baseline) {
		base = vx_baseline_load(o->baseline, err, sizeof(err));
		if (!base) {
			pr_err("%s", err);
			return VX_EXIT_USAGE;
		}
	}
	/* Before pick(): without privileges entering the namespaces fails
	 * with a less useful message. */
	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		vx_baseline_free(base);
		return VX_EXIT_FAIL;
	}
	ret = pick(&d);
	if (ret) {
		vx_baseline_free(base);
		vx_inventory_free(&d.inv);
		return ret == -E2BIG || ret == -ENOENT || ret == -ENODEV ? VX_EXIT_USAGE : VX_EXIT_FAIL;
	}
	fill_tunnels(&d);
	if (o->n_targets && user_targets(&d)) {
		vx_baseline_free(base);
		vx_inventory_free(&d.inv);
		return VX_EXIT_USAGE;
	} else if (o->probe && !o->n_targets) {
		pick_targets(&d);
		if (!d.n_tg)
			gap(&d, "%s", "--probe found no pair of named namespaces with overlay "
			    "addresses on both ends: nothing was sent (--target names one)");
	}
	start_engines(&d);
	dp_start(&d);

	snap_rules(&d, false);
	if (!d.have_rules)
		gap(&d, "%s", "no netfilter rule counters could be read: drops are not matched "
		    "to rules");
	snap_devices(&d, false);
	d.start_ns = vx_now_ns();
	ret = vx_loop_init(&loop, d.window_ns, NSEC_PER_SEC / 2, on_tick, &d);
	if (!ret && d.drops)
		ret = vx_dropsrc_add_to_loop(d.drops, &loop);
	if (!ret && d.rt)
		ret = vx_retranssrc_add_to_loop(d.rt, &loop);
	if (!ret && d.ct)
		ret = vx_ct_add_to_loop(d.ct, &loop);
	if (!ret && d.n_tg && !(ret = probe_start(&d))) {
		d.ev.probed = true;
		ret = vx_loop_add_fd(&loop, d.probe_fd, on_probe_output, &d);
	}
	if (ret) {
		pr_err("cannot set up the diagnosis: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	pr_info("diagnosing %d namespace%s for %s%s", d.n_names, d.n_names == 1 ? "" : "s",
		vx_fmt_duration(d.window_ns, buf, sizeof(buf)), d.ev.probed ? " with probe traffic" : "");
	start = vx_now_ns();
	ret = vx_loop_run(&loop);
	start = vx_now_ns() - start;	/* now the window's real length */
	if (ret) {
		pr_err("diagnose: the event loop failed: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	probe_stop(&d);
	for (int i = 0; i < d.n_tg && d.ev.n_probes < VX_EV_MAX_TUN; i++) {
		struct vx_ev_probe *p = &d.ev.probes[d.ev.n_probes++];

		cpy(p->from, sizeof(p->from), d.tg[i].src_ns);
		target_addr(&d.tg[i], p->to, sizeof(p->to));
		p->sent = d.tg[i].sent;
		p->received = d.tg[i].received;
	}
	if (d.drops) {
		vx_dropsrc_drain(d.drops);
		d.drops_lost = vx_dropsrc_lost(d.drops);
		if (d.drops_lost)
			gap(&d, "%s", "some drop events were lost (ring buffer full): drop counts are low");
	}
	snap_devices(&d, true);
	snap_rules(&d, true);
	attach_rules(&d);
	fill_conntrack(&d);
	fill_retrans(&d);
	fill_stage_latency(&d, base);
	fill_latency(&d, base);
	/* Ctrl-C ends the window early: judge what was seen, say how long. */
	d.ev.window_s = (double)start / NSEC_PER_SEC;
	if (d.rt && vx_retranssrc_lost(d.rt))
		gap(&d, "%s", "some retransmit events were lost (ring buffer full): counts are low");
	n = vx_findings_judge(&d.ev, f, VX_MAX_FINDINGS);
	if (o->json)
		print_json(&d, f, n);
	else
		print_text(&d, f, n);
	fflush(stdout);
	ret = f[0].verdict == VX_V_HEALTHY ? VX_EXIT_OK : VX_EXIT_FINDING;
out:
	probe_stop(&d);
	vx_loop_close(&loop);
	dp_stop(&d);
	vx_ct_close(d.ct);
	vx_retranssrc_close(d.rt);
	vx_dropsrc_close(d.drops);
	vx_inventory_free(&d.inv);
	for (int i = 0; i < VX_MAX_NETNS; i++)
		vx_nf_ruleset_free(&d.rs[i]);
	vx_baseline_free(base);
	return ret;
}
