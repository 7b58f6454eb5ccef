/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF-only packet parsing for the datapath programs: one cursor, a bounds
 * check before every read, bounded loops for VLAN tags and IPv6 extension
 * headers. The ethertype (__be16) and the L4 protocol (__u8) live in
 * separate variables on purpose. Each parser returns -1 to go on, or the
 * enum vx_result that ends the frame. */
#ifndef VX_PARSE_H
#define VX_PARSE_H

#include <bpf/bpf_endian.h>

#include "vxray.h"

#define VX_ETH_P_IP 0x0800
#define VX_ETH_P_IPV6 0x86DD
#define VX_ETH_P_8021Q 0x8100
#define VX_ETH_P_8021AD 0x88A8
#define VX_IPPROTO_HOPOPTS 0
#define VX_IPPROTO_ICMP 1
#define VX_IPPROTO_TCP 6
#define VX_IPPROTO_UDP 17
#define VX_IPPROTO_ROUTING 43
#define VX_IPPROTO_FRAGMENT 44
#define VX_IPPROTO_AH 51
#define VX_IPPROTO_ICMPV6 58
#define VX_IPPROTO_DSTOPTS 60
#define VX_VXLAN_PORT 4789
#define VX_VXLAN_FLAG_I 0x08

#define VX_GO_ON (-1)

struct vx_cursor {
	void *pos;
	void *end;
};

/* Local header layouts: fixed wire formats, no CO-RE wanted here. */
struct vx_ethhdr {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct vx_vlanhdr {
	__be16 tci;
	__be16 proto;
};

struct vx_ip4hdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

struct vx_ip6hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct vx_ip6ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct vx_udphdr {
	__be16 source;
	__be16 dest;
	__be16 len;
	__sum16 check;
};

struct vx_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res;
	__u8 flags;
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

struct vx_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 check;
	__be16 id;
	__be16 seq;
};

struct vx_vxlanhdr {
	__u8 flags;
	__u8 reserved1[3];
	__u8 vni[3];
	__u8 reserved2;
};

/* Ethernet and up to VX_VLAN_MAX tags. @outer records the VLAN IDs. */
static __always_inline int vx_parse_eth(struct vx_cursor *c, __be16 *ethertype, struct vx_pkt *p,
					bool outer)
{
	struct vx_ethhdr *eth = c->pos;
	__be16 proto;

	if ((void *)(eth + 1) > c->end)
		return outer ? VX_R_BAD_ETH : VX_R_BAD_INNER_ETH;
	c->pos = eth + 1;
	proto = eth->proto;
#pragma unroll
	for (int i = 0; i < VX_VLAN_MAX; i++) {
		struct vx_vlanhdr *v = c->pos;

		if (proto != bpf_htons(VX_ETH_P_8021Q) && proto != bpf_htons(VX_ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > c->end)
			return outer ? VX_R_BAD_VLAN : VX_R_BAD_INNER_ETH;
		if (outer) {
			p->vlan[i] = bpf_ntohs(v->tci) & 0x0fff;
			p->n_vlan = i + 1;
		}
		proto = v->proto;
		c->pos = v + 1;
	}
	/* A stack deeper than we walk: say so rather than misparse. */
	if (proto == bpf_htons(VX_ETH_P_8021Q) || proto == bpf_htons(VX_ETH_P_8021AD))
		return outer ? VX_R_BAD_VLAN : VX_R_BAD_INNER_ETH;
	*ethertype = proto;
	return VX_GO_ON;
}

/* IPv4 with options. *l4 is 0 for a non-first fragment (no L4 header). */
static __always_inline int vx_parse_ip4(struct vx_cursor *c, __u8 *l4, __u8 *src, __u8 *dst,
					__u16 *id, __u16 *tot_len, bool outer)
{
	struct vx_ip4hdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return outer ? VX_R_BAD_IP4 : VX_R_BAD_INNER_IP;
	if ((ip->ver_ihl >> 4) != 4)
		return outer ? VX_R_BAD_IPVER : VX_R_BAD_INNER_IP;
	hlen = (ip->ver_ihl & 0x0f) * 4;
	if (hlen < sizeof(*ip))
		return outer ? VX_R_BAD_IHL : VX_R_BAD_INNER_IP;
	if (c->pos + hlen > c->end)
		return outer ? VX_R_BAD_IP4 : VX_R_BAD_INNER_IP;
	__builtin_memcpy(src, &ip->saddr, 4);
	__builtin_memcpy(dst, &ip->daddr, 4);
	*id = bpf_ntohs(ip->id);
	*tot_len = bpf_ntohs(ip->tot_len);
	*l4 = (ip->frag_off & bpf_htons(0x1fff)) ? 0 : ip->protocol;
	c->pos += hlen;
	return VX_GO_ON;
}

/* IPv6 and a bounded walk over its extension headers. */
static __always_inline int vx_parse_ip6(struct vx_cursor *c, __u8 *l4, __u8 *src, __u8 *dst,
					__u16 *payload_len, bool outer)
{
	struct vx_ip6hdr *ip6 = c->pos;
	__u8 next;

	if ((void *)(ip6 + 1) > c->end)
		return outer ? VX_R_BAD_IP6 : VX_R_BAD_INNER_IP;
	if ((((__u8 *)ip6)[0] >> 4) != 6)
		return outer ? VX_R_BAD_IPVER : VX_R_BAD_INNER_IP;
	__builtin_memcpy(src, ip6->saddr, 16);
	__builtin_memcpy(dst, ip6->daddr, 16);
	*payload_len = bpf_ntohs(ip6->payload_len);
	next = ip6->nexthdr;
	c->pos = ip6 + 1;
#pragma unroll
	for (int i = 0; i < VX_IPV6_EXT_MAX; i++) {
		struct vx_ip6ext *ext = c->pos;
		__u32 len;

		if (next != VX_IPPROTO_HOPOPTS && next != VX_IPPROTO_ROUTING &&
		    next != VX_IPPROTO_DSTOPTS && next != VX_IPPROTO_FRAGMENT &&
		    next != VX_IPPROTO_AH)
			break;
		if ((void *)(ext + 1) > c->end)
			return outer ? VX_R_BAD_IP6_EXT : VX_R_BAD_INNER_IP;
		if (next == VX_IPPROTO_FRAGMENT)
			len = 8;
		else if (next == VX_IPPROTO_AH)
			len = ((__u32)ext->hdrlen + 2) * 4;
		else
			len = ((__u32)ext->hdrlen + 1) * 8;
		/* The whole header first: a cut non-first fragment header is
		 * truncated, not a fragment. */
		if (c->pos + len > c->end)
			return outer ? VX_R_BAD_IP6_EXT : VX_R_BAD_INNER_IP;
		if (next == VX_IPPROTO_FRAGMENT) {
			/* Only the first fragment carries the L4 header. */
			__be16 *off = c->pos + 2;

			if ((void *)(off + 1) > c->end)
				return outer ? VX_R_BAD_IP6_EXT : VX_R_BAD_INNER_IP;
			if (*off & bpf_htons(0xfff8)) {
				*l4 = 0;
				c->pos += len;
				return VX_GO_ON;
			}
		}
		next = ext->nexthdr;
		c->pos += len;
	}
	if (next == VX_IPPROTO_HOPOPTS || next == VX_IPPROTO_ROUTING ||
	    next == VX_IPPROTO_DSTOPTS || next == VX_IPPROTO_FRAGMENT || next == VX_IPPROTO_AH)
		return outer ? VX_R_BAD_IP6_EXT : VX_R_BAD_INNER_IP;
	*l4 = next;
	return VX_GO_ON;
}

/* The inner L4 header: ports, TCP seq and flags, ICMP type/code/id/seq. */
static __always_inline int vx_parse_l4(struct vx_cursor *c, __u8 l4, struct vx_pkt *p)
{
	if (l4 == VX_IPPROTO_TCP) {
		struct vx_tcphdr *t = c->pos;
		__u32 doff;

		if ((void *)(t + 1) > c->end)
			return VX_R_BAD_L4;
		doff = (t->doff_res >> 4) * 4;
		/* Honour the data offset: options must be there too. */
		if (doff < sizeof(*t) || c->pos + doff > c->end)
			return VX_R_BAD_L4;
		p->inner_sport = bpf_ntohs(t->source);
		p->inner_dport = bpf_ntohs(t->dest);
		p->tcp_seq = bpf_ntohl(t->seq);
		p->tcp_flags = t->flags;
	} else if (l4 == VX_IPPROTO_UDP) {
		struct vx_udphdr *u = c->pos;

		if ((void *)(u + 1) > c->end)
			return VX_R_BAD_L4;
		p->inner_sport = bpf_ntohs(u->source);
		p->inner_dport = bpf_ntohs(u->dest);
	} else if ((l4 == VX_IPPROTO_ICMP && p->inner_family == 4) ||
		   (l4 == VX_IPPROTO_ICMPV6 && p->inner_family == 6)) {
		/* ICMP belongs to IPv4 and ICMPv6 to IPv6: the other is not
		 * an ICMP header and must not be read as one. */
		struct vx_icmphdr *ic = c->pos;

		if ((void *)(ic + 1) > c->end)
			return VX_R_BAD_L4;
		p->icmp_type = ic->type;
		p->icmp_code = ic->code;
		p->icmp_id = bpf_ntohs(ic->id);
		p->icmp_seq = bpf_ntohs(ic->seq);
	}
	return VX_GO_ON;
}

/* Inner Ethernet + IP + L4, as seen on a VXLAN device or after VXLAN. */
static __always_inline int vx_parse_inner(struct vx_cursor *c, struct vx_pkt *p, int ok)
{
	__be16 ethertype;
	__u8 l4 = 0;
	int ret;

	ret = vx_parse_eth(c, &ethertype, p, false);
	if (ret != VX_GO_ON)
		return ret;
	p->inner_ethertype = bpf_ntohs(ethertype);
	if (ethertype == bpf_htons(VX_ETH_P_IP)) {
		p->inner_family = 4;
		ret = vx_parse_ip4(c, &l4, p->inner_src, p->inner_dst, &p->ip_id, &p->inner_len,
				   false);
	} else if (ethertype == bpf_htons(VX_ETH_P_IPV6)) {
		p->inner_family = 6;
		ret = vx_parse_ip6(c, &l4, p->inner_src, p->inner_dst, &p->inner_len, false);
	} else {
		/* ARP and friends inside the tunnel: the outer layer is
		 * still a tunnel packet worth counting. */
		return ok;
	}
	if (ret != VX_GO_ON)
		return ret;
	p->inner_proto = l4;
	ret = vx_parse_l4(c, l4, p);
	return ret == VX_GO_ON ? ok : ret;
}

static __always_inline bool vx_is_vxlan_port(__u16 port, const volatile __u16 *ports, __u8 n)
{
	if (port == VX_VXLAN_PORT)
		return true;
#pragma unroll
	for (int i = 0; i < VX_MAX_VXLAN_PORTS; i++)
		if (i < n && ports[i] == port)
			return true;
	return false;
}

/* An underlay frame: outer Ethernet/VLAN/IP/UDP and VXLAN. VX_GO_ON with
 * the cursor on the inner Ethernet header when it is a tunnel packet. */
static __always_inline int vx_parse_outer(struct vx_cursor *c, struct vx_pkt *p,
					  const volatile __u16 *ports, __u8 n_ports)
{
	struct vx_udphdr *udp;
	struct vx_vxlanhdr *vx;
	__be16 ethertype;
	__u16 len16;
	__u8 l4 = 0;
	int ret;

	ret = vx_parse_eth(c, &ethertype, p, true);
	if (ret != VX_GO_ON)
		return ret;
	if (ethertype == bpf_htons(VX_ETH_P_IP)) {
		p->outer_family = 4;
		ret = vx_parse_ip4(c, &l4, p->outer_src, p->outer_dst, &len16, &len16, true);
	} else if (ethertype == bpf_htons(VX_ETH_P_IPV6)) {
		p->outer_family = 6;
		ret = vx_parse_ip6(c, &l4, p->outer_src, p->outer_dst, &len16, true);
	} else {
		return VX_R_NON_IP;
	}
	if (ret != VX_GO_ON)
		return ret;
	if (l4 != VX_IPPROTO_UDP)
		return VX_R_PLAIN_IP;
	udp = c->pos;
	if ((void *)(udp + 1) > c->end)
		return VX_R_BAD_UDP;
	p->outer_sport = bpf_ntohs(udp->source);
	p->outer_dport = bpf_ntohs(udp->dest);
	if (!vx_is_vxlan_port(p->outer_dport, ports, n_ports))
		return VX_R_PLAIN_IP;
	vx = (void *)(udp + 1);
	if ((void *)(vx + 1) > c->end)
		return VX_R_BAD_VXLAN;
	if (!(vx->flags & VX_VXLAN_FLAG_I))
		return VX_R_BAD_VXLAN_FLAGS;
	p->vni = (__u32)vx->vni[0] << 16 | (__u32)vx->vni[1] << 8 | vx->vni[2];
	c->pos = vx + 1;
	/* The inner frame is parsed by the caller (see vx_datapath.bpf.h):
	 * verified on its own, the two halves stay far below the verifier's
	 * limits; inlined together their branches multiply. */
	return VX_GO_ON;
}

/* The compact identity the latency join matches on, from the fields of the
 * inner packet. One function for every producer of an identity -- the
 * datapath's parser below (vx_fill_id) and the readers of an skb in kernel
 * memory (vx_skbread.bpf.h: drops, netfilter verdicts, vxlan_xmit/rcv,
 * tcp_probe) -- so that they agree to the bit. @proto is 0 when there is
 * no L4 header (a non-first fragment); the L4 fields are 0 when absent. */
static __always_inline void vx_id_make(struct vx_pkt_id *id, __u8 family, __u8 proto,
				       const __u8 *src, const __u8 *dst, __u16 ip_id, __u16 sport,
				       __u16 dport, __u32 tcp_seq, __u16 icmp_id, __u16 icmp_seq)
{
	id->family = family;
	id->proto = proto;
	if (family == 4) {
		__builtin_memcpy(&id->saddr, src, 4);
		__builtin_memcpy(&id->daddr, dst, 4);
		id->ip_id = ip_id;
	} else {
		__u32 s[4], d[4];

		__builtin_memcpy(s, src, 16);
		__builtin_memcpy(d, dst, 16);
		id->saddr = s[0] ^ s[1] ^ s[2] ^ s[3];
		id->daddr = d[0] ^ d[1] ^ d[2] ^ d[3];
	}
	if (proto == VX_IPPROTO_TCP || proto == VX_IPPROTO_UDP) {
		id->sport = sport;
		id->dport = dport;
		id->seq = tcp_seq;
	} else {
		id->seq = (__u32)icmp_id << 16 | icmp_seq;
	}
}

static __always_inline void vx_fill_id(struct vx_pkt *p)
{
	vx_id_make(&p->id, p->inner_family, p->inner_proto, p->inner_src, p->inner_dst, p->ip_id,
		   p->inner_sport, p->inner_dport, p->tcp_seq, p->icmp_id, p->icmp_seq);
}

#ifdef VX_CTX
/* The inner frame from offset @off of the packet in @ctx, for an object
 * that defines VX_CTX (vx_datapath.bpf.h, bench/bpf's parse floor). A
 * global (non-static) function: the verifier checks it once, on its own,
 * instead of once per path through the outer headers (VLAN tags x IPv4
 * options x IPv6 extensions), whose product with the inner paths exceeds
 * its instruction budget. */
__noinline int vx_parse_inner_at(VX_CTX *ctx, __u32 off, struct vx_pkt *p, int ok)
{
	struct vx_cursor c;
	__u64 o = off;

	if (!ctx || !p)
		return VX_R_BAD_INNER_ETH;
	/* Real outer headers are far shorter; a longer offset is refused. */
	if (o > 1023)
		return VX_R_BAD_INNER_ETH;
	/* Restate the bound in the very register that is added: the compiler
	 * drops a plain mask as redundant and may test one copy of @off while
	 * adding another, which leaves the verifier without a bound. */
	asm volatile("%[o] &= 1023" : [o] "+r"(o));
	c.pos = (void *)(long)ctx->data + o;
	c.end = (void *)(long)ctx->data_end;
	return vx_parse_inner(&c, p, ok);
}

/* The frame in @ctx as its hook sees it: on a VXLAN device (!@underlay)
 * the inner frame alone, VX_R_INNER when whole; on an underlay the outer
 * headers up to a VXLAN header on one of @ports, then the inner frame
 * after it, VX_R_VXLAN when whole, its offset into *@inner_off. Returns
 * the frame's enum vx_result. What vx_handle reads before its first table,
 * and all that the bench's parse floor reads. */
static __always_inline int vx_parse_frame(VX_CTX *ctx, bool underlay, const volatile __u16 *ports,
					  __u8 n_ports, struct vx_pkt *p, __u32 *inner_off)
{
	void *data = (void *)(long)ctx->data;
	struct vx_cursor c = { .pos = data, .end = (void *)(long)ctx->data_end };
	int r;

	*inner_off = 0;
	if (!underlay)
		return vx_parse_inner_at(ctx, 0, p, VX_R_INNER);
	r = vx_parse_outer(&c, p, ports, n_ports);
	*inner_off = (__u32)(c.pos - data);
	return r == VX_GO_ON ? vx_parse_inner_at(ctx, *inner_off, p, VX_R_VXLAN) : r;
}
#endif

#endif
