// SPDX-License-Identifier: GPL-2.0-only
/* tc programs on the underlay and VXLAN devices. One program per hook so
 * that the hook is a constant, not a per-attachment lookup. Every one
 * returns TC_ACT_UNSPEC: the verdict is someone else's, and the next
 * program in the chain still runs. */
/* UAPI structures (__sk_buff, bpf_tunnel_key), whose layout is ABI, are
 * read as they are; the kernel's own (sk_buff, net_device) only through
 * the CO-RE reads of VX_DEV_NETNS. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vxray.h"

/* The tunnel key of a packet on an external (collect_md) VXLAN device:
 * what an lwtunnel route (`encap ip id N dst R`), a BPF program
 * (bpf_skb_set_tunnel_key: Cilium) or OVS set for it leaving, what
 * vxlan_rcv read from the outer headers arriving. The helper names the
 * fields for the receive side: remote_* is the key's source, local_* its
 * destination, so leaving the far end is local_*. IPv4 first; an IPv6 key
 * refuses that with -EPROTO and is read again with BPF_F_TUNINFO_IPV6.
 * Returns the remote's family, or 0 with *vni VX_VNI_UNKNOWN when the skb
 * has no tunnel metadata (the kernel's own neighbour discovery on the
 * device, which it then drops as TUNNEL_TXINFO). */
static __always_inline __u8 vx_tc_tunnel_key(struct __sk_buff *skb, bool out, __u32 *vni,
					     __u8 *remote)
{
	struct bpf_tunnel_key k;
	__u32 a4;

	if (!bpf_skb_get_tunnel_key(skb, &k, sizeof(k), 0)) {
		*vni = k.tunnel_id & VX_DEV_VNI_MASK;
		a4 = bpf_htonl(out ? k.local_ipv4 : k.remote_ipv4);
		__builtin_memcpy(remote, &a4, 4);
		return 4;
	}
	if (!bpf_skb_get_tunnel_key(skb, &k, sizeof(k), BPF_F_TUNINFO_IPV6)) {
		*vni = k.tunnel_id & VX_DEV_VNI_MASK;
		__builtin_memcpy(remote, out ? k.local_ipv6 : k.remote_ipv6, 16);
		return 6;
	}
	*vni = VX_VNI_UNKNOWN;
	return 0;
}

/* The kernel's own sk_buff behind @skb (6.2+), which the verifier turns
 * into a register move: its fields are then plain loads. Weak: absent on
 * older kernels, where vx_kern_ctx stays 0 and the verifier removes the
 * branch that calls it. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* Set by the loader where the kernel has bpf_cast_to_kern_ctx
 * (vx_dp_kern_ctx()). */
const volatile __u8 vx_kern_ctx = 0;

/* The namespace inode of the packet's device, read from the kernel's
 * sk_buff: three plain loads where vx_kern_ctx allows them, else three
 * bpf_probe_read_kernel calls (which tc programs get with CAP_PERFMON),
 * some 25 ns a packet more. 0 when a read fails. */
static __always_inline __u32 vx_tc_dev_netns(struct __sk_buff *skb)
{
	struct net_device *dev = NULL;
	struct sk_buff *kskb;
	struct net *net;

	if (vx_kern_ctx) {
		kskb = bpf_cast_to_kern_ctx(skb);
		dev = __builtin_preserve_access_index(kskb->dev);
		net = __builtin_preserve_access_index(dev->nd_net.net);
		return __builtin_preserve_access_index(net->ns.inum);
	}
	if (bpf_probe_read_kernel(&dev, sizeof(dev),
				  __builtin_preserve_access_index(&((struct sk_buff *)skb)->dev)))
		return 0;
	return BPF_CORE_READ(dev, nd_net.net, ns.inum);
}

#define VX_CTX struct __sk_buff
#define VX_DEV_NETNS vx_tc_dev_netns
#define VX_LOAD_BYTES bpf_skb_load_bytes
#define VX_TUNNEL_KEY vx_tc_tunnel_key
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
