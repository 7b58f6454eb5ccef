// SPDX-License-Identifier: GPL-2.0-only
/* `vxray agent`: the node agent. No event printing; the datapath in
 * counters-only mode, the drop and retransmit engines, all read every
 * --interval into the Prometheus registry (loader/metrics.c) that an HTTP
 * thread serves on /metrics.
 *
 * Memory is bounded whatever the traffic: the kernel side keeps per-tunnel
 * counters in LRU maps (vxp_tun, 4096 entries) and drop aggregates in a
 * fixed-size hash; the registry caps label sets per family (AGENT_MAX_*),
 * counting refusals in vxray_metrics_series_refused_total. An LRU eviction
 * restarts that tunnel's counter from zero, which Prometheus' rate() reads
 * as a counter reset. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "cmd.h"
#include "conntrack.h"
#include "datapath.h"
#include "dropsrc.h"
#include "hist.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "netns.h"
#include "policy.h"
#include "retranssrc.h"
#include "sysinfo.h"
#include "vxray.h"
#include "vx_tc.skel.h"

#ifndef VXRAY_VERSION
#define VXRAY_VERSION "unknown"
#endif

#define AGENT_DEFAULT_PORT 9435
/* Label-set caps per family. Tunnels: the kernel map holds 4096 keys, and
 * a key per hook folds into one series per device and direction. */
#define AGENT_MAX_TUNNELS 4096
#define AGENT_MAX_DROPS 1024
#define AGENT_MAX_SMALL 64

struct agent {
	struct vx_opts *o;
	struct vx_metrics *m;
	struct vx_metrics_server *srv;

	struct vx_dp dp;
	bool dp_loaded;
	struct vx_dropsrc *drops;
	struct vx_retranssrc *rt;
	struct vx_inventory rt_inv;
	struct vx_ct *ct;
	struct vx_ct_snapshot *ct_snap;

	struct vx_mfamily *tun_pkts, *tun_bytes, *malformed, *underlay_other;
	struct vx_mfamily *drops_total, *retrans, *synack, *latency;
	struct vx_mfamily *nf_drops;
	uint64_t nf_last_ns;
	struct vx_mfamily *ct_count, *ct_max, *ct_insert_failed, *ct_drop, *ct_early_drop;
	struct vx_mfamily *lost, *attached, *backend, *build, *up, *interfaces;
	uint64_t ticks;
};

static const char *const TUN_LABELS[] = { "netns", "device", "vni", "remote_vtep", "direction",
					  NULL };

static const char *ns_label(uint32_t inum)
{
	const char *n = vx_netns_name_by_inum(inum);

	/* vxray's own namespace has no name: say so rather than print "". */
	return n && *n ? n : "host";
}

/* Latency bucket bounds: every other power of two from 1.024us to 1.07s.
 * Powers of two are slot boundaries of the kernel's log-linear histogram,
 * so each slot falls wholly inside one bucket: the counts are exact. */
#define LAT_BOUNDS 11
static uint64_t lat_bound_ns(int i)
{
	return 1ULL << (10 + 2 * i);
}

static int setup_families(struct agent *a)
{
	static const char *const kind[] = { "kind", NULL };
	static const char *const source[] = { "source", NULL };
	static const char *const probe_be[] = { "probe", "backend", NULL };
	static const char *const build[] = { "version", "libbpf", "kernel", NULL };
	static const char *const drop_l[] = { "netns", "reason", "location", NULL };
	static const char *const rt_l[] = { "netns", "device", "vni", "size", NULL };
	static const char *const syn_l[] = { "netns", "device", "vni", NULL };
	static const char *const if_l[] = { "netns", NULL };
	static const char *const nf_l[] = { "netns", "family", "table", "chain", "rule",
					    "verdict", NULL };
	static const char *const lat_l[] = { "netns", "device", "vni", "stage", NULL };
	struct vx_metrics *m = a->m;
	double bounds[LAT_BOUNDS];

	for (int i = 0; i < LAT_BOUNDS; i++)
		bounds[i] = (double)lat_bound_ns(i) / 1e9;

	a->tun_pkts = vx_metrics_add(m, "vxray_tunnel_packets_total", VX_METRIC_COUNTER,
		"Packets through a VXLAN tunnel, counted once: at the VXLAN device when it is "
		"watched, else at its underlay. direction is encap (leaving) or decap (arriving).",
		TUN_LABELS, AGENT_MAX_TUNNELS);
	a->tun_bytes = vx_metrics_add(m, "vxray_tunnel_bytes_total", VX_METRIC_COUNTER,
		"Bytes of those packets as the counting hook saw them (the inner frame at a VXLAN "
		"device, the outer packet at an underlay).",
		TUN_LABELS, AGENT_MAX_TUNNELS);
	a->malformed = vx_metrics_add(m, "vxray_malformed_frames_total", VX_METRIC_COUNTER,
		"Frames the datapath parser rejected, by the header that was wrong.", kind,
		AGENT_MAX_SMALL);
	a->underlay_other = vx_metrics_add(m, "vxray_underlay_other_packets_total",
		VX_METRIC_COUNTER, "Packets on a watched underlay that were not VXLAN "
		"(kind ip: IP but not VXLAN; non_ip: ARP, LLDP, ...).", kind, 4);
	a->drops_total = vx_metrics_add(m, "vxray_drops_total", VX_METRIC_COUNTER,
		"Packets the kernel dropped, by namespace, drop reason (from this kernel's BTF) and "
		"the function that dropped them.", drop_l, AGENT_MAX_DROPS);
	a->retrans = vx_metrics_add(m, "vxray_tcp_retransmits_total", VX_METRIC_COUNTER,
		"TCP retransmits of flows leaving through a VXLAN tunnel; size full means a "
		"segment of at least one MSS (the MTU fingerprint).", rt_l, AGENT_MAX_SMALL * 8);
	a->synack = vx_metrics_add(m, "vxray_tcp_synack_retransmits_total", VX_METRIC_COUNTER,
		"SYNACK retransmits of flows through a VXLAN tunnel.", syn_l, AGENT_MAX_SMALL * 4);
	a->latency = vx_metrics_add_histogram(m, "vxray_latency_seconds",
		"Time a tunnel packet spent in a stage, by the hook that ended it: encap (VXLAN "
		"device to underlay egress), wire (underlay egress to the peer's underlay ingress), "
		"decap (underlay ingress to VXLAN device).", lat_l, bounds, LAT_BOUNDS,
		AGENT_MAX_TUNNELS / 4);
	a->nf_drops = vx_metrics_add(m, "vxray_netfilter_drops_total", VX_METRIC_COUNTER,
		"Packets matched by a netfilter rule (or chain policy) whose verdict drops or "
		"rejects, from the rule's own counter; nftables rules without a counter "
		"statement have none to read.", nf_l, AGENT_MAX_DROPS);
	a->ct_count = vx_metrics_add(m, "vxray_conntrack_entries", VX_METRIC_GAUGE,
		"Entries in the namespace's conntrack table now.", if_l, VX_MAX_NETNS + 1);
	a->ct_max = vx_metrics_add(m, "vxray_conntrack_entries_max", VX_METRIC_GAUGE,
		"The namespace's nf_conntrack_max.", if_l, VX_MAX_NETNS + 1);
	a->ct_insert_failed = vx_metrics_add(m, "vxray_conntrack_insert_failed_total",
		VX_METRIC_COUNTER, "Conntrack entries the kernel could not insert (conntrack -S "
		"insert_failed).", if_l, VX_MAX_NETNS + 1);
	a->ct_drop = vx_metrics_add(m, "vxray_conntrack_drops_total", VX_METRIC_COUNTER,
		"Packets dropped because the conntrack table was full (conntrack -S drop).", if_l,
		VX_MAX_NETNS + 1);
	a->ct_early_drop = vx_metrics_add(m, "vxray_conntrack_early_drops_total",
		VX_METRIC_COUNTER, "Unassured entries evicted to make room (conntrack -S "
		"early_drop).", if_l, VX_MAX_NETNS + 1);
	a->lost = vx_metrics_add(m, "vxray_events_lost_total", VX_METRIC_COUNTER,
		"Events a ring buffer had no room for, by source; counters stay exact.", source,
		AGENT_MAX_SMALL);
	a->attached = vx_metrics_add(m, "vxray_programs_attached", VX_METRIC_GAUGE,
		"BPF programs vxray has attached now, by kind.", kind, AGENT_MAX_SMALL);
	a->interfaces = vx_metrics_add(m, "vxray_interfaces_watched", VX_METRIC_GAUGE,
		"Interfaces with the datapath attached now, by namespace.", if_l, 256);
	a->backend = vx_metrics_add(m, "vxray_probe_backend_info", VX_METRIC_GAUGE,
		"The hook each kernel probe runs on (value 1).", probe_be, AGENT_MAX_SMALL);
	a->build = vx_metrics_add(m, "vxray_build_info", VX_METRIC_GAUGE,
		"vxray's version, the libbpf it runs with and the kernel release (value 1).", build,
		1);
	a->up = vx_metrics_add(m, "vxray_agent_refreshes_total", VX_METRIC_COUNTER,
		"Times the agent has read the kernel's maps into these metrics.", NULL, 1);
	if (!a->tun_pkts || !a->tun_bytes || !a->malformed || !a->underlay_other ||
	    !a->drops_total || !a->retrans || !a->synack || !a->lost || !a->attached ||
	    !a->interfaces || !a->backend || !a->build || !a->up || !a->latency ||
	    !a->ct_count || !a->ct_max || !a->ct_insert_failed || !a->ct_drop ||
	    !a->ct_early_drop || !a->nf_drops)
		return -errno ? -errno : -ENOMEM;
	return 0;
}

static void fill_static(struct agent *a)
{
	char libbpf[32], kernel[80] = "unknown";
	struct utsname u;

	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	if (!uname(&u))
		snprintf(kernel, sizeof(kernel), "%s", u.release);
	vx_metric_set(a->build, (const char *[]){ VXRAY_VERSION, libbpf, kernel }, 1);
	vx_metric_set(a->backend, (const char *[]){ "datapath", vx_dp_tc_mode_name(a->dp.tc_mode) },
		      1);
	if (a->drops)
		vx_metric_set(a->backend, (const char *[]){ "drops", vx_dropsrc_backend(a->drops) },
			      1);
	if (a->rt)
		vx_metric_set(a->backend,
			      (const char *[]){ "retrans", vx_retranssrc_backend(a->rt) }, 1);
	if (a->ct)
		vx_metric_set(a->backend, (const char *[]){ "conntrack", vx_ct_backend(a->ct) }, 1);
}

/* ---- refresh ------------------------------------------------------------ */

static const char *addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6)
		return "none";
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) ? buf : "?";
}

static void sum_counters(struct agent *a, uint64_t out[VX_C__MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_cnt_fd(&a->dp);
	uint64_t *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));

	memset(out, 0, sizeof(uint64_t) * VX_C__MAX);
	for (uint32_t k = 0; vals && k < VX_C__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}

static bool vxlan_watched(const struct vx_dp *dp, const struct vx_vxlan_dev *vx)
{
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active && dp->w[i].is_vxlan && dp->w[i].vx && vx &&
		    dp->w[i].vx->ifindex == vx->ifindex && dp->w[i].netns_inum == vx->netns_inum)
			return true;
	return false;
}

struct tun_sum {
	const char *netns, *device;
	uint32_t vni;
	char remote[INET6_ADDRSTRLEN];
	bool encap;
	uint64_t pkts, bytes;
};

/* Fold the per-hook, per-CPU map into one total per label set first: set()
 * writes totals, so two keys of one series must be added before. */
static void fill_tunnels(struct agent *a)
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_tun_fd(&a->dp), n = 0;
	struct vx_tun_val *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	struct tun_sum *rows = calloc(AGENT_MAX_TUNNELS, sizeof(*rows));
	struct vx_tun_key k, next;
	bool first = true;

	while (vals && rows && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		const struct vx_dp_watched *w = vx_dp_lookup(&a->dp, next.netns, next.ifindex);
		uint8_t remote[16] = {}, family = next.family;
		struct tun_sum r = {};
		int i;

		first = false;
		k = next;
		if (!w || bpf_map_lookup_elem(fd, &k, vals))
			continue;
		/* Count each packet once, as `vxray encap` does. */
		if (!w->is_vxlan && vxlan_watched(&a->dp, w->vx))
			continue;
		memcpy(remote, k.remote, 16);
		if (!family && w->vx && w->vx->remote_family) {
			family = w->vx->remote_family == AF_INET ? 4 : 6;
			memcpy(remote, &w->vx->remote, family == 4 ? 4 : 16);
		}
		r.netns = ns_label(k.netns);
		r.device = w->name;
		r.vni = k.vni;
		r.encap = k.at == VX_AT_TC_UL_OUT || k.at == VX_AT_TC_VX_OUT;
		addr_str(family, remote, r.remote, sizeof(r.remote));
		for (int c = 0; c < ncpu; c++) {
			r.pkts += vals[c].packets;
			r.bytes += vals[c].bytes;
		}
		for (i = 0; i < n; i++)
			if (rows[i].netns == r.netns && rows[i].device == r.device &&
			    rows[i].vni == r.vni && rows[i].encap == r.encap &&
			    !strcmp(rows[i].remote, r.remote))
				break;
		if (i < n) {
			rows[i].pkts += r.pkts;
			rows[i].bytes += r.bytes;
		} else if (n < AGENT_MAX_TUNNELS) {
			rows[n++] = r;
		}
	}
	for (int i = 0; i < n; i++) {
		char vni[16];
		const char *l[] = { rows[i].netns, rows[i].device, vni, rows[i].remote,
				    rows[i].encap ? "encap" : "decap" };

		snprintf(vni, sizeof(vni), "%u", rows[i].vni);
		vx_metric_set(a->tun_pkts, l, (double)rows[i].pkts);
		vx_metric_set(a->tun_bytes, l, (double)rows[i].bytes);
	}
	free(rows);
	free(vals);
}

static void fill_datapath(struct agent *a)
{
	static const struct { int idx; const char *name; } bad[] = {
		{ VX_R_BAD_ETH, "eth" }, { VX_R_BAD_VLAN, "vlan" }, { VX_R_BAD_IP4, "ipv4" },
		{ VX_R_BAD_IHL, "ihl" }, { VX_R_BAD_IPVER, "ip_version" }, { VX_R_BAD_IP6, "ipv6" },
		{ VX_R_BAD_IP6_EXT, "ipv6_ext" }, { VX_R_BAD_UDP, "udp" },
		{ VX_R_BAD_VXLAN, "vxlan" }, { VX_R_BAD_VXLAN_FLAGS, "vxlan_flags" },
		{ VX_R_BAD_INNER_ETH, "inner_eth" }, { VX_R_BAD_INNER_IP, "inner_ip" },
		{ VX_R_BAD_L4, "l4" },
	};
	uint64_t cnt[VX_C__MAX];
	int per_ns[VX_DP_MAX_INST] = {};

	sum_counters(a, cnt);
	/* Every kind, zeros included: an alert needs the series to exist. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		vx_metric_set(a->malformed, (const char *[]){ bad[i].name }, (double)cnt[bad[i].idx]);
	vx_metric_set(a->underlay_other, (const char *[]){ "ip" }, (double)cnt[VX_R_PLAIN_IP]);
	vx_metric_set(a->underlay_other, (const char *[]){ "non_ip" }, (double)cnt[VX_R_NON_IP]);
	vx_metric_set(a->lost, (const char *[]){ "datapath" }, (double)cnt[VX_C_LOST]);
	fill_tunnels(a);

	vx_metric_clear(a->interfaces);
	for (int i = 0; i < a->dp.n_w; i++)
		if (a->dp.w[i].active)
			per_ns[a->dp.w[i].inst]++;
	for (int i = 0; i < a->dp.n_inst; i++)
		vx_metric_set(a->interfaces, (const char *[]){ ns_label(a->dp.inst[i].inum) },
			      per_ns[i]);
	vx_metric_set(a->attached, (const char *[]){ "tc" }, 2.0 * vx_dp_n_active(&a->dp));
}

static void fill_drops(struct agent *a)
{
	const struct vx_drop_row *rows;
	int n;

	if (!a->drops)
		return;
	n = vx_dropsrc_read_agg(a->drops, &rows);
	for (int i = 0; i < n; i++) {
		char rbuf[32], nsb[32], loc[128] = "unknown";
		const char *sym;
		uint64_t off;

		/* The function without its offset: one series per dropping
		 * function keeps the label set small. */
		if (rows[i].key.location && (sym = vx_ksym_lookup(rows[i].key.location, &off)))
			snprintf(loc, sizeof(loc), "%s", sym);
		vx_metric_add(a->drops_total,
			      (const char *[]){ vx_drop_ns_name(rows[i].key.netns, nsb, sizeof(nsb)),
						vx_drop_reason_name(rows[i].key.reason, rbuf,
								    sizeof(rbuf)),
						loc },
			      (double)rows[i].delta);
	}
	vx_metric_set(a->lost, (const char *[]){ "drops" }, (double)vx_dropsrc_lost(a->drops));
}

static void fill_retrans(struct agent *a)
{
	if (!a->rt)
		return;
	for (int d = 0; d < a->rt_inv.n; d++) {
		const struct vx_retrans_tun *t = vx_retranssrc_tun(a->rt, d);
		const struct vx_vxlan_dev *v = &a->rt_inv.devs[d];
		const char *ns = v->netns[0] ? v->netns : "host";
		char vni[16];

		if (!t)
			continue;
		snprintf(vni, sizeof(vni), "%u", v->vni);
		vx_metric_set(a->retrans, (const char *[]){ ns, v->name, vni, "full" },
			      (double)t->full);
		vx_metric_set(a->retrans, (const char *[]){ ns, v->name, vni, "small" },
			      (double)t->small);
		vx_metric_set(a->synack, (const char *[]){ ns, v->name, vni }, (double)t->synack);
	}
	vx_metric_set(a->lost, (const char *[]){ "retrans" }, (double)vx_retranssrc_lost(a->rt));
}

static void fill_latency(struct agent *a)
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_map_fd(&a->dp, "vxl_hist");
	uint64_t bounds[LAT_BOUNDS];
	struct vx_lat_hist *vals, sum;
	struct vx_lat_key k, next;
	bool first = true;

	if (fd < 0)
		return;
	for (int i = 0; i < LAT_BOUNDS; i++)
		bounds[i] = lat_bound_ns(i);
	vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	while (vals && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		const struct vx_dp_watched *w = vx_dp_lookup(&a->dp, next.netns, next.ifindex);
		const char *stage = vx_lat_stage_name(next.stage);
		uint64_t counts[LAT_BOUNDS + 1];
		char vni[16];

		first = false;
		k = next;
		if (!w || !stage || bpf_map_lookup_elem(fd, &k, vals))
			continue;
		vx_hist_sum(&sum, vals, ncpu);
		vx_hist_buckets(&sum, bounds, LAT_BOUNDS, counts);
		snprintf(vni, sizeof(vni), "%u", k.vni);
		vx_metric_set_histogram(a->latency,
					(const char *[]){ ns_label(k.netns), w->name, vni, stage },
					counts, (double)sum.sum_ns / 1e9);
	}
	free(vals);
}

/* Each read runs iptables-save where iptables-nft or legacy rules exist,
 * so the rule counters are read at most every NF_READ_EVERY. */
#define NF_READ_EVERY (5 * NSEC_PER_SEC)

/* Read outside the registry lock (it may run iptables-save), set inside. */
static int read_netfilter(struct agent *a, uint64_t now, struct vx_nf_ruleset *rs,
			  const char **names)
{
	int n = 0;

	if (a->nf_last_ns && now - a->nf_last_ns < NF_READ_EVERY)
		return 0;
	a->nf_last_ns = now;
	for (int i = 0; i < a->o->n_netns; i++)
		names[n++] = a->o->netns[i];
	if (!n)
		names[n++] = "";
	for (int i = 0; i < n; i++)
		if (vx_nf_read_ruleset(names[i], &rs[i]))
			vx_nf_ruleset_free(&rs[i]);
	return n;
}

static void fill_netfilter(struct agent *a, const struct vx_nf_ruleset *rs, const char **names,
			   int n)
{
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < rs[i].n; k++) {
			const struct vx_nf_rule *r = &rs[i].r[k];

			if (r->verdict != VX_NFV_DROP && r->verdict != VX_NFV_REJECT)
				continue;
			if (r->source == VX_NFS_NFT && !r->has_counter)
				continue;
			vx_metric_set(a->nf_drops,
				      (const char *[]){ names[i][0] ? names[i] : "host", r->family,
							r->table, r->chain,
							r->policy ? "policy" : r->text,
							vx_nf_verdict_name(r->verdict) },
				      (double)r->packets);
		}
	}
}

static void fill_conntrack(struct agent *a)
{
	if (!a->ct || vx_ct_snapshot(a->ct, a->ct_snap))
		return;
	for (int i = 0; i < a->ct_snap->n; i++) {
		const struct vx_ct_ns *n = &a->ct_snap->ns[i];
		const char *l[] = { n->netns[0] ? n->netns : "host" };

		if (n->have_count) {
			vx_metric_set(a->ct_count, l, n->count);
			vx_metric_set(a->ct_max, l, n->max);
		}
		vx_metric_set(a->ct_insert_failed, l, (double)n->total.insert_failed);
		vx_metric_set(a->ct_drop, l, (double)n->total.drop);
		vx_metric_set(a->ct_early_drop, l, (double)n->total.early_drop);
	}
	vx_metric_set(a->lost, (const char *[]){ "conntrack" }, (double)a->ct_snap->total_lost);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct agent *a = ctx;
	struct vx_nf_ruleset rs[VX_MAX_NETNS] = {};
	const char *names[VX_MAX_NETNS];
	int n_nf = read_netfilter(a, now, rs, names);

	vx_metrics_lock(a->m);
	fill_datapath(a);
	fill_drops(a);
	fill_retrans(a);
	fill_latency(a);
	fill_conntrack(a);
	fill_netfilter(a, rs, names, n_nf);
	vx_metric_set(a->attached, (const char *[]){ "drops" }, a->drops ? 1 : 0);
	vx_metric_set(a->attached, (const char *[]){ "retrans" }, a->rt ? 2 : 0);
	vx_metric_set(a->up, NULL, (double)++a->ticks);
	vx_metrics_unlock(a->m);
	for (int i = 0; i < n_nf; i++)
		vx_nf_ruleset_free(&rs[i]);
}

/* ---- setup -------------------------------------------------------------- */

static void on_drop(void *ctx, const struct vx_drop *d)
{
	/* Counted in the kernel's aggregate map; the agent prints nothing. */
}

static void on_retrans(void *ctx, const struct vxr_event *e, int dev, bool full_size)
{
}

static int open_conntrack(struct agent *a)
{
	char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX], err[256];
	int n = 0;

	for (int i = 0; i < a->o->n_netns; i++)
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", a->o->netns[i]);
	if (!n)
		names[n++][0] = '\0';
	a->ct_snap = calloc(1, sizeof(*a->ct_snap));
	if (!a->ct_snap || vx_ct_open(&a->ct, names, n, err, sizeof(err)) ||
	    vx_ct_attach(a->ct, a->o->backend, err, sizeof(err))) {
		vx_ct_close(a->ct);
		a->ct = NULL;
		if (a->o->backend != VX_BACKEND_AUTO && a->ct_snap) {
			pr_err("%s", err);
			return -EINVAL;
		}
		pr_warn("serving metrics without conntrack: %s", a->ct_snap ? err : "out of memory");
	}
	return 0;
}

/* Latency joins packets across hooks in the kernel; the agent wants it. */
static int before_load(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct vx_dp_config *c = (struct vx_dp_config *)&in->tc->rodata->cfg;

	c->latency = 1;
	return 0;
}

/* The drop and retransmit engines add what the datapath cannot see. Either
 * may be refused by the kernel; the agent then serves the rest and says
 * which is missing (vxray_probe_backend_info lacks it). */
static int open_probes(struct agent *a)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vx_dropsrc_cfg cfg = { .backend = a->o->backend, .scope = scope };
	uint32_t inums[VXR_MAX_NETNS];
	int n_inums = 0, err;

	if (vx_drop_scope_build(a->o, scope, &cfg.n_scope, &cfg.vxlan_port) ||
	    vx_dropsrc_open(&a->drops, &cfg, on_drop, a)) {
		a->drops = NULL;
		/* A backend the user asked for is not optional; dropsrc
		 * has said why it cannot run. */
		if (a->o->backend != VX_BACKEND_AUTO)
			return -EINVAL;
		pr_warn("serving metrics without drops: the drop probe could not attach");
	}
	for (int i = 0; i < a->o->n_netns && n_inums < VXR_MAX_NETNS; i++)
		inums[n_inums++] = vx_netns_inum(a->o->netns[i]);
	for (int i = 0; i < a->o->n_netns; i++)
		vx_inventory_collect(&a->rt_inv, a->o->netns[i]);
	if (!a->o->n_netns)
		vx_inventory_collect(&a->rt_inv, "");
	err = vx_retranssrc_open(&a->rt, &a->rt_inv, inums, n_inums, on_retrans, a);
	if (err) {
		pr_warn("serving metrics without retransmits: %s", vx_strerror(err));
		a->rt = NULL;
	}
	return open_conntrack(a);
}

int cmd_agent(struct vx_opts *o)
{
	struct agent a = { .o = o };
	struct vx_dp_opts po = { .o = o, .events = false, .before_load = before_load };
	struct vx_sysinfo si;
	struct vx_loop loop;
	const char *priv;
	char err[256];
	int ret;

	if (o->backend == VX_BACKEND_FENTRY || o->backend == VX_BACKEND_KPROBE) {
		/* --backend picks the drop probe's hook; retransmits only
		 * have tracepoints and stay on them. */
		pr_debug("--backend applies to the drop probe");
	}
	if (!o->has_metrics) {
		snprintf(o->metrics_addr, sizeof(o->metrics_addr), "127.0.0.1");
		o->metrics_port = AGENT_DEFAULT_PORT;
	}
	/* A node agent watches every tunnel unless told otherwise. */
	if (!o->n_ifaces)
		o->auto_attach = true;

	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_FAIL;
	}
	a.m = vx_metrics_new();
	if (!a.m || setup_families(&a)) {
		pr_err("cannot set up the metrics registry: out of memory");
		vx_metrics_free(a.m);
		return VX_EXIT_FAIL;
	}
	/* Listen first: a port in use is a usage problem, found before
	 * anything is attached. */
	a.srv = vx_metrics_serve(a.m, o->metrics_addr, o->metrics_port, err, sizeof(err));
	if (!a.srv) {
		pr_err("%s", err);
		vx_metrics_free(a.m);
		return VX_EXIT_USAGE;
	}
	vx_ksyms_load();

	vx_dp_init(&a.dp, &po);
	ret = vx_dp_pick(&a.dp);
	if (!ret)
		ret = vx_dp_load(&a.dp);
	if (!ret)
		ret = vx_dp_attach(&a.dp);
	if (ret) {
		ret = ret == -EINVAL || ret == -ENOENT || ret == -ENODEV ? VX_EXIT_USAGE
									 : VX_EXIT_FAIL;
		goto out;
	}
	if (open_probes(&a)) {
		ret = VX_EXIT_FAIL;
		goto out;
	}
	vx_metrics_lock(a.m);
	fill_static(&a);
	vx_metrics_unlock(a.m);

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &a);
	if (!ret)
		ret = vx_dp_follow(&a.dp, &loop);
	if (!ret && a.drops)
		ret = vx_dropsrc_add_to_loop(a.drops, &loop);
	if (!ret && a.rt)
		ret = vx_loop_add_ringbuf(&loop, vx_retranssrc_ringbuf(a.rt));
	if (!ret && a.ct)
		ret = vx_ct_add_to_loop(a.ct, &loop);
	if (!ret) {
		on_tick(&a, vx_now_ns());
		pr_info("agent: serving metrics on http://%s%s%s:%u/metrics; watching %d "
			"interface%s with %s; Ctrl-C to stop",
			strchr(o->metrics_addr, ':') ? "[" : "", o->metrics_addr,
			strchr(o->metrics_addr, ':') ? "]" : "", vx_metrics_server_port(a.srv),
			vx_dp_n_active(&a.dp), vx_dp_n_active(&a.dp) == 1 ? "" : "s",
			vx_dp_tc_mode_name(a.dp.tc_mode));
		ret = vx_loop_run(&loop);
	}
	vx_loop_close(&loop);
	if (ret) {
		pr_err("agent: event loop failed: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
	}
out:
	/* Stop serving before the maps the registry was filled from go. */
	vx_metrics_server_stop(a.srv);
	vx_ct_close(a.ct);
	free(a.ct_snap);
	vx_retranssrc_close(a.rt);
	vx_inventory_free(&a.rt_inv);
	vx_dropsrc_close(a.drops);
	vx_dp_close(&a.dp);
	vx_ksyms_free();
	vx_metrics_free(a.m);
	return ret;
}
