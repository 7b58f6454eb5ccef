// SPDX-License-Identifier: GPL-2.0-only
/* The datapath's per-tunnel statistics as the summaries read them: every
 * key of vxp_tun (through each CPU's slots, maputil.c), and which keys
 * count, so that each packet counts once under the remote VTEP it named
 * (vx_dp_tun_counts, datapath.h), and for namespaces that end, each
 * incarnation's own (dp_incarn.h); the latency histograms, summed over
 * CPUs. */
#include <errno.h>
#include <string.h>
#include <stdbool.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "dp_internal.h"
#include "hist.h"
#include "log.h"
#include "maputil.h"
#include "vx_tc.skel.h"

static int tun_foreach_raw(const struct vx_dp *dp, vx_tun_fn fn, void *ctx)
{
	const struct vx_tc *tc = dp->n_inst ? dp->inst[0].tc : NULL;

	if (!tc)
		return -EBADF;
	return vx_tun_foreach(bpf_map__fd(tc->maps.vxp_tun), bpf_map__fd(tc->maps.vxp_cnt), fn,
			      ctx);
}

struct tun_now {
	const struct vx_dp *dp;
	vx_tun_fn fn;
	void *ctx;
};

static void tun_now(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx)
{
	struct tun_now *t = ctx;
	struct vx_tun_val v = *tot;

	if (vx_incarn_current(&t->dp->inc, k, &v))
		t->fn(k, &v, t->ctx);
}

int vx_dp_tun_foreach(const struct vx_dp *dp, vx_tun_fn fn, void *ctx)
{
	struct tun_now t = { dp, fn, ctx };

	return tun_foreach_raw(dp, tun_now, &t);
}

struct tun_end {
	struct vx_dp *dp;
	uint32_t inum;
	const char *label;
};

/* A key of the namespace that ended: its totals become its baseline, and
 * a retired row when the summaries count it (decided now, while the
 * namespace's devices are still known). */
static void tun_end(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx)
{
	struct tun_end *t = ctx;
	const struct vx_dp_watched *dev;
	bool keep;

	if (k->netns != t->inum)
		return;
	keep = t->dp->po.retired && vx_dp_tun_counts(t->dp, k, &dev);
	if (vx_incarn_end(&t->dp->inc, k, tot, t->label, keep) == -ENOMEM)
		pr_warn("no memory for the totals of namespace %s, which ended: a namespace "
			"created with its inode may show them",
			t->label);
}

void dp_netns_ended(struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct tun_end t = { dp, in->inum, dp_inst_label(in) };

	tun_foreach_raw(dp, tun_end, &t);
	dp->ns_ended++;
}

int vx_dp_retired_take(struct vx_dp *dp, struct vx_dp_retired *out, int max)
{
	return vx_incarn_take(&dp->inc, out, max);
}

int vx_dp_lat_foreach(const struct vx_dp *dp, vx_lat_fn fn, void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_map_fd(dp, "vxl_hist");
	struct vx_lat_hist *vals, sum;
	struct vx_lat_key k, next;
	bool first = true;

	if (fd < 0)
		return fd;
	vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (k.stage >= VX_ST__MAX || bpf_map_lookup_elem(fd, &k, vals))
			continue;
		vx_hist_sum(&sum, vals, ncpu);
		/* The map exists in every datapath object, filled only where
		 * latency joins are on. */
		if (sum.count)
			fn(&k, &sum, ctx);
	}
	free(vals);
	return 0;
}

int vx_dp_lat_counts(const struct vx_dp *dp, struct vx_lat_counts *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_map_fd(dp, "vxl_cnt");
	struct vx_lat_cnt *vals;
	uint32_t zero = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->one_in = 1;
	if (fd < 0)
		return fd;
	vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, vals))
		err = -errno;
	for (int c = 0; !err && c < ncpu; c++) {
		for (int s = 0; s < VX_ST__MAX; s++)
			for (int k = 0; k < VX_L__MAX; k++)
				out->c[s][k] += vals[c].c[vx_lat_idx(s, k)];
		for (int r = 0; r < VX_RATE_ROWS; r++)
			for (int a = 0; a < VX_AT__MAX; a++) {
				uint32_t s = vals[c].rate[r][a].shift;

				if (s <= VX_SAMPLE_SHIFT_MAX && 1u << s > out->one_in)
					out->one_in = 1u << s;
			}
	}
	free(vals);
	return err;
}

static bool vni_in_filter(const struct vx_vxlan_dev *v, uint32_t vni)
{
	if (!v->vnifilter || v->n_vnis > VX_INV_MAX_VNIS)
		return true;
	for (int i = 0; i < v->n_vnis; i++)
		if (vni >= v->vnis[i].start && vni <= v->vnis[i].end)
			return true;
	return false;
}

/* The watched VXLAN device of instance @inst that takes VNI @vni: the
 * classic one with that VNI, else an external one whose filter lets it in. */
static const struct vx_dp_watched *dev_for_vni(const struct vx_dp *dp, int inst, uint32_t vni)
{
	const struct vx_dp_watched *ext = NULL;

	for (int i = 0; i < dp->n_w; i++) {
		const struct vx_dp_watched *w = &dp->w[i];

		if (!w->active || !w->is_vxlan || w->inst != inst || !w->vx)
			continue;
		if (!w->vx->external && w->vx->vni == vni)
			return w;
		if (w->vx->external && !ext && vni_in_filter(w->vx, vni))
			ext = w;
	}
	return ext;
}

static bool underlay_watched(const struct vx_dp *dp, const struct vx_dp_watched *v)
{
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active && !dp->w[i].is_vxlan && dp->w[i].inst == v->inst &&
		    dp->w[i].ifindex == v->vx->underlay_ifindex)
			return true;
	return false;
}

bool vx_dp_tun_counts(const struct vx_dp *dp, const struct vx_tun_key *k,
		      const struct vx_dp_watched **dev)
{
	const struct vx_dp_watched *w = vx_dp_lookup(dp, k->netns, k->ifindex), *v;

	*dev = w;
	switch (k->at) {
	case VX_AT_TC_VX_IN: return true;
	case VX_AT_TC_VX_OUT:
		return k->family || !w || !w->vx || w->vx->external || !underlay_watched(dp, w);
	case VX_AT_TC_UL_OUT:
		v = w ? dev_for_vni(dp, w->inst, k->vni) : NULL;
		if (v && v->vx->external)
			return false;
		if (v)
			*dev = v;
		return true;
	case VX_AT_TC_UL_IN: return !w || !dev_for_vni(dp, w->inst, k->vni);
	default: return false; /* XDP sees what tc ingress sees */
	}
}
