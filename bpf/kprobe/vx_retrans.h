/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between bpf/kprobe/vx_retrans.bpf.c and loader/views/view_retrans.c. */
#ifndef VX_RETRANS_H
#define VX_RETRANS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VXR_MAX_NETNS 16
/* Counting mode: (namespace, destination, VNI, size) keys the kernel keeps. */
#define VXR_COUNT_KEYS 8192

enum vxr_kind {
	VXR_RETRANS = 1, /* tcp_retransmit_skb */
	VXR_SYNACK = 2,	 /* tcp_retransmit_synack */
};

struct vxr_event {
	__u64 ts_ns;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 netns; /* inode of the socket's namespace */
	__u32 len;   /* retransmitted payload bytes (0 for SYNACK) */
	__u32 mss;   /* the connection's current MSS */
	__u32 pmtu;  /* the path MTU TCP believes in */
	__u16 sport; /* host order */
	__u16 dport;
	__u16 family;
	__u8 state; /* TCP_* */
	__u8 kind;  /* enum vxr_kind */
};
_Static_assert(sizeof(struct vxr_event) == 64, "vxr_event layout");

struct vxr_config {
	__u32 netns[VXR_MAX_NETNS]; /* watch these; n_netns 0: every namespace */
	__u32 n_netns;
	__u8 count; /* count into vxr_count, no event per retransmit */
	__u8 pad[3];
};

/* Counting mode (the node agent): a retransmit is one increment in the
 * kernel, keyed by where userspace will put it -- the namespace, the
 * destination the route fallback asks about, and the VNI the datapath's
 * flow table learned for the flow (known 0: not learned). */
enum vxr_size {
	VXR_SZ_FULL = 0, /* a segment of at least one MSS */
	VXR_SZ_SMALL = 1,
	VXR_SZ_SYNACK = 2,
};

struct vxr_count_key {
	__u8 daddr[16]; /* inner destination; IPv4 in the first 4 bytes */
	__u32 netns;
	__u32 vni;    /* from the flow table when known */
	__u16 family; /* AF_INET or AF_INET6 */
	__u8 known;   /* the flow table had the flow */
	__u8 size;    /* enum vxr_size */
};
_Static_assert(sizeof(struct vxr_count_key) == 28, "vxr_count_key layout");

struct vxr_count_val {
	__u64 n;       /* cumulative; added atomically */
	__u32 max_len; /* the largest retransmitted payload */
	__u32 pad;
};
_Static_assert(sizeof(struct vxr_count_val) == 16, "vxr_count_val layout");

#endif
