/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between bpf/kprobe/vx_retrans.bpf.c and loader/views/view_retrans.c. */
#ifndef VX_RETRANS_H
#define VX_RETRANS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VXR_MAX_NETNS 16

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
	__u32 pad;
};

#endif
