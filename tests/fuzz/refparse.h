/* SPDX-License-Identifier: GPL-2.0-only */
/* A reference decoder for VXLAN underlay frames and overlay frames, written
 * from the specifications (IEEE 802.1Q, RFC 791, RFC 8200, RFC 4302,
 * RFC 768, RFC 793/9293, RFC 792/4443, RFC 7348) for the differential fuzzer.
 * It shares no code with the BPF parser: only the result classification
 * (enum vx_result) and the recording conventions documented in vxray.h.
 *
 * Conventions it follows, because the datapath records them that way:
 * - up to VX_VLAN_MAX 802.1Q/802.1ad tags are walked; a deeper stack is
 *   malformed rather than guessed at;
 * - up to VX_IPV6_EXT_MAX extension headers (hop-by-hop, routing, fragment,
 *   destination options, AH) are walked; a longer chain is malformed;
 * - a non-first fragment carries no transport header: its protocol is
 *   recorded as 0;
 * - the outer UDP destination port decides VXLAN: 4789 or a configured one;
 * - inner failures map to the three inner kinds (ETH, IP, L4). */
#ifndef VX_REFPARSE_H
#define VX_REFPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "vxray.h"

struct ref_pkt {
	int result;			/* enum vx_result */
	int outer_family;		/* 4, 6, 0 */
	int n_vlan;
	uint16_t vlan[VX_VLAN_MAX];
	uint8_t outer_src[16], outer_dst[16];
	uint16_t outer_sport, outer_dport;
	uint32_t vni;
	int inner_family;
	uint16_t inner_ethertype;	/* after any inner VLAN tags */
	uint8_t inner_src[16], inner_dst[16];
	uint16_t inner_len;		/* IPv4 total length / IPv6 payload length */
	uint16_t ip_id;			/* IPv4 identification */
	uint8_t inner_proto;		/* transport protocol, 0 when none follows */
	uint16_t inner_sport, inner_dport;
	uint32_t tcp_seq;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq;
};

/* An underlay frame. @ports: the configured VXLAN ports besides 4789. */
void ref_parse_underlay(const uint8_t *f, size_t n, const uint16_t *ports, int n_ports,
			struct ref_pkt *out);
/* A frame on a VXLAN device: the inner Ethernet frame only. */
void ref_parse_overlay(const uint8_t *f, size_t n, struct ref_pkt *out);

#endif
