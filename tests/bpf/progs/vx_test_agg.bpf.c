// SPDX-License-Identifier: GPL-2.0-only
/* Test-only (tests/bpf/test_agg.c): vx_agg_add() over a series of keys,
 * run on two CPUs at once through BPF_PROG_TEST_RUN. A raw_tp program
 * because that type runs on a chosen CPU (BPF_F_TEST_RUN_ON_CPU) and takes
 * its arguments from ctx_in: args[0] is the first key, args[1] how many. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vx_agg.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define VXT_KEYS_MAX 1024

/* Sized like the real aggregates' maps are not: the test needs room for
 * every key of every round (ROUNDS * KEYS in test_agg.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, __u64);
	__type(value, __u64);
} vxt_agg SEC(".maps");

/* Adds vx_agg_add() refused (map full): the test expects none. */
__u64 vxt_refused;

SEC("raw_tp")
int vxt_agg_series(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 base = ctx->args[0], n = ctx->args[1];

	for (__u32 i = 0; i < VXT_KEYS_MAX && i < n; i++) {
		__u64 key = base + i;

		if (vx_agg_add(&vxt_agg, &key, 1))
			__sync_fetch_and_add(&vxt_refused, 1);
	}
	return 0;
}
