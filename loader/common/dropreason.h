/* SPDX-License-Identifier: GPL-2.0-only */
/* What the kernel means by each drop reason a VXLAN packet can meet,
 * written once for `drops`, `trace` and `diagnose`. Names are the
 * kernel's (enum skb_drop_reason, include/net/dropreason-core.h) without
 * the SKB_DROP_REASON_ prefix; their numbers change between kernels and
 * come from the running kernel's BTF (btfnames.c), never from here. The
 * table also holds names only some kernels have (VXLAN_NO_REMOTE became
 * NO_TX_TARGET in 6.14): a lookup by name finds either. */
#ifndef VXRAY_DROPREASON_H
#define VXRAY_DROPREASON_H

#include <stddef.h>
#include <stdint.h>

/* What a reason says about a tunnel (struct vx_drop_reason_info.flags). */
#define VX_DR_DECAP (1u << 0) /* a VXLAN packet reached its receiver and was refused */
#define VX_DR_ENCAP (1u << 1) /* the sender could not encapsulate or send it */
#define VX_DR_NEIGH (1u << 2) /* a neighbour (ARP/ND) did not resolve */
/* A tunnel fault only when the dropped packet is an outer (underlay)
 * VXLAN packet: NO_SOCKET of any other UDP datagram is no tunnel's. */
#define VX_DR_OUTER (1u << 3)
#define VX_DR_MTU (1u << 4)    /* too big for the path, or its fragments lost */
#define VX_DR_POLICY (1u << 5) /* a rule or program the operator installed */
/* Not a fault: the VXLAN driver discarding its own echo. */
#define VX_DR_BENIGN (1u << 6)

struct vx_drop_reason_info {
	const char *name;    /* "TUNNEL_TXINFO" */
	const char *meaning; /* what the kernel means by it, one phrase */
	const char *kernels; /* where it exists: "6.10+", "6.10-6.13", "" for every one */
	uint32_t flags;	     /* VX_DR_* */
};

/* The entry for @name, with or without the SKB_DROP_REASON_ prefix; NULL
 * when the table does not hold it. */
const struct vx_drop_reason_info *vx_drop_reason_info(const char *name);
/* Its meaning, NULL when the table does not hold it. */
const char *vx_drop_reason_meaning(const char *name);
/* Whether the table gives @name every flag in @flags. */
int vx_drop_reason_is(const char *name, uint32_t flags);
/* The whole table, *@n entries. */
const struct vx_drop_reason_info *vx_drop_reason_table(int *n);

/* Reason number @reason of the running kernel, explained in @buf:
 * "TUNNEL_TXINFO: a packet was sent on ...", or for a reason the table
 * does not hold "reason 130 (SKB_DROP_REASON_FOO)", with its number and
 * its BTF name (or "reason 130 (not named by this kernel's BTF)"). */
const char *vx_drop_reason_explain(uint32_t reason, char *buf, size_t len);

#endif
