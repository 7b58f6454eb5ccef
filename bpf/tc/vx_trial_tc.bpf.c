// SPDX-License-Identifier: GPL-2.0-only
/* Trial programs of tc type (loader/engines/hookprobe.c): one for a clsact qdisc's
 * cls_bpf filter, one for a TCX link. Both return TC_ACT_UNSPEC, so a
 * trial never changes a packet's fate. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

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
