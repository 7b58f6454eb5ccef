// SPDX-License-Identifier: GPL-2.0-only
/* `vxray latency`: per stage of the tunnel (encap, underlay wire, decap,
 * delivery) a histogram of how long packets took, per (namespace, device,
 * VNI), with percentiles, a bimodality flag and the join rate. The kernel
 * does the joining and the counting (bpf/include/vx_datapath.bpf.h, with
 * cfg.latency set); this file only reads the maps every --interval. The
 * datapath programs are loaded and attached by loader/engines/datapath.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "datapath.h"
#include "hist.h"
#include "json.h"
#include "lathooks.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "sysinfo.h"
#include "view.h"
#include "vxray.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

#define MAX_ROWS 256

struct row {
	struct vx_lat_key k;
	struct vx_lat_hist h;
};

struct latency {
	struct vx_opts *o;
	struct vx_dp dp;
	struct vx_lathooks hooks;
	struct vx_view view;	  /* privileges, --metrics, --pcap */
	struct vx_lat_counts lat; /* join counters, auto sampling's 1 in N */
	struct row rows[MAX_ROWS];
	int n_rows;
	uint64_t mono_to_real;
};

static int before_load(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct latency *x = ctx;

	return vx_lathooks_dp_config(&x->hooks, in);
}

static void on_change(void *ctx, const struct vx_dp_watched *w, bool added)
{
	struct latency *x = ctx;

	vx_lathooks_on_change(&x->hooks, w, added);
}

/* A namespace deleted and created again under its name. */
static void on_netns(void *ctx, uint32_t old_inum, uint32_t new_inum)
{
	struct latency *x = ctx;

	vx_lathooks_on_netns(&x->hooks, old_inum, new_inum);
}

static int cmp_row(const void *a, const void *b)
{
	const struct vx_lat_key *x = &((const struct row *)a)->k, *y = &((const struct row *)b)->k;

	if (x->stage != y->stage)
		return x->stage - y->stage;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

static void add_row(const struct vx_lat_key *k, const struct vx_lat_hist *h, void *ctx)
{
	struct latency *x = ctx;

	if (x->n_rows == MAX_ROWS || (x->o->has_vni && k->vni != x->o->vni))
		return;
	x->rows[x->n_rows].k = *k;
	x->rows[x->n_rows++].h = *h;
}

/* Every histogram, summed over CPUs, sorted by stage. */
static void read_hists(struct latency *x)
{
	x->n_rows = 0;
	vx_dp_lat_foreach(&x->dp, add_row, x);
	qsort(x->rows, (size_t)x->n_rows, sizeof(x->rows[0]), cmp_row);
}

static double join_rate(const uint64_t *c)
{
	/* A GRO super-packet may be credited a little past what was seen. */
	if (!c[VX_L_SEEN])
		return 0;
	return c[VX_L_MATCHED] >= c[VX_L_SEEN] ? 1.0 :
						 (double)c[VX_L_MATCHED] / (double)c[VX_L_SEEN];
}

static const char *dev_name(const struct latency *x, const struct vx_lat_key *k)
{
	const struct vx_dp_watched *w = vx_dp_lookup(&x->dp, k->netns, k->ifindex);

	return w ? w->name : "?";
}

static void print_json(const struct latency *x, const char *ts)
{
	char buf[16];
	struct jw j;

	jw_init(&j, stdout);
	jw_record(&j, "latency");
	jw_str(&j, "time", ts);
	jw_str(&j, "sampling", vx_sample_str(x->o->sample, buf, sizeof(buf)));
	jw_uint(&j, "sample_one_in", x->lat.one_in);
	jw_arr_open(&j, "stages");
	for (int s = 0; s < VX_ST__MAX; s++) {
		const uint64_t *c = x->lat.c[s];

		jw_obj_open(&j, NULL);
		jw_str(&j, "stage", vx_lat_stage_name((unsigned int)s));
		jw_str(&j, "between", vx_lat_stage_what((unsigned int)s));
		jw_uint(&j, "offered", c[VX_L_OFFERED]);
		jw_uint(&j, "seen", c[VX_L_SEEN]);
		jw_uint(&j, "matched", c[VX_L_MATCHED]);
		jw_uint(&j, "duplicates", c[VX_L_DUP]);
		jw_uint(&j, "super_packets", c[VX_L_SUPER]);
		jw_double(&j, "join_rate", join_rate(c));
		jw_arr_open(&j, "hists");
		for (int i = 0; i < x->n_rows; i++) {
			const struct row *r = &x->rows[i];

			if (r->k.stage == s)
				vx_lat_row_json(&j, vx_ns_label(r->k.netns), dev_name(x, &r->k),
						r->k.vni, &r->h);
		}
		jw_arr_close(&j);
		jw_obj_close(&j);
	}
	jw_arr_close(&j);
	jw_obj_close(&j);
	jw_end_line(&j);
}

static void print_text(const struct latency *x, const char *ts)
{
	printf("--- %s latency since start ---\n", ts);
	if (x->o->sample & VX_SAMPLE_AUTO)
		printf("sampling: auto, every packet up to %u per second and CPU, 1 in N above; "
		       "1 in %u at the busiest CPU's last window (counters stay exact)\n",
		       VX_SAMPLE_TARGET, x->lat.one_in);
	else if (x->o->sample)
		printf("sampling: 1 in %u packets (counters stay exact)\n", 1u << x->o->sample);
	for (int s = 0; s < VX_ST__MAX; s++) {
		const uint64_t *c = x->lat.c[s];
		bool any = false;

		for (int i = 0; i < x->n_rows; i++)
			any |= x->rows[i].k.stage == s;
		if (!any && !c[VX_L_SEEN])
			continue;
		printf("%s (%s): join rate %.1f%% (%llu of %llu matched at the next hook",
		       vx_lat_stage_name((unsigned int)s), vx_lat_stage_what((unsigned int)s),
		       100.0 * join_rate(c), (unsigned long long)c[VX_L_MATCHED],
		       (unsigned long long)c[VX_L_SEEN]);
		if (c[VX_L_DUP])
			printf(", %llu duplicates", (unsigned long long)c[VX_L_DUP]);
		if (c[VX_L_SUPER])
			printf(", %llu GSO/GRO super-packets", (unsigned long long)c[VX_L_SUPER]);
		if (c[VX_L_OFFERED] > c[VX_L_SEEN] + c[VX_L_DUP])
			printf("; %llu of %llu packets timed", (unsigned long long)c[VX_L_SEEN],
			       (unsigned long long)c[VX_L_OFFERED]);
		printf(")\n");
		for (int i = 0; i < x->n_rows; i++) {
			const struct row *r = &x->rows[i];

			if (r->k.stage == s)
				vx_lat_row_text(stdout, vx_ns_label(r->k.netns), dev_name(x, &r->k),
						r->k.vni, &r->h);
		}
	}
	fflush(stdout);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct latency *x = ctx;
	uint64_t cnt[VX_C__MAX];
	char ts[32];

	vx_dp_counters(&x->dp, cnt);
	vx_dp_warn_evictions(&x->dp, cnt);
	vx_dp_lat_counts(&x->dp, &x->lat);
	read_hists(x);
	vx_mexport_begin(x->view.me);
	vx_mexport_datapath(x->view.me, &x->dp);
	vx_mexport_end(x->view.me);
	vx_fmt_wallclock(now + x->mono_to_real, 3, ts, sizeof(ts));
	if (x->o->json)
		print_json(x, ts);
	else
		print_text(x, ts);
}

int cmd_latency(struct vx_opts *o)
{
	struct latency *x = calloc(1, sizeof(*x));
	struct vx_dp_opts po = { .o = o,
				 .events = false,
				 .xdp = o->xdp,
				 .before_load = before_load,
				 .on_change = on_change,
				 .on_netns = on_netns };
	struct vx_loop loop;
	int ret;

	if (!x) {
		pr_err("latency: out of memory");
		return VX_EXIT_FAIL;
	}
	x->o = o;
	po.ctx = x;
	if ((ret = vx_view_open(&x->view, o, 0))) {
		free(x);
		return ret;
	}
	vx_dp_init(&x->dp, &po);
	if ((ret = vx_dp_pick(&x->dp)) ||
	    (ret = vx_lathooks_open(&x->hooks, o->backend, o->sample, VX_LATHOOKS_XMIT, NULL,
				    NULL)) ||
	    (ret = vx_dp_load(&x->dp)) || (ret = vx_dp_attach(&x->dp))) {
		ret = ret == -EOPNOTSUPP ? VX_EXIT_FAIL : vx_exit_code(ret);
		goto out;
	}
	vx_lathooks_watch_dp(&x->hooks, &x->dp);
	x->mono_to_real = vx_mono_to_real();
	vx_mexport_begin(x->view.me);
	vx_mexport_lathooks(x->view.me, &x->hooks);
	vx_mexport_end(x->view.me);
	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, x);
	if (!ret)
		ret = vx_dp_add_to_loop(&x->dp, &loop);
	if (!ret) {
		int n = vx_dp_n_active(&x->dp);

		pr_info("timing %d interface%s in %d namespace%s with %s (%s); vxlan_xmit by %s, "
			"vxlan_rcv by %s, delivery by %s; Ctrl-C to stop",
			n, n == 1 ? "" : "s", x->dp.n_inst, x->dp.n_inst == 1 ? "" : "s",
			vx_dp_tc_mode_name(x->dp.tc_mode), x->dp.tc_mode_why,
			x->hooks.xmit_backend ? x->hooks.xmit_backend : "nothing (not timed)",
			x->hooks.rcv ? x->hooks.xmit_backend : "the decap stage",
			x->hooks.delivery ? "tp_btf/tcp_probe" : "nothing (not timed)");
		ret = vx_loop_run(&loop);
		if (ret)
			pr_err("latency: event loop failed: %s", strerror(-ret));
	}
	vx_loop_close(&loop);
	ret = ret ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	vx_view_close(&x->view, true, 0);
	vx_dp_close(&x->dp);
	vx_lathooks_close(&x->hooks);
	free(x);
	return ret;
}
