// SPDX-License-Identifier: GPL-2.0-only
/* `vxray retrans`: TCP retransmits inside the overlay, each with its inner
 * 4-tuple, TCP state and the tunnel that carries the flow, and the MTU
 * fingerprint in words: full-size retransmits while small segments pass, or
 * SYNACK retransmits, on a tunnel whose overlay MTU does not fit its
 * underlay. The engine is loader/engines/retranssrc.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "cmd.h"
#include "datapath.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "recfmt.h"
#include "retranssrc.h"
#include "sysinfo.h"
#include "view.h"

#define MAX_KEYS 64

struct count {
	char key[64];
	uint64_t n;
};

struct retrans {
	struct vx_opts *o;
	struct vx_retranssrc *src;
	struct vx_view view; /* privileges, --metrics, --pcap */
	struct vx_inventory inv;
	/* A counters-only datapath on the tunnels, for its flow table. */
	struct vx_opts dpo;
	struct vx_dp dp;
	bool dp_up;
	uint64_t *tun_interval; /* events per inv.devs entry this interval */
	struct count by_dst[MAX_KEYS], by_port[MAX_KEYS];
	int n_dst, n_port;
	uint64_t total, synack, full, small, lost_seen;
	uint64_t iv_total, iv_synack, iv_full, iv_small;
	uint64_t mono_to_real, last_tick;
};

static void fmt_time(const struct retrans *r, uint64_t mono, char *buf, size_t len)
{
	vx_fmt_wallclock(mono + r->mono_to_real, 3, buf, len);
}

static void bump(struct count *c, int *n, const char *key)
{
	for (int i = 0; i < *n; i++) {
		if (!strcmp(c[i].key, key)) {
			c[i].n++;
			return;
		}
	}
	if (*n == MAX_KEYS)
		return;
	snprintf(c[*n].key, sizeof(c[*n].key), "%s", key);
	c[(*n)++].n = 1;
}

static const char *addr(int family, const void *a, char *buf, size_t len)
{
	return inet_ntop(family, a, buf, (socklen_t)len) ? buf : "?";
}

/* The datapath at the underlay egress of every VXLAN device of the watched
 * namespaces, counters only, learning TCP flows: a retransmit then names the
 * tunnel its packets really took, remote VTEP included (an FDB entry's
 * where the device has none). Without it the route decides; so a datapath
 * that cannot attach is a warning, not a failure. */
static void dp_start(struct retrans *r)
{
	/* Flows are learned from SYNs leaving the underlay (vx_flow_learn):
	 * that hook alone, not a program on every tunnel packet's way. */
	struct vx_dp_opts po = { .o = &r->dpo, .flows = true, .hooks = VX_DP_HOOK_UL_OUT };
	int ret;

	r->dpo = *r->o;
	r->dpo.auto_attach = true;
	r->dpo.n_ifaces = 0;
	r->dpo.n_netns = 0;
	r->dpo.has_metrics = false;
	for (int i = 0; i < r->inv.n && r->dpo.n_netns < VX_MAX_NETNS; i++) {
		bool seen = false;

		for (int k = 0; k < r->dpo.n_netns; k++)
			seen |= !strcmp(r->dpo.netns[k], r->inv.devs[i].netns);
		if (!seen && r->inv.devs[i].netns[0])
			snprintf(r->dpo.netns[r->dpo.n_netns++], VX_NETNS_NAME_MAX, "%s",
				 r->inv.devs[i].netns);
	}
	if (!r->inv.n)
		return;
	vx_dp_init(&r->dp, &po);
	ret = vx_dp_pick(&r->dp);
	if (!ret)
		ret = vx_dp_load(&r->dp);
	if (!ret)
		ret = vx_dp_attach(&r->dp);
	if (ret) {
		pr_warn("retrans: no datapath on the tunnels (%s): each retransmit's tunnel comes "
			"from the route, without the remote VTEP of FDB-learned peers",
			vx_strerror(ret));
		vx_dp_close(&r->dp);
		return;
	}
	r->dp_up = true;
	vx_retranssrc_use_flows(r->src, vx_dp_map_fd(&r->dp, "vxp_flow"));
}

static void on_event(void *ctx, const struct vxr_event *e, int dev, bool full)
{
	struct retrans *r = ctx;
	struct vx_rec_names n = { .netns = vx_ns_label(e->netns),
				  .device = "",
				  .mono_to_real = r->mono_to_real };
	char d[INET6_ADDRSTRLEN], port[8];

	if (dev >= 0)
		r->tun_interval[dev]++;
	r->total++;
	r->iv_total++;
	if (e->kind == VXR_SYNACK) {
		r->synack++;
		r->iv_synack++;
	} else if (full) {
		r->full++;
		r->iv_full++;
	} else {
		r->small++;
		r->iv_small++;
	}
	bump(r->by_dst, &r->n_dst, addr(e->family, e->daddr, d, sizeof(d)));
	snprintf(port, sizeof(port), "%u", e->dport);
	bump(r->by_port, &r->n_port, port);
	vx_retrans_print(stdout, r->o->json, e, full, vx_retranssrc_cur_tunnel(r->src, NULL), &n);
	fflush(stdout);
}

/* The VXLAN at the other end of @t: same VNI, its local is our remote. */
static const struct vx_vxlan_dev *peer_of(const struct retrans *r, const struct vx_vxlan_dev *t)
{
	for (int i = 0; i < r->inv.n; i++) {
		const struct vx_vxlan_dev *p = &r->inv.devs[i];

		if (p != t && p->vni == t->vni && p->local_family == t->remote_family &&
		    !memcmp(&p->local, &t->remote, t->remote_family == AF_INET ? 4 : 16))
			return p;
	}
	return NULL;
}

/* Where the tunnel's MTUs fit, the retransmit pattern alone must be heavy
 * to be named: a healthy bulk transfer over a veth loses the odd segment to
 * a full backlog and retransmits it, full-size, once. A black hole keeps
 * retransmitting (RTO backoff: three within 1.4 s) and a lost handshake
 * ACK makes the SYNACK go again and again. */
#define FP_MIN_FULL 4
#define FP_MIN_SYNACK 2

/* The MTU fingerprint for one tunnel that retransmitted this interval. */
static void fingerprint(struct retrans *r, int dev)
{
	const struct vx_vxlan_dev *t = &r->inv.devs[dev], *p = peer_of(r, t);
	const struct vx_retrans_tun *st = vx_retranssrc_tun(r->src, dev);
	char why[256] = "", mine[512] = "", theirs[512] = "";
	bool bad_here = vx_mtu_problem(t, mine, sizeof(mine));
	bool bad_peer = p && vx_mtu_problem(p, theirs, sizeof(theirs));

	if (st->synack)
		snprintf(why, sizeof(why), "%llu SYNACK retransmits",
			 (unsigned long long)st->synack);
	else if (st->full && !st->small)
		snprintf(why, sizeof(why),
			 "%llu full-size retransmits (up to %u bytes) and no small ones",
			 (unsigned long long)st->full, st->max_len);
	if (!bad_here && !bad_peer && st->synack < FP_MIN_SYNACK &&
	    (st->full < FP_MIN_FULL || st->small))
		return;
	if (!bad_here && !bad_peer) {
		/* The pattern without an MTU that explains it: say so, once. */
		snprintf(mine, sizeof(mine), "overlay MTU %u fits underlay %s MTU %u", t->mtu,
			 t->underlay[0] ? t->underlay : "?", t->underlay_mtu);
	}
	if (r->o->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_record(&w, "mtu_fingerprint");
		jw_str(&w, "netns", vx_ns_label_of(t->netns));
		jw_str(&w, "device", t->name);
		if (t->external)
			jw_null(&w, "vni");
		else
			jw_uint(&w, "vni", t->vni);
		jw_uint(&w, "mtu", t->mtu);
		jw_uint(&w, "underlay_mtu", t->underlay_mtu);
		if (p) {
			jw_str(&w, "peer_netns", vx_ns_label_of(p->netns));
			jw_uint(&w, "peer_mtu", p->mtu);
			jw_uint(&w, "peer_underlay_mtu", p->underlay_mtu);
		}
		jw_uint(&w, "total_retrans_full_size", st->full);
		jw_uint(&w, "total_retrans_small", st->small);
		jw_uint(&w, "total_retrans_synack", st->synack);
		jw_bool(&w, "mtu_mismatch", bad_here || bad_peer);
		jw_str(&w, "why", bad_here ? mine : bad_peer ? theirs : why);
		jw_obj_close(&w);
		jw_end_line(&w);
		return;
	}
	printf("  MTU fingerprint on %s in %s (VNI %u): %s%s%s.\n", t->name,
	       vx_ns_label_of(t->netns), t->vni, why[0] ? why : "retransmits",
	       bad_here || bad_peer ? " on a tunnel whose MTU does not fit" : ", but ",
	       bad_here || bad_peer ? "" : mine);
	if (bad_here)
		printf("    %s\n", mine);
	if (bad_peer)
		printf("    peer %s\n", theirs);
}

static int cmp_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

static void print_counts(const char *label, struct count *c, int n)
{
	qsort(c, (size_t)n, sizeof(*c), cmp_count);
	printf("  %s:", label);
	for (int i = 0; i < n && i < 8; i++)
		printf(" %s=%llu", c[i].key, (unsigned long long)c[i].n);
	printf("\n");
}

static void on_tick(void *ctx, uint64_t now)
{
	struct retrans *r = ctx;
	uint64_t lost = vx_retranssrc_lost(r->src), new_lost = lost - r->lost_seen;
	double secs = (double)(now - r->last_tick) / NSEC_PER_SEC;
	char ts[32];

	fmt_time(r, now, ts, sizeof(ts));
	if (new_lost)
		pr_warn("%llu retransmit events were lost (ring buffer full); counts below miss them",
			(unsigned long long)new_lost);
	if (r->o->json) {
		struct jw w;

		jw_init(&w, stdout);
		jw_record(&w, "retrans_summary");
		jw_str(&w, "time", ts);
		jw_double(&w, "interval_s", secs);
		jw_uint(&w, "retrans", r->iv_total);
		jw_uint(&w, "retrans_synack", r->iv_synack);
		jw_uint(&w, "retrans_full_size", r->iv_full);
		jw_uint(&w, "retrans_small", r->iv_small);
		jw_uint(&w, "lost", new_lost);
		jw_uint(&w, "total_retrans", r->total);
		jw_obj_open(&w, "by_destination");
		for (int i = 0; i < r->n_dst; i++)
			jw_uint(&w, r->by_dst[i].key, r->by_dst[i].n);
		jw_obj_close(&w);
		jw_obj_open(&w, "by_port");
		for (int i = 0; i < r->n_port; i++)
			jw_uint(&w, r->by_port[i].key, r->by_port[i].n);
		jw_obj_close(&w);
		jw_obj_close(&w);
		jw_end_line(&w);
	} else if (r->iv_total) {
		printf("--- %s retransmits in the last %.1fs: %llu (SYNACK %llu, full-size %llu, "
		       "small %llu), lost %llu ---\n",
		       ts, secs, (unsigned long long)r->iv_total, (unsigned long long)r->iv_synack,
		       (unsigned long long)r->iv_full, (unsigned long long)r->iv_small,
		       (unsigned long long)new_lost);
		print_counts("by destination", r->by_dst, r->n_dst);
		print_counts("by port", r->by_port, r->n_port);
	} else {
		printf("--- %s still tracing, %llu retransmits so far, %llu lost ---\n", ts,
		       (unsigned long long)r->total, (unsigned long long)lost);
	}
	for (int i = 0; i < r->inv.n; i++) {
		if (r->tun_interval[i])
			fingerprint(r, i);
		r->tun_interval[i] = 0;
	}
	fflush(stdout);
	r->n_dst = r->n_port = 0;
	r->iv_total = r->iv_synack = r->iv_full = r->iv_small = 0;
	r->lost_seen = lost;
	r->last_tick = now;
	vx_mexport_begin(r->view.me);
	vx_mexport_retrans(r->view.me, r->src, &r->inv);
	vx_mexport_end(r->view.me);
}

int cmd_retrans(struct vx_opts *o)
{
	char names[VX_MAX_NETNS + 1][VX_NETNS_NAME_MAX], err[256];
	uint32_t inums[VXR_MAX_NETNS];
	struct retrans r = { .o = o };
	struct vx_loop loop;
	int n_names = 0, n_inums = 0, ret, ifindex;

	if (o->backend == VX_BACKEND_FENTRY || o->backend == VX_BACKEND_KPROBE) {
		pr_err("retrans has no %s backend: TCP retransmits are watched through tracepoints "
		       "(tp_btf, else the classic one); use --backend tracepoint or leave it out",
		       o->backend == VX_BACKEND_FENTRY ? "fentry" : "kprobe");
		return VX_EXIT_USAGE;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		if ((ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err)))) {
			pr_err("%s", err);
			return vx_exit_code(ret);
		}
	}
	for (int i = 0; i < o->n_netns; i++) {
		if ((ret = vx_netns_check(o->netns[i], err, sizeof(err)))) {
			pr_err("%s", err);
			return vx_exit_code(ret);
		}
		snprintf(names[n_names++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	}
	for (int i = 0; i < o->n_ifaces && n_names <= VX_MAX_NETNS; i++)
		snprintf(names[n_names++], VX_NETNS_NAME_MAX, "%s", o->ifaces[i].netns);
	if (n_names > VXR_MAX_NETNS) {
		pr_err("retrans watches at most %d namespaces at once", VXR_MAX_NETNS);
		return VX_EXIT_USAGE;
	}
	if ((ret = vx_view_open(&r.view, o, 0)))
		return ret;
	/* Scope in the kernel by namespace; with none named, watch all. */
	for (int i = 0; i < n_names; i++)
		inums[n_inums++] = vx_netns_inum(names[i]);
	if (!n_names) {
		names[0][0] = '\0';
		n_names = 1 + vx_netns_list(names + 1, VX_MAX_NETNS);
	}
	for (int i = 0; i < n_names; i++)
		vx_inventory_collect(&r.inv, names[i]);
	r.tun_interval = calloc((size_t)(r.inv.n ? r.inv.n : 1), sizeof(*r.tun_interval));
	if (!r.tun_interval) {
		vx_inventory_free(&r.inv);
		vx_view_close(&r.view, true, 0);
		return VX_EXIT_FAIL;
	}

	ret = vx_retranssrc_open(&r.src, &(struct vx_retranssrc_cfg){ .inv = &r.inv,
								      .inums = inums,
								      .n_inums = n_inums,
								      .flow_fd = -1,
								      .cb = on_event,
								      .ctx = &r });
	if (ret) {
		if (o->backend == VX_BACKEND_TRACEPOINT)
			pr_err("the tracepoint backend cannot run here: %s", vx_strerror(ret));
		else
			pr_err("cannot attach to the TCP retransmit tracepoints: %s; run `vxray doctor` "
			       "to see which hook kinds this kernel allows",
			       vx_strerror(ret));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	dp_start(&r);
	r.mono_to_real = vx_mono_to_real();
	r.last_tick = vx_now_ns();
	vx_mexport_begin(r.view.me);
	vx_mexport_backend(r.view.me, "retrans", vx_retranssrc_backend(r.src));
	vx_mexport_attached(r.view.me, "retrans", 2);
	vx_mexport_end(r.view.me);
	pr_info("tracing TCP retransmits with %s in %s%s; Ctrl-C to stop",
		vx_retranssrc_backend(r.src), n_inums ? "the chosen namespaces" : "every namespace",
		r.dp_up ? ", tunnels from the datapath's flow table, else the route" :
			  ", tunnels from the route");

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &r);
	if (!ret)
		ret = vx_retranssrc_add_to_loop(r.src, &loop);
	if (!ret)
		ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret) {
		pr_err("retrans: event loop failed: %s", strerror(-ret));
		ret = VX_EXIT_FAIL;
	}
out:
	vx_view_close(&r.view, true, 0);
	vx_retranssrc_close(r.src);
	if (r.dp_up)
		vx_dp_close(&r.dp);
	free(r.tun_interval);
	vx_inventory_free(&r.inv);
	return ret;
}
