// SPDX-License-Identifier: GPL-2.0-only
/* One tiny program per hook kind. `vxray doctor` (loader/hookprobe.c)
 * loads and attaches each on its own to learn what this kernel allows;
 * none of them does anything, so a successful probe costs nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} hp_rb SEC(".maps");

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

SEC("xdp")
int hp_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int hp_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/* Loaded with expected attach type BPF_TCX_INGRESS by the prober. */
SEC("tc")
int hp_tcx(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
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
