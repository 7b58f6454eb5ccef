/* SPDX-License-Identifier: GPL-2.0-only */
/* Records vx_nfhook.bpf.c sends to `vxray policy` (loader/views/view_policy.c):
 * a netfilter verdict that dropped a packet, seen where nf_hook_slow()
 * returns, with the hook state the kernel ran the rules with. Included by
 * both sides: fixed-width types, widest first, sizes pinned. */
#ifndef VXRAY_VX_NFHOOK_H
#define VXRAY_VX_NFHOOK_H

#include "vx_drops.h"

/* The packet part reuses the drop record: headers, tunnel, namespace,
 * device and stack mean the same there. Its reason is unused (0). */
struct vxn_event {
	struct vxd_event d;
	__u32 hook;	   /* state->hook: NF_INET_* (or the family's own) */
	__u32 pf;	   /* state->pf: NFPROTO_* */
	__u32 in_ifindex;  /* state->in, 0 without */
	__u32 out_ifindex; /* state->out, 0 without */
	__s32 ret;	   /* nf_hook_slow(): -EPERM, or NF_DROP_GETERR's errno */
	__u8 pad[4];
};
_Static_assert(sizeof(struct vxn_event) == 176, "vxn_event layout");

/* Exact per-interval counts, independent of ring-buffer overflow. */
struct vxn_agg_key {
	__u32 netns;
	__u32 hook;
	__u32 pf;
};
_Static_assert(sizeof(struct vxn_agg_key) == 12, "vxn_agg_key layout");

#define VXN_MAX_NEST 4

/* kprobe backend: nf_hook_slow()'s arguments from entry to return, per
 * task, as a small stack (a REJECT sends its reply through the OUTPUT hook
 * from inside the INPUT one). */
struct vxn_frame {
	__u64 skb[VXN_MAX_NEST];
	__u64 state[VXN_MAX_NEST];
	__u64 caller[VXN_MAX_NEST];
	__u32 depth;
	__u32 pad;
};
_Static_assert(sizeof(struct vxn_frame) == 8 * 3 * VXN_MAX_NEST + 8, "vxn_frame layout");

struct vxn_config {
	__u16 vxlan_port; /* UDP port that means VXLAN, host order */
	__u8 scoped;	  /* 1: only what vxn_scope lists */
	__u8 stack;	  /* 1: record a stack id per event */
	__u8 pad[4];
};
_Static_assert(sizeof(struct vxn_config) == 8, "vxn_config layout");

#endif
