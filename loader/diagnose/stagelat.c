// SPDX-License-Identifier: GPL-2.0-only
/* Per-stage latency over a diagnosis window (see stagelat.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "baseline.h"
#include "stagelat.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

/* The latency stages a diagnosis compares (xmit is inside encap). */
static const char *const stage_names[VX_ST__MAX] = {
	[VX_ST_ENCAP] = "encap",       [VX_ST_WIRE] = "wire", [VX_ST_DECAP] = "decap",
	[VX_ST_DELIVERY] = "delivery", [VX_ST_XMIT] = "xmit",
};
/* Fewer samples than this in a stage say nothing about it. */
#define LAT_MIN_SAMPLES 8

/* snprintf("%s") between fields of one static struct trips -Wrestrict;
 * they never overlap, but say it with memmove. */
static void cpy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

static int dp_before_load(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct vx_stagelat *s = ctx;

	return vx_lathooks_dp_config(&s->hooks, in);
}

static void dp_on_change(void *ctx, const struct vx_dp_watched *w, bool added)
{
	struct vx_stagelat *s = ctx;

	vx_lathooks_on_change(&s->hooks, w, added);
}

/* A namespace deleted and created again under its name. */
static void dp_on_netns(void *ctx, uint32_t old_inum, uint32_t new_inum)
{
	struct vx_stagelat *s = ctx;

	vx_lathooks_on_netns(&s->hooks, old_inum, new_inum);
}

int vx_stagelat_start(struct vx_stagelat *s, const struct vx_opts *o,
		      const char names[][VX_NETNS_NAME_MAX], int n)
{
	struct vx_dp_opts po = { .o = &s->dpo,
				 .events = false,
				 .flows = true,
				 .before_load = dp_before_load,
				 .on_change = dp_on_change,
				 .on_netns = dp_on_netns,
				 .ctx = s };
	int ret;

	s->dpo = *o;
	s->dpo.n_ifaces = 0;
	s->dpo.auto_attach = true;
	s->dpo.has_vni = false;
	s->dpo.n_netns = n;
	for (int i = 0; i < n; i++)
		memcpy(s->dpo.netns[i], names[i], VX_NETNS_NAME_MAX);
	vx_dp_init(&s->dp, &po);
	ret = vx_dp_pick(&s->dp);
	if (!ret)
		ret = vx_lathooks_open(&s->hooks, VX_BACKEND_AUTO, o->sample, VX_LATHOOKS_HIST,
				       NULL, NULL);
	if (!ret)
		ret = vx_dp_load(&s->dp);
	if (!ret)
		ret = vx_dp_attach(&s->dp);
	if (ret) {
		vx_dp_close(&s->dp);
		vx_lathooks_close(&s->hooks);
		return ret;
	}
	/* The namespaces too: the delivery hook ends a stamp only for a
	 * socket in a watched one. */
	vx_lathooks_watch_dp(&s->hooks, &s->dp);
	s->up = true;
	return 0;
}

int vx_stagelat_flow_fd(struct vx_stagelat *s)
{
	return vx_dp_map_fd(&s->dp, "vxp_flow");
}

void vx_stagelat_stop(struct vx_stagelat *s)
{
	if (!s->up)
		return;
	vx_dp_close(&s->dp);
	vx_lathooks_close(&s->hooks);
	s->up = false;
}

struct rows {
	struct vx_stagelat_row *r;
	int n, max;
};

static void add_row(const struct vx_lat_key *k, const struct vx_lat_hist *h, void *ctx)
{
	struct rows *rs = ctx;

	if (rs->n == rs->max)
		return;
	rs->r[rs->n].k = *k;
	rs->r[rs->n++].h = *h;
}

/* Every stage histogram, summed over CPUs. */
static int read_hists(struct vx_stagelat *s, struct vx_stagelat_row *rows, int max)
{
	struct rows rs = { rows, 0, max };

	vx_dp_lat_foreach(&s->dp, add_row, &rs);
	return rs.n;
}

/* Two humps: where each begins, and the upper one's share of the samples
 * (those above the geometric middle between them). */
static void humps(struct vx_ev_lat *l, const struct vx_lat_hist *h)
{
	uint64_t lo, hi, mid, below[2];

	if (!vx_hist_bimodal(h, &lo, &hi))
		return;
	mid = (uint64_t)sqrt((double)lo * (double)hi);
	vx_hist_buckets(h, &mid, 1, below);
	l->bimodal = true;
	l->lo_us = (double)lo / 1e3;
	l->hi_us = (double)hi / 1e3;
	l->hi_share = h->count ? (double)below[1] / (double)h->count : 0;
}

/* The window's first third ends: keep the histograms as they are. */
void vx_stagelat_tick(struct vx_stagelat *s, uint64_t elapsed_ns, uint64_t window_ns)
{
	if (s->up && !s->mid_taken && elapsed_ns >= window_ns / 3) {
		s->n_mid = read_hists(s, s->mid, VX_STAGELAT_MAX_ROWS);
		s->mid_taken = true;
	}
}

void vx_stagelat_burst(struct vx_stagelat *s, bool end)
{
	if (s->up && !end) {
		s->n_burst0 = read_hists(s, s->burst0, VX_STAGELAT_MAX_ROWS);
		/* The first third's reading is due about now (ticks come
		 * every 0.5 s): never after the burst began. */
		if (!s->mid_taken) {
			memcpy(s->mid, s->burst0, sizeof(s->mid[0]) * (size_t)s->n_burst0);
			s->n_mid = s->n_burst0;
			s->mid_taken = true;
		}
	} else if (s->up && end)
		s->n_burst1 = read_hists(s, s->burst1, VX_STAGELAT_MAX_ROWS);
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
static const struct vx_stagelat_row *row_of(const struct vx_stagelat_row *rows, int n,
					    const struct vx_lat_key *k)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(&rows[i].k, k, sizeof(*k)))
			return &rows[i];
	return NULL;
}

void vx_stagelat_fill(struct vx_stagelat *s, struct vx_evidence *ev, const struct vx_baseline *base,
		      const char *baseline)
{
	static struct vx_stagelat_row rows[VX_STAGELAT_MAX_ROWS];
	int n;

	if (!s->up)
		return;
	n = read_hists(s, rows, VX_STAGELAT_MAX_ROWS);
	for (int i = 0; i < n && ev->n_lat < VX_EV_MAX_LAT; i++) {
		const struct vx_dp_watched *w =
			vx_dp_lookup(&s->dp, rows[i].k.netns, rows[i].k.ifindex);
		const struct vx_stagelat_row *m = row_of(s->mid, s->n_mid, &rows[i].k);
		const struct vx_stagelat_row *b0 = row_of(s->burst0, s->n_burst0, &rows[i].k);
		const struct vx_stagelat_row *b1 = row_of(s->burst1, s->n_burst1, &rows[i].k);
		struct vx_ev_lat *l = &ev->lat[ev->n_lat];
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
		if (base && vx_baseline_lookup(base, l->netns, l->device, l->stage, &l->base_p50_us,
					       &l->base_p90_us)) {
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "%s", baseline);
		} else if (have_first && first.count >= LAT_MIN_SAMPLES) {
			l->base_p50_us = (double)vx_hist_quantile(&first, 0.5) / 1e3;
			l->base_p90_us = (double)vx_hist_quantile(&first, 0.9) / 1e3;
			l->has_base = l->base_own = true;
			snprintf(l->base_from, sizeof(l->base_from), "the window's first third");
			hist_sub(&rows[i].h, &first);
		}
		if (rows[i].h.count < LAT_MIN_SAMPLES)
			continue;
		l->p50_us = (double)vx_hist_quantile(&rows[i].h, 0.5) / 1e3;
		l->p90_us = (double)vx_hist_quantile(&rows[i].h, 0.9) / 1e3;
		l->samples = rows[i].h.count;
		l->vni = rows[i].k.vni == VX_VNI_UNKNOWN ? 0 : rows[i].k.vni;
		humps(l, &rows[i].h);
		ev->n_lat++;
	}
}
