// SPDX-License-Identifier: GPL-2.0-only
/* Loading the datapath programs (see dp_internal.h): one copy for every
 * namespace, or where the kernel refuses the programs the read of a
 * packet's namespace, one per namespace with its inode in their rodata,
 * sharing every map but the device tables. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "datapath.h"
#include "dp_internal.h"
#include "maputil.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

/* With a copy of the programs per namespace (vx_dp.per_netns), the device
 * tables are each copy's own; every other map is shared. */
static bool map_per_netns(const char *name)
{
	return !strcmp(name, "vxp_dev") || !strcmp(name, "vxp_devc");
}

/* Reuse the first instance's maps (the namespace's own for per-namespace
 * maps), so that every program writes into the same ring buffer and
 * counters, including maps added later by other views. */
static int share_maps(struct bpf_object *obj, struct bpf_object *global, struct bpf_object *ns)
{
	struct bpf_map *m;

	bpf_object__for_each_map (m, obj) {
		struct bpf_object *from = map_per_netns(bpf_map__name(m)) ? ns : global;
		struct bpf_map *src;
		int err;

		if (bpf_map__is_internal(m) || !from || from == obj)
			continue;
		src = bpf_object__find_map_by_name(from, bpf_map__name(m));
		if (!src || bpf_map__fd(src) < 0)
			continue;
		if ((err = bpf_map__reuse_fd(m, bpf_map__fd(src))))
			return err;
	}
	return 0;
}

bool vx_dp_kern_ctx(void)
{
	static int has = -1;
	struct btf *btf;

	if (has < 0) {
		btf = vx_vmlinux_btf();
		has = btf && btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
	}
	return has;
}

/* Open and load @in's skeletons, its shared maps taken from @global (NULL:
 * the first instance, which creates them). */
int dp_load_inst(struct vx_dp *dp, struct vx_dp_inst *in, struct bpf_object *global)
{
	struct vx_dp_config c = dp->cfg;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bpf_program *progs[4];
	int err;

	if (!dp->per_netns && in != dp->inst && dp->inst[0].tc) {
		in->tc = dp->inst[0].tc;
		in->xdp = dp->inst[0].xdp;
		in->shared = true;
		memcpy(in->prog_id, dp->inst[0].prog_id, sizeof(in->prog_id));
		dp_netns_mode(dp);
		return 0;
	}
	in->shared = false;
	c.netns = dp->per_netns ? in->inum : 0;
	in->tc = vx_tc__open();
	if (!in->tc)
		return -errno;
	memcpy((void *)&in->tc->rodata->cfg, &c, sizeof(c));
	in->tc->rodata->vx_kern_ctx = vx_dp_kern_ctx();
	if (dp->tc_mode == VX_TC_TCX) {
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_ul_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_vx_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_ul_out, BPF_TCX_EGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_vx_out, BPF_TCX_EGRESS);
	}
	if (dp->po.xdp) {
		in->xdp = vx_xdp__open();
		if (!in->xdp)
			return -errno;
		memcpy((void *)&in->xdp->rodata->cfg, &c, sizeof(c));
	}
	/* Without events no record is ever reserved (cfg.events removes the
	 * branch): the agent, diagnose and --summary hold no 16 MiB ring. */
	if (!c.events)
		vx_ring_idle(in->tc->maps.vxp_rb);
	/* Every watched interface may be a VXLAN device of this namespace;
	 * entries are allocated as devices are added, not up front. */
	bpf_map__set_max_entries(in->tc->maps.vxp_dev, (uint32_t)dp->max_w);
	bpf_map__set_map_flags(in->tc->maps.vxp_dev,
			       bpf_map__map_flags(in->tc->maps.vxp_dev) | BPF_F_NO_PREALLOC);
	bpf_map__set_max_entries(in->tc->maps.vxp_tun, dp->max_tun);
	if (in->xdp) {
		bpf_map__set_max_entries(in->xdp->maps.vxp_tun, dp->max_tun);
		bpf_map__set_max_entries(in->xdp->maps.vxp_dev, (uint32_t)dp->max_w);
		bpf_map__set_map_flags(in->xdp->maps.vxp_dev,
				       bpf_map__map_flags(in->xdp->maps.vxp_dev) |
					       BPF_F_NO_PREALLOC);
	}
	if (dp->po.before_load && (err = dp->po.before_load(dp->po.ctx, dp, in)) < 0)
		return err;
	if ((err = share_maps(in->tc->obj, global, NULL)) || (err = vx_tc__load(in->tc)))
		return err;
	if (in->xdp &&
	    ((err = share_maps(in->xdp->obj, global ? global : in->tc->obj, in->tc->obj)) ||
	     (err = vx_xdp__load(in->xdp))))
		return err;
	progs[0] = in->tc->progs.vx_tc_ul_in;
	progs[1] = in->tc->progs.vx_tc_ul_out;
	progs[2] = in->tc->progs.vx_tc_vx_in;
	progs[3] = in->tc->progs.vx_tc_vx_out;
	for (int i = 0; i < 4; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			in->prog_id[i] = info.id;
	}
	dp_netns_mode(dp);
	return 0;
}

void dp_unload_inst(struct vx_dp_inst *in)
{
	if (!in->shared) {
		vx_xdp__destroy(in->xdp);
		vx_tc__destroy(in->tc);
	}
	in->xdp = NULL;
	in->tc = NULL;
	in->shared = false;
}

void dp_netns_mode(struct vx_dp *dp)
{
	struct vx_dp_inst *first = &dp->inst[0];
	/* Instances are never taken away: once several, for the run. */
	uint32_t one = dp->n_inst == 1 ? first->inum : 0;

	if (dp->per_netns || !dp->n_inst)
		return;
	if (first->tc && first->tc->bss)
		first->tc->bss->vx_one_netns = one;
	if (first->xdp && first->xdp->bss)
		first->xdp->bss->vx_one_netns = one;
}
