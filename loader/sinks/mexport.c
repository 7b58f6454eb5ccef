// SPDX-License-Identifier: GPL-2.0-only
/* The exported series; see mexport.h. Memory is bounded whatever the
 * traffic: the kernel keeps per-tunnel counters in LRU maps (vxp_tun, 4096
 * entries) and drop aggregates in a fixed-size hash, and the registry caps
 * label sets per family (MAX_*), counting refusals in
 * vxray_metrics_series_refused_total. An LRU eviction restarts that
 * tunnel's counter from zero, which Prometheus' rate() reads as a reset. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "conntrack.h"
#include "datapath.h"
#include "dropsrc.h"
#include "hist.h"
#include "httpd.h"
#include "ksyms.h"
#include "lathooks.h"
#include "log.h"
#include "metrics.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "policy.h"
#include "retranssrc.h"
#include "vxray.h"

#ifndef VXRAY_VERSION
#define VXRAY_VERSION "unknown"
#endif

/* Label-set caps per family. Tunnels: the kernel map holds 4096 keys, and
 * a key per hook folds into one series per device and direction. */
#define MAX_TUNNELS 4096
#define MAX_DROPS 1024
#define MAX_SMALL 64

/* One tunnel series: its labels, and this refresh's totals. */
struct tun_sum {
	char netns[VX_NETNS_NAME_MAX], device[IF_NAMESIZE];
	uint32_t vni;
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	bool encap, seen;
	uint64_t pkts, bytes;
};

/* The tunnel series exported so far, kept from refresh to refresh, and an
 * open-addressed index into them (2 x MAX_TUNNELS cells, -1: free): ten
 * thousand remote VTEPs fold in one pass, not one scan of the rows per
 * key. Past the cap the series already exported keep counting and new
 * ones are refused: a fold that took the first MAX_TUNNELS keys of each
 * pass would leave a series exported in one pass frozen in the next. */
#define FOLD_CELLS (2 * MAX_TUNNELS)

struct tun_fold {
	struct vx_mexport *me;
	const struct vx_dp *dp;
	struct tun_sum rows[MAX_TUNNELS];
	int n;
	int cell[FOLD_CELLS];
};

struct vx_mexport {
	struct vx_metrics *m;
	struct vx_metrics_server *srv;
	char url[128];
	uint64_t refreshes;
	struct vx_mfamily *tun_pkts, *tun_bytes, *malformed, *underlay_other;
	struct vx_mfamily *drops_total, *retrans, *synack, *latency, *nf_drops;
	struct vx_mfamily *lat_pkts, *lat_one_in;
	char sampling[16]; /* --sample, the histograms' sampling label */
	struct vx_mfamily *ct_count, *ct_max, *ct_insert_failed, *ct_drop, *ct_early_drop;
	struct vx_mfamily *lost, *attached, *backend, *refused, *build, *up, *interfaces;
	struct vx_mfamily *dev_info, *dev_mtu, *ul_mtu, *remote_info, *tun_evicted;
	uint64_t ns_ended;    /* the datapath's vx_dp.ns_ended at the last fill */
	struct tun_fold *tun; /* the tunnel series exported so far */
};

/* local_vtep beside remote_vtep: A's encap toward B joins B's decap from
 * A in PromQL (docs/deploy/prometheus-rules.yml). */
static const char *const TUN_LABELS[] = { "netns",	 "device",    "vni", "local_vtep",
					  "remote_vtep", "direction", NULL };
static const char *const DEV_LABELS[] = { "netns",    "device",	    "mode",	   "vni",
					  "dstport",  "local_vtep", "remote_vtep", "group",
					  "underlay", NULL };
static const char *const REMOTE_LABELS[] = {
	"netns", "device", "vni", "remote_vtep", "source", NULL
};
/* Per VXLAN device: as many as the datapath watches by default. */
#define MAX_DEVICES VX_DP_DEF_WATCH

/* Latency bucket bounds: every other power of two from 1.024us to 1.07s.
 * Powers of two are slot boundaries of the kernel's log-linear histogram,
 * so each slot falls wholly inside one bucket: the counts are exact. */
#define LAT_BOUNDS 11
static uint64_t lat_bound_ns(int i)
{
	return 1ULL << (10 + 2 * i);
}

static int setup_families(struct vx_mexport *me)
{
	static const char *const kind[] = { "kind", NULL };
	static const char *const source[] = { "source", NULL };
	static const char *const probe_be[] = { "probe", "backend", NULL };
	static const char *const build[] = { "version", "libbpf", "kernel", NULL };
	static const char *const drop_l[] = { "netns", "reason", "location", NULL };
	static const char *const rt_l[] = { "netns", "device", "vni", "size", NULL };
	static const char *const syn_l[] = { "netns", "device", "vni", NULL };
	static const char *const if_l[] = { "netns", NULL };
	static const char *const nf_l[] = { "netns", "family",	"table", "chain",
					    "rule",  "verdict", NULL };
	static const char *const lat_l[] = { "netns", "device", "vni", "stage", "sampling", NULL };
	static const char *const latp_l[] = { "stage", "outcome", NULL };
	struct vx_metrics *m = me->m;
	double bounds[LAT_BOUNDS];

	for (int i = 0; i < LAT_BOUNDS; i++)
		bounds[i] = (double)lat_bound_ns(i) / 1e9;

	me->tun_pkts = vx_metrics_add(
		m, "vxray_tunnel_packets_total", VX_METRIC_COUNTER,
		"Packets through a VXLAN tunnel, counted once: at the VXLAN device when it is "
		"watched, else at its underlay. direction is encap (leaving) or decap (arriving).",
		TUN_LABELS, MAX_TUNNELS);
	me->tun_bytes = vx_metrics_add(
		m, "vxray_tunnel_bytes_total", VX_METRIC_COUNTER,
		"Bytes of those packets as the counting hook saw them (the inner frame at a VXLAN "
		"device, the outer packet at an underlay).",
		TUN_LABELS, MAX_TUNNELS);
	me->dev_info = vx_metrics_add(
		m, "vxray_vxlan_device_info", VX_METRIC_GAUGE,
		"A watched VXLAN device (value 1): mode classic, external (collect_md) or vnifilter; "
		"its VNI (empty when external), UDP port, local VTEP (its local address, else the "
		"route's source), remote VTEP or multicast group, and underlay device.",
		DEV_LABELS, MAX_DEVICES);
	me->dev_mtu = vx_metrics_add(m, "vxray_vxlan_device_mtu_bytes", VX_METRIC_GAUGE,
				     "The MTU of a watched VXLAN device (the overlay MTU).",
				     (const char *const[]){ "netns", "device", NULL }, MAX_DEVICES);
	me->ul_mtu = vx_metrics_add(
		m, "vxray_vxlan_underlay_mtu_bytes", VX_METRIC_GAUGE,
		"The MTU of the underlay device a watched VXLAN device sends through.",
		(const char *const[]){ "netns", "device", "underlay", NULL }, MAX_DEVICES);
	me->remote_info = vx_metrics_add(
		m, "vxray_vxlan_remote_info", VX_METRIC_GAUGE,
		"A remote VTEP a watched VXLAN device sends to (value 1): its own remote, or one "
		"from its FDB or, for an external device, from its routes (source device, fdb or "
		"route); vni is the entry's own VNI, empty when it has none.",
		REMOTE_LABELS, MAX_TUNNELS);
	me->malformed =
		vx_metrics_add(m, "vxray_malformed_frames_total", VX_METRIC_COUNTER,
			       "Frames the datapath parser rejected, by the header that was wrong.",
			       kind, MAX_SMALL);
	me->underlay_other =
		vx_metrics_add(m, "vxray_underlay_other_packets_total", VX_METRIC_COUNTER,
			       "Packets on a watched underlay that were not VXLAN "
			       "(kind ip: IP but not VXLAN; non_ip: ARP, LLDP, ...).",
			       kind, 4);
	me->drops_total = vx_metrics_add(
		m, "vxray_drops_total", VX_METRIC_COUNTER,
		"Packets the kernel dropped, by namespace, drop reason (from this kernel's BTF) and "
		"the function that dropped them.",
		drop_l, MAX_DROPS);
	me->retrans = vx_metrics_add(
		m, "vxray_tcp_retransmits_total", VX_METRIC_COUNTER,
		"TCP retransmits of flows leaving through a VXLAN tunnel; size full means a "
		"segment of at least one MSS (the MTU fingerprint).",
		rt_l, 2 * MAX_DEVICES);
	me->synack = vx_metrics_add(m, "vxray_tcp_synack_retransmits_total", VX_METRIC_COUNTER,
				    "SYNACK retransmits of flows through a VXLAN tunnel.", syn_l,
				    MAX_DEVICES);
	me->latency = vx_metrics_add_histogram(
		m, "vxray_latency_seconds",
		"Time a tunnel packet spent in a stage, by the hook that ended it: encap (VXLAN "
		"device to underlay egress), wire (underlay egress to the peer's underlay ingress), "
		"decap (underlay ingress to VXLAN device), delivery (VXLAN device to the TCP "
		"receive), xmit (vxlan_xmit entry to return), rcv (vxlan_rcv entry to return). "
		"sampling is --sample: 1 (every packet), 1/N, or auto (every packet up to a rate "
		"per CPU, 1 in vxray_latency_sample_one_in above).",
		lat_l, bounds, LAT_BOUNDS, MAX_TUNNELS / 4);
	me->lat_pkts = vx_metrics_add(
		m, "vxray_latency_packets_total", VX_METRIC_COUNTER,
		"Packets that could start a latency stage (outcome offered), of which sampling "
		"timed (timed) and the hook that ends the stage joined (joined).",
		latp_l, VX_ST__MAX * 3);
	me->lat_one_in =
		vx_metrics_add(m, "vxray_latency_sample_one_in", VX_METRIC_GAUGE,
			       "Auto sampling now times 1 in this many packets on the busiest "
			       "CPU (1: every packet).",
			       NULL, 1);
	me->nf_drops = vx_metrics_add(
		m, "vxray_netfilter_drops_total", VX_METRIC_COUNTER,
		"Packets matched by a netfilter rule (or chain policy) whose verdict drops or "
		"rejects, from the rule's own counter; nftables rules without a counter "
		"statement have none to read.",
		nf_l, MAX_DROPS);
	me->ct_count = vx_metrics_add(m, "vxray_conntrack_entries", VX_METRIC_GAUGE,
				      "Entries in the namespace's conntrack table now.", if_l,
				      VX_MAX_NETNS + 1);
	me->ct_max = vx_metrics_add(m, "vxray_conntrack_entries_max", VX_METRIC_GAUGE,
				    "The namespace's nf_conntrack_max.", if_l, VX_MAX_NETNS + 1);
	me->ct_insert_failed =
		vx_metrics_add(m, "vxray_conntrack_insert_failed_total", VX_METRIC_COUNTER,
			       "Conntrack entries the kernel could not insert (conntrack -S "
			       "insert_failed).",
			       if_l, VX_MAX_NETNS + 1);
	me->ct_drop = vx_metrics_add(
		m, "vxray_conntrack_drops_total", VX_METRIC_COUNTER,
		"Packets dropped because the conntrack table was full (conntrack -S drop).", if_l,
		VX_MAX_NETNS + 1);
	me->ct_early_drop =
		vx_metrics_add(m, "vxray_conntrack_early_drops_total", VX_METRIC_COUNTER,
			       "Unassured entries evicted to make room (conntrack -S "
			       "early_drop).",
			       if_l, VX_MAX_NETNS + 1);
	me->lost = vx_metrics_add(
		m, "vxray_events_lost_total", VX_METRIC_COUNTER,
		"Events a ring buffer had no room for, by source; counters stay exact.", source,
		MAX_SMALL);
	me->attached =
		vx_metrics_add(m, "vxray_programs_attached", VX_METRIC_GAUGE,
			       "BPF programs vxray has attached now, by kind.", kind, MAX_SMALL);
	me->interfaces = vx_metrics_add(m, "vxray_interfaces_watched", VX_METRIC_GAUGE,
					"Interfaces with the datapath attached now, by namespace.",
					if_l, VX_MAX_NETNS + 1);
	me->backend = vx_metrics_add(m, "vxray_probe_backend_info", VX_METRIC_GAUGE,
				     "The hook each kernel probe runs on (value 1).", probe_be,
				     MAX_SMALL);
	me->refused = vx_metrics_add(
		m, "vxray_probe_backend_refused_info", VX_METRIC_GAUGE,
		"A backend this kernel refused for a probe, which then runs on the next one or not "
		"at all (value 1).",
		probe_be, MAX_SMALL);
	me->build = vx_metrics_add(
		m, "vxray_build_info", VX_METRIC_GAUGE,
		"vxray's version, the libbpf it runs with and the kernel release (value 1).", build,
		1);
	me->tun_evicted = vx_metrics_add(
		m, "vxray_tunnel_evictions_total", VX_METRIC_COUNTER,
		"Tunnel counters the kernel's table (--max-tunnels) evicted while they counted: "
		"some tunnels' totals restarted from zero. Raise --max-tunnels.",
		NULL, 1);
	me->up = vx_metrics_add(m, "vxray_refreshes_total", VX_METRIC_COUNTER,
				"Times vxray has read the kernel's maps into these metrics.", NULL,
				1);
	if (!me->tun_pkts || !me->tun_bytes || !me->malformed || !me->underlay_other ||
	    !me->drops_total || !me->retrans || !me->synack || !me->lost || !me->attached ||
	    !me->interfaces || !me->backend || !me->refused || !me->build || !me->up ||
	    !me->latency || !me->ct_count || !me->ct_max || !me->ct_insert_failed || !me->ct_drop ||
	    !me->ct_early_drop || !me->nf_drops || !me->lat_pkts || !me->lat_one_in ||
	    !me->dev_info || !me->dev_mtu || !me->ul_mtu || !me->remote_info || !me->tun_evicted)
		return -errno ? -errno : -ENOMEM;
	return 0;
}

static void vx_mexport_free(struct vx_mexport *me)
{
	if (!me)
		return;
	vx_metrics_free(me->m);
	free(me->tun);
	free(me);
}

int vx_mexport_start(struct vx_mexport **out, const struct vx_opts *o, bool always)
{
	const char *addr = o->has_metrics ? o->metrics_addr : "127.0.0.1";
	uint16_t port = o->has_metrics ? o->metrics_port : VX_MEXPORT_AGENT_PORT;
	char libbpf[32], kernel[80] = "unknown", err[256];
	struct vx_mexport *me;
	struct utsname u;
	bool v6;

	*out = NULL;
	if (!o->has_metrics && !always)
		return 0;
	me = calloc(1, sizeof(*me));
	if (me)
		me->tun = calloc(1, sizeof(*me->tun));
	if (!me || !me->tun || !(me->m = vx_metrics_new()) || setup_families(me)) {
		pr_err("cannot set up the metrics registry: out of memory");
		vx_mexport_free(me);
		return -ENOMEM;
	}
	me->tun->me = me;
	memset(me->tun->cell, 0xff, sizeof(me->tun->cell));
	me->srv = vx_metrics_serve(me->m, addr, port, err, sizeof(err));
	if (!me->srv) {
		int e = errno;

		pr_err("%s", err);
		vx_mexport_free(me);
		return -e;
	}
	v6 = strchr(addr, ':') != NULL;
	snprintf(me->url, sizeof(me->url), "http://%s%s%s:%u/metrics", v6 ? "[" : "", addr,
		 v6 ? "]" : "", vx_metrics_server_port(me->srv));
	/* The agent says it in its own startup line. */
	if (!always)
		pr_info("serving metrics on %s", me->url);
	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	if (!uname(&u))
		snprintf(kernel, sizeof(kernel), "%s", u.release);
	vx_metrics_lock(me->m);
	vx_metric_set(me->build, (const char *[]){ VXRAY_VERSION, libbpf, kernel }, 1);
	vx_sample_str(o->sample, me->sampling, sizeof(me->sampling));
	vx_metrics_unlock(me->m);
	*out = me;
	return 0;
}

const char *vx_mexport_url(const struct vx_mexport *me)
{
	return me ? me->url : "";
}

void vx_mexport_begin(struct vx_mexport *me)
{
	if (me)
		vx_metrics_lock(me->m);
}

void vx_mexport_end(struct vx_mexport *me)
{
	if (!me)
		return;
	vx_metric_set(me->up, NULL, (double)++me->refreshes);
	vx_metrics_unlock(me->m);
}

void vx_mexport_backend(struct vx_mexport *me, const char *probe, const char *backend)
{
	if (me)
		vx_metric_set(me->backend, (const char *[]){ probe, backend }, 1);
}

void vx_mexport_refused(struct vx_mexport *me, const char *probe, const char *backend)
{
	if (me)
		vx_metric_set(me->refused, (const char *[]){ probe, backend }, 1);
}

void vx_mexport_attached(struct vx_mexport *me, const char *kind, int n)
{
	if (me)
		vx_metric_set(me->attached, (const char *[]){ kind }, n);
}

void vx_mexport_lathooks(struct vx_mexport *me, const struct vx_lathooks *h)
{
	static const char *const be_names[] = { "fentry", "kprobe", "tracepoint" };

	if (!me)
		return;
	if (h->xmit_backend)
		vx_mexport_backend(me, "xmit", h->xmit_backend);
	if (h->rcv)
		vx_mexport_backend(me, "rcv", h->xmit_backend);
	if (h->delivery)
		vx_mexport_backend(me, "delivery", "tp_btf/tcp_probe");
	else
		vx_mexport_refused(me, "delivery", "tp_btf/tcp_probe");
	/* Bit (enum vx_backend - 1), in the order lathooks tries them. */
	for (int b = 0; b < 3; b++)
		if (h->refused & (1u << b))
			vx_mexport_refused(me, "xmit", be_names[b]);
	vx_mexport_attached(me, "latency_hooks", h->n_links);
}

void vx_mexport_lost(struct vx_mexport *me, const char *source, uint64_t lost)
{
	if (me)
		vx_metric_set(me->lost, (const char *[]){ source }, (double)lost);
}

/* ---- datapath ------------------------------------------------------------- */

static const char *addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6)
		return "none";
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) ? buf : "?";
}

/* An inventory address (AF_INET, AF_INET6; 0: none) as a label value. */
static const char *inv_addr(int af, const union vx_addr *a, char *buf, size_t len)
{
	if (!af)
		return "none";
	return inet_ntop(af, a, buf, (socklen_t)len) ? buf : "?";
}

/* The local end of @vx's tunnels: its local address, else the source
 * its outer packets get from the route to its first remote; "none". */
static const char *local_vtep(const struct vx_vxlan_dev *vx, char *buf, size_t len)
{
	if (vx && vx->local_family)
		return inv_addr(vx->local_family, &vx->local, buf, len);
	if (vx && vx->route_src_family)
		return inv_addr(vx->route_src_family, &vx->route_src, buf, len);
	snprintf(buf, len, "none");
	return buf;
}

/* The device inventory, as the watched devices are now: a device that
 * went, or changed, leaves its old series (the families are cleared and
 * filled again at each refresh). */
static void fill_devices(struct vx_mexport *me, const struct vx_dp *dp)
{
	vx_metric_clear(me->dev_info);
	vx_metric_clear(me->dev_mtu);
	vx_metric_clear(me->ul_mtu);
	vx_metric_clear(me->remote_info);
	for (int i = 0; i < dp->n_w; i++) {
		const struct vx_dp_watched *w = &dp->w[i];
		const struct vx_vxlan_dev *d = w->vx;
		char vni[16] = "", port[8], local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN],
		     group[INET6_ADDRSTRLEN];
		const char *ns;

		if (!w->active || !w->is_vxlan || !d)
			continue;
		ns = vx_ns_label(w->netns_inum);
		if (!d->external)
			snprintf(vni, sizeof(vni), "%u", d->vni);
		snprintf(port, sizeof(port), "%u", d->dstport);
		local_vtep(d, local, sizeof(local));
		snprintf(remote, sizeof(remote), "none");
		snprintf(group, sizeof(group), "none");
		inv_addr(d->remote_family, &d->remote, d->remote_is_group ? group : remote,
			 INET6_ADDRSTRLEN);
		vx_metric_set(me->dev_info,
			      (const char *[]){ ns, d->name,
						d->vnifilter ? "vnifilter" :
						d->external  ? "external" :
							       "classic",
						vni, port, local, remote, group,
						d->underlay[0] ? d->underlay : "none" },
			      1);
		vx_metric_set(me->dev_mtu, (const char *[]){ ns, d->name }, d->mtu);
		if (d->underlay[0])
			vx_metric_set(me->ul_mtu, (const char *[]){ ns, d->name, d->underlay },
				      d->underlay_mtu);
		if (d->remote_family && !d->remote_is_group)
			vx_metric_set(me->remote_info,
				      (const char *[]){ ns, d->name, vni, remote, "device" }, 1);
		for (int r = 0; r < d->n_remotes && r < VX_INV_MAX_REMOTES; r++) {
			const struct vx_remote *x = &d->remotes[r];
			char a[INET6_ADDRSTRLEN], rv[16] = "";

			if (x->vni != VX_VNI_UNKNOWN)
				snprintf(rv, sizeof(rv), "%u", x->vni);
			inv_addr(x->family, &x->addr, a, sizeof(a));
			/* The device's own remote is an FDB entry too: once. */
			if (x->vni == VX_VNI_UNKNOWN && !strcmp(a, remote))
				continue;
			vx_metric_set(
				me->remote_info,
				(const char *[]){ ns, d->name, rv, a,
						  x->from == VX_REMOTE_ROUTE ? "route" : "fdb" },
				1);
		}
	}
}

static bool tun_same(const struct tun_sum *a, const struct tun_sum *b)
{
	return a->vni == b->vni && a->encap == b->encap && !strcmp(a->remote, b->remote) &&
	       !strcmp(a->local, b->local) && !strcmp(a->device, b->device) &&
	       !strcmp(a->netns, b->netns);
}

static uint32_t fnv_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

/* FNV-1a over the label set. */
static uint32_t tun_hash(const struct tun_sum *r)
{
	uint32_t h = 2166136261u;

	h = (h ^ r->vni ^ (r->encap ? 0x80000000u : 0)) * 16777619u;
	h = fnv_str(h, r->remote);
	h = fnv_str(h, r->local);
	h = fnv_str(h, r->device);
	return fnv_str(h, r->netns);
}

/* Fold the per-hook keys into one total per label set first: set() writes
 * totals, so two keys of one series must be added before. */
static void fold_tunnel(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx)
{
	struct tun_fold *f = ctx;
	const struct vx_dp_watched *w;
	struct tun_sum r = {};
	uint32_t c;
	int i;

	/* Count each packet once, under the remote the packet named, as
	 * `vxray encap` does. */
	if (!vx_dp_tun_counts(f->dp, k, &w) || !w)
		return;
	snprintf(r.netns, sizeof(r.netns), "%s", vx_ns_label(k->netns));
	snprintf(r.device, sizeof(r.device), "%s", w->name);
	r.vni = k->vni;
	r.encap = k->at == VX_AT_TC_UL_OUT || k->at == VX_AT_TC_VX_OUT;
	addr_str(k->family, k->remote, r.remote, sizeof(r.remote));
	local_vtep(w->vx, r.local, sizeof(r.local));
	c = tun_hash(&r) & (FOLD_CELLS - 1);
	while ((i = f->cell[c]) >= 0 && !tun_same(&f->rows[i], &r))
		c = (c + 1) & (FOLD_CELLS - 1);
	if (i < 0) {
		if (f->n == MAX_TUNNELS) {
			/* Past the registry's cap: refused, and counted. */
			vx_metric_refuse(f->me->tun_pkts);
			vx_metric_refuse(f->me->tun_bytes);
			return;
		}
		f->cell[c] = i = f->n++;
		f->rows[i] = r;
	}
	if (!f->rows[i].seen)
		f->rows[i].pkts = f->rows[i].bytes = 0;
	f->rows[i].seen = true;
	f->rows[i].pkts += tot->packets;
	f->rows[i].bytes += tot->bytes;
}

static void fill_tunnels(struct vx_mexport *me, const struct vx_dp *dp)
{
	struct tun_fold *f = me->tun;

	/* Only the namespaces as they are now: once one ended, its series
	 * leave the exposition, and one created again starts from zero (a
	 * counter reset to Prometheus). */
	if (me->ns_ended != dp->ns_ended) {
		vx_metric_clear(me->tun_pkts);
		vx_metric_clear(me->tun_bytes);
		f->n = 0;
		memset(f->cell, 0xff, sizeof(f->cell));
		me->ns_ended = dp->ns_ended;
	}
	f->dp = dp;
	for (int i = 0; i < f->n; i++)
		f->rows[i].seen = false;
	vx_dp_tun_foreach(dp, fold_tunnel, f);
	/* A series whose keys left the kernel's table keeps its last
	 * totals. */
	for (int i = 0; i < f->n; i++) {
		const struct tun_sum *r = &f->rows[i];
		char vni[16];
		const char *l[] = { r->netns, r->device, vni,
				    r->local, r->remote, r->encap ? "encap" : "decap" };

		if (!r->seen)
			continue;
		vx_vni_str(r->vni, vni, sizeof(vni));
		vx_metric_set(me->tun_pkts, l, (double)r->pkts);
		vx_metric_set(me->tun_bytes, l, (double)r->bytes);
	}
}

struct lat_fill {
	struct vx_mexport *me;
	const struct vx_dp *dp;
	uint64_t bounds[LAT_BOUNDS];
};

static void fill_latency_row(const struct vx_lat_key *k, const struct vx_lat_hist *h, void *ctx)
{
	struct lat_fill *lf = ctx;
	const struct vx_dp_watched *w = vx_dp_lookup(lf->dp, k->netns, k->ifindex);
	const char *stage = vx_lat_stage_name(k->stage);
	uint64_t counts[LAT_BOUNDS + 1];
	char vni[16];

	if (!w || !stage)
		return;
	vx_hist_buckets(h, lf->bounds, LAT_BOUNDS, counts);
	vx_vni_str(k->vni, vni, sizeof(vni));
	vx_metric_set_histogram(
		lf->me->latency,
		(const char *[]){ vx_ns_label(k->netns), w->name, vni, stage, lf->me->sampling },
		counts, (double)h->sum_ns / 1e9);
}

static void fill_latency(struct vx_mexport *me, const struct vx_dp *dp)
{
	static const struct {
		int idx;
		const char *name;
	} outcome[] = { { VX_L_OFFERED, "offered" },
			{ VX_L_SEEN, "timed" },
			{ VX_L_MATCHED, "joined" } };
	struct lat_fill lf = { me, dp, { 0 } };
	struct vx_lat_counts lc;

	for (int i = 0; i < LAT_BOUNDS; i++)
		lf.bounds[i] = lat_bound_ns(i);
	vx_dp_lat_foreach(dp, fill_latency_row, &lf);
	if (vx_dp_lat_counts(dp, &lc))
		return;
	for (unsigned int st = 0; st < VX_ST__MAX; st++) {
		if (!lc.c[st][VX_L_OFFERED] && !lc.c[st][VX_L_SEEN])
			continue;
		for (size_t i = 0; i < sizeof(outcome) / sizeof(outcome[0]); i++)
			vx_metric_set(me->lat_pkts,
				      (const char *[]){ vx_lat_stage_name(st), outcome[i].name },
				      (double)lc.c[st][outcome[i].idx]);
	}
	vx_metric_set(me->lat_one_in, NULL, lc.one_in);
}

void vx_mexport_datapath(struct vx_mexport *me, const struct vx_dp *dp)
{
	static const struct {
		int idx;
		const char *name;
	} bad[] = {
		{ VX_R_BAD_ETH, "eth" },
		{ VX_R_BAD_VLAN, "vlan" },
		{ VX_R_BAD_IP4, "ipv4" },
		{ VX_R_BAD_IHL, "ihl" },
		{ VX_R_BAD_IPVER, "ip_version" },
		{ VX_R_BAD_IP6, "ipv6" },
		{ VX_R_BAD_IP6_EXT, "ipv6_ext" },
		{ VX_R_BAD_UDP, "udp" },
		{ VX_R_BAD_VXLAN, "vxlan" },
		{ VX_R_BAD_VXLAN_FLAGS, "vxlan_flags" },
		{ VX_R_BAD_INNER_ETH, "inner_eth" },
		{ VX_R_BAD_INNER_IP, "inner_ip" },
		{ VX_R_BAD_L4, "l4" },
	};
	uint64_t cnt[VX_C__MAX];
	int per_ns[VX_DP_MAX_INST] = {};

	if (!me)
		return;
	vx_dp_counters(dp, cnt);
	/* Every kind, zeros included: an alert needs the series to exist. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		vx_metric_set(me->malformed, (const char *[]){ bad[i].name },
			      (double)cnt[bad[i].idx]);
	vx_metric_set(me->underlay_other, (const char *[]){ "ip" }, (double)cnt[VX_R_PLAIN_IP]);
	vx_metric_set(me->underlay_other, (const char *[]){ "non_ip" }, (double)cnt[VX_R_NON_IP]);
	vx_mexport_lost(me, "datapath", cnt[VX_C_LOST]);
	vx_metric_set(me->tun_evicted, NULL, (double)cnt[VX_C_TUN_EVICTED]);
	fill_tunnels(me, dp);
	fill_devices(me, dp);
	fill_latency(me, dp);

	vx_metric_clear(me->interfaces);
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active)
			per_ns[dp->w[i].inst]++;
	for (int i = 0; i < dp->n_inst; i++)
		vx_metric_set(me->interfaces, (const char *[]){ vx_ns_label(dp->inst[i].inum) },
			      per_ns[i]);
	vx_mexport_attached(me, "tc", 2 * vx_dp_n_active(dp));
	vx_mexport_attached(me, "xdp", dp->n_xdp);
	vx_mexport_backend(me, "datapath", vx_dp_tc_mode_name(dp->tc_mode));
}

/* ---- the other engines ------------------------------------------------------ */

void vx_mexport_drops_add(struct vx_mexport *me, const char *netns, const char *reason,
			  const char *location, uint64_t delta)
{
	if (me)
		vx_metric_add(me->drops_total, (const char *[]){ netns, reason, location },
			      (double)delta);
}

void vx_mexport_drops(struct vx_mexport *me, const struct vx_drop_row *rows, int n, uint64_t lost)
{
	if (!me)
		return;
	for (int i = 0; i < n; i++) {
		char rbuf[32], loc[128] = "unknown";
		const char *sym;
		uint64_t off;

		/* The function without its offset: one series per dropping
		 * function keeps the label set small. */
		if (rows[i].key.location && (sym = vx_ksym_lookup(rows[i].key.location, &off)))
			snprintf(loc, sizeof(loc), "%s", sym);
		vx_mexport_drops_add(me, vx_ns_label(rows[i].key.netns),
				     vx_drop_reason_name(rows[i].key.reason, rbuf, sizeof(rbuf)),
				     loc, rows[i].delta);
	}
	vx_mexport_lost(me, "drops", lost);
}

void vx_mexport_retrans(struct vx_mexport *me, const struct vx_retranssrc *rt,
			const struct vx_inventory *inv)
{
	if (!me || !rt)
		return;
	for (int d = 0; d < inv->n; d++) {
		const struct vx_retrans_tun *t = vx_retranssrc_tun(rt, d);
		const struct vx_vxlan_dev *v = &inv->devs[d];
		const char *ns = vx_ns_label_of(v->netns);
		char vni[16];

		if (!t)
			continue;
		snprintf(vni, sizeof(vni), "%u", v->vni);
		vx_metric_set(me->retrans, (const char *[]){ ns, v->name, vni, "full" },
			      (double)t->full);
		vx_metric_set(me->retrans, (const char *[]){ ns, v->name, vni, "small" },
			      (double)t->small);
		vx_metric_set(me->synack, (const char *[]){ ns, v->name, vni }, (double)t->synack);
	}
	vx_mexport_lost(me, "retrans", vx_retranssrc_lost(rt));
}

void vx_mexport_conntrack(struct vx_mexport *me, const struct vx_ct_snapshot *snap)
{
	if (!me || !snap)
		return;
	for (int i = 0; i < snap->n; i++) {
		const struct vx_ct_ns *n = &snap->ns[i];
		const char *l[] = { vx_ns_label_of(n->netns) };

		if (n->have_count) {
			vx_metric_set(me->ct_count, l, n->count);
			vx_metric_set(me->ct_max, l, n->max);
		}
		vx_metric_set(me->ct_insert_failed, l, (double)n->total.insert_failed);
		vx_metric_set(me->ct_drop, l, (double)n->total.drop);
		vx_metric_set(me->ct_early_drop, l, (double)n->total.early_drop);
	}
	vx_mexport_lost(me, "conntrack", snap->total_lost);
}

void vx_mexport_nf_rule(struct vx_mexport *me, const char *netns, const struct vx_nf_rule *r)
{
	if (!me || (r->verdict != VX_NFV_DROP && r->verdict != VX_NFV_REJECT))
		return;
	if (r->source == VX_NFS_NFT && !r->has_counter)
		return;
	vx_metric_set(me->nf_drops,
		      (const char *[]){ netns, r->family, r->table, r->chain,
					r->policy ? "policy" : r->text,
					vx_nf_verdict_name(r->verdict) },
		      (double)r->packets);
}

void vx_mexport_stop(struct vx_mexport *me)
{
	if (!me)
		return;
	/* Stop serving before the maps the registry was filled from go. */
	vx_metrics_server_stop(me->srv);
	vx_mexport_free(me);
}
