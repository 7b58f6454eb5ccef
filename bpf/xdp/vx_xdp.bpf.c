// SPDX-License-Identifier: GPL-2.0-only
/* XDP on the underlay: the earliest software timestamp of an arriving
 * tunnel packet. Always XDP_PASS. */
/* Only UAPI structures (__sk_buff, xdp_md, bpf_tunnel_key), whose layout
 * is ABI: no CO-RE relocations, so libbpf does not parse the kernel's BTF
 * (megabytes) again for each namespace's copy of this object. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vxray.h"

/* XDP cannot read a tunnel key: it runs before an skb, let alone tunnel
 * metadata, exists. It needs none either, since it is attached to
 * underlays only, where the VNI is in the VXLAN header; were it ever on a
 * VXLAN device, its VNI would be unknown, never a guess. */
#define VX_XDP_NO_TUNNEL_KEY(ctx, out, vni, remote) (*(vni) = VX_VNI_UNKNOWN, (__u8)0)

#define VX_CTX struct xdp_md
#define VX_LOAD_BYTES bpf_xdp_load_bytes
#define VX_TUNNEL_KEY VX_XDP_NO_TUNNEL_KEY
#include "vx_datapath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int vx_xdp_ul_in(struct xdp_md *ctx)
{
	vx_handle(ctx, (__u32)(ctx->data_end - ctx->data), ctx->ingress_ifindex, VX_AT_XDP_UL_IN,
		  1);
	return XDP_PASS;
}
