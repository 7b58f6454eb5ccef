// SPDX-License-Identifier: GPL-2.0-only
/* Reference decoder: see refparse.h. Plain offsets into a byte array, each
 * header's length checked against what is left before any field is read. */
#include <string.h>

#include "refparse.h"

#define RP_OK (-1) /* keep going */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_tag(uint16_t tpid)
{
	return tpid == 0x8100 /* 802.1Q */ || tpid == 0x88a8 /* 802.1ad */;
}

/* Ethernet II with its tag stack. Returns RP_OK with *type and *off set. */
static int eth(const uint8_t *f, size_t n, size_t *off, uint16_t *type, struct ref_pkt *r,
	       int outer)
{
	int bad_len = outer ? VX_R_BAD_ETH : VX_R_BAD_INNER_ETH;
	int bad_tag = outer ? VX_R_BAD_VLAN : VX_R_BAD_INNER_ETH;
	size_t o = *off;
	uint16_t t;
	int tags = 0;

	if (n - o < 14)
		return bad_len;
	t = be16(f + o + 12);
	o += 14;
	while (is_tag(t)) {
		if (tags == VX_VLAN_MAX)
			return bad_tag;
		if (n - o < 4)
			return bad_tag;
		if (outer) {
			r->vlan[tags] = be16(f + o) & 0x0fff; /* VID: low 12 bits of the TCI */
			r->n_vlan = tags + 1;
		}
		t = be16(f + o + 2);
		o += 4;
		tags++;
	}
	*off = o;
	*type = t;
	return RP_OK;
}

static int ipv4(const uint8_t *f, size_t n, size_t *off, uint8_t *proto, uint8_t *src, uint8_t *dst,
		uint16_t *id, uint16_t *len, int outer)
{
	size_t o = *off, hl;
	unsigned frag;

	if (n - o < 20)
		return outer ? VX_R_BAD_IP4 : VX_R_BAD_INNER_IP;
	if (f[o] >> 4 != 4)
		return outer ? VX_R_BAD_IPVER : VX_R_BAD_INNER_IP;
	hl = (size_t)(f[o] & 0x0f) * 4;
	if (hl < 20)
		return outer ? VX_R_BAD_IHL : VX_R_BAD_INNER_IP;
	if (n - o < hl)
		return outer ? VX_R_BAD_IP4 : VX_R_BAD_INNER_IP;
	*len = be16(f + o + 2);
	*id = be16(f + o + 4);
	frag = be16(f + o + 6) & 0x1fff; /* fragment offset, in 8-byte units */
	*proto = frag ? 0 : f[o + 9];
	memcpy(src, f + o + 12, 4);
	memcpy(dst, f + o + 16, 4);
	*off = o + hl;
	return RP_OK;
}

static int is_ext(uint8_t h)
{
	return h == 0 || h == 43 || h == 44 || h == 51 || h == 60;
}

static int ipv6(const uint8_t *f, size_t n, size_t *off, uint8_t *proto, uint8_t *src, uint8_t *dst,
		uint16_t *len, int outer)
{
	int bad_ext = outer ? VX_R_BAD_IP6_EXT : VX_R_BAD_INNER_IP;
	size_t o = *off;
	uint8_t next;
	int walked = 0;

	if (n - o < 40)
		return outer ? VX_R_BAD_IP6 : VX_R_BAD_INNER_IP;
	if (f[o] >> 4 != 6)
		return outer ? VX_R_BAD_IPVER : VX_R_BAD_INNER_IP;
	*len = be16(f + o + 4);
	next = f[o + 6];
	memcpy(src, f + o + 8, 16);
	memcpy(dst, f + o + 24, 16);
	o += 40;
	while (is_ext(next)) {
		size_t hl;

		if (walked == VX_IPV6_EXT_MAX || n - o < 2)
			return bad_ext;
		if (next == 44)
			hl = 8; /* RFC 8200 4.5: fixed size */
		else if (next == 51)
			hl = ((size_t)f[o + 1] + 2) * 4; /* RFC 4302: 32-bit words minus 2 */
		else
			hl = ((size_t)f[o + 1] + 1) * 8; /* 8-octet units, first excluded */
		if (n - o < hl)
			return bad_ext;
		if (next == 44 && (be16(f + o + 2) >> 3) != 0) {
			/* A non-first fragment: no transport header follows. */
			*proto = 0;
			*off = o + hl;
			return RP_OK;
		}
		next = f[o];
		o += hl;
		walked++;
	}
	*proto = next;
	*off = o;
	return RP_OK;
}

static int l4(const uint8_t *f, size_t n, size_t o, int family, struct ref_pkt *r)
{
	size_t left = n - o;

	switch (r->inner_proto) {
	case 6: {
		size_t doff;

		if (left < 20)
			return VX_R_BAD_L4;
		doff = (size_t)(f[o + 12] >> 4) * 4;
		if (doff < 20 || left < doff)
			return VX_R_BAD_L4;
		r->inner_sport = be16(f + o);
		r->inner_dport = be16(f + o + 2);
		r->tcp_seq = be32(f + o + 4);
		r->tcp_flags = f[o + 13];
		break;
	}
	case 17:
		if (left < 8)
			return VX_R_BAD_L4;
		r->inner_sport = be16(f + o);
		r->inner_dport = be16(f + o + 2);
		break;
	case 1:
	case 58:
		/* ICMP belongs to IPv4, ICMPv6 to IPv6 (RFC 792, RFC 4443). */
		if ((r->inner_proto == 1) != (family == 4))
			break;
		if (left < 8)
			return VX_R_BAD_L4;
		r->icmp_type = f[o];
		r->icmp_code = f[o + 1];
		r->icmp_id = be16(f + o + 4);
		r->icmp_seq = be16(f + o + 6);
		break;
	default: break;
	}
	return RP_OK;
}

static int inner(const uint8_t *f, size_t n, size_t o, struct ref_pkt *r, int ok)
{
	uint16_t type;
	uint8_t proto = 0;
	int ret;

	ret = eth(f, n, &o, &type, r, 0);
	if (ret != RP_OK)
		return ret;
	r->inner_ethertype = type;
	if (type == 0x0800) {
		r->inner_family = 4;
		ret = ipv4(f, n, &o, &proto, r->inner_src, r->inner_dst, &r->ip_id, &r->inner_len,
			   0);
	} else if (type == 0x86dd) {
		r->inner_family = 6;
		ret = ipv6(f, n, &o, &proto, r->inner_src, r->inner_dst, &r->inner_len, 0);
	} else {
		return ok; /* ARP and the like inside the tunnel */
	}
	if (ret != RP_OK)
		return ret;
	r->inner_proto = proto;
	ret = l4(f, n, o, r->inner_family, r);
	return ret == RP_OK ? ok : ret;
}

static int underlay(const uint8_t *f, size_t n, const uint16_t *ports, int n_ports,
		    struct ref_pkt *r)
{
	uint16_t type, dummy16;
	uint8_t proto = 0;
	size_t o = 0;
	int ret, vx = 0;

	ret = eth(f, n, &o, &type, r, 1);
	if (ret != RP_OK)
		return ret;
	if (type == 0x0800) {
		r->outer_family = 4;
		ret = ipv4(f, n, &o, &proto, r->outer_src, r->outer_dst, &dummy16, &dummy16, 1);
	} else if (type == 0x86dd) {
		r->outer_family = 6;
		ret = ipv6(f, n, &o, &proto, r->outer_src, r->outer_dst, &dummy16, 1);
	} else {
		return VX_R_NON_IP;
	}
	if (ret != RP_OK)
		return ret;
	if (proto != 17)
		return VX_R_PLAIN_IP;
	if (n - o < 8)
		return VX_R_BAD_UDP;
	r->outer_sport = be16(f + o);
	r->outer_dport = be16(f + o + 2);
	vx = r->outer_dport == 4789;
	for (int i = 0; i < n_ports; i++)
		vx |= r->outer_dport == ports[i];
	if (!vx)
		return VX_R_PLAIN_IP;
	o += 8;
	if (n - o < 8)
		return VX_R_BAD_VXLAN;
	/* RFC 7348 5: the I flag must be set; the other bits are ignored. */
	if (!(f[o] & 0x08))
		return VX_R_BAD_VXLAN_FLAGS;
	r->vni = (uint32_t)f[o + 4] << 16 | (uint32_t)f[o + 5] << 8 | f[o + 6];
	return inner(f, n, o + 8, r, VX_R_VXLAN);
}

void ref_parse_underlay(const uint8_t *f, size_t n, const uint16_t *ports, int n_ports,
			struct ref_pkt *out)
{
	memset(out, 0, sizeof(*out));
	out->result = underlay(f, n, ports, n_ports, out);
}

void ref_parse_overlay(const uint8_t *f, size_t n, struct ref_pkt *out)
{
	memset(out, 0, sizeof(*out));
	out->result = inner(f, n, 0, out, VX_R_INNER);
}
