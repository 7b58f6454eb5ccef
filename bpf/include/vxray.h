/* SPDX-License-Identifier: GPL-2.0-only */
/* The one header shared by the datapath programs (bpf/xdp, bpf/tc) and the
 * loader: what a parsed packet looks like, what travels over the ring
 * buffer, what the counters and per-tunnel statistics are keyed by, and the
 * configuration set in .rodata before load. Fixed-width types, widest
 * first, explicit padding, sizes asserted: both sides must agree to the
 * byte. */
#ifndef VXRAY_DATAPATH_H
#define VXRAY_DATAPATH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VX_MAX_VXLAN_PORTS 8
#define VX_VLAN_MAX 2		/* 802.1Q / 802.1ad tags walked */
#define VX_IPV6_EXT_MAX 6	/* IPv6 extension headers walked */

/* Where a program runs. */
enum vx_at {
	VX_AT_XDP_UL_IN = 1,	/* XDP, underlay ingress: earliest timestamp */
	VX_AT_TC_UL_IN,		/* tc ingress on the underlay */
	VX_AT_TC_UL_OUT,	/* tc egress on the underlay: after encap */
	VX_AT_TC_VX_IN,		/* tc ingress on the VXLAN device: after decap */
	VX_AT_TC_VX_OUT,	/* tc egress on the VXLAN device: before encap */
	VX_AT__MAX,
};

/* What a frame turned out to be; the per-CPU counter array is indexed by
 * it, so every frame a program sees is counted exactly once. */
enum vx_result {
	VX_R_VXLAN = 0,		/* outer + VXLAN + inner parsed (underlay hooks) */
	VX_R_INNER,		/* an overlay frame parsed (VXLAN device hooks) */
	VX_R_PLAIN_IP,		/* IP on the underlay but not VXLAN: counted only */
	VX_R_NON_IP,		/* ARP, LLDP, ...: counted only */
	/* Malformed, by the header that was wrong. */
	VX_R_BAD_ETH,		/* shorter than an Ethernet header */
	VX_R_BAD_VLAN,		/* truncated tag, or more tags than walked */
	VX_R_BAD_IP4,		/* truncated IPv4 header or options */
	VX_R_BAD_IHL,		/* IPv4 ihl < 5 */
	VX_R_BAD_IPVER,		/* version does not match the ethertype */
	VX_R_BAD_IP6,		/* truncated IPv6 header */
	VX_R_BAD_IP6_EXT,	/* truncated extension, or a chain past the bound */
	VX_R_BAD_UDP,		/* truncated UDP header */
	VX_R_BAD_VXLAN,		/* truncated VXLAN header */
	VX_R_BAD_VXLAN_FLAGS,	/* VXLAN without the I flag (RFC 7348) */
	VX_R_BAD_INNER_ETH,	/* truncated inner Ethernet */
	VX_R_BAD_INNER_IP,	/* truncated or invalid inner IPv4/IPv6 */
	VX_R_BAD_L4,		/* truncated inner TCP/UDP/ICMP */
	VX_R__MAX,
};

/* Counters beside the results, same array. */
enum vx_counter {
	VX_C_EVENTS = VX_R__MAX,	/* events submitted */
	VX_C_LOST,			/* ring buffer full: event dropped */
	VX_C_RATE_LIMITED,		/* over --rate: event not emitted */
	VX_C_FILTERED,			/* did not match the filters */
	VX_C__MAX,
};

enum vx_kind {
	VX_K_ENCAP = 1,		/* leaving through the tunnel */
	VX_K_DECAP,		/* arriving through the tunnel */
};

/* Just enough to recognise the same inner packet at the next hook: the
 * latency join matches on it. 24 bytes, IPv6 addresses folded. */
struct vx_pkt_id {
	__u32 saddr;		/* IPv4, or the fold of the IPv6 address */
	__u32 daddr;
	__u32 seq;		/* TCP sequence, or ICMP id << 16 | seq */
	__u16 sport;		/* host order; 0 for ICMP */
	__u16 dport;
	__u16 ip_id;		/* IPv4 ID; 0 for IPv6 */
	__u8 proto;
	__u8 family;		/* 4 or 6 */
	__u32 pad;
};
_Static_assert(sizeof(struct vx_pkt_id) == 24, "vx_pkt_id layout");

/* A parsed frame. Addresses are 16 bytes; IPv4 uses the first 4. */
struct vx_pkt {
	__u8 outer_src[16];
	__u8 outer_dst[16];
	__u8 inner_src[16];
	__u8 inner_dst[16];
	struct vx_pkt_id id;
	__u32 vni;
	__u32 tcp_seq;
	__u16 outer_sport;	/* host order */
	__u16 outer_dport;
	__u16 inner_sport;	/* TCP/UDP ports, host order */
	__u16 inner_dport;
	__u16 inner_len;	/* inner IP total length */
	__u16 ip_id;		/* inner IPv4 ID */
	__u16 icmp_id;
	__u16 icmp_seq;
	__u16 vlan[VX_VLAN_MAX];	/* outer VLAN IDs, 0: none */
	__u8 outer_family;	/* 4, 6; 0 when there is no outer layer */
	__u8 inner_family;
	__u8 inner_proto;	/* IPPROTO_* */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 n_vlan;
	__u8 pad[5];
};
_Static_assert(sizeof(struct vx_pkt) == 128, "vx_pkt layout");

/* One ring-buffer record. */
struct vx_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 netns;		/* inode of the namespace the program is in */
	__u32 ifindex;
	__u32 len;		/* frame length as the hook saw it */
	__u8 at;		/* enum vx_at */
	__u8 kind;		/* enum vx_kind */
	__u8 result;		/* enum vx_result */
	__u8 pad;
	struct vx_pkt pkt;
};
_Static_assert(sizeof(struct vx_event) == 152, "vx_event layout");

/* Per-tunnel traffic, for the --interval summaries. */
struct vx_tun_key {
	__u8 remote[16];	/* the other end's VTEP */
	__u32 netns;
	__u32 ifindex;
	__u32 vni;
	__u8 at;
	__u8 family;
	__u16 pad;
};
_Static_assert(sizeof(struct vx_tun_key) == 32, "vx_tun_key layout");

struct vx_tun_val {
	__u64 packets;
	__u64 bytes;
};

/* Set in .rodata by the loader between open and load. */
struct vx_dp_config {
	__u8 host[16];		/* --host, matches inner or outer src/dst */
	__u32 netns;		/* this instance's namespace inode */
	__u32 vni;		/* --vni */
	__u32 rate;		/* --rate, events per second per CPU; 0: no cap */
	__u16 port;		/* --port, inner or outer, host order */
	__u16 vxlan_ports[VX_MAX_VXLAN_PORTS];	/* host order; 4789 always */
	__u8 n_vxlan_ports;
	__u8 has_vni;
	__u8 has_host;		/* 4 or 6: family of host; 0: no filter */
	__u8 has_port;
	__u8 proto;		/* --proto IPPROTO_*, 0: any */
	__u8 events;		/* emit ring-buffer events (else counters only) */
	__u8 pad[4];
};
_Static_assert(sizeof(struct vx_dp_config) == 56, "vx_dp_config layout");

#endif
