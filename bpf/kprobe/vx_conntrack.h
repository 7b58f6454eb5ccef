/* SPDX-License-Identifier: GPL-2.0-only */
/* Counters vx_conntrack.bpf.c keeps for `vxray conntrack`
 * (loader/conntrack.c). Included by both sides, so only fixed-width
 * types, widest first, padding spelled out, sizes pinned. */
#ifndef VXRAY_VX_CONNTRACK_H
#define VXRAY_VX_CONNTRACK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VXC_MAX_KEYS 4096	/* (netns, L4 protocol) pairs */
#define VXC_MAX_SCOPE 256	/* namespaces a run may name */
#define VXC_MAX_INFLIGHT 4096	/* kprobe entry -> kretprobe stash */

/* Counted per namespace and L4 protocol, in the kernel: no event per
 * connection crosses to userspace, so a table storm cannot lose any. */
struct vxc_key {
	__u32 netns;		/* net->ns.inum */
	__u8 proto;		/* IPPROTO_* of the original tuple */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vxc_key) == 8, "vxc_key layout");

struct vxc_counts {
	__u64 alloc;		/* __nf_conntrack_alloc() returned an entry */
	__u64 alloc_failed;	/* ... returned ERR_PTR: the table was full */
	__u64 confirmed;	/* __nf_conntrack_confirm() == NF_ACCEPT */
	__u64 insert_failed;	/* ... == NF_DROP: not inserted, packet dropped */
	__u64 destroyed;	/* a confirmed entry was freed */
};
_Static_assert(sizeof(struct vxc_counts) == 40, "vxc_counts layout");

struct vxc_config {
	__u8 scoped;		/* 1: count only the namespaces in vxc_scope */
	__u8 pad[7];
};
_Static_assert(sizeof(struct vxc_config) == 8, "vxc_config layout");

#endif
