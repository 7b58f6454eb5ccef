/* SPDX-License-Identifier: GPL-2.0-only */
/* `vxray trace` follows a packet by its identity (struct vx_pkt_id: the
 * one the latency join uses): its first sighting at a datapath hook gets a
 * number, and every later line with that identity -- a datapath hook, a
 * drop, a netfilter verdict, vxlan_xmit/rcv, delivery -- finds it here.
 * A drop whose skb gives no identity is joined to the latest packet of
 * its flow. Pure: a table of the last VX_FOLLOW_PKTS packets. */
#ifndef VXRAY_FOLLOW_H
#define VXRAY_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "dropsrc.h"
#include "traceline.h"
#include "vxray.h"

#define VX_FOLLOW_PKTS 4096 /* packets followed at once (a ring) */
#define VX_FOLLOW_JOIN_NS 1000000000ull

/* A packet being followed. */
struct vx_fpkt {
	struct vx_pkt_id id;
	struct vxd_ip flow; /* for joining drops without an identity */
	uint64_t first_ts, last_ts;
	uint32_t num;
	char first_hook[24];
};

struct vx_follow {
	struct vx_fpkt pkts[VX_FOLLOW_PKTS];
	uint32_t next_num; /* the last number given; the first is 1 */
};

/* The packet of datapath event @e (*@is_new: first seen now). */
struct vx_fpkt *vx_follow(struct vx_follow *t, const struct vx_event *e, bool *is_new);
/* The followed packet with exactly this identity, seen within a second
 * of @ts; NULL when there is none. */
struct vx_fpkt *vx_follow_find(struct vx_follow *t, const struct vx_pkt_id *id, uint64_t ts);
/* The followed packet drop @d belongs to, and how it was joined; NULL
 * (*@how VX_JOIN_NONE) when there is none. */
struct vx_fpkt *vx_follow_join_drop(struct vx_follow *t, const struct vxd_event *d,
				    enum vx_join *how);

#endif
