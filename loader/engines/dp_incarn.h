/* SPDX-License-Identifier: GPL-2.0-only */
/* Tunnel totals per namespace incarnation. The datapath's per-tunnel map
 * is keyed by namespace inode, and the kernel gives a new namespace the
 * inode of one that ended (its proc inode number is freed and reused): a
 * namespace deleted and created again would add to the totals of the old
 * one. So when vxray sees a namespace end (datapath engine: its name
 * deleted, or no process or mount holding it any more), each of its keys'
 * totals becomes that key's baseline, and what readers get afterwards is
 * the total above it: the new incarnation's own. The ended incarnation's
 * totals (above its own baseline) are kept as retired rows until a view
 * takes them, so that its last summary can show them once, marked gone.
 * Pure: no maps, no I/O; the engine feeds it what it read. */
#ifndef VXRAY_DP_INCARN_H
#define VXRAY_DP_INCARN_H

#include <stdbool.h>
#include <stdint.h>

#include "vxray.h"

/* The totals of one tunnel key of an incarnation that ended. */
struct vx_dp_retired {
	struct vx_tun_key k;
	struct vx_tun_val v;
	const char *netns; /* its label when it ended (names.h: stays valid) */
};

/* Retired rows kept for a view at most; older ones are dropped first. */
#define VX_INCARN_MAX_RETIRED 4096

struct vx_incarn_base {
	struct vx_tun_key k;
	struct vx_tun_val v;
};

struct vx_incarn {
	struct vx_incarn_base *base; /* sorted by key */
	int n_base, cap_base;
	struct vx_dp_retired *ret;
	int n_ret, cap_ret;
	uint64_t dropped; /* retired rows dropped for room */
};

/* Key @k (of the incarnation that just ended) had totals @tot: they become
 * its baseline, and, with @keep, what it counted since the last baseline a
 * retired row labelled @label. 0 or -ENOMEM. */
int vx_incarn_end(struct vx_incarn *c, const struct vx_tun_key *k, const struct vx_tun_val *tot,
		  const char *label, bool keep);
/* The current incarnation's part of @tot for @k, in place: @tot minus the
 * key's baseline, or all of @tot when it is below the baseline (the LRU
 * entry was evicted and made again). false when nothing is left: the key
 * counted only for incarnations that ended. */
bool vx_incarn_current(const struct vx_incarn *c, const struct vx_tun_key *k,
		       struct vx_tun_val *tot);
/* Move up to @max retired rows, oldest first, into @out; returns how many. */
int vx_incarn_take(struct vx_incarn *c, struct vx_dp_retired *out, int max);
void vx_incarn_free(struct vx_incarn *c);

#endif
