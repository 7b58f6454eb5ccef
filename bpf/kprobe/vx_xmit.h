/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by bpf/kprobe/vx_xmit.bpf.c and the loader: the VXLAN devices whose
 * vxlan_xmit is timed, and the entry stamp kept until its return. */
#ifndef VX_XMIT_H
#define VX_XMIT_H

/* vxx_dev key: a watched VXLAN device; the value is its VNI. Tracepoints
 * and kernel functions see every namespace: only these are timed. */
struct vx_xmit_dev {
	__u32 netns;
	__u32 ifindex;
};
_Static_assert(sizeof(struct vx_xmit_dev) == 8, "vx_xmit_dev layout");

struct vx_xmit_start {
	__u64 ts_ns;
	__u32 netns;
	__u32 ifindex;
	__u32 vni;
	__u32 pad;
};
_Static_assert(sizeof(struct vx_xmit_start) == 24, "vx_xmit_start layout");

#endif
