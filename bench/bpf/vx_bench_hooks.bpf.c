// SPDX-License-Identifier: GPL-2.0-only
/* Baselines for bench/ section 5: empty programs on the hooks vxray's
 * kernel-side views use, attached beside them so that the kernel's own
 * run_time_ns / run_cnt statistics give the per-call floor of each hook. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/kfree_skb")
int BPF_PROG(vxb_kfree_skb)
{
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(vxb_net_dev_xmit)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(vxb_tcp_retrans)
{
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(vxb_net_dev_start)
{
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(vxb_tcp_probe)
{
	return 0;
}
