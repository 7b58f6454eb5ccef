/* SPDX-License-Identifier: GPL-2.0-only */
/* Counters vx_conntrack.bpf.c keeps for `vxray conntrack`
 * (loader/engines/conntrack.c). Included by both sides, so only fixed-width
 * types, widest first, padding spelled out, sizes pinned. */
#ifndef VXRAY_VX_CONNTRACK_H
#define VXRAY_VX_CONNTRACK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "vx_drops.h" /* struct vxd_ip: the tuple of an event */

#define VXC_MAX_KEYS 4096     /* (netns, L4 protocol) pairs */
#define VXC_MAX_SCOPE 1024    /* namespaces a run may name */
#define VXC_MAX_INFLIGHT 4096 /* kprobe entry -> kretprobe stash */

/* Counted per namespace and L4 protocol, in the kernel: no event per
 * connection crosses to userspace, so a table storm cannot lose any. */
struct vxc_key {
	__u32 netns; /* net->ns.inum */
	__u8 proto;  /* IPPROTO_* of the original tuple */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vxc_key) == 8, "vxc_key layout");

struct vxc_counts {
	__u64 alloc;	     /* __nf_conntrack_alloc() returned an entry */
	__u64 alloc_failed;  /* ... returned ERR_PTR: the table was full */
	__u64 confirmed;     /* __nf_conntrack_confirm() == NF_ACCEPT */
	__u64 insert_failed; /* ... == NF_DROP: not inserted, packet dropped */
	__u64 destroyed;     /* a confirmed entry was freed */
};
_Static_assert(sizeof(struct vxc_counts) == 40, "vxc_counts layout");

/* With cfg.events (`vxray trace` only), one record per entry confirmed,
 * refused or destroyed also goes over the vxc_rb ring buffer; the counts
 * above stay exact whatever the ring loses. */
enum vxc_ev_kind {
	VXC_EV_NEW = 1,	      /* confirmed: in the table */
	VXC_EV_DESTROY,	      /* a confirmed entry freed */
	VXC_EV_ALLOC_FAILED,  /* __nf_conntrack_alloc() refused: table full */
	VXC_EV_INSERT_FAILED, /* __nf_conntrack_confirm() dropped the packet */
};

struct vxc_event {
	__u64 ts_ns;	 /* bpf_ktime_get_ns() */
	struct vxd_ip t; /* the original direction's tuple; ICMP type and
			  * code in the port fields, as drops record them */
	__u32 netns;
	__u8 kind;    /* enum vxc_ev_kind */
	__u8 backend; /* enum vxd_backend: fentry or kprobe */
	__u8 pad[2];
};
_Static_assert(sizeof(struct vxc_event) == 56, "vxc_event layout");

/* kprobe -> kretprobe: what the entry saw, by thread. */
struct vxc_stash {
	__u64 v;     /* (netns, proto) packed, or the skb */
	__u64 tuple; /* __nf_conntrack_alloc's orig tuple */
};

struct vxc_config {
	__u8 scoped; /* 1: count only the namespaces in vxc_scope */
	__u8 events; /* 1: also send struct vxc_event records */
	__u8 pad[6];
};
_Static_assert(sizeof(struct vxc_config) == 8, "vxc_config layout");

#endif
