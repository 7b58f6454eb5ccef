// SPDX-License-Identifier: GPL-2.0-only
/* The baseline for bench/: an XDP program that does nothing, compared
 * with vx_xdp_ul_in in the same BPF_PROG_TEST_RUN run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int vxb_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The timestamp alone, as in vx_bench_tc.bpf.c. */
SEC("xdp")
int vxb_xdp_ktime(struct xdp_md *ctx)
{
	volatile __u64 ts = bpf_ktime_get_ns();

	(void)ts;
	return XDP_PASS;
}
