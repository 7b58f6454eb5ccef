// SPDX-License-Identifier: GPL-2.0-only
/* The lab's fault injector for scenario 9 (lab/vxray-lab), NOT
 * instrumentation: vxray never loads it, and unlike every other program
 * under bpf/ it changes packets. The lab attaches it with `tc` on P-a's
 * underlay egress, where it makes the outer UDP checksum of every IPv4
 * VXLAN packet wrong, as a broken TX checksum offload does, so that P-b's
 * kernel drops the packet (SKB_DROP_REASON_UDP_CSUM, Udp InCsumErrors):
 * it checks a non-zero UDP checksum (udp_queue_rcv_one_skb, before the
 * VXLAN socket's encap_rcv) unless the packet arrives still promising a
 * checksum yet to be done (CHECKSUM_PARTIAL), which is why the lab turns
 * P-a's underlay TX checksumming off: the kernel then finishes it in
 * software after this program ran, from the value left here.
 *
 * What is left in the field:
 *   - a checksum or the seed of one (the pseudo-header sum a driver leaves
 *     for the NIC or the software fallback to finish): its lowest bit
 *     flipped, so the checksum that comes of it is off by one;
 *   - no checksum (0, a VXLAN with `noudpcsum`): the pseudo-header sum, the
 *     value a NIC that never finished the job would send.
 *
 * The frame's fate is otherwise unchanged: TC_ACT_UNSPEC, the next filter
 * (or none) decides. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vx_parse.h"

#define TC_ACT_UNSPEC (-1)
/* The kernel's first VXLAN port, still flannel's: broken there too. */
#define VX_LAB_LINUX_VXLAN_PORT 8472

char LICENSE[] SEC("license") = "GPL";

/* The pseudo-header sum (source, destination, protocol, UDP length),
 * folded and not complemented: what udp_set_csum() leaves in the field
 * for a NIC to finish. It checks out only by a 1-in-65535 coincidence
 * (twice that sum plus the datagram's own bytes folding to 0xffff). */
static __always_inline __u16 pseudo_sum(const struct vx_ip4hdr *ip, const struct vx_udphdr *udp)
{
	__u32 s = (ip->saddr >> 16) + (ip->saddr & 0xffff) + (ip->daddr >> 16) +
		  (ip->daddr & 0xffff) + bpf_htons(VX_IPPROTO_UDP) + udp->len;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

SEC("tc")
int vx_lab_csum(struct __sk_buff *skb)
{
	struct vx_cursor c = { .pos = (void *)(long)skb->data, .end = (void *)(long)skb->data_end };
	struct vx_ethhdr *eth = c.pos;
	struct vx_ip4hdr *ip;
	struct vx_udphdr *udp;
	__u32 hlen, off;
	__u16 bad;

	if ((void *)(eth + 1) > c.end || eth->proto != bpf_htons(VX_ETH_P_IP))
		return TC_ACT_UNSPEC;
	ip = c.pos + sizeof(*eth);
	if ((void *)(ip + 1) > c.end || (ip->ver_ihl >> 4) != 4)
		return TC_ACT_UNSPEC;
	hlen = (ip->ver_ihl & 0x0f) * 4;
	/* A fragment's UDP header is in the first one only; leave them all. */
	if (hlen < sizeof(*ip) || ip->protocol != VX_IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return TC_ACT_UNSPEC;
	udp = (void *)ip + hlen;
	if ((void *)(udp + 1) > c.end)
		return TC_ACT_UNSPEC;
	if (udp->dest != bpf_htons(VX_VXLAN_PORT) &&
	    udp->dest != bpf_htons(VX_LAB_LINUX_VXLAN_PORT))
		return TC_ACT_UNSPEC;
	bad = udp->check ? udp->check ^ bpf_htons(1) : pseudo_sum(ip, udp);
	if (!bad) /* 0 would say "no checksum" */
		bad = bpf_htons(2);
	off = sizeof(*eth) + hlen + __builtin_offsetof(struct vx_udphdr, check);
	bpf_skb_store_bytes(skb, off, &bad, sizeof(bad), 0);
	return TC_ACT_UNSPEC;
}
