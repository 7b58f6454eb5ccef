/* SPDX-License-Identifier: GPL-2.0-only */
/* Exact shared counters in a hash map (BPF_MAP_TYPE_HASH, __u64 values),
 * as the drop and netfilter aggregates promise. A key's first event may
 * arrive on two CPUs at once: both miss the lookup, both insert with
 * BPF_NOEXIST, and the loser's insert fails with -EEXIST. Dropping that
 * count would make the aggregate one short; the loser adds to the entry
 * the winner created instead. (Per-CPU maps need none of this: each CPU
 * owns its slot.) */
#ifndef VXRAY_AGG_BPF_H
#define VXRAY_AGG_BPF_H

#include <bpf/bpf_helpers.h>

/* Add @delta to the counter at @key in @map, creating it at @delta.
 * Returns 0, or the negative errno of the insert when the key is not
 * there and cannot be created (the map is full). */
static __always_inline long vx_agg_add(void *map, const void *key, __u64 delta)
{
	__u64 *cnt = bpf_map_lookup_elem(map, key);
	long err;

	if (cnt) {
		__sync_fetch_and_add(cnt, delta);
		return 0;
	}
	err = bpf_map_update_elem(map, key, &delta, BPF_NOEXIST);
	if (!err)
		return 0;
	/* -EEXIST: another CPU created the key since the lookup. */
	cnt = bpf_map_lookup_elem(map, key);
	if (!cnt)
		return err;
	__sync_fetch_and_add(cnt, delta);
	return 0;
}

/* The value at @key in hash map @map, created as @zero when it is not
 * there: for values larger than one counter (totals with a maximum,
 * histograms). Another CPU may create the key between the lookup and the
 * insert: ours then fails and the second lookup finds theirs. NULL: the
 * map is full. */
static __always_inline void *vx_lookup_or_init(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
