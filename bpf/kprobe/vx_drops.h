/* SPDX-License-Identifier: GPL-2.0-only */
/* Records vx_drops.bpf.c sends to `vxray drops` (loader/views/view_drops.c).
 * Included by both sides, so only fixed-width types, widest first, with
 * the padding spelled out and the sizes pinned by _Static_assert. */
#ifndef VXRAY_VX_DROPS_H
#define VXRAY_VX_DROPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "vxray.h"
#include "vx_cap.h"

#define VXD_STACK_DEPTH 32
#define VXD_MAX_SCOPE 1024 /* (namespace, interface) pairs, else whole namespaces */
#define VXD_MAX_AGG 4096

/* Which program delivered the event (also what the loader autoloads). */
enum vxd_backend {
	VXD_BE_FENTRY = 1,
	VXD_BE_KPROBE = 2,
	VXD_BE_TP_BTF = 3,
	VXD_BE_TRACEPOINT = 4,
};

/* vxd_hdr.flags */
#define VXD_F_OUTER (1u << 0)  /* outer (or only) headers were parsed */
#define VXD_F_TUNNEL (1u << 1) /* VXLAN: vni and inner headers valid */
#define VXD_F_DECAP                                                                                \
	(1u << 2)	      /* tunnel headers found before mac_header:                           \
			       * the skb had already been decapsulated */
#define VXD_F_INNER (1u << 3) /* inner IP headers parsed */

/* One IP header plus ports: addresses are IPv4 in the first 4 bytes
 * (family 4) or a full IPv6 address (family 6), network byte order. */
struct vxd_ip {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* host byte order; 0 without ports */
	__u16 dport;
	__u8 family; /* 4, 6, or 0 when not IP */
	__u8 proto;  /* IPPROTO_* */
	__u8 pad[2];
};
_Static_assert(sizeof(struct vxd_ip) == 40, "vxd_ip layout");

/* One ring-buffer record; with cfg.snaplen set, a struct vx_cap and the
 * dropped packet's first bytes follow it (vx_cap.h). */
struct vxd_event {
	__u64 ts_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 location; /* kernel address that freed the skb */
	struct vxd_ip outer;
	struct vxd_ip inner;
	/* The identity the datapath gives the overlay packet (struct
	 * vx_pkt_id, vx_read_id): the inner headers of a tunnel packet, else
	 * the packet's own. family 0: not recognisable. */
	struct vx_pkt_id id;
	__u32 reason;  /* enum skb_drop_reason of the running kernel */
	__u32 netns;   /* net->ns.inum of skb->dev (else of skb->sk) */
	__u32 ifindex; /* skb->dev->ifindex, 0 without a device */
	__u32 len;     /* skb->len */
	__u32 vni;
	__s32 stack_id; /* into vxd_stacks, < 0 without --stack */
	__u16 protocol; /* skb->protocol, host byte order */
	__u8 flags;	/* VXD_F_* */
	__u8 backend;	/* enum vxd_backend */
	__u8 pad[4];
};
_Static_assert(sizeof(struct vxd_event) == 152, "vxd_event layout");

/* In-kernel scoping: a (netns, ifindex) pair, or (netns, 0) for every
 * device of that namespace. */
struct vxd_scope_key {
	__u32 netns;
	__u32 ifindex;
};
_Static_assert(sizeof(struct vxd_scope_key) == 8, "vxd_scope_key layout");

/* Exact per-interval aggregates, independent of ring-buffer overflow. */
struct vxd_agg_key {
	__u64 location;
	__u32 reason;
	__u32 netns;
};
_Static_assert(sizeof(struct vxd_agg_key) == 16, "vxd_agg_key layout");

struct vxd_config {
	__u32 consumed_reason; /* SKB_CONSUMED on this kernel, ~0 if none */
	__u32 only_reason;     /* with only_one: the one reason to report */
	__u16 vxlan_port;      /* UDP port that means VXLAN, host order */
	__u16 snaplen;	       /* --pcap: bytes of each dropped packet; 0: off */
	__u8 scoped;	       /* 1: only what vxd_scope lists */
	__u8 stack;	       /* 1: record a stack id per event */
	__u8 only_one;	       /* 1: drop every reason but only_reason */
	__u8 count_only;       /* 1: vxd_agg only, no event per drop */
};
_Static_assert(sizeof(struct vxd_config) == 16, "vxd_config layout");

#endif
