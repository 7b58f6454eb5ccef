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
 *     against --baseline FILE, else the agent's (basestate.h), else the
 *     window's first third.
 * --probe is the only thing that sends traffic; see probe.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "basestate.h"
#include "cmd.h"
#include "conntrack.h"
#include "dropev.h"
#include "dropreason.h"
#include "dropsrc.h"
#include "findings.h"
#include "inventory.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "nscount.h"
#include "policy.h"
#include "probe.h"
#include "promev.h"
#include "retranssrc.h"
#include "stagelat.h"
#include "sysinfo.h"
#include "view.h"

struct diag {
	struct vx_opts *o;
	char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n_names;
	struct vx_inventory inv;
	struct vx_evidence ev;
	struct vx_if_counts vx0[VX_EV_MAX_TUN], ul0[VX_EV_MAX_TUN];
	struct vx_dropev drops_ev; /* drops, named by the rules behind them */
	struct vx_dropsrc *drops;
	struct vx_retranssrc *rt;
	struct vx_ct *ct;
	uint64_t drops_lost;
	char gaps[VX_PROMEV_MAX_NOTES][VX_PROMEV_NOTE_LEN];
	int n_gaps;
	const char *prom_url; /* --prometheus: where the evidence came from */
	struct vx_probe pr;
	char base_from[160]; /* where the baseline came from, in words */
	uint64_t window_ns;
	struct vx_stagelat sl; /* per-stage latency from the datapath */
	uint64_t start_ns;
	uint64_t csum0[VX_EV_MAX_TUN]; /* UDP InCsumErrors at the start */
};

static void gap(struct diag *d, const char *fmt, const char *arg)
{
	if (d->n_gaps < VX_PROMEV_MAX_NOTES)
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
	int n, ret;

	for (int i = 0; i < o->n_netns; i++) {
		if ((ret = vx_netns_check(o->netns[i], err, sizeof(err)))) {
			pr_err("%s", err);
			return ret;
		}
		if (!add_name(d, o->netns[i]))
			goto too_many;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		int ifindex;

		if ((ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err)))) {
			pr_err("%s", err);
			return ret;
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

/* The inventory entry of evidence tunnel @t. */
static int inv_index(const struct diag *d, const struct vx_ev_tunnel *t)
{
	for (int i = 0; i < d->inv.n; i++)
		if (!strcmp(d->inv.devs[i].netns, t->netns) &&
		    !strcmp(d->inv.devs[i].name, t->device))
			return i;
	return -1;
}

/* ---- device counters ------------------------------------------------------ */

static void uncount_rx(struct vx_ev_tunnel *t, uint64_t n)
{
	t->underlay_rx -= n < t->underlay_rx ? n : t->underlay_rx;
}

static void snap_devices(struct diag *d, bool end)
{
	for (int i = 0; i < d->ev.n_tun; i++) {
		struct vx_ev_tunnel *t = &d->ev.tun[i];
		struct vx_if_counts v, u;

		vx_ns_if_counts(t->netns, t->device, &v);
		vx_ns_if_counts(t->netns, t->underlay, &u);
		if (!end) {
			d->vx0[i] = v;
			d->ul0[i] = u;
			continue;
		}
		t->encap = v.tx - d->vx0[i].tx;
		t->decap = v.rx - d->vx0[i].rx;
		t->underlay_rx = u.rx - d->ul0[i].rx;
	}
	/* The probe's pings of remote VTEPs cross the underlays but are no
	 * tunnel traffic: each answered one was a request into the peer's
	 * underlay and a reply into the sender's. */
	for (int i = 0; end && i < d->pr.n_tg; i++) {
		const struct vx_probe_target *g = &d->pr.tg[i];
		struct vx_ev_tunnel *t = g->tun >= 0 && g->ul_family ? &d->ev.tun[g->tun] : NULL;

		if (!t)
			continue;
		uncount_rx(t, g->ul_received);
		if (t->peer >= 0)
			uncount_rx(&d->ev.tun[t->peer], g->ul_received);
	}
}

/* Each tunnel's namespace's UDP checksum errors over the window. */
static void snap_csum(struct diag *d, bool end)
{
	for (int i = 0; i < d->ev.n_tun; i++) {
		uint64_t v = vx_ns_udp_csum_errors(d->ev.tun[i].netns);

		if (!end)
			d->csum0[i] = v;
		else
			d->ev.tun[i].udp_csum_errors = v > d->csum0[i] ? v - d->csum0[i] : 0;
	}
}

/* Every diagnosed namespace, for the judges that look for hops. */
static void fill_watched(struct diag *d)
{
	for (int i = 0; i < d->n_names && d->ev.n_watched < VX_MAX_NETNS; i++)
		snprintf(d->ev.watched[d->ev.n_watched++], VX_NETNS_NAME_MAX, "%s", d->names[i]);
}

/* ---- per-stage latency ---------------------------------------------------- */

/* Not fatal: without it the probe's round trip is the only latency
 * evidence. */
static void dp_start(struct diag *d)
{
	if (vx_stagelat_start(&d->sl, d->o, (const char(*)[VX_NETNS_NAME_MAX])d->names,
			      d->n_names)) {
		gap(d, "%s",
		    "no per-stage latency: the datapath programs could not attach "
		    "(see above); latency is the probe's overlay round trip");
		return;
	}
}

static void on_tick(void *ctx, uint64_t now)
{
	struct diag *d = ctx;

	vx_stagelat_tick(&d->sl, now - d->start_ns, d->window_ns);
}

/* The probe's burst marks: the histograms are read at each. */
static void on_burst_mark(void *ctx, enum vx_probe_mark m)
{
	struct diag *d = ctx;

	vx_stagelat_burst(&d->sl, m == VX_PROBE_BURST_END);
}

static int on_probe_output(void *ctx)
{
	struct diag *d = ctx;

	return vx_probe_read(&d->pr, on_burst_mark, d);
}

/* ---- output --------------------------------------------------------------- */

/* The drops that are not findings (noise on other traffic), as notes. */
static char notes[VX_EV_MAX_DROPS][VX_NOTE_LEN];
static int n_notes;

/* The probe's size sweep toward target @i, as inner packet sizes. */
static void print_sweep(const struct diag *d, int i)
{
	const struct vx_ev_probe *p = i < d->ev.n_probes ? &d->ev.probes[i] : NULL;

	if (!p || !p->sweep_sent)
		return;
	if (!p->sweep_lost)
		printf(", %u sizes swept: all answered", p->sweep_sent);
	else if (p->sweep_ok)
		printf(", %u sizes swept: answered up to %u bytes, lost from %u", p->sweep_sent,
		       p->sweep_ok, p->sweep_lost);
	else
		printf(", %u sizes swept: none answered", p->sweep_sent);
	if (p->too_big)
		printf(", %u ICMP too-big (MTU %u)", p->too_big, p->too_big_mtu);
	if (p->route_mtu && p->tun >= 0 && p->tun < d->ev.n_tun &&
	    p->route_mtu < d->ev.tun[p->tun].mtu)
		printf(", path MTU learned %u", p->route_mtu);
}

static void print_text(const struct diag *d, const struct vx_finding *f, int n)
{
	int faults = 0;

	for (int i = 0; i < n; i++)
		faults += f[i].verdict != VX_V_HEALTHY;
	if (d->prom_url)
		printf("vxray diagnose: the last %.0fs in Prometheus at %s, over", d->ev.window_s,
		       d->prom_url);
	else
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
		for (int i = 0; i < d->pr.n_tg; i++) {
			const struct vx_probe_target *g = &d->pr.tg[i];
			char a[INET6_ADDRSTRLEN];

			printf("%s %s -> %s: ping %u/%u, full-size %u/%u", i ? ";" : "",
			       vx_ns_label_of(g->src_ns), vx_probe_target_addr(g, a, sizeof(a)),
			       g->received, g->sent, g->big_received, g->big_sent);
			if (g->dst_known)
				printf(", TCP %llu/%llu bytes", (unsigned long long)g->tcp_received,
				       (unsigned long long)g->tcp_sent);
			else
				printf(", no TCP (the address is in no namespace of this host)");
			print_sweep(d, i);
			if (g->ul_family)
				printf(", its VTEP %s over the underlay %u/%u",
				       inet_ntop(g->ul_family, g->ul_dst, a, sizeof(a)) ? a : "?",
				       g->ul_received, g->ul_sent);
		}
		printf("\n");
	}
	for (int i = 0; i < n_notes; i++)
		printf("note: %s\n", notes[i]);
	for (int i = 0; i < d->n_gaps; i++)
		printf("note: %s\n", d->gaps[i]);
}

/* The probe's size sweep per target, beside probe_targets (whose objects
 * stay as they were): inner packet sizes, ICMP too-big errors, the route
 * MTU after the burst. */
static void print_json_sweeps(struct jw *w, const struct diag *d)
{
	jw_arr_open(w, "probe_sweeps");
	for (int i = 0; d->ev.probed && i < d->ev.n_probes; i++) {
		const struct vx_ev_probe *p = &d->ev.probes[i];

		if (!p->sweep_sent)
			continue;
		jw_obj_open(w, NULL);
		jw_str(w, "from_netns", vx_ns_label_of(p->from));
		jw_str(w, "to", p->to);
		jw_uint(w, "sizes_sent", p->sweep_sent);
		jw_uint(w, "answered_max", p->sweep_ok);
		jw_uint(w, "lost_min", p->sweep_lost);
		jw_uint(w, "too_big", p->too_big);
		jw_uint(w, "route_mtu", p->route_mtu);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

static void print_json(const struct diag *d, const struct vx_finding *f, int n)
{
	const struct vx_evidence *ev = &d->ev;
	struct jw w;

	jw_init(&w, stdout);
	jw_record(&w, "diagnosis");
	jw_double(&w, "window_s", ev->window_s);
	jw_str(&w, "prometheus", d->prom_url);
	jw_bool(&w, "probe", ev->probed);
	jw_arr_open(&w, "probe_targets");
	for (int i = 0; ev->probed && i < d->pr.n_tg; i++) {
		const struct vx_probe_target *g = &d->pr.tg[i];
		char a[INET6_ADDRSTRLEN];

		jw_obj_open(&w, NULL);
		jw_str(&w, "from_netns", vx_ns_label_of(g->src_ns));
		jw_str(&w, "to", vx_probe_target_addr(g, a, sizeof(a)));
		jw_str(&w, "to_netns", g->dst_known ? vx_ns_label_of(g->dst_ns) : NULL);
		jw_uint(&w, "pings_sent", g->sent);
		jw_uint(&w, "pings_received", g->received);
		jw_uint(&w, "full_size_sent", g->big_sent);
		jw_uint(&w, "full_size_received", g->big_received);
		if (g->dst_known) {
			jw_uint(&w, "tcp_sent", g->tcp_sent);
			jw_uint(&w, "tcp_received", g->tcp_received);
		}
		if (g->ul_family) {
			jw_str(&w, "remote_vtep",
			       inet_ntop(g->ul_family, g->ul_dst, a, sizeof(a)) ? a : NULL);
			jw_uint(&w, "underlay_pings_sent", g->ul_sent);
			jw_uint(&w, "underlay_pings_received", g->ul_received);
		}
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	print_json_sweeps(&w, d);
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
		jw_str(&w, "netns", f[i].placed ? vx_ns_label_of(f[i].netns) : NULL);
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
		jw_str(&w, "netns", vx_ns_label_of(t->netns));
		jw_str(&w, "device", t->device);
		if (t->external)
			jw_null(&w, "vni");
		else
			jw_uint(&w, "vni", t->vni);
		jw_bool(&w, "external", t->external);
		jw_str(&w, "local_vtep", t->local);
		jw_str(&w, "remote_vtep", t->remote);
		jw_str(&w, "peer_netns",
		       t->peer >= 0 ? vx_ns_label_of(ev->tun[t->peer].netns) : NULL);
		jw_uint(&w, "mtu", t->mtu);
		jw_str(&w, "underlay", t->underlay);
		jw_uint(&w, "underlay_mtu", t->underlay_mtu);
		jw_uint(&w, "encap_packets", t->encap);
		jw_uint(&w, "decap_packets", t->decap);
		jw_uint(&w, "underlay_rx_packets", t->underlay_rx);
		jw_uint(&w, "retrans_full_size", t->rt_full);
		jw_uint(&w, "retrans_small", t->rt_small);
		jw_uint(&w, "retrans_synack", t->rt_synack);
		jw_uint(&w, "udp_csum_errors", t->udp_csum_errors);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_arr_open(&w, "drops");
	for (int i = 0; i < ev->n_drops; i++) {
		const struct vx_ev_drop *x = &ev->drops[i];

		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", vx_ns_label_of(x->netns));
		jw_str(&w, "reason", x->reason);
		jw_str(&w, "location", x->location);
		jw_str(&w, "device", x->device);
		jw_str(&w, "rule_text", x->rule[0] ? x->rule : NULL);
		jw_bool(&w, "encapsulated", x->outer);
		jw_uint(&w, "count", x->count);
		jw_bool(&w, "unrelated", x->unrelated);
		jw_str(&w, "meaning", vx_drop_reason_meaning(x->reason));
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_uint(&w, "drops_lost", d->drops_lost);
	jw_arr_open(&w, "conntrack");
	for (int i = 0; i < ev->n_ct; i++) {
		jw_obj_open(&w, NULL);
		jw_str(&w, "netns", vx_ns_label_of(ev->ct[i].netns));
		jw_uint(&w, "entries", ev->ct[i].count);
		jw_uint(&w, "max_entries", ev->ct[i].max);
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
		jw_str(&w, "netns", vx_ns_label_of(l->netns));
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
	for (int i = 0; i < n_notes; i++)
		jw_str(&w, NULL, notes[i]);
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
	char err[512];
	int ret;

	for (int i = 0; i < d->n_names; i++)
		scope[i] = (struct vxd_scope_key){ .netns = vx_netns_inum(d->names[i]) };
	dcfg.n_scope = d->n_names;
	if (d->inv.n)
		dcfg.vxlan_port = d->inv.devs[0].dstport;
	ret = vx_dropsrc_open(&d->drops, &dcfg, vx_dropev_on_drop, &d->drops_ev);
	if (ret) {
		gap(d, "%s", "no kernel drops: the drop probe could not attach (see above)");
		d->drops = NULL;
	}
	ret = vx_ct_open(&d->ct, (const char(*)[VX_NETNS_NAME_MAX])d->names, d->n_names, err,
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

/* Retransmits are counted in the kernel (a lossy tunnel retransmits tens
 * of thousands of segments a second), each on the tunnel the datapath's
 * flow table says when the datapath runs: so after dp_start(). */
static void start_retrans(struct diag *d)
{
	uint32_t inums[VXR_MAX_NETNS];
	int ret;

	for (int i = 0; i < d->n_names && i < VXR_MAX_NETNS; i++)
		inums[i] = vx_netns_inum(d->names[i]);
	ret = vx_retranssrc_open(
		&d->rt, &(struct vx_retranssrc_cfg){ .inv = &d->inv,
						     .inums = inums,
						     .n_inums = d->n_names,
						     .count = true,
						     .flow_fd = vx_stagelat_flow_fd(&d->sl) });
	if (ret) {
		pr_warn("cannot watch TCP retransmits: %s", vx_strerror(ret));
		gap(d, "%s",
		    "no TCP retransmit counts: the retransmit tracepoints refused to attach");
		d->rt = NULL;
	}
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
	vx_retranssrc_read_counts(d->rt);
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

/* --baseline FILE, else the one the agent keeps when it left one: what
 * latency is compared with, and the words saying where it came from. */
static int load_baseline(struct diag *d, struct vx_baseline **base)
{
	char err[512];

	if (!d->o->baseline) {
		*base = vx_basestate_read(d->o->state_dir ? d->o->state_dir : VX_BASESTATE_DIR,
					  d->base_from, sizeof(d->base_from));
		return 0;
	}
	*base = vx_baseline_load(d->o->baseline, err, sizeof(err));
	if (!*base) {
		pr_err("%s", err);
		return VX_EXIT_USAGE;
	}
	snprintf(d->base_from, sizeof(d->base_from), "--baseline %s", d->o->baseline);
	return 0;
}

/* The findings from d->ev, each with its series when @pe read them from
 * Prometheus, printed; the exit code they mean. */
static int judge_and_print(struct diag *d, struct vx_finding *f, const struct vx_promev *pe)
{
	int n = vx_findings_judge(&d->ev, f, VX_MAX_FINDINGS);

	if (pe)
		vx_promev_series(pe, &d->ev, f, n);
	n_notes = vx_findings_notes(&d->ev, notes, VX_EV_MAX_DROPS);
	if (d->o->json)
		print_json(d, f, n);
	else
		print_text(d, f, n);
	fflush(stdout);
	return f[0].verdict == VX_V_HEALTHY ? VX_EXIT_OK : VX_EXIT_FINDING;
}

/* --prometheus: the same judges and output, the evidence read from what
 * the nodes' agents recorded (promev.c). Nothing is loaded or attached,
 * so no privileges are needed. */
static int diagnose_prometheus(struct vx_opts *o)
{
	static struct diag d;
	static struct vx_promev pe;
	static struct vx_finding f[VX_MAX_FINDINGS];
	struct vx_prom *p;
	char err[1024];
	int ret;

	memset(&d, 0, sizeof(d));
	memset(&pe, 0, sizeof(pe));
	d.o = o;
	pe.window_s = (o->window_ns ? o->window_ns : 300 * NSEC_PER_SEC) / NSEC_PER_SEC;
	pe.node = o->node;
	if (!(p = vx_prom_open(o->prometheus, err, sizeof(err)))) {
		pr_err("%s", err);
		return VX_EXIT_USAGE;
	}
	d.prom_url = vx_prom_url(p);
	ret = vx_promev_fill(p, &pe, &d.ev, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		vx_prom_close(p);
		return VX_EXIT_FAIL;
	}
	for (int i = 0; i < pe.n_places; i++)
		add_name(&d, pe.places[i].name);
	gap(&d, "%s",
	    "places are NODE/NETNS (NODE its node label, else its instance): run the commands "
	    "named above on NODE, with --netns NETNS (none for host)");
	for (int i = 0; i < pe.n_notes; i++)
		gap(&d, "%s", pe.notes[i]);
	ret = judge_and_print(&d, f, &pe);
	vx_prom_close(p);
	return ret;
}

int cmd_diagnose(struct vx_opts *o)
{
	static struct diag d;
	static struct vx_finding f[VX_MAX_FINDINGS];
	struct vx_loop loop = { .epfd = -1 };
	struct vx_baseline *base = NULL;
	char buf[32];
	struct vx_view view;
	uint64_t start;
	int ret;

	if (o->prometheus)
		return diagnose_prometheus(o);
	memset(&d, 0, sizeof(d));
	d.o = o;
	d.drops_ev.ev = &d.ev;
	d.window_ns = o->duration_ns ? o->duration_ns : 10 * NSEC_PER_SEC;
	if (o->probe && d.window_ns < VX_PROBE_MIN_NS) {
		pr_err("--probe needs a window of at least %s (-d)",
		       vx_fmt_duration(VX_PROBE_MIN_NS, buf, sizeof(buf)));
		return VX_EXIT_USAGE;
	}
	if ((ret = load_baseline(&d, &base)))
		return ret;
	/* Before pick(): without privileges entering the namespaces fails
	 * with a less useful message. */
	/* No --metrics and no --pcap here (main.c's table): only the
	 * privilege and BTF checks, nothing to close. */
	if ((ret = vx_view_open(&view, o, 0))) {
		vx_baseline_free(base);
		return ret;
	}
	ret = pick(&d);
	if (ret) {
		vx_baseline_free(base);
		vx_inventory_free(&d.inv);
		return vx_exit_code(ret);
	}
	vx_ev_from_inventory(&d.ev, &d.inv, (const char(*)[VX_NETNS_NAME_MAX])d.names, d.n_names);
	fill_watched(&d);
	if (o->n_targets &&
	    vx_probe_user_targets(&d.pr, o->targets, o->n_targets, &d.ev,
				  (const char(*)[VX_NETNS_NAME_MAX])d.names, d.n_names)) {
		vx_baseline_free(base);
		vx_inventory_free(&d.inv);
		return VX_EXIT_USAGE;
	} else if (o->probe && !o->n_targets) {
		vx_probe_pick_targets(&d.pr, &d.ev);
		if (!d.pr.n_tg)
			gap(&d, "%s",
			    "--probe found no pair of named namespaces with overlay "
			    "addresses on both ends: nothing was sent (--target names one)");
	}
	/* The probe's traffic is what matters: drops of other packets are
	 * notes. */
	for (int i = 0; i < d.pr.n_tg; i++)
		vx_dropev_interest(&d.drops_ev, d.pr.tg[i].family, d.pr.tg[i].dst);
	start_engines(&d);
	dp_start(&d);
	start_retrans(&d);
	vx_dropev_snap_rules(&d.drops_ev, (const char(*)[VX_NETNS_NAME_MAX])d.names, d.n_names,
			     false);
	if (!d.drops_ev.have_rules)
		gap(&d, "%s",
		    "no netfilter rule counters could be read: drops are not matched "
		    "to rules");
	/* Drops are named from it: built before the window, not in it. */
	vx_ksyms_build();
	snap_devices(&d, false);
	snap_csum(&d, false);
	d.start_ns = vx_now_ns();
	ret = vx_loop_init(&loop, d.window_ns, NSEC_PER_SEC / 2, on_tick, &d);
	loop.drain_ns = 0; /* the report comes at the end */
	if (!ret && d.drops)
		ret = vx_dropsrc_add_to_loop(d.drops, &loop);
	if (!ret && d.rt)
		ret = vx_retranssrc_add_to_loop(d.rt, &loop);
	if (!ret && d.ct)
		ret = vx_ct_add_to_loop(d.ct, &loop);
	if (!ret && d.pr.n_tg && !(ret = vx_probe_start(&d.pr, d.window_ns))) {
		d.ev.probed = true;
		ret = vx_loop_add_fd(&loop, vx_probe_fd(&d.pr), on_probe_output, &d);
	}
	if (ret) {
		pr_err("cannot set up the diagnosis: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	pr_info("diagnosing %d namespace%s for %s%s", d.n_names, d.n_names == 1 ? "" : "s",
		vx_fmt_duration(d.window_ns, buf, sizeof(buf)),
		d.ev.probed ? " with probe traffic" : "");
	start = vx_now_ns();
	ret = vx_loop_run(&loop);
	start = vx_now_ns() - start; /* now the window's real length */
	if (ret) {
		pr_err("diagnose: the event loop failed: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	vx_probe_stop(&d.pr);
	vx_probe_fill_probes(&d.pr, &d.ev);
	if (d.drops) {
		vx_dropsrc_drain(d.drops);
		d.drops_lost = vx_dropsrc_lost(d.drops);
		if (d.drops_lost)
			gap(&d, "%s",
			    "some drop events were lost (ring buffer full): drop counts are low");
	}
	snap_devices(&d, true);
	snap_csum(&d, true);
	vx_dropev_snap_rules(&d.drops_ev, (const char(*)[VX_NETNS_NAME_MAX])d.names, d.n_names,
			     true);
	vx_dropev_attach_rules(&d.drops_ev);
	fill_conntrack(&d);
	fill_retrans(&d);
	vx_stagelat_fill(&d.sl, &d.ev, base, d.base_from);
	vx_probe_fill_latency(&d.pr, &d.ev, base, d.base_from);
	/* Ctrl-C ends the window early: judge what was seen, say how long. */
	d.ev.window_s = (double)start / NSEC_PER_SEC;
	if (d.rt && vx_retranssrc_lost(d.rt))
		gap(&d, "%s",
		    "some retransmit events were lost (ring buffer full): counts are low");
	ret = judge_and_print(&d, f, NULL);
out:
	vx_probe_stop(&d.pr);
	vx_loop_close(&loop);
	vx_stagelat_stop(&d.sl);
	vx_ct_close(d.ct);
	vx_retranssrc_close(d.rt);
	vx_dropsrc_close(d.drops);
	vx_inventory_free(&d.inv);
	vx_dropev_free(&d.drops_ev);
	vx_baseline_free(base);
	return ret;
}
