// SPDX-License-Identifier: GPL-2.0-only
/* tc programs on the underlay and VXLAN devices. One program per hook so
 * that the hook is a constant, not a per-attachment lookup. Every one
 * returns TC_ACT_UNSPEC: the verdict is someone else's, and the next
 * program in the chain still runs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define VX_CTX struct __sk_buff
#define VX_LOAD_BYTES bpf_skb_load_bytes
#include "vx_datapath.bpf.h"

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

#define VX_TC_PROG(name, at)                                                                       \
	SEC("tc")                                                                                  \
	int name(struct __sk_buff *skb)                                                            \
	{                                                                                          \
		vx_handle(skb, skb->len, skb->ifindex, at, skb->gso_segs);                         \
		return TC_ACT_UNSPEC;                                                              \
	}

VX_TC_PROG(vx_tc_ul_in, VX_AT_TC_UL_IN)
VX_TC_PROG(vx_tc_ul_out, VX_AT_TC_UL_OUT)
VX_TC_PROG(vx_tc_vx_in, VX_AT_TC_VX_IN)
VX_TC_PROG(vx_tc_vx_out, VX_AT_TC_VX_OUT)
