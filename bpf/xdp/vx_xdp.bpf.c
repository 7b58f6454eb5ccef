// SPDX-License-Identifier: GPL-2.0-only
/* XDP on the underlay: the earliest software timestamp of an arriving
 * tunnel packet. Always XDP_PASS. */
/* UAPI structures (xdp_md), whose layout is ABI, are read as they are;
 * the kernel's own (xdp_buff, net_device) only through the CO-RE reads of
 * VX_DEV_NETNS. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "vxray.h"

/* XDP cannot read a tunnel key: it runs before an skb, let alone tunnel
 * metadata, exists. It needs none either, since it is attached to
 * underlays only, where the VNI is in the VXLAN header; were it ever on a
 * VXLAN device, its VNI would be unknown, never a guess. */
#define VX_XDP_NO_TUNNEL_KEY(ctx, out, vni, remote) (*(vni) = VX_VNI_UNKNOWN, (__u8)0)

/* The namespace inode of the receiving device: the context is the
 * kernel's xdp_buff, whose rxq names the device, read from kernel memory
 * (bpf_probe_read_kernel, which XDP programs get with CAP_PERFMON). 0 when
 * a read fails. */
static __always_inline __u32 vx_xdp_dev_netns(struct xdp_md *ctx)
{
	struct xdp_rxq_info *rxq = NULL;

	if (bpf_probe_read_kernel(&rxq, sizeof(rxq),
				  __builtin_preserve_access_index(&((struct xdp_buff *)ctx)->rxq)))
		return 0;
	return BPF_CORE_READ(rxq, dev, nd_net.net, ns.inum);
}

#define VX_CTX struct xdp_md
#define VX_DEV_NETNS vx_xdp_dev_netns
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
