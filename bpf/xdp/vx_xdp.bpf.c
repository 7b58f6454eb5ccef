// SPDX-License-Identifier: GPL-2.0-only
/* XDP on the underlay: the earliest software timestamp of an arriving
 * tunnel packet. Always XDP_PASS. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define VX_CTX struct xdp_md
#define VX_LOAD_BYTES bpf_xdp_load_bytes
#include "vx_datapath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int vx_xdp_ul_in(struct xdp_md *ctx)
{
	vx_handle(ctx, (__u32)(ctx->data_end - ctx->data), ctx->ingress_ifindex, VX_AT_XDP_UL_IN,
		  1);
	return XDP_PASS;
}
