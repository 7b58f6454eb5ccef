/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-packet work shared by the XDP and tc datapath programs: parse,
 * timestamp, count, and -- only when events are on and the filters match
 * -- emit one zeroed ring-buffer record. Included by exactly one .bpf.c
 * per object, so each object carries its own maps and the loader shares
 * them across objects with bpf_map__reuse_fd(). */
#ifndef VX_DATAPATH_BPF_H
#define VX_DATAPATH_BPF_H

#include "vx_flow.bpf.h"
#include "vx_parse.h"
#include "vx_cap.bpf.h"
#include "vx_lat.bpf.h"
#include "vx_rb.bpf.h"

/* The including object defines VX_CTX: struct __sk_buff or struct xdp_md.
 * Both name the packet bounds data and data_end. VX_LOAD_BYTES is that
 * context's copy helper (bpf_skb_load_bytes, which reads non-linear skbs
 * too, or bpf_xdp_load_bytes). VX_TUNNEL_KEY(ctx, out, &vni, remote)
 * reads an external VXLAN device's packet's tunnel key: its VNI and remote
 * VTEP, returning the remote's family (4, 6), or 0 with the VNI
 * VX_VNI_UNKNOWN when the packet carries none. VX_DEV_NETNS(ctx) reads
 * the namespace inode of the packet's device from kernel memory. */
#if !defined(VX_CTX) || !defined(VX_LOAD_BYTES) || !defined(VX_TUNNEL_KEY) || !defined(VX_DEV_NETNS)
#error "define VX_CTX, VX_LOAD_BYTES, VX_TUNNEL_KEY and VX_DEV_NETNS before including vx_datapath.bpf.h"
#endif

const volatile struct vx_dp_config cfg = {};

/* 16 MiB: ~120k events, a quarter second at 500k events/s (docs/DESIGN.md). */
#define VXP_RB_SIZE (1 << 24)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VXP_RB_SIZE);
} vxp_rb SEC(".maps");

/* Every frame lands in exactly one enum vx_result slot of struct
 * vx_cnt; enum vx_counter slots follow, then the tunnel slots. Per-CPU: no
 * atomics on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_cnt);
} vxp_cnt SEC(".maps");

/* Per (namespace, device, hook, VNI, remote VTEP) packets and bytes. LRU:
 * bounded memory whatever the number of tunnels; sized by --max-tunnels,
 * and VX_C_TUN_EVICTED says when it was too small. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, VX_TUN_DEF_KEYS);
	__type(key, struct vx_tun_key);
	__type(value, struct vx_tun_val);
} vxp_tun SEC(".maps");

/* The flow table (vx_flow.bpf.h). */
VX_FLOW_MAP(vxp_flow);

/* VXLAN device (namespace, ifindex) -> VNI | VX_DEV_F_*, filled by the
 * loader: the frames on a VXLAN device are the inner ones and carry no
 * VNI. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vx_dev_key);
	__type(value, __u32);
} vxp_dev SEC(".maps");

/* The same, direct-mapped (vx_devc_slot) for a lookup that costs no
 * helper call, filled by the loader where the slot is free; a device
 * whose slot another holds is found in vxp_dev. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VX_DEV_SLOTS);
	__type(key, __u32);
	__type(value, struct vx_devc);
} vxp_devc SEC(".maps");

/* The one namespace this vxray watches, set by the loader: then every
 * packet's namespace is known without reading it. 0 once it watches more
 * than one (it stays 0 for the run): each packet's is then read from its
 * device (VX_DEV_NETNS), three or four kernel reads. Unused when
 * cfg.netns is set, on kernels that refuse those reads to tc and XDP
 * programs, where each namespace has its own copy of the programs. */
__u32 vx_one_netns = 0;

/* Set by the loader while a classic VXLAN device is attached in any
 * namespace: only then does underlay ingress leave remotes in vxp_hop,
 * which nothing else reads. */
__u32 vx_hop_wanted = 0;

/* Set by the loader while this vxray also watches a namespace that is
 * the far end of one of the tunnels it watches: only then can a wire
 * stamp left at underlay egress be ended (at the far end's underlay
 * ingress, in these same maps). On a node whose peers are other hosts,
 * each with its own agent, nobody would end them: they would only fill
 * the stamp table and vxl_busy. */
__u32 vx_wire_wanted = 0;

/* Remote VTEPs from underlay ingress to VXLAN ingress (struct vx_hop,
 * struct vx_hops). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_hops);
} vxp_hop SEC(".maps");

struct vx_rl {
	__u64 window;
	__u64 n;
};

/* --rate: one one-second window for all CPUs, so the cap is the number
 * asked for whatever the CPU count and however the load is spread. Shared,
 * not per-CPU: only events that passed the filters touch it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_rl);
} vxp_rl SEC(".maps");

/* The namespace inode of the packet in @ctx (struct vx_dp_config.netns,
 * vx_one_netns). */
static __always_inline __u32 vx_netns(VX_CTX *ctx)
{
	if (cfg.netns)
		return cfg.netns;
	if (vx_one_netns)
		return vx_one_netns;
	return VX_DEV_NETNS(ctx);
}

/* What the loader said about VXLAN device @ifindex in namespace @netns:
 * its VNI and VX_DEV_F_* flags, or VX_VNI_UNKNOWN when it said nothing. */
static __always_inline __u32 vx_dev_vni(__u32 netns, __u32 ifindex)
{
	struct vx_dev_key k = { .netns = netns, .ifindex = ifindex };
	__u32 slot = vx_devc_slot(netns, ifindex), *vni;
	struct vx_devc *d = bpf_map_lookup_elem(&vxp_devc, &slot);

	if (d && d->ifindex == ifindex && d->netns == netns)
		return d->val;
	vni = bpf_map_lookup_elem(&vxp_dev, &k);
	return vni ? *vni : VX_VNI_UNKNOWN;
}

/* What a hop is found by: the packet's identity, or for a frame without
 * one (ARP: every ARP's is the same) its first bytes, from the inner frame
 * at @off: the Ethernet header and the start of the ARP header, which
 * hold the sender's MAC. False when the frame is too short. */
static __always_inline bool vx_hop_id(VX_CTX *ctx, __u32 off, const struct vx_pkt *p,
				      struct vx_pkt_id *id)
{
	if (p->id.family) {
		*id = p->id;
		return true;
	}
	return !VX_LOAD_BYTES(ctx, off, id, sizeof(*id));
}

/* This CPU's hop slot for the packet of identity @id. */
static __always_inline struct vx_hop *vx_hop_slot(const struct vx_pkt_id *id)
{
	__u32 zero = 0;
	struct vx_hops *t = bpf_map_lookup_elem(&vxp_hop, &zero);

	return t ? &t->slot[vx_stamp_hash(id) & (VX_HOP_SLOTS - 1)] : NULL;
}

/* Underlay tc ingress: leave this packet's outer source for the VXLAN
 * device's ingress. */
static __always_inline void vx_hop_put(VX_CTX *ctx, __u32 off, const struct vx_pkt *p)
{
	struct vx_pkt_id id;
	struct vx_hop *h;

	if (!vx_hop_id(ctx, off, p, &id))
		return;
	h = vx_hop_slot(&id);
	if (!h)
		return;
	h->id = id;
	__builtin_memcpy(h->remote, p->outer_src, 16);
	h->family = p->outer_family;
}

/* Classic VXLAN device ingress: the outer source the underlay saw for this
 * very packet, into @remote; its family, 0 when not found. */
static __always_inline __u8 vx_hop_get(VX_CTX *ctx, const struct vx_pkt *p, __u8 *remote)
{
	struct vx_pkt_id id;
	struct vx_hop *h;

	if (!vx_hop_id(ctx, 0, p, &id))
		return 0;
	h = vx_hop_slot(&id);
	if (!h || !h->family || !vx_id_eq(&h->id, &id))
		return 0;
	__builtin_memcpy(remote, h->remote, 16);
	return h->family;
}

/* This CPU's struct vx_cnt. */
static __always_inline struct vx_cnt *vx_cnt_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vxp_cnt, &zero);
}

/* The flow of inner packet @p, stamped at @now for the delivery hook, as
 * its receiving socket will name it (vx_dflow). */
static __always_inline void vx_dflow_put(const struct vx_pkt *p, __u64 now)
{
	__u32 l, r, *m;

	if (p->inner_family == 4) {
		__builtin_memcpy(&l, p->inner_dst, 4);
		__builtin_memcpy(&r, p->inner_src, 4);
	} else {
		__builtin_memcpy(&l, p->inner_dst + 12, 4);
		__builtin_memcpy(&r, p->inner_src + 12, 4);
	}
	m = vx_dflow(l, r, p->inner_dport, p->inner_sport);
	if (m)
		*m = vx_dflow_mark(now);
}

/* The join. Which stamp ends a stage here, and which stage starts here:
 *
 *   VXLAN egress    starts encap
 *   underlay egress ends encap (stamp from VXLAN egress, same netns),
 *                   starts wire
 *   XDP ingress     ends wire (stamp from underlay egress, another netns);
 *                   restamps only then, so the tc hook knows
 *   tc ingress      ends wire unless XDP did, starts decap
 *   VXLAN ingress   ends decap (stamp from tc ingress, same netns), starts
 *                   delivery for TCP when the delivery hook is loaded
 *
 * Decap starts at tc ingress, not XDP: XDP sees each wire segment while tc
 * sees what GRO made of them, the same super-packet the VXLAN device
 * gets, so the two ends of decap see the same skbs.
 *
 * GSO/GRO: a super-packet carries the identity of its first segment. A
 * GSO packet stamped at the start whose segments arrive one by one is
 * matched by its first segment (the later ones find no stamp, and nothing
 * counted them as seen). A GRO packet at the end matches the stamp of its
 * first segment and is credited with gso_segs / the stamp's gso_segs
 * joins, for the stamps of the segments it swallowed, which stay until
 * other packets take their slots.
 *
 * Retransmits and duplicates: a TCP retransmit carries a new IPv4 ID, so
 * it is a new identity; where the ID is 0 (IPv6, no socket), the copy
 * replaces the older stamp at the same hook (VX_L_DUP, not seen twice)
 * and the delay is measured from the newest copy. */
static __always_inline void vx_lat(const struct vx_pkt *p, __u64 *now, __u32 netns, __u32 ifindex,
				   __u8 at, __u32 segs)
{
	struct vx_lat_stamp old = {}, st;
	struct vx_stamp_slot *sl;
	struct vx_lat_rate *rate;
	struct vx_lat_cnt *cnt;
	int end = -1, start = -1;
	__u8 prev = 0;
	bool same_ns = true, have, ends, stamp = false;
	__u32 tshift = cfg.sample_tshift ? cfg.sample_tshift : VX_SAMPLE_TARGET_SHIFT;
	__u32 h;

	if (!segs)
		segs = 1;
	switch (at) {
	case VX_AT_TC_VX_OUT: start = VX_ST_ENCAP; break;
	case VX_AT_TC_UL_OUT:
		end = VX_ST_ENCAP;
		prev = VX_AT_TC_VX_OUT;
		start = vx_wire_wanted ? VX_ST_WIRE : -1;
		break;
	case VX_AT_XDP_UL_IN:
		end = VX_ST_WIRE;
		prev = VX_AT_TC_UL_OUT;
		same_ns = false;
		break;
	case VX_AT_TC_UL_IN:
		end = VX_ST_WIRE;
		prev = VX_AT_TC_UL_OUT;
		same_ns = false;
		start = VX_ST_DECAP;
		break;
	case VX_AT_TC_VX_IN:
		end = VX_ST_DECAP;
		prev = VX_AT_TC_UL_IN;
		if (cfg.latency_delivery && p->inner_proto == VX_IPPROTO_TCP)
			start = VX_ST_DELIVERY;
		break;
	default: return;
	}

	cnt = vx_lat_counters();
	if (!cnt)
		return;
	rate = &cnt->rate[vx_rate_row(netns)][at];
	h = vx_stamp_hash(&p->id);
	if (start >= 0) {
		vx_lat_add(cnt, start, VX_L_OFFERED, 1);
		stamp = vx_sampled(rate, h, cfg.sample, tshift, now);
	}
	/* Nothing to stamp and no stamp to end: the stamp table (a cache
	 * miss) is not read. */
	if (!stamp && (end < 0 || !vx_stamp_busy(h)))
		return;
	sl = vx_stamp_slot(h);
	if (!sl)
		return;
	have = vx_stamp_get(sl, &p->id, h, &old);
	ends = have && old.at == prev && (old.netns == netns) == same_ns;
	/* The clock only for a stamp found or one to leave: an unsampled
	 * packet with no stamp to end costs no clock read, unless its slot
	 * holds another packet's, whose age vx_stamp_age() then checks. */
	if (!ends && !stamp) {
		if (!have)
			vx_stamp_age(sl, h, now);
		else if (at != VX_AT_XDP_UL_IN)
			vx_stamp_clear(sl, h);
		return;
	}
	if (!*now)
		*now = bpf_ktime_get_ns();
	if (cfg.sample & VX_SAMPLE_AUTO)
		vx_sample_adapt(rate, *now, cfg.sample & (VX_SAMPLE_AUTO - 1), tshift);
	if (ends && *now >= old.ts_ns) {
		__u32 credit = segs / (old.segs ? old.segs : 1);

		vx_lat_sample(netns, ifindex, p->vni, end, *now - old.ts_ns);
		vx_lat_add(cnt, end, VX_L_MATCHED, credit ? credit : 1);
	}
	if (!stamp) {
		vx_stamp_clear(sl, h);
		return;
	}
	if (have && old.at == at && old.netns == netns)
		vx_lat_add(cnt, start, VX_L_DUP, 1);
	else
		vx_lat_add(cnt, start, VX_L_SEEN, 1);
	if (segs > 1)
		vx_lat_add(cnt, start, VX_L_SUPER, 1);
	st.ts_ns = *now;
	st.netns = netns;
	st.ifindex = ifindex;
	st.vni = p->vni;
	st.segs = segs > 0xffff ? 0xffff : (__u16)segs;
	st.at = at;
	st.pad = 0;
	vx_stamp_put(sl, &p->id, h, &st);
	if (start == VX_ST_DELIVERY)
		vx_dflow_put(p, *now);
}

#define VX_TCP_SYN 0x02

/* A TCP SYN or SYN-ACK leaving through the tunnel: remember its tunnel. */
static __always_inline void vx_flow_learn(const struct vx_pkt *p, __u32 netns, __u32 ifindex)
{
	struct vx_flow_key k;
	struct vx_flow_val v;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&v, 0, sizeof(v));
	__builtin_memcpy(k.saddr, p->inner_src, 16);
	__builtin_memcpy(k.daddr, p->inner_dst, 16);
	k.netns = netns;
	k.sport = p->inner_sport;
	k.dport = p->inner_dport;
	k.family = p->inner_family;
	__builtin_memcpy(v.local, p->outer_src, 16);
	__builtin_memcpy(v.remote, p->outer_dst, 16);
	v.ifindex = ifindex;
	v.vni = p->vni;
	v.family = p->outer_family;
	bpf_map_update_elem(&vxp_flow, &k, &v, BPF_ANY);
}

static __always_inline bool vx_host_is(const __u8 *a, __u8 family)
{
	const volatile __u32 *h = (const volatile __u32 *)cfg.host;
	__u32 w[4];

	if (family != cfg.has_host)
		return false;
	__builtin_memcpy(w, a, 16);
	if (w[0] != h[0])
		return false;
	return family == 4 || (w[1] == h[1] && w[2] == h[2] && w[3] == h[3]);
}

static __always_inline bool vx_match(const struct vx_pkt *p)
{
	if (cfg.has_vni && p->vni != cfg.vni)
		return false;
	if (cfg.proto && p->inner_proto != cfg.proto)
		return false;
	if (cfg.has_port && p->inner_sport != cfg.port && p->inner_dport != cfg.port &&
	    p->outer_sport != cfg.port && p->outer_dport != cfg.port)
		return false;
	if (cfg.has_host) {
		bool in = cfg.host_side != VX_HOST_OUTER &&
			  (vx_host_is(p->inner_src, p->inner_family) ||
			   vx_host_is(p->inner_dst, p->inner_family));
		bool out = cfg.host_side != VX_HOST_INNER &&
			   (vx_host_is(p->outer_src, p->outer_family) ||
			    vx_host_is(p->outer_dst, p->outer_family));

		if (!in && !out)
			return false;
	}
	return true;
}

static __always_inline bool vx_rate_ok(__u64 now)
{
	__u32 zero = 0;
	struct vx_rl *rl;

	if (!cfg.rate)
		return true;
	rl = bpf_map_lookup_elem(&vxp_rl, &zero);
	if (!rl)
		return true;
	/* Two CPUs may both open a new window at its boundary; that lets a
	 * handful of extra events through once a second, never a stream. */
	if (now - rl->window >= 1000000000ULL) {
		rl->window = now;
		rl->n = 0;
	}
	return __sync_fetch_and_add(&rl->n, 1) < cfg.rate;
}

static __always_inline bool vx_tun_key_eq(const struct vx_tun_key *a, const struct vx_tun_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

_Static_assert(VX_TUN_SLOTS == 256, "vx_tun_account's mask");

/* Per-tunnel packets and bytes, through this CPU's slot for the key
 * (vxray.h): a slot of its set holding the key is the common case and
 * costs no hash lookup; otherwise the set's oldest slot first writes its
 * totals back to vxp_tun, then takes the key with the totals vxp_tun had
 * for it. */
static __always_inline void vx_tun_account(struct vx_cnt *cnt, const struct vx_pkt *p,
					   const __u8 *remote, __u8 family, __u32 netns,
					   __u32 ifindex, __u8 at, __u32 len)
{
	struct vx_tun_key k;
	struct vx_tun_val *v, zero = {};
	struct vx_tun_slot *s;
	__u32 set, way, slot;

	__builtin_memset(&k, 0, sizeof(k));
	/* The far end as this packet names it (struct vx_tun_key). */
	__builtin_memcpy(k.remote, remote, 16);
	k.netns = netns;
	k.ifindex = ifindex;
	k.vni = p->vni;
	k.at = at;
	k.family = family;
	set = vx_tun_set_of(&k) & (VX_TUN_SETS - 1);
	s = &cnt->tslot[set * VX_TUN_WAYS];
	if (!vx_tun_key_eq(&s->key, &k)) {
		s++;
		if (!vx_tun_key_eq(&s->key, &k))
			goto miss;
	}
	s->val.packets++;
	s->val.bytes += len;
	return;
miss:
	cnt->c[VX_C_TUN_MISS]++;
	way = cnt->tnext[set] & (VX_TUN_WAYS - 1);
	cnt->tnext[set] = (way + 1) & (VX_TUN_WAYS - 1);
	slot = set * VX_TUN_WAYS + way;
	/* 6.1's verifier loses the sum's bound ("math between map_value
	 * pointer and register with unbounded min value"): restated. */
	asm volatile("%[i] &= 255" : [i] "+r"(slot));
	s = &cnt->tslot[slot];
	if (s->key.at) {
		v = bpf_map_lookup_elem(&vxp_tun, &s->key);
		if (v) {
			*v = s->val;
		} else {
			/* The LRU took the key while its slot counted: its
			 * totals come back, but other keys went for it. */
			cnt->c[VX_C_TUN_EVICTED]++;
			bpf_map_update_elem(&vxp_tun, &s->key, &s->val, BPF_ANY);
		}
	}
	v = bpf_map_lookup_elem(&vxp_tun, &k);
	if (v) {
		s->val = *v;
	} else {
		bpf_map_update_elem(&vxp_tun, &k, &zero, BPF_NOEXIST);
		s->val = zero;
	}
	s->val.packets++;
	s->val.bytes += len;
	s->key = k;
}

/* --pcap: the first cfg.snaplen bytes of the frame as this hook sees it,
 * from its Ethernet header, into the tail reserved after the event. */
static __always_inline void vx_cap_frame(VX_CTX *ctx, struct vx_cap *c, __u32 len)
{
	__u64 n = vx_cap_min(len, cfg.snaplen);

	vx_cap_zero(c + 1, n, VX_CAP_ROOM(cfg.snaplen));
	c->orig_len = len;
	c->link = VX_CAP_ETH;
	c->pad = 0;
	/* The helpers want a length the verifier knows is not 0, and 6.1's
	 * learns nothing from "n != 0"; it does from "n >= 16". A frame that
	 * made an event has its Ethernet and IP headers, so it is longer. */
	if (n >= VX_SNAPLEN_MIN) {
		if (VX_LOAD_BYTES(ctx, 0, c + 1, n)) {
			vx_cap_zero(c + 1, 0, VX_CAP_ROOM(cfg.snaplen));
			n = 0;
			c->link = 0;
		}
	} else {
		vx_cap_zero(c + 1, 0, VX_CAP_ROOM(cfg.snaplen));
		n = 0;
		c->link = 0;
	}
	c->caplen = (__u16)n;
}

static __always_inline void vx_handle(VX_CTX *ctx, __u32 len, __u32 ifindex, __u8 at, __u32 segs)
{
	bool vx = at == VX_AT_TC_VX_IN || at == VX_AT_TC_VX_OUT;
	bool out = at == VX_AT_TC_UL_OUT || at == VX_AT_TC_VX_OUT;
	__u32 dev = 0, inner_off, netns;
	bool ext = false;
	struct vx_event *e;
	struct vx_cnt *cnt;
	__u8 remote[16], rfam = 0;
	__u64 ts;
	struct vx_pkt p;
	int r;

	cnt = vx_cnt_get();
	if (!cnt)
		return;
	__builtin_memset(&p, 0, sizeof(p));
	__builtin_memset(remote, 0, sizeof(remote));
	r = vx_parse_frame(ctx, !vx, cfg.vxlan_ports, cfg.n_vxlan_ports, &p, &inner_off);
	cnt->c[r & (VX_CNT_SLOTS - 1)]++;
	if (r != VX_R_VXLAN && r != VX_R_INNER)
		return;
	/* Only for a frame that counts: on an underlay most are not. */
	netns = vx_netns(ctx);
	if (r == VX_R_INNER) {
		dev = vx_dev_vni(netns, ifindex);
		p.vni = dev == VX_VNI_UNKNOWN ? dev : dev & VX_DEV_VNI_MASK;
		ext = dev != VX_VNI_UNKNOWN && (dev & VX_DEV_F_EXTERNAL);
	}
	/* An external device's packet names its VNI and remote in its tunnel
	 * key. A helper call, so only on the devices the loader marked. XDP
	 * never gets here: it runs on the underlay only, before any skb or
	 * tunnel metadata exists, and reads the VNI from the VXLAN header. */
	if (ext)
		rfam = VX_TUNNEL_KEY(ctx, out, &p.vni, remote);
	/* The clock costs more than an empty tc program (bench/bpf: the
	 * timestamp-only baseline): read it only for a VXLAN frame and only
	 * when events want it, or latency for a sampled packet (vx_lat).
	 * Read after the parse, every hook alike; the parse is tens of ns
	 * against microsecond stages. */
	ts = cfg.events ? bpf_ktime_get_ns() : 0;
	vx_fill_id(&p);
	if (p.outer_family) {
		rfam = p.outer_family;
		__builtin_memcpy(remote, out ? p.outer_dst : p.outer_src, 16);
		if (at == VX_AT_TC_UL_IN && vx_hop_wanted)
			vx_hop_put(ctx, inner_off, &p);
	} else if (at == VX_AT_TC_VX_IN && !ext) {
		rfam = vx_hop_get(ctx, &p, remote);
	}
	vx_tun_account(cnt, &p, remote, rfam, netns, ifindex, at,
		       len > inner_off ? len - inner_off : 0);
	if (cfg.flows && at == VX_AT_TC_UL_OUT && p.inner_proto == VX_IPPROTO_TCP &&
	    (p.tcp_flags & VX_TCP_SYN))
		vx_flow_learn(&p, netns, ifindex);
	if (cfg.latency)
		vx_lat(&p, &ts, netns, ifindex, at, segs);
	if (!cfg.events)
		return;
	if (!vx_match(&p)) {
		cnt->c[VX_C_FILTERED]++;
		return;
	}
	if (!vx_rate_ok(ts)) {
		cnt->c[VX_C_RATE_LIMITED]++;
		return;
	}
	/* A constant for the verifier: cfg is frozen .rodata. */
	e = bpf_ringbuf_reserve(&vxp_rb, VX_CAP_REC(sizeof(*e), cfg.snaplen), 0);
	if (!e) {
		cnt->c[VX_C_LOST]++;
		return;
	}
	/* Every byte is written: p was zeroed, the rest set field by field. */
	e->ts_ns = ts;
	e->netns = netns;
	e->ifindex = ifindex;
	e->len = len;
	e->at = at;
	e->kind = at == VX_AT_TC_UL_OUT || at == VX_AT_TC_VX_OUT ? VX_K_ENCAP : VX_K_DECAP;
	e->result = (__u8)r;
	e->pad = 0;
	__builtin_memcpy(&e->pkt, &p, sizeof(p));
	if (cfg.snaplen)
		vx_cap_frame(ctx, (struct vx_cap *)(e + 1), len);
	bpf_ringbuf_submit(
		e, vx_rb_wakeup_flags(&vxp_rb, VXP_RB_SIZE, VX_CAP_REC(sizeof(*e), cfg.snaplen)));
	cnt->c[VX_C_EVENTS]++;
}

#endif
