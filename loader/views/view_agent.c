// SPDX-License-Identifier: GPL-2.0-only
/* `vxray agent`: the node agent. No event printing; the datapath in
 * counters-only mode with latency joins, the delivery and xmit latency
 * hooks (lathooks.c), the drop, retransmit and conntrack engines, all read
 * every --interval into the exported series (mexport.c) that an HTTP
 * thread serves on /metrics, and the latency histograms into the rolling
 * baseline diagnose reads (basestate.h). Memory bounds: see mexport.c. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "basestate.h"
#include "btfnames.h"
#include "cmd.h"
#include "conntrack.h"
#include "datapath.h"
#include "dropsrc.h"
#include "hist.h"
#include "ksyms.h"
#include "lathooks.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "policy.h"
#include "retranssrc.h"
#include "sysinfo.h"
#include "view.h"
#include "vxray.h"
#include "vx_tc.skel.h"

struct agent {
	struct vx_opts *o;
	struct vx_view view; /* privileges, --metrics, --pcap */

	struct vx_dp dp;
	struct vx_lathooks hooks;
	struct vx_dropsrc *drops;
	struct vx_retranssrc *rt;
	struct vx_inventory rt_inv;
	struct vx_ct *ct;
	struct vx_ct_snapshot *ct_snap;
	uint64_t nf_last_ns;
	struct vx_basestate *base; /* NULL: the state directory is unusable */
};

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

/* Each stage of each watched device, named as diagnose names it. */
static void see_stage(const struct vx_lat_key *k, const struct vx_lat_hist *h, void *ctx)
{
	struct agent *a = ctx;
	const struct vx_dp_watched *w = vx_dp_lookup(&a->dp, k->netns, k->ifindex);
	const char *stage = vx_lat_stage_name(k->stage);

	if (w && stage)
		vx_basestate_see(a->base, w->netns, w->name, stage, h);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct agent *a = ctx;
	struct vx_nf_ruleset rs[VX_MAX_NETNS] = {};
	const char *names[VX_MAX_NETNS];
	int n_nf = read_netfilter(a, now, rs, names);
	bool ct = a->ct && !vx_ct_snapshot(a->ct, a->ct_snap);
	uint64_t cnt[VX_C__MAX];

	vx_dp_counters(&a->dp, cnt);
	vx_dp_warn_evictions(&a->dp, cnt);
	vx_mexport_begin(a->view.me);
	vx_mexport_datapath(a->view.me, &a->dp);
	if (a->drops) {
		const struct vx_drop_row *rows;
		int n = vx_dropsrc_read_agg(a->drops, &rows);

		vx_mexport_drops(a->view.me, rows, n, vx_dropsrc_lost(a->drops));
	}
	if (a->rt)
		vx_retranssrc_read_counts(a->rt);
	vx_mexport_retrans(a->view.me, a->rt, &a->rt_inv);
	if (ct)
		vx_mexport_conntrack(a->view.me, a->ct_snap);
	for (int i = 0; i < n_nf; i++)
		for (int k = 0; k < rs[i].n; k++)
			vx_mexport_nf_rule(a->view.me, vx_ns_label_of(names[i]), &rs[i].r[k]);
	vx_mexport_attached(a->view.me, "drops", a->drops ? 1 : 0);
	vx_mexport_attached(a->view.me, "retrans", a->rt ? 2 : 0);
	vx_mexport_end(a->view.me);
	for (int i = 0; i < n_nf; i++)
		vx_nf_ruleset_free(&rs[i]);
	if (a->base) {
		vx_dp_lat_foreach(&a->dp, see_stage, a);
		vx_basestate_tick(a->base, now);
	}
}

static void open_basestate(struct agent *a)
{
	const char *dir = a->o->state_dir ? a->o->state_dir : VX_BASESTATE_DIR;
	uint64_t every = a->o->interval_ns ? a->o->interval_ns : NSEC_PER_SEC;
	char err[512];

	a->base = vx_basestate_open(dir, every * VX_BASESTATE_INTERVALS, err, sizeof(err));
	if (!a->base)
		pr_warn("%s: keeping no latency baseline for diagnose (--state-dir DIR picks "
			"another directory)",
			err);
}

/* ---- setup -------------------------------------------------------------- */

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
		pr_warn("serving metrics without conntrack: %s",
			a->ct_snap ? err : "out of memory");
	}
	return 0;
}

/* Latency joins packets across hooks in the kernel, into the maps of the
 * delivery and xmit hooks (vx_lathooks) when they loaded. */
static int before_load(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct agent *a = ctx;

	return vx_lathooks_dp_config(&a->hooks, in);
}

/* --auto: the xmit hook times the VXLAN devices that come and go. */
static void on_change(void *ctx, const struct vx_dp_watched *w, bool added)
{
	struct agent *a = ctx;

	vx_lathooks_on_change(&a->hooks, w, added);
}

/* A namespace deleted and created again under its name. */
static void on_netns(void *ctx, uint32_t old_inum, uint32_t new_inum)
{
	struct agent *a = ctx;

	vx_lathooks_on_netns(&a->hooks, old_inum, new_inum);
}

/* The drop and retransmit engines add what the datapath cannot see. The
 * agent's drops are counted in the kernel only (no event per drop), so an
 * overloaded socket costs it nothing in userspace. Either engine may be
 * refused by the kernel; the agent then serves the rest and says which is
 * missing (vxray_probe_backend_info lacks it). */
static int open_probes(struct agent *a)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vx_dropsrc_cfg cfg = { .backend = a->o->backend, .scope = scope };
	uint32_t inums[VXR_MAX_NETNS];
	int n_inums = 0, err;

	if (vx_drop_scope_build(a->o, scope, &cfg.n_scope, &cfg.vxlan_port) ||
	    vx_dropsrc_open(&a->drops, &cfg, NULL, NULL)) {
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
	/* Counted in the kernel, each on the tunnel the datapath's flow
	 * table says: a lossy path's retransmits cost no event each. */
	err = vx_retranssrc_open(
		&a->rt, &(struct vx_retranssrc_cfg){ .inv = &a->rt_inv,
						     .inums = inums,
						     .n_inums = n_inums,
						     .count = true,
						     .flow_fd = vx_dp_map_fd(&a->dp, "vxp_flow") });
	if (err) {
		pr_warn("serving metrics without retransmits: %s", vx_strerror(err));
		a->rt = NULL;
	}
	return open_conntrack(a);
}

/* What each probe runs on, and the backends this kernel refused. */
static void report_backends(struct agent *a)
{
	vx_mexport_begin(a->view.me);
	/* "none": the probe runs on nothing (every backend refused), which
	 * the shipped VxrayProbeRunsOnNothing alert looks for. */
	vx_mexport_backend(a->view.me, "drops", a->drops ? vx_dropsrc_backend(a->drops) : "none");
	vx_mexport_backend(a->view.me, "retrans", a->rt ? vx_retranssrc_backend(a->rt) : "none");
	vx_mexport_backend(a->view.me, "conntrack", a->ct ? vx_ct_backend(a->ct) : "none");
	vx_mexport_lathooks(a->view.me, &a->hooks);
	vx_mexport_end(a->view.me);
}

int cmd_agent(struct vx_opts *o)
{
	struct agent a = { .o = o };
	struct vx_dp_opts po = { .o = o,
				 .events = false,
				 .flows = true,
				 .before_load = before_load,
				 .on_change = on_change,
				 .on_netns = on_netns,
				 .ctx = &a };
	struct vx_loop loop;
	int ret;

	if (o->backend == VX_BACKEND_FENTRY || o->backend == VX_BACKEND_KPROBE) {
		/* --backend picks the drop probe's hook; retransmits only
		 * have tracepoints and stay on them. */
		pr_debug("--backend applies to the drop probe");
	}
	/* A node agent watches every tunnel unless told otherwise. */
	if (!o->n_ifaces)
		o->auto_attach = true;

	if ((ret = vx_view_open(&a.view, o, VX_VIEW_AGENT)))
		return ret;
	/* The drops' locations are named from it: built now, not on the
	 * first drop in the middle of serving. */
	vx_ksyms_build();

	vx_dp_init(&a.dp, &po);
	ret = vx_dp_pick(&a.dp);
	/* The latency hooks load before the datapath shares their maps.
	 * AUTO: a refused backend falls through to the next, and no backend
	 * at all is a health metric, never a reason to stop. */
	if (!ret)
		ret = vx_lathooks_open(&a.hooks, VX_BACKEND_AUTO, o->sample,
				       (o->xmit_stage ? VX_LATHOOKS_XMIT : 0) | VX_LATHOOKS_HIST,
				       NULL, NULL);
	if (!ret)
		ret = vx_dp_load(&a.dp);
	if (!ret)
		ret = vx_dp_attach(&a.dp);
	if (ret) {
		ret = vx_exit_code(ret);
		goto out;
	}
	vx_lathooks_watch_dp(&a.hooks, &a.dp);
	if (open_probes(&a)) {
		ret = VX_EXIT_FAIL;
		goto out;
	}
	report_backends(&a);
	open_basestate(&a);

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &a);
	loop.drain_ns = 0; /* metrics are refreshed on the tick */
	if (!ret)
		ret = vx_dp_add_to_loop(&a.dp, &loop);
	if (!ret && a.drops)
		ret = vx_dropsrc_add_to_loop(a.drops, &loop);
	if (!ret && a.rt)
		ret = vx_retranssrc_add_to_loop(a.rt, &loop);
	if (!ret && a.ct)
		ret = vx_ct_add_to_loop(a.ct, &loop);
	if (!ret) {
		on_tick(&a, vx_now_ns());
		pr_info("agent: serving metrics on %s; watching %d interface%s with %s; "
			"Ctrl-C to stop",
			vx_mexport_url(a.view.me), vx_dp_n_active(&a.dp),
			vx_dp_n_active(&a.dp) == 1 ? "" : "s", vx_dp_tc_mode_name(a.dp.tc_mode));
		ret = vx_loop_run(&loop);
	}
	vx_loop_close(&loop);
	if (ret) {
		pr_err("agent: event loop failed: %s", vx_strerror(ret));
		ret = VX_EXIT_FAIL;
	}
out:
	/* Stop serving before the maps the registry was filled from go. */
	vx_view_close(&a.view, true, 0);
	vx_ct_close(a.ct);
	free(a.ct_snap);
	vx_retranssrc_close(a.rt);
	vx_inventory_free(&a.rt_inv);
	vx_dropsrc_close(a.drops);
	vx_dp_close(&a.dp);
	vx_lathooks_close(&a.hooks);
	vx_ksyms_free();
	vx_basestate_close(a.base);
	return ret;
}
