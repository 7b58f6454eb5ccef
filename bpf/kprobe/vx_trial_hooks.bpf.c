// SPDX-License-Identifier: GPL-2.0-only
/* Trial programs for the kernel-hook kinds: one tiny program per kind.
 * `vxray doctor` (loader/engines/hookprobe.c) loads and attaches each on its own,
 * at its default target here or retargeted at a view's own functions and
 * tracepoints, to learn what this kernel allows; none of them does
 * anything, so a successful trial costs nothing. The XDP and tc trials
 * live with their hook kinds: bpf/xdp/vx_trial_xdp.bpf.c,
 * bpf/tc/vx_trial_tc.bpf.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* tcp_v4_rcv exists, unchanged in name, on every kernel vxray targets
 * (6.1 .. 6.18) and is never inlined: a stable target for both kinds. */
SEC("fentry/tcp_v4_rcv")
int hp_fentry(void *ctx)
{
	return 0;
}

SEC("kprobe/tcp_v4_rcv")
int hp_kprobe(void *ctx)
{
	return 0;
}

SEC("tp_btf/kfree_skb")
int hp_tp_btf(void *ctx)
{
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int hp_tracepoint(void *ctx)
{
	return 0;
}
