/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by bpf/kprobe/vx_xmit.bpf.c and the loader: the VXLAN devices whose
 * vxlan_xmit is timed, and the entry stamp kept until its return. */
#ifndef VX_XMIT_H
#define VX_XMIT_H

#include "vxray.h"

/* vxx_dev key: a watched VXLAN device; the value is its VNI. Tracepoints
 * and kernel functions see every namespace: only these are timed. */
struct vx_xmit_dev {
	__u32 netns;
	__u32 ifindex;
};
_Static_assert(sizeof(struct vx_xmit_dev) == 8, "vx_xmit_dev layout");

/* vxx_wset: the watched devices ((netns, ifindex) -> VNI) and namespaces
 * ((netns, 0)), direct-mapped, in front of vxx_dev and vxx_ns. The hooks
 * run for every frame of every device on the host, so the common answer,
 * "not watched", must cost no helper call: an array lookup is inlined,
 * a hash map's is not. A key whose slot is taken lives in the hash map,
 * and the slot counts it in @more, so only those slots send a lookup on. */
#define VXX_WSET_SLOTS 4096
struct vx_xmit_slot {
	__u32 netns; /* 0: empty */
	__u32 ifindex;
	__u32 vni;
	__u32 more; /* keys of this slot in vxx_dev/vxx_ns */
};
_Static_assert(sizeof(struct vx_xmit_slot) == 16, "vx_xmit_slot layout");

static inline __u32 vx_xmit_slot_of(__u32 netns, __u32 ifindex)
{
	__u32 h = (netns * 0x9e3779b1u) ^ (ifindex * 0x85ebca6bu);

	return (h ^ h >> 16) & (VXX_WSET_SLOTS - 1);
}

struct vx_xmit_start {
	__u64 ts_ns;
	struct vx_pkt_id id; /* with cfg.events: the packet, for its event */
	__u32 netns;
	__u32 ifindex;
	__u32 vni;
	__u32 pad;
};
_Static_assert(sizeof(struct vx_xmit_start) == 48, "vx_xmit_start layout");

/* Which program saw a hook event. */
enum vxx_backend {
	VXX_BE_FENTRY = 1,
	VXX_BE_KPROBE,
	VXX_BE_TP_BTF,
};

/* With cfg.events (`vxray trace`): one record per timed vxlan_xmit and
 * vxlan_rcv, and per TCP segment delivered that arrived through a watched
 * VXLAN device, over the vxx_rb ring buffer. */
struct vx_hook_event {
	__u64 ts_ns;	     /* the return (xmit, rcv), or tcp_probe */
	__u64 start_ns;	     /* the entry; 0 for delivery */
	struct vx_pkt_id id; /* the packet's identity (vx_read_id) */
	__u32 netns;
	__u32 ifindex; /* VXLAN device (xmit, delivery), underlay (rcv) */
	__u32 vni;
	__u8 stage;   /* VX_ST_XMIT, VX_ST_RCV or VX_ST_DELIVERY */
	__u8 backend; /* enum vxx_backend */
	__u8 pad[2];
};
_Static_assert(sizeof(struct vx_hook_event) == 56, "vx_hook_event layout");

struct vxx_config {
	__u8 events; /* send struct vx_hook_event records */
	__u8 sample; /* VX_SAMPLE_* (vxray.h) */
	__u8 pad[6];
};
_Static_assert(sizeof(struct vxx_config) == 8, "vxx_config layout");

#endif
