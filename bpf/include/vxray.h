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

#include "vx_cap.h"

#define VX_MAX_VXLAN_PORTS 8
#define VX_VLAN_MAX 2	  /* 802.1Q / 802.1ad tags walked */
#define VX_IPV6_EXT_MAX 6 /* IPv6 extension headers walked */

/* Where a program runs. */
enum vx_at {
	VX_AT_XDP_UL_IN = 1, /* XDP, underlay ingress: earliest timestamp */
	VX_AT_TC_UL_IN,	     /* tc ingress on the underlay */
	VX_AT_TC_UL_OUT,     /* tc egress on the underlay: after encap */
	VX_AT_TC_VX_IN,	     /* tc ingress on the VXLAN device: after decap */
	VX_AT_TC_VX_OUT,     /* tc egress on the VXLAN device: before encap */
	VX_AT__MAX,
};

/* What a frame turned out to be; the per-CPU counter array is indexed by
 * it, so every frame a program sees is counted exactly once. */
enum vx_result {
	VX_R_VXLAN = 0, /* outer + VXLAN + inner parsed (underlay hooks) */
	VX_R_INNER,	/* an overlay frame parsed (VXLAN device hooks) */
	VX_R_PLAIN_IP,	/* IP on the underlay but not VXLAN: counted only */
	VX_R_NON_IP,	/* ARP, LLDP, ...: counted only */
	/* Malformed, by the header that was wrong. */
	VX_R_BAD_ETH,	      /* shorter than an Ethernet header */
	VX_R_BAD_VLAN,	      /* truncated tag, or more tags than walked */
	VX_R_BAD_IP4,	      /* truncated IPv4 header or options */
	VX_R_BAD_IHL,	      /* IPv4 ihl < 5 */
	VX_R_BAD_IPVER,	      /* version does not match the ethertype */
	VX_R_BAD_IP6,	      /* truncated IPv6 header */
	VX_R_BAD_IP6_EXT,     /* truncated extension, or a chain past the bound */
	VX_R_BAD_UDP,	      /* truncated UDP header */
	VX_R_BAD_VXLAN,	      /* truncated VXLAN header */
	VX_R_BAD_VXLAN_FLAGS, /* VXLAN without the I flag (RFC 7348) */
	VX_R_BAD_INNER_ETH,   /* truncated inner Ethernet */
	VX_R_BAD_INNER_IP,    /* truncated or invalid inner IPv4/IPv6 */
	VX_R_BAD_L4,	      /* truncated inner TCP/UDP/ICMP */
	VX_R__MAX,
};

/* Counters beside the results, same array. */
enum vx_counter {
	VX_C_EVENTS = VX_R__MAX, /* events submitted */
	VX_C_LOST,		 /* ring buffer full: event dropped */
	VX_C_RATE_LIMITED,	 /* over --rate: event not emitted */
	VX_C_FILTERED,		 /* did not match the filters */
	VX_C_TUN_EVICTED,	 /* a tunnel's key gone from vxp_tun when its
				  * slot wrote it back: the LRU evicted it while
				  * the slot kept counting (--max-tunnels) */
	VX_C_TUN_MISS,		 /* a packet whose tunnel was in neither of
				  * its set's slots: two vxp_tun lookups */
	VX_C__MAX,
};

enum vx_kind {
	VX_K_ENCAP = 1, /* leaving through the tunnel */
	VX_K_DECAP,	/* arriving through the tunnel */
};

/* Just enough to recognise the same inner packet at the next hook: the
 * latency join matches on it. 24 bytes, IPv6 addresses folded. */
struct vx_pkt_id {
	__u32 saddr; /* IPv4, or the fold of the IPv6 address */
	__u32 daddr;
	__u32 seq;   /* TCP sequence, or ICMP id << 16 | seq */
	__u16 sport; /* host order; 0 for ICMP */
	__u16 dport;
	__u16 ip_id; /* IPv4 ID; 0 for IPv6 */
	__u8 proto;
	__u8 family; /* 4 or 6 */
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
	__u16 outer_sport; /* host order */
	__u16 outer_dport;
	__u16 inner_sport; /* TCP/UDP ports, host order */
	__u16 inner_dport;
	__u16 inner_len; /* inner IP total length */
	__u16 ip_id;	 /* inner IPv4 ID */
	__u16 icmp_id;
	__u16 icmp_seq;
	__u16 vlan[VX_VLAN_MAX]; /* outer VLAN IDs, 0: none */
	__u16 inner_ethertype;	 /* host order, after any inner VLAN tags */
	__u8 outer_family;	 /* 4, 6; 0 when there is no outer layer */
	__u8 inner_family;
	__u8 inner_proto; /* IPPROTO_* */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 n_vlan;
	__u8 pad[3];
};
_Static_assert(sizeof(struct vx_pkt) == 128, "vx_pkt layout");

/* One ring-buffer record; with cfg.snaplen set, a struct vx_cap and the
 * packet's first bytes follow it (vx_cap.h). */
struct vx_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u32 netns; /* inode of the namespace the program is in */
	__u32 ifindex;
	__u32 len;   /* frame length as the hook saw it */
	__u8 at;     /* enum vx_at */
	__u8 kind;   /* enum vx_kind */
	__u8 result; /* enum vx_result */
	__u8 pad;
	struct vx_pkt pkt;
};
_Static_assert(sizeof(struct vx_event) == 152, "vx_event layout");

/* Per-tunnel traffic, for the --interval summaries. The remote is read
 * from each packet: the outer destination leaving, the outer source
 * arriving, the tunnel key on an external device; on a classic device's
 * ingress the outer source its underlay ingress saw (struct vx_hop), and
 * none (family 0) on its egress, where the kernel has not chosen one yet. */
struct vx_tun_key {
	__u8 remote[16]; /* the other end's VTEP */
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
	__u64 bytes; /* of the inner frames, at every hook */
};

/* A packet's remote VTEP handed from the underlay's tc ingress to the
 * classic VXLAN device's ingress, where the outer header is gone: a
 * per-CPU, direct-mapped table indexed by the packet identity's hash
 * (vx_stamp_hash). Both hooks run on one CPU: vxlan_rcv queues the
 * decapsulated packet on the receiving CPU's GRO cell. A slot another
 * packet took meanwhile fails the identity comparison, and the remote is
 * then unknown, never another packet's. A frame without an identity (ARP)
 * is found by its first 24 bytes instead, its sender's MAC among them. */
#define VX_HOP_SLOTS 256
struct vx_hop {
	struct vx_pkt_id id;
	__u8 remote[16];
	__u8 family; /* 4 or 6; 0: empty */
	__u8 pad[7];
};
_Static_assert(sizeof(struct vx_hop) == 48, "vx_hop layout");

/* Each CPU's hop table, the one element of vxp_hop: the slot a packet
 * hashes to is then one address, not a pointer table's entry and then the
 * slot (6% of the agent's BPF time per packet, UDP and TCP alike: paired
 * runs with bpf_stats). */
struct vx_hops {
	struct vx_hop slot[VX_HOP_SLOTS];
};

/* A VNI the datapath could not read: a packet on an external device that
 * carries no tunnel metadata, a device the loader did not describe. VNIs
 * are 24 bits, so this is never a real one; outputs print it as "?" (null
 * in JSON), never as a number. */
#define VX_VNI_UNKNOWN 0xffffffffu

/* What the loader says about a VXLAN device (vxp_dev, vxp_devc): its VNI
 * in the low 24 bits, flags above. An external (collect_md) device has no
 * VNI of its own: each packet's comes with its tunnel key, as does its
 * remote VTEP. */
#define VX_DEV_VNI_MASK 0x00ffffffu
#define VX_DEV_F_EXTERNAL 0x01000000u

/* vxp_dev's key: a VXLAN device, by namespace inode and ifindex. */
struct vx_dev_key {
	__u32 netns;
	__u32 ifindex;
};

/* Entries of vxp_devc, the direct-mapped VXLAN device -> VNI table. A
 * slot holds the device it describes (ifindex 0: empty). */
#define VX_DEV_SLOTS 64

struct vx_devc {
	__u32 netns;
	__u32 ifindex;
	__u32 val; /* VNI | VX_DEV_F_* */
	__u32 pad;
};

static inline __u32 vx_devc_slot(__u32 netns, __u32 ifindex)
{
	return (ifindex ^ ((netns * 0x9e3779b1u) >> 16)) & (VX_DEV_SLOTS - 1);
}

/* The per-CPU tunnel cache in front of vxp_tun: a hash-map lookup with a
 * 32-byte key costs more than the whole parse, while consecutive packets
 * nearly always belong to the same few tunnels. Each CPU keeps
 * VX_TUN_SLOTS slots, each holding one key and that CPU's running totals
 * for it, in sets of VX_TUN_WAYS: a key may take either slot of its set,
 * so two busy tunnels whose keys share a set do not take the slot from
 * each other on every packet, at two lookups each (with one slot per key,
 * four busy keys on a CPU have such a pair 1 time in 40). A miss replaces
 * the slot of the set filled longest ago. vxp_tun holds, per CPU, the totals as they
 * were when the key last left its slot (the entry is created, zeroed,
 * when the key takes a slot, so that readers find every key there).
 *
 * A reader takes, per CPU, the totals of the slot of the set that holds
 * the key, and the map's otherwise. It must read the slots before the
 * map: a key that leaves its slot in between writes its totals to the map
 * first, so the reader still sees them, and successive reads never go
 * backwards. */
#define VX_TUN_SLOTS 256
#define VX_TUN_WAYS 2
#define VX_TUN_SETS (VX_TUN_SLOTS / VX_TUN_WAYS)
/* vxp_tun's keys unless --max-tunnels says otherwise: one per (device,
 * hook, VNI, remote VTEP), so a tunnel seen at a VXLAN device and its
 * underlay, both ways, takes four. */
#define VX_TUN_DEF_KEYS 4096

struct vx_tun_slot {
	struct vx_tun_key key; /* key.at == 0: empty */
	struct vx_tun_val val; /* this CPU's totals for key */
};
_Static_assert(sizeof(struct vx_tun_slot) == 48, "vx_tun_slot layout");

/* Each CPU's datapath counters, the one element of vxp_cnt: a frame's
 * result counter and its tunnel's slot in one allocation, so that a packet
 * touches fewer cache lines than with a map each (10% of the agent's BPF
 * time per small UDP packet, 5% per TCP segment: paired runs with
 * bpf_stats). */
#define VX_CNT_SLOTS 32
struct vx_cnt {
	__u64 c[VX_CNT_SLOTS];			/* enum vx_result, enum vx_counter */
	struct vx_tun_slot tslot[VX_TUN_SLOTS]; /* the tunnel cache (above),
						 * set i in [i * VX_TUN_WAYS,
						 * (i + 1) * VX_TUN_WAYS) */
	__u8 tnext[VX_TUN_SETS];		/* the way of set i its next
						 * miss replaces */
};
_Static_assert(VX_C__MAX <= VX_CNT_SLOTS, "vx_cnt room for every counter");

/* The set of a key, the same on both sides: a multiplicative mix of the
 * fields that differ between tunnels. */
static inline __u32 vx_tun_set_of(const struct vx_tun_key *k)
{
	__u32 r[4], h;

	__builtin_memcpy(r, k->remote, sizeof(r));
	h = k->netns ^ k->ifindex * 0x9e3779b1u ^ k->vni * 0x85ebca6bu ^
	    (__u32)k->at * 0xc2b2ae35u ^ r[0] * 0x27d4eb2fu ^ r[3];

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h & (VX_TUN_SETS - 1);
}

/* Which IP header a host filter matches (--host, --inner-host,
 * --outer-host): either, the innermost one (the only one of a packet that
 * is not encapsulated), or the outer one of an encapsulated packet. */
enum vx_host_side {
	VX_HOST_EITHER = 0,
	VX_HOST_INNER,
	VX_HOST_OUTER,
};

/* Set in .rodata by the loader between open and load. */
struct vx_dp_config {
	__u8 host[16]; /* --host, matches inner or outer src/dst */
	__u32 netns;   /* the namespace inode of every packet this object sees;
			* 0: each packet's own (vx_one_netns, else its device's) */
	__u32 vni;     /* --vni */
	__u32 rate;    /* --rate, events per second over all CPUs; 0: no cap */
	__u16 port;    /* --port, inner or outer, host order */
	__u16 vxlan_ports[VX_MAX_VXLAN_PORTS]; /* host order; 4789 always */
	__u8 n_vxlan_ports;
	__u8 has_vni;
	__u8 has_host; /* 4 or 6: family of host; 0: no filter */
	__u8 has_port;
	__u8 proto;	       /* --proto IPPROTO_*, 0: any */
	__u8 events;	       /* emit ring-buffer events (else counters only) */
	__u8 latency;	       /* join packets across hooks into vxl_hist */
	__u8 latency_delivery; /* the delivery hook is loaded: start it */
	__u16 snaplen;	       /* --pcap: bytes of each event's packet; 0: off */
	__u8 flows;	       /* learn TCP flows into vxp_flow (struct vx_flow_key) */
	__u8 sample;	       /* which packets latency stamps: VX_SAMPLE_* */
	__u8 host_side;	       /* which header --host matches: VX_HOST_* */
	__u8 sample_tshift;    /* auto sampling's stamps per second and CPU:
				* 1 << this; 0: VX_SAMPLE_TARGET */
	__u8 pad[4];
};
_Static_assert(sizeof(struct vx_dp_config) == 64, "vx_dp_config layout");

/* The datapath's flow table: which tunnel carries a TCP flow. Learned at
 * underlay egress, where the inner and the outer headers are both known,
 * from the flow's SYN and SYN-ACK only (no per-packet cost), keyed as the
 * sending socket sees the flow: its own address and port first, in its
 * own namespace -- what a TCP retransmit reports. */
struct vx_flow_key {
	__u8 saddr[16]; /* inner; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 netns;
	__u16 sport; /* host order */
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vx_flow_key) == 44, "vx_flow_key layout");

struct vx_flow_val {
	__u8 local[16];	 /* outer source: this end's VTEP */
	__u8 remote[16]; /* outer destination: the far VTEP */
	__u32 ifindex;	 /* the underlay it left by */
	__u32 vni;
	__u8 family; /* outer: 4 or 6 */
	__u8 pad[7];
};
_Static_assert(sizeof(struct vx_flow_val) == 48, "vx_flow_val layout");

/* ---- latency ------------------------------------------------------------
 *
 * A packet is joined across hooks by its struct vx_pkt_id alone: the
 * inner headers do not change between the VXLAN device and the underlay,
 * nor between the two ends of the wire. Each hook looks up the stamp the
 * previous hook left, adds the difference to the histogram of the stage
 * that ends here, and leaves its own stamp for the next stage. */

/* Stages, by the hook that ends them. */
enum vx_stage {
	VX_ST_ENCAP = 0, /* VXLAN egress -> underlay egress, same netns */
	VX_ST_WIRE,	 /* underlay egress on A -> underlay ingress on B */
	VX_ST_DECAP,	 /* underlay tc ingress -> VXLAN ingress */
	VX_ST_DELIVERY,	 /* VXLAN ingress -> TCP receive (tcp_probe) */
	VX_ST_XMIT,	 /* vxlan_xmit entry -> return */
	VX_ST_RCV,	 /* vxlan_rcv entry -> return (fentry, kprobe only) */
	VX_ST__MAX,
};

/* Per-stage join counters (struct vx_lat_cnt). */
enum vx_lat_counter {
	VX_L_SEEN = 0, /* stamps left for this stage to end */
	VX_L_MATCHED,  /* of which the next hook found */
	VX_L_DUP,      /* a stamp replaced by a copy at the same hook */
	VX_L_SUPER,    /* stamps left by a GSO/GRO super-packet */
	VX_L_OFFERED,  /* packets that could have started it, sampled or not */
	VX_L__MAX,
};

/* Sampling (cfg.sample, --sample): which packets a stage is timed on.
 * Counting stays exact; only the stamps are sampled.
 *
 * A packet is stamped when the top `shift` bits of its identity's hash
 * (vx_stamp_hash) are zero: 1 in 2^shift, the same packets at every hook
 * and on both hosts, with no coordination. A packet stamped at shift s is
 * stamped at every smaller shift too, so two hooks at different shifts
 * still agree on the packets of the larger one; and a hook that ends a
 * stage ends every stamp it finds, sampled or not by its own shift, so
 * joins never depend on both ends having the same shift.
 *
 * 0 stamps every packet (--sample 1); 1..VX_SAMPLE_SHIFT_MAX a fixed
 * 1 in 2^shift (--sample N); VX_SAMPLE_AUTO | max adapts each CPU's shift
 * to its packet rate, every packet below VX_SAMPLE_TARGET per second and
 * up to 1 in 2^max above (--sample auto, the default). */
#define VX_SAMPLE_AUTO 0x80
#define VX_SAMPLE_SHIFT_MAX 16
#define VX_SAMPLE_DEFAULT (VX_SAMPLE_AUTO | VX_SAMPLE_SHIFT_MAX)
/* Stamps per second and CPU that auto sampling aims at (at most twice
 * that: shifts are powers of two), over windows of at least
 * VX_SAMPLE_WIN_NS; a CPU looks at the clock for its rate at least every
 * VX_SAMPLE_CHECK packets (2 ns a packet at a flood), so after a flood
 * ends it times every packet again within two windows and 2 x 16 packets. */
#define VX_SAMPLE_TARGET_SHIFT 13
#define VX_SAMPLE_TARGET (1u << VX_SAMPLE_TARGET_SHIFT)
/* The aim instead of those that only fill histograms (struct
 * vx_dp_config.sample_tshift): the agent, which runs all the time, and
 * diagnose, whose window of seconds still gets thousands of stamps per
 * hook and CPU at a flood. A stamp costs a clock read and a cache miss in
 * the stamp table. Under iperf3 TCP the agent's programs ran 12.7% of a
 * CPU at 8192/s, 9.6% at 1024/s, against 6.9% for counting alone (make
 * bench, section 2); diagnose's egress programs took twice the agent's
 * time at 8192/s. The latency view, which prints what it times, keeps
 * VX_SAMPLE_TARGET. */
#define VX_SAMPLE_HIST_SHIFT 10
#define VX_SAMPLE_WIN_NS 100000000ull
#define VX_SAMPLE_CHECK 16

/* Auto sampling's state for one hook (enum vx_at) of one namespace on
 * one CPU. Per hook, not per CPU: a CPU that decapsulates a flood and
 * sends a trickle back would otherwise time the trickle at the flood's
 * rate. Per namespace too, as one copy of the programs serves them all:
 * A's flood out of its underlay must not slow the timing of B's trickle
 * out of B's. */
struct vx_lat_rate {
	__u64 win_ns; /* when the rate window began */
	__u32 win_n;  /* packets the hook saw in it */
	__u32 shift;  /* 1 in 2^shift stamped now */
};

/* A namespace's row of auto-sampling state: its inode, Fibonacci-hashed
 * to VX_RATE_ROWS rows. Each new namespace takes a run of proc inodes
 * (65 on 6.18), and namespaces made one after another land in different
 * rows; two that share one share their rate, as a single copy per
 * namespace would for two devices. */
#define VX_RATE_ROW_BITS 6
#define VX_RATE_ROWS (1 << VX_RATE_ROW_BITS)

static inline __u32 vx_rate_row(__u32 netns)
{
	return (netns * 0x9e3779b1u) >> (32 - VX_RATE_ROW_BITS);
}

/* Where counter @c (enum vx_lat_counter) of stage @s sits in struct
 * vx_lat_cnt's c[]: counter-major, so that one counter of every stage sits
 * on a line or two (a packet adds to VX_L_OFFERED of up to four stages:
 * not four lines). */
static inline __u32 vx_lat_idx(__u32 s, __u32 c)
{
	return c * VX_ST__MAX + s;
}

/* vxl_cnt's one per-CPU value: counter @c of stage @s is c[vx_lat_idx(s, c)];
 * then this CPU's auto-sampling state. */
struct vx_lat_cnt {
	__u64 c[VX_ST__MAX * VX_L__MAX];
	__u64 calls; /* xmit/rcv calls timed or not: their 1 in 2^shift */
	struct vx_lat_rate rate[VX_RATE_ROWS][VX_AT__MAX];
};

/* Where and when a packet was last seen: a stamp in vxl_stamp. */
struct vx_lat_stamp {
	__u64 ts_ns;
	__u32 netns;
	__u32 ifindex;
	__u32 vni;
	__u16 segs; /* gso_segs of the stamped skb, at least 1 */
	__u8 at;    /* enum vx_at */
	__u8 pad;
};
_Static_assert(sizeof(struct vx_lat_stamp) == 24, "vx_lat_stamp layout");

/* vxl_stamp: a direct-mapped table, one slot per packet identity's hash
 * (vx_stamp_hash), shared by every CPU: the hooks of one packet may run on
 * different CPUs (tcp_probe from a socket's backlog). A stamp costs two
 * plain stores and no lock, where an LRU hash pays a bucket lock and list
 * work to create each stamp and again to delete it, every packet. The
 * price is that a packet stamped into a slot still in use evicts that
 * stamp (its stage is then not joined; the join rate shows it), and that
 * a slot read while another CPU writes it may be torn: the tag, a hash of
 * the identity and the time written after both, tells a whole slot from a
 * torn one, which reads as no stamp. Tag 0: an empty slot. */
#define VX_STAMP_SLOTS 65536
/* Flows the delivery hook tells apart without reading the packet
 * (vxl_dflow). */
#define VX_DFLOW_SLOTS 4096
struct vx_stamp_slot {
	struct vx_pkt_id id;
	struct vx_lat_stamp st;
	__u32 tag;
	__u32 pad[3];
};
_Static_assert(sizeof(struct vx_stamp_slot) == 64, "vx_stamp_slot layout");

/* vxl_busy's one value: which vxl_stamp slots may hold a stamp, what a
 * hook that could end a stage reads first. The stamp table is 4 MiB, so a
 * slot read is a cache miss; an unsampled packet with no stamp to end
 * reads nothing else. Two levels in one value: a bit per slot (w, 8 KiB:
 * one line in 128 at random per read, 34 ns a packet under a flood), and
 * a bit per word of w, set while the word is not 0 (any, 128 bytes: two
 * lines that stay in the cache). Under sampling few slots hold a stamp at
 * a time, so a read mostly ends at a clear bit of any. Set and cleared
 * without atomics (BPF has them only from cpu v3): two CPUs changing bits
 * of one word in the same instant can undo each other, which costs one
 * join (the join rate shows it) or one needless slot read. */
#define VX_BUSY_WORDS (VX_STAMP_SLOTS / 64)
struct vx_busy {
	__u64 any[VX_BUSY_WORDS / 64];
	__u64 w[VX_BUSY_WORDS];
};

/* A multiplicative mix of an identity's fields (pad is zero). */
static inline __u32 vx_stamp_hash(const struct vx_pkt_id *id)
{
	__u64 h = ((__u64)id->saddr << 32 | id->daddr) * 0x9e3779b97f4a7c15ull ^
		  ((__u64)id->seq << 32 | (__u32)id->sport << 16 | id->dport) *
			  0xc2b2ae3d27d4eb4full ^
		  ((__u64)id->ip_id << 16 | (__u32)id->proto << 8 | id->family) *
			  0x165667b19e3779f9ull;

	return (__u32)(h >> 32) ^ (__u32)h;
}

/* The tag of a slot holding the identity of hash @h stamped at @ts. */
static inline __u32 vx_stamp_tag(__u32 h, __u64 ts)
{
	return (h ^ (__u32)ts ^ (__u32)(ts >> 32)) | 1;
}

/* vxl_hist key: the hook that ended the stage. */
struct vx_lat_key {
	__u32 netns;
	__u32 ifindex;
	__u32 vni;
	__u8 stage; /* enum vx_stage */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vx_lat_key) == 16, "vx_lat_key layout");

/* Log-linear buckets: values 0..3 exactly, then four per power of two
 * (log2 and the two bits below the top one), so a percentile read from
 * the buckets is within 25% of the truth. Slots 0..VX_HIST_TOP cover every
 * u64; the array is a power of two so that the BPF side can bound the
 * index with a mask the verifier of every kernel (6.1 too) keeps. */
#define VX_HIST_SLOTS 256
#define VX_HIST_TOP (4 * 62 + 3)

struct vx_lat_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 slot[VX_HIST_SLOTS];
};
_Static_assert(sizeof(struct vx_lat_hist) == 8 * (3 + VX_HIST_SLOTS), "vx_lat_hist layout");

static inline __u32 vx_log2_32(__u32 v)
{
	__u32 r, s;

	r = (__u32)(v > 0xFFFF) << 4;
	v >>= r;
	s = (__u32)(v > 0xFF) << 3;
	v >>= s;
	r |= s;
	s = (__u32)(v > 0xF) << 2;
	v >>= s;
	r |= s;
	s = (__u32)(v > 0x3) << 1;
	v >>= s;
	r |= s;
	return r | (v >> 1);
}

static inline __u32 vx_log2_64(__u64 v)
{
	__u32 hi = (__u32)(v >> 32);

	return hi ? vx_log2_32(hi) + 32 : vx_log2_32((__u32)v);
}

/* The slot a value falls in. */
static inline __u32 vx_hist_slot(__u64 v)
{
	__u32 l, i;

	if (v < 4)
		return (__u32)v;
	l = vx_log2_64(v);
	i = 4 * (l - 1) + (__u32)((v >> (l - 2)) & 3);
	return i < VX_HIST_TOP ? i : VX_HIST_TOP;
}

/* The smallest value in slot @i. */
static inline __u64 vx_hist_lower(__u32 i)
{
	if (i < 4)
		return i;
	return (__u64)(4 + i % 4) << (i / 4 - 1);
}

#endif
