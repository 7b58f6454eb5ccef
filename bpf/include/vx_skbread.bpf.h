/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading an skb's headers from kernel memory (bpf_probe_read_kernel: a
 * hooked function's skb has no packet pointers) into the vxd_event layout:
 * outer IP and ports, a VXLAN header and the overlay frame behind it, or
 * the outer headers still in front of mac_header after decapsulation.
 * Shared by the drop probe (vx_drops.bpf.c) and the netfilter verdict
 * probe (vx_nfhook.bpf.c); vx_read_id() alone also by vx_xmit.bpf.c.
 * Include after vmlinux.h (and vx_drops.h for parse_skb). */
#ifndef VXRAY_VX_SKBREAD_BPF_H
#define VXRAY_VX_SKBREAD_BPF_H

#include "vx_parse.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_HLEN 14
#define VXLAN_HLEN 8
#define UDP_HLEN 8
#define HDR_UNSET ((__u16)~0U)
#define IP6_EXT_MAX 4
#define IPPROTO_ICMPV6 58

/* Parse one IPv4/IPv6 header at @p (kernel memory, read with
 * bpf_probe_read_kernel since a freed skb has no packet pointers).
 * Returns the L4 header's address, or NULL when there is none to read. */
static __always_inline const unsigned char *parse_ip(const unsigned char *p, struct vxd_ip *ip)
{
	const unsigned char *l4;
	__u8 first;
	__u8 proto;

	if (bpf_probe_read_kernel(&first, 1, p))
		return NULL;
	if ((first >> 4) == 4) {
		struct iphdr h;

		if (bpf_probe_read_kernel(&h, sizeof(h), p) || h.ihl < 5)
			return NULL;
		ip->family = 4;
		ip->proto = h.protocol;
		__builtin_memcpy(ip->saddr, &h.saddr, 4);
		__builtin_memcpy(ip->daddr, &h.daddr, 4);
		/* Only the first fragment carries the L4 header. */
		if (h.frag_off & bpf_htons(0x1fff))
			return NULL;
		return p + h.ihl * 4;
	}
	if ((first >> 4) == 6) {
		struct ipv6hdr h;

		if (bpf_probe_read_kernel(&h, sizeof(h), p))
			return NULL;
		ip->family = 6;
		__builtin_memcpy(ip->saddr, &h.saddr, 16);
		__builtin_memcpy(ip->daddr, &h.daddr, 16);
		proto = h.nexthdr;
		l4 = p + sizeof(h);
		/* Bounded walk over the extension headers that only pad the
		 * way to L4 (hop-by-hop, routing, destination options). */
#pragma unroll
		for (int i = 0; i < IP6_EXT_MAX; i++) {
			__u8 ext[2];

			if (proto != 0 && proto != 43 && proto != 60)
				break;
			if (bpf_probe_read_kernel(ext, sizeof(ext), l4))
				return NULL;
			proto = ext[0];
			l4 += (ext[1] + 1) * 8;
		}
		ip->proto = proto;
		return l4;
	}
	return NULL;
}

static __always_inline void parse_ports(const unsigned char *l4, struct vxd_ip *ip)
{
	__be16 ports[2];

	if (!l4)
		return;
	switch (ip->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (bpf_probe_read_kernel(ports, sizeof(ports), l4))
			return;
		ip->sport = bpf_ntohs(ports[0]);
		ip->dport = bpf_ntohs(ports[1]);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* type and code, so an echo request can be told from an error */
		__u8 tc[2];

		if (bpf_probe_read_kernel(tc, sizeof(tc), l4))
			return;
		ip->sport = tc[0];
		ip->dport = tc[1];
		break;
	}
	}
}

/* The identity (struct vx_pkt_id) the datapath gives the IP packet whose
 * header is at @l3, read from kernel memory: the walk of vx_parse_ip4,
 * vx_parse_ip6 and vx_parse_l4 (IPv4 options, the same IPv6 extension
 * headers and bound, no L4 header in a non-first fragment, ICMP only in
 * IPv4 and ICMPv6 only in IPv6), its fields handed to vx_id_make() as
 * vx_fill_id() hands the parser's. @id must be zeroed; it stays so (family
 * 0: not recognisable) when the headers cannot be read. */
static __always_inline void vx_read_id(const unsigned char *l3, struct vx_pkt_id *id)
{
	__u16 ip_id = 0, sport = 0, dport = 0, icmp_id = 0, icmp_seq = 0;
	__u8 src[16] = {}, dst[16] = {}, family, proto = 0, first;
	const unsigned char *l4 = NULL;
	__u32 seq = 0;

	if (!l3)
		return;
	/* The common case in one read instead of three: IPv4 without options,
	 * not a later fragment, and the first 8 bytes of TCP or UDP. The
	 * general path below reads the same bytes (and no more carefully:
	 * neither checks the skb's tail) when this read or a test fails. */
	{
		struct {
			struct iphdr ip;
			__be16 s, d;
			__be32 seq;
		} f;

		if (!bpf_probe_read_kernel(&f, sizeof(f), l3) && f.ip.version == 4 &&
		    f.ip.ihl == 5 && !(f.ip.frag_off & bpf_htons(0x1fff)) &&
		    (f.ip.protocol == VX_IPPROTO_TCP || f.ip.protocol == VX_IPPROTO_UDP)) {
			vx_id_make(id, 4, f.ip.protocol, (const __u8 *)&f.ip.saddr,
				   (const __u8 *)&f.ip.daddr, bpf_ntohs(f.ip.id), bpf_ntohs(f.s),
				   bpf_ntohs(f.d),
				   f.ip.protocol == VX_IPPROTO_TCP ? bpf_ntohl(f.seq) : 0, 0, 0);
			return;
		}
	}
	if (bpf_probe_read_kernel(&first, 1, l3))
		return;
	if ((first >> 4) == 4) {
		struct iphdr h;

		if (bpf_probe_read_kernel(&h, sizeof(h), l3) || h.ihl < 5)
			return;
		family = 4;
		__builtin_memcpy(src, &h.saddr, 4);
		__builtin_memcpy(dst, &h.daddr, 4);
		ip_id = bpf_ntohs(h.id);
		if (!(h.frag_off & bpf_htons(0x1fff))) {
			proto = h.protocol;
			l4 = l3 + h.ihl * 4;
		}
	} else if ((first >> 4) == 6) {
		struct ipv6hdr h;
		const unsigned char *p = l3 + sizeof(h);
		__u8 next;

		if (bpf_probe_read_kernel(&h, sizeof(h), l3))
			return;
		family = 6;
		__builtin_memcpy(src, &h.saddr, 16);
		__builtin_memcpy(dst, &h.daddr, 16);
		next = h.nexthdr;
#pragma unroll
		for (int i = 0; i < VX_IPV6_EXT_MAX; i++) {
			__u8 ext[4];

			if (next != VX_IPPROTO_HOPOPTS && next != VX_IPPROTO_ROUTING &&
			    next != VX_IPPROTO_DSTOPTS && next != VX_IPPROTO_FRAGMENT &&
			    next != VX_IPPROTO_AH)
				break;
			if (bpf_probe_read_kernel(ext, sizeof(ext), p))
				return;
			if (next == VX_IPPROTO_FRAGMENT && ((ext[2] << 8 | ext[3]) & 0xfff8)) {
				next = 0; /* a later fragment: no L4 header */
				p = NULL;
				break;
			}
			p += next == VX_IPPROTO_FRAGMENT ? 8 :
			     next == VX_IPPROTO_AH	 ? ((__u32)ext[1] + 2) * 4 :
							   ((__u32)ext[1] + 1) * 8;
			next = ext[0];
		}
		/* The datapath gives up on a longer chain: so does this. */
		if (p && (next == VX_IPPROTO_HOPOPTS || next == VX_IPPROTO_ROUTING ||
			  next == VX_IPPROTO_DSTOPTS || next == VX_IPPROTO_FRAGMENT ||
			  next == VX_IPPROTO_AH))
			return;
		proto = next;
		l4 = p;
	} else {
		return;
	}
	if (l4 && (proto == VX_IPPROTO_TCP || proto == VX_IPPROTO_UDP)) {
		/* UDP's length and checksum stand where TCP's seq is. */
		struct {
			__be16 s, d;
			__be32 seq;
		} t;

		if (bpf_probe_read_kernel(&t, sizeof(t), l4))
			return;
		sport = bpf_ntohs(t.s);
		dport = bpf_ntohs(t.d);
		if (proto == VX_IPPROTO_TCP)
			seq = bpf_ntohl(t.seq);
	} else if (l4 && ((proto == VX_IPPROTO_ICMP && family == 4) ||
			  (proto == VX_IPPROTO_ICMPV6 && family == 6))) {
		struct {
			__u8 type, code;
			__be16 check, id, seq;
		} ic;

		if (bpf_probe_read_kernel(&ic, sizeof(ic), l4))
			return;
		icmp_id = bpf_ntohs(ic.id);
		icmp_seq = bpf_ntohs(ic.seq);
	}
	vx_id_make(id, family, proto, src, dst, ip_id, sport, dport, seq, icmp_id, icmp_seq);
}

/* A VXLAN header: the I flag set and the VNI in bytes 4..6. */
static __always_inline bool read_vxlan(const unsigned char *p, __u32 *vni)
{
	__u8 h[VXLAN_HLEN];

	if (bpf_probe_read_kernel(h, sizeof(h), p))
		return false;
	if (!(h[0] & 0x08))
		return false;
	*vni = ((__u32)h[4] << 16) | ((__u32)h[5] << 8) | h[6];
	return true;
}

/* The overlay frame that follows a VXLAN header at @eth. */
static __always_inline void parse_inner_eth(const unsigned char *eth, struct vxd_event *e)
{
	const unsigned char *l4;
	__be16 proto;

	if (bpf_probe_read_kernel(&proto, sizeof(proto), eth + 12))
		return;
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return;
	l4 = parse_ip(eth + ETH_HLEN, &e->inner);
	vx_read_id(eth + ETH_HLEN, &e->id);
	if (e->inner.family) {
		e->flags |= VXD_F_INNER;
		parse_ports(l4, &e->inner);
	}
}

/* After vxlan_rcv() the skb's headers are the overlay's, but the outer
 * IP/UDP/VXLAN headers still sit in the buffer right before mac_header.
 * Recognise them strictly (I flag, UDP to the VXLAN port, an IP header
 * carrying UDP that ends where UDP starts) so a drop after decapsulation
 * still names its tunnel. */
static __always_inline bool find_decap(const unsigned char *head, __u16 mac, struct vxd_event *e,
				       __u16 vxlan_port)
{
	const unsigned char *udp, *l4;
	__be16 ports[2];
	__u8 first;

	if (mac == HDR_UNSET || mac < VXLAN_HLEN + UDP_HLEN + 20)
		return false;
	if (!read_vxlan(head + mac - VXLAN_HLEN, &e->vni))
		return false;
	udp = head + mac - VXLAN_HLEN - UDP_HLEN;
	if (bpf_probe_read_kernel(ports, sizeof(ports), udp) || bpf_ntohs(ports[1]) != vxlan_port)
		return false;
	if (bpf_probe_read_kernel(&first, 1, udp - 20))
		return false;
	if (first == 0x45) {
		l4 = parse_ip(udp - 20, &e->outer);
	} else if (mac >= VXLAN_HLEN + UDP_HLEN + 40) {
		l4 = parse_ip(udp - 40, &e->outer);
	} else {
		return false;
	}
	if (l4 != udp || e->outer.proto != IPPROTO_UDP) {
		__builtin_memset(&e->outer, 0, sizeof(e->outer));
		return false;
	}
	e->outer.sport = bpf_ntohs(ports[0]);
	e->outer.dport = bpf_ntohs(ports[1]);
	e->flags |= VXD_F_OUTER | VXD_F_TUNNEL | VXD_F_DECAP;
	return true;
}

static __always_inline void parse_skb(struct sk_buff *skb, struct vxd_event *e, __u16 vxlan_port)
{
	const unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 mac = BPF_CORE_READ(skb, mac_header);
	const unsigned char *l3, *l4;

	if (!head)
		return;
	if (nh != HDR_UNSET)
		l3 = head + nh;
	else if (mac != HDR_UNSET && (e->protocol == ETH_P_IP || e->protocol == ETH_P_IPV6))
		l3 = head + mac + ETH_HLEN;
	else
		return;
	if (e->protocol != ETH_P_IP && e->protocol != ETH_P_IPV6 && e->protocol != 0)
		return;

	if (find_decap(head, mac, e, vxlan_port)) {
		l4 = parse_ip(l3, &e->inner);
		vx_read_id(l3, &e->id);
		if (e->inner.family) {
			e->flags |= VXD_F_INNER;
			parse_ports(l4, &e->inner);
		}
		return;
	}

	l4 = parse_ip(l3, &e->outer);
	if (!e->outer.family)
		return;
	e->flags |= VXD_F_OUTER;
	parse_ports(l4, &e->outer);
	if (l4 && e->outer.proto == IPPROTO_UDP && e->outer.dport == vxlan_port &&
	    read_vxlan(l4 + UDP_HLEN, &e->vni)) {
		e->flags |= VXD_F_TUNNEL;
		parse_inner_eth(l4 + UDP_HLEN + VXLAN_HLEN, e);
		return;
	}
	/* Not a tunnel packet: an overlay packet before encapsulation (or
	 * any other), which the datapath names by these headers. */
	vx_read_id(l3, &e->id);
}

#endif
