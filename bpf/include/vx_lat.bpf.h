/* SPDX-License-Identifier: GPL-2.0-only */
/* The latency maps and their updates, shared by every object that ends or
 * starts a stage: the datapath programs (vx_datapath.bpf.h) and the
 * kernel-hook programs (bpf/kprobe/vx_xmit.bpf.c). Each object declares
 * the same maps; the loader makes them one with bpf_map__reuse_fd(). */
#ifndef VX_LAT_BPF_H
#define VX_LAT_BPF_H

#include "vx_agg.bpf.h"
#include "vxray.h"

/* Identity -> last stamp, direct-mapped (struct vx_stamp_slot in vxray.h
 * says why). A stamp nobody matches (the far end is not traced, the packet
 * died) stays until another packet's stamp takes its slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VX_STAMP_SLOTS);
	__type(key, __u32);
	__type(value, struct vx_stamp_slot);
} vxl_stamp SEC(".maps");

/* Which vxl_stamp slots may hold a stamp (struct vx_busy in vxray.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_busy);
} vxl_busy SEC(".maps");

static __always_inline struct vx_busy *vx_busy_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vxl_busy, &zero);
}

/* Whether the slot of hash @h may hold a stamp. */
static __always_inline bool vx_stamp_busy(__u32 h)
{
	__u32 k = h & (VX_STAMP_SLOTS - 1), w = k >> 6;
	struct vx_busy *b = vx_busy_get();

	if (!b)
		return true;
	if (!(b->any[w >> 6] & (1ull << (w & 63))))
		return false;
	return b->w[w] & (1ull << (k & 63));
}

static __always_inline void vx_stamp_mark(__u32 h, __u8 on)
{
	__u32 k = h & (VX_STAMP_SLOTS - 1), w = k >> 6;
	__u64 bit = 1ull << (k & 63), abit = 1ull << (w & 63), v;
	struct vx_busy *b = vx_busy_get();

	if (!b)
		return;
	v = b->w[w];
	if (on) {
		if (!(v & bit))
			b->w[w] = v | bit;
		if (!(b->any[w >> 6] & abit))
			b->any[w >> 6] |= abit;
	} else if (v & bit) {
		b->w[w] = v &= ~bit;
		if (!v)
			b->any[w >> 6] &= ~abit;
	}
}

/* Flows with a delivery stamp on its way (slot: vx_dflow()): the low 32
 * bits (| 1) of the last one's time, 0 when none is. The delivery hook
 * fires for every TCP segment of a watched namespace, the tunnel's or
 * not; this lets it pass one over from its socket alone, without reading
 * the packet for its identity (vx_deliver_tcp under iperf3 at 1024 stamps
 * a second, bpf_stats on: 297 ns a run before, 214 after, make bench).
 * Collisions and stamps never delivered only cost the read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VX_DFLOW_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} vxl_dflow SEC(".maps");

/* A flow's vxl_dflow slot as the receiving socket names it: its own
 * address and port, the peer's; an address is an IPv4 one or an IPv6
 * one's last 32 bits (which a v4-mapped socket's IPv4 one is too). */
static __always_inline __u32 *vx_dflow(__u32 laddr, __u32 raddr, __u16 lport, __u16 rport)
{
	__u32 h = laddr ^ raddr * 0x9e3779b1u ^ ((__u32)lport << 16 | rport) * 0x85ebca6bu;

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	h &= VX_DFLOW_SLOTS - 1;
	return bpf_map_lookup_elem(&vxl_dflow, &h);
}

/* The mark of a stamp left at @ts_ns. */
static __always_inline __u32 vx_dflow_mark(__u64 ts_ns)
{
	return (__u32)ts_ns | 1;
}

/* (netns, device, VNI, stage) -> histogram. Per-CPU: no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, struct vx_lat_key);
	__type(value, struct vx_lat_hist);
} vxl_hist SEC(".maps");

/* The join counters, all in one per-CPU slot: one lookup per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_lat_cnt);
} vxl_cnt SEC(".maps");

/* The slot of the identity whose hash (vx_stamp_hash) is @h. */
static __always_inline struct vx_stamp_slot *vx_stamp_slot(__u32 h)
{
	__u32 k = h & (VX_STAMP_SLOTS - 1);

	return bpf_map_lookup_elem(&vxl_stamp, &k);
}

static __always_inline bool vx_id_eq(const struct vx_pkt_id *a, const struct vx_pkt_id *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->seq == b->seq &&
	       a->sport == b->sport && a->dport == b->dport && a->ip_id == b->ip_id &&
	       a->proto == b->proto && a->family == b->family;
}

/* The stamp @sl holds for @id (hash @h), copied to @out: true, or false
 * when the slot is empty, holds another packet's, or was torn by a write
 * on another CPU. */
static __always_inline bool vx_stamp_get(const struct vx_stamp_slot *sl, const struct vx_pkt_id *id,
					 __u32 h, struct vx_lat_stamp *out)
{
	__u32 tag = *(volatile const __u32 *)&sl->tag;

	if (!tag)
		return false;
	asm volatile("" ::: "memory");
	__builtin_memcpy(out, &sl->st, sizeof(*out));
	return vx_id_eq(&sl->id, id) && tag == vx_stamp_tag(h, out->ts_ns);
}

/* Stamp @id (hash @h) into @sl: the tag is cleared first and written last,
 * so a reader on another CPU sees a whole slot or a tag that fails. */
static __always_inline void vx_stamp_put(struct vx_stamp_slot *sl, const struct vx_pkt_id *id,
					 __u32 h, const struct vx_lat_stamp *st)
{
	*(volatile __u32 *)&sl->tag = 0;
	asm volatile("" ::: "memory");
	__builtin_memcpy(&sl->id, id, sizeof(*id));
	__builtin_memcpy(&sl->st, st, sizeof(*st));
	asm volatile("" ::: "memory");
	*(volatile __u32 *)&sl->tag = vx_stamp_tag(h, st->ts_ns);
	vx_stamp_mark(h, 1);
}

static __always_inline void vx_stamp_clear(struct vx_stamp_slot *sl, __u32 h)
{
	*(volatile __u32 *)&sl->tag = 0;
	vx_stamp_mark(h, 0);
}

/* A stamp older than this is no longer waited for: nobody will end it. */
#define VX_STAMP_STALE_NS 1000000000ull

/* Slot @sl, which the busy bit of hash @h sent a hook to, holds no stamp of
 * that hook's packet: it is empty (the bit outlived its stamp), or holds
 * another packet's. A stamp nobody ends -- its packet died, or was
 * coalesced into another before its delivery -- would keep its bit set
 * until another stamp took the slot, and under a steady flow they pile
 * up: the agent's lab TCP flow left 4247 of the 65536 bits set after a
 * minute, and 1009 of the 1024 bits of any, so every packet at a hook
 * that ends a stage read the table. The first packet sent here after the
 * stamp is VX_STAMP_STALE_NS old clears it; @now is the clock if read
 * already (0: not yet), which only that stamp's age needs. */
static __always_inline void vx_stamp_age(struct vx_stamp_slot *sl, __u32 h, __u64 *now)
{
	__u32 tag = *(volatile const __u32 *)&sl->tag;
	__u64 ts;

	if (tag) {
		asm volatile("" ::: "memory");
		ts = sl->st.ts_ns;
		if (!*now)
			*now = bpf_ktime_get_ns();
		if (*now < ts || *now - ts < VX_STAMP_STALE_NS)
			return;
	}
	vx_stamp_clear(sl, h);
}

/* Never written: the initial value of a histogram (too big for the stack). */
static struct vx_lat_hist vxl_zero;

static __always_inline struct vx_lat_cnt *vx_lat_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vxl_cnt, &zero);
}

static __always_inline void vx_lat_add(struct vx_lat_cnt *cnt, __u32 stage, __u32 c, __u64 n)
{
	__u32 i = vx_lat_idx(stage, c);

	if (cnt && i < VX_ST__MAX * VX_L__MAX)
		cnt->c[i] += n;
}

static __always_inline void vx_lat_count(__u32 stage, __u32 c, __u64 n)
{
	vx_lat_add(vx_lat_counters(), stage, c, n);
}

/* A hook's shift on this CPU for a window that ends at @now: the smallest
 * that brings the packets it saw, per second, to 2^@tshift or below,
 * capped at @max; a new window begins. An idle hook's next window is long
 * and its rate low, so it goes back to every packet. */
static __always_inline void vx_sample_adapt(struct vx_lat_rate *r, __u64 now, __u32 max,
					    __u32 tshift)
{
	__u64 el = now - r->win_ns, per_s, s = 0;

	if (el < VX_SAMPLE_WIN_NS)
		return;
	per_s = (__u64)r->win_n * 1000000000ull / el;
	if (per_s >> tshift)
		s = vx_log2_64(per_s >> tshift) + 1;
	r->shift = (__u32)(s < max ? s : max);
	r->win_ns = now;
	r->win_n = 0;
}

/* Whether the packet of hash @h is stamped under @sample (VX_SAMPLE_*) by
 * a hook whose state is @r, auto aiming at 2^@tshift stamps a second.
 * Auto: every VX_SAMPLE_CHECK-th packet reads the clock into *@now (0:
 * not read yet) to keep the hook's rate current; the caller adapts again
 * whenever it reads the clock itself. */
static __always_inline bool vx_sampled(struct vx_lat_rate *r, __u32 h, __u8 sample, __u32 tshift,
				       __u64 *now)
{
	__u32 s = sample & (VX_SAMPLE_AUTO - 1);

	if (sample & VX_SAMPLE_AUTO) {
		if (!(++r->win_n & (VX_SAMPLE_CHECK - 1))) {
			if (!*now)
				*now = bpf_ktime_get_ns();
			vx_sample_adapt(r, *now, s, tshift);
		}
		s = r->shift;
	}
	/* The top bits: the low ones pick the stamp's slot. */
	return !s || (s <= VX_SAMPLE_SHIFT_MAX && !(h >> (32 - s)));
}

/* The same for a call timed on one hook (vxlan_xmit, vxlan_rcv) in
 * namespace @netns, which joins nothing across hooks: 1 in 2^shift of
 * this CPU's calls, at the shift of the hook that runs just before
 * vxlan_xmit (that namespace's VXLAN egress). */
static __always_inline bool vx_sampled_call(struct vx_lat_cnt *cnt, __u32 netns, __u8 sample)
{
	__u32 s = sample & VX_SAMPLE_AUTO ? cnt->rate[vx_rate_row(netns)][VX_AT_TC_VX_OUT].shift :
					    sample;
	__u64 n = cnt->calls++;

	return !s || (s <= VX_SAMPLE_SHIFT_MAX && !(n & ((1ull << s) - 1)));
}

static __always_inline void vx_lat_sample(__u32 netns, __u32 ifindex, __u32 vni, __u32 stage,
					  __u64 d)
{
	struct vx_lat_key k = {
		.netns = netns, .ifindex = ifindex, .vni = vni, .stage = (__u8)stage
	};
	struct vx_lat_hist *h;
	__u64 i;

	h = vx_lookup_or_init(&vxl_hist, &k, &vxl_zero);
	if (!h)
		return;
	h->count++;
	h->sum_ns += d;
	if (d > h->max_ns)
		h->max_ns = d;
	/* Masked in the very register that indexes, after everything else:
	 * a bound tested earlier can be lost through a stack spill (6.1). */
	i = vx_hist_slot(d);
	asm volatile("%[i] &= 255" : [i] "+r"(i));
	h->slot[i]++;
}

#endif
