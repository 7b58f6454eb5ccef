// SPDX-License-Identifier: GPL-2.0-only
/* Trial programs of XDP type (loader/engines/hookprobe.c): one that attaches in
 * native and generic mode and returns XDP_PASS, and one, run through
 * BPF_PROG_TEST_RUN, that proves a ring buffer delivers what a program
 * submits. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} hp_rb SEC(".maps");

SEC("xdp")
int hp_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int hp_ringbuf(struct xdp_md *ctx)
{
	__u64 *v = bpf_ringbuf_reserve(&hp_rb, sizeof(*v), 0);

	if (v) {
		*v = 0x7678726179ULL; /* "vxray" */
		bpf_ringbuf_submit(v, 0);
	}
	return XDP_PASS;
}
