// SPDX-License-Identifier: GPL-2.0-only
/* The latency stages that need kernel hooks rather than the datapath's tc
 * programs:
 *
 * - xmit: vxlan_xmit entry -> return on the watched VXLAN devices. Three
 *   backends side by side, the loader autoloads the best that loads:
 *   fentry/fexit, kprobe/kretprobe, and the net_dev_start_xmit /
 *   net_dev_xmit tracepoints, which bracket ndo_start_xmit (vxlan_xmit on
 *   a VXLAN device) in xmit_one().
 * - rcv: vxlan_rcv entry -> return (the UDP encap handler: checks, strips
 *   the outer headers, hands the inner frame to GRO cells), with fentry/
 *   fexit or kprobe/kretprobe. No tracepoint brackets it: where neither
 *   loads, the datapath's decap stage (underlay ingress -> VXLAN ingress)
 *   is the measure.
 * - delivery: VXLAN ingress -> TCP receive, ended in tp_btf/tcp_probe,
 *   which tcp_rcv_established() fires for every segment of an established
 *   connection it processes (from the softirq or, when the socket was
 *   owned by the user, from its backlog). It is a tp_btf with the skb in
 *   hand on every kernel vxray supports, and TCP is the traffic whose
 *   delivery time matters; pings are answered by the kernel and have no
 *   socket to be delivered to. Only TCP stamps are left for it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vx_lat.bpf.h"
#include "../kprobe/vx_drops.h"
#include "vx_skbread.bpf.h"
#include "vx_rb.bpf.h"
#include "../kprobe/vx_xmit.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct vxx_config cfg = {};

/* Events (cfg.events); the loader shrinks it to one page without them. */
#define VXX_RB_SIZE (1 << 22)
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VXX_RB_SIZE);
} vxx_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vxx_lost SEC(".maps");

static __always_inline void hook_emit(__u64 now, __u64 start, const struct vx_pkt_id *id,
				      __u32 netns, __u32 ifindex, __u32 vni, __u8 stage, __u8 be)
{
	struct vx_hook_event *e = bpf_ringbuf_reserve(&vxx_rb, sizeof(*e), 0);
	__u32 zero = 0;

	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&vxx_lost, &zero);

		if (n)
			*n += 1;
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->start_ns = start;
	e->id = *id;
	e->netns = netns;
	e->ifindex = ifindex;
	e->vni = vni;
	e->stage = stage;
	e->backend = be;
	bpf_ringbuf_submit(e, vx_rb_wakeup_flags(&vxx_rb, VXX_RB_SIZE, sizeof(*e)));
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vx_xmit_dev);
	__type(value, __u32);
} vxx_dev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VXX_WSET_SLOTS);
	__type(key, __u32);
	__type(value, struct vx_xmit_slot);
} vxx_wset SEC(".maps");

/* Namespaces vxray watches: vxlan_rcv runs on the underlay's skb, before
 * any VXLAN device is known. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} vxx_ns SEC(".maps");

/* Whether device @ifindex of namespace @netns (0: the namespace itself) is
 * watched; a device's VNI into *@vni. */
static __always_inline bool watched(__u32 netns, __u32 ifindex, __u32 *vni)
{
	__u32 k = vx_xmit_slot_of(netns, ifindex), *v;
	struct vx_xmit_slot *s = bpf_map_lookup_elem(&vxx_wset, &k);
	struct vx_xmit_dev d = { .netns = netns, .ifindex = ifindex };

	if (!s)
		return false;
	if (s->netns == netns && s->ifindex == ifindex && netns) {
		*vni = s->vni;
		return true;
	}
	if (!s->more)
		return false;
	if (!ifindex)
		return bpf_map_lookup_elem(&vxx_ns, &netns) != NULL;
	v = bpf_map_lookup_elem(&vxx_dev, &d);
	if (v)
		*vni = *v;
	return v != NULL;
}

/* Entry stamps: by skb for fentry and the tracepoints, by thread for the
 * kprobe pair (a kretprobe has no arguments). The entry and the return of
 * one call run on one CPU with bottom halves off (xmit_one(), the UDP
 * encap handler in the softirq), and calls nest only as deep as devices
 * stack (vxlan_xmit sends through the underlay's xmit): a few per-CPU
 * slots, searched in place, hold every call in flight. A per-CPU array
 * costs no lock, where a hash map would be updated and deleted from for
 * every packet; the return of a call on an unwatched device, the common
 * case, compares a few keys. A slot whose return was never seen (a
 * backend attached only at one end) is taken over once it is a second
 * old. */
#define VXX_NEST 4
#define VXX_STALE_NS 1000000000ull
struct vxx_call {
	__u64 key; /* 0: free */
	struct vx_xmit_start st;
};

struct vxx_calls {
	struct vxx_call c[VXX_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vxx_calls);
} vxx_start SEC(".maps");

static __always_inline struct vxx_calls *vxx_calls(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vxx_start, &zero);
}

/* Remember the call of @key: its entry stamp @st. */
static __always_inline void call_push(__u64 key, const struct vx_xmit_start *st)
{
	struct vxx_calls *t = vxx_calls();
	int i;

	if (!t)
		return;
	for (i = 0; i < VXX_NEST; i++) {
		struct vxx_call *c = &t->c[i];

		if (!c->key || c->key == key || st->ts_ns - c->st.ts_ns > VXX_STALE_NS) {
			c->key = key;
			__builtin_memcpy(&c->st, st, sizeof(*st));
			return;
		}
	}
}

/* The entry of the call of @key, freed: NULL when it was not timed. */
static __always_inline struct vx_xmit_start *call_pop(__u64 key)
{
	struct vxx_calls *t = vxx_calls();
	int i;

	if (!t)
		return NULL;
	for (i = 0; i < VXX_NEST; i++) {
		if (t->c[i].key == key) {
			t->c[i].key = 0;
			return &t->c[i].st;
		}
	}
	return NULL;
}

/* A call on a watched device or namespace (@netns): counted, and timed
 * when this CPU's sampling picks it (vx_sampled_call), which counts it
 * seen. */
static __always_inline bool timed_call(__u8 stage, __u32 netns)
{
	struct vx_lat_cnt *cnt = vx_lat_counters();

	if (!cnt)
		return false;
	vx_lat_add(cnt, stage, VX_L_OFFERED, 1);
	if (!vx_sampled_call(cnt, netns, cfg.sample))
		return false;
	vx_lat_add(cnt, stage, VX_L_SEEN, 1);
	return true;
}

/* The device's namespace and ifindex. The tracepoint runs for every frame
 * any device sends, so the common case is a device nobody watches: the
 * cheapest reads decide it. tp_btf and fentry hold BTF pointers that the
 * verifier lets them read directly, one load each; a kprobe must go
 * through bpf_probe_read_kernel(). */
#define XMIT_DEV(dev)                                                                              \
	((struct vx_xmit_dev){ .netns = dev->nd_net.net->ns.inum, .ifindex = (__u32)dev->ifindex })
#define XMIT_DEV_KPROBE(dev)                                                                       \
	((struct vx_xmit_dev){ .netns = BPF_CORE_READ(dev, nd_net.net, ns.inum),                   \
			       .ifindex = (__u32)BPF_CORE_READ(dev, ifindex) })

static __always_inline void xmit_enter(__u64 key, struct sk_buff *skb, struct vx_xmit_dev d)
{
	struct vx_xmit_start st = {};
	__u32 vni;

	if (!watched(d.netns, d.ifindex, &vni) || !timed_call(VX_ST_XMIT, d.netns))
		return;
	/* The inner frame: its IP header where the stack left it. */
	if (cfg.events)
		vx_read_id(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header), &st.id);
	st.ts_ns = bpf_ktime_get_ns();
	st.netns = d.netns;
	st.ifindex = d.ifindex;
	st.vni = vni;
	call_push(key, &st);
}

/* The end of a timed call: its sample and, with events, its record. */
static __always_inline void timed_exit(__u64 key, __u8 stage, __u8 be)
{
	struct vx_xmit_start *st = call_pop(key);
	__u64 now;

	/* Most calls are some other device's frame: no clock for those. */
	if (!st)
		return;
	now = bpf_ktime_get_ns();
	if (now >= st->ts_ns) {
		vx_lat_sample(st->netns, st->ifindex, st->vni, stage, now - st->ts_ns);
		vx_lat_count(stage, VX_L_MATCHED, 1);
		if (cfg.events)
			hook_emit(now, st->ts_ns, &st->id, st->netns, st->ifindex, st->vni, stage,
				  be);
	}
}

static __always_inline void xmit_exit(__u64 key, __u8 be)
{
	timed_exit(key, VX_ST_XMIT, be);
}

/* Entry of vxlan_rcv: skb->data is at the UDP header, the VXLAN header
 * follows; @key as for xmit, made distinct from any xmit in flight by the
 * caller (RCV_KEY_*). */
static __always_inline void rcv_enter(__u64 key, struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	__u32 netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	struct vx_xmit_start st = {};
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u32 vni;
	__u8 vx[8];

	if (!watched(netns, 0, &vni) || !timed_call(VX_ST_RCV, netns))
		return;
	if (!bpf_probe_read_kernel(vx, sizeof(vx), data + 8))
		st.vni = (__u32)vx[4] << 16 | (__u32)vx[5] << 8 | vx[6];
	if (cfg.events) {
		/* The overlay frame follows UDP (8) and VXLAN (8). */
		__be16 proto = 0;

		bpf_probe_read_kernel(&proto, sizeof(proto), data + 16 + 12);
		if (proto == bpf_htons(0x0800) || proto == bpf_htons(0x86DD))
			vx_read_id(data + 16 + 14, &st.id);
	}
	st.ts_ns = bpf_ktime_get_ns();
	st.netns = netns;
	st.ifindex = (__u32)BPF_CORE_READ(dev, ifindex);
	call_push(key, &st);
}

static __always_inline void rcv_exit(__u64 key, __u8 be)
{
	timed_exit(key, VX_ST_RCV, be);
}

/* An rcv key: the skb's address + 1, odd where every skb's (an xmit key)
 * is aligned. Not an OR of a high bit: the verifier of 6.1 refuses any
 * ALU op but an add on a BTF pointer, which refused these two programs
 * there. */
#define RCV_KEY_SKB(skb) ((__u64)(long)(skb) + 1)
/* kprobes key by thread; xmit's never have the top bit. */
#define RCV_KEY_THREAD() (bpf_get_current_pid_tgid() | 1ull << 63)

SEC("fentry/vxlan_rcv")
int BPF_PROG(vx_rcv_fentry, struct sock *sk, struct sk_buff *skb)
{
	rcv_enter(RCV_KEY_SKB(skb), skb);
	return 0;
}

SEC("fexit/vxlan_rcv")
int BPF_PROG(vx_rcv_fexit, struct sock *sk, struct sk_buff *skb, int ret)
{
	rcv_exit(RCV_KEY_SKB(skb), VXX_BE_FENTRY);
	return 0;
}

SEC("kprobe/vxlan_rcv")
int BPF_KPROBE(vx_rcv_kprobe, struct sock *sk, struct sk_buff *skb)
{
	rcv_enter(RCV_KEY_THREAD(), skb);
	return 0;
}

SEC("kretprobe/vxlan_rcv")
int BPF_KRETPROBE(vx_rcv_kretprobe, int ret)
{
	rcv_exit(RCV_KEY_THREAD(), VXX_BE_KPROBE);
	return 0;
}

SEC("fentry/vxlan_xmit")
int BPF_PROG(vx_xmit_fentry, struct sk_buff *skb, struct net_device *dev)
{
	xmit_enter((__u64)(long)skb, skb, XMIT_DEV(dev));
	return 0;
}

SEC("fexit/vxlan_xmit")
int BPF_PROG(vx_xmit_fexit, struct sk_buff *skb, struct net_device *dev, int ret)
{
	xmit_exit((__u64)(long)skb, VXX_BE_FENTRY);
	return 0;
}

SEC("kprobe/vxlan_xmit")
int BPF_KPROBE(vx_xmit_kprobe, struct sk_buff *skb, struct net_device *dev)
{
	xmit_enter(bpf_get_current_pid_tgid(), skb, XMIT_DEV_KPROBE(dev));
	return 0;
}

SEC("kretprobe/vxlan_xmit")
int BPF_KRETPROBE(vx_xmit_kretprobe, int ret)
{
	xmit_exit(bpf_get_current_pid_tgid(), VXX_BE_KPROBE);
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(vx_xmit_tp_start, struct sk_buff *skb, struct net_device *dev)
{
	xmit_enter((__u64)(long)skb, skb, XMIT_DEV(dev));
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(vx_xmit_tp_end, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int len)
{
	xmit_exit((__u64)(long)skb, VXX_BE_TP_BTF);
	return 0;
}

/* The identity of a received TCP segment: vx_read_id() builds it as the
 * datapath does from the frame at the VXLAN device. */
static __always_inline int tcp_id(struct sk_buff *skb, struct vx_pkt_id *id)
{
	vx_read_id(skb->head + skb->network_header, id);
	return id->proto == VX_IPPROTO_TCP ? 0 : -1;
}

#define AF_INET 2
#define AF_INET6 10

/* The vxl_dflow slot of socket @sk's flow. */
static __always_inline __u32 *sk_dflow(const struct sock *sk)
{
	const struct sock_common *c = &sk->__sk_common;

	if (c->skc_family == AF_INET6)
		return vx_dflow(c->skc_v6_rcv_saddr.in6_u.u6_addr32[3],
				c->skc_v6_daddr.in6_u.u6_addr32[3], c->skc_num,
				bpf_ntohs(c->skc_dport));
	return vx_dflow(c->skc_rcv_saddr, c->skc_daddr, c->skc_num, bpf_ntohs(c->skc_dport));
}

/* The stamp a flow's mark @m stands for was not found: after a second it
 * never will be (the packet died, or was coalesced into another). The
 * full clock: tracing programs may not read the coarse one; only a flow
 * whose mark is set and whose packet is not the marked one gets here;
 * *@now is the clock if already read (0: not yet). Signed: another CPU
 * may have marked it an instant after this read, and the 32 bits wrap
 * every 4.3 s (a mark older than 2.1 s looks young until it is 5.3 s
 * old). */
static __always_inline void dflow_stale(__u32 *m, __u64 *now)
{
	__u32 mark = *m;

	if (!mark)
		return;
	if (!*now)
		*now = bpf_ktime_get_ns();
	if ((__s32)((__u32)*now - mark) > 1000000000)
		*m = 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(vx_deliver_tcp, struct sock *sk, struct sk_buff *skb)
{
	/* Every TCP segment the host receives fires this, in every
	 * namespace; only sockets in a watched one can end a stamp, and
	 * only of a flow with one on its way (vxl_dflow). BTF pointers:
	 * direct loads, no bpf_probe_read_kernel(). */
	__u32 netns = sk->__sk_common.skc_net.net->ns.inum;
	struct vx_stamp_slot *sl;
	struct vx_lat_stamp s;
	struct vx_pkt_id id;
	__u32 h, vni, *m;
	bool have;
	__u64 now;

	if (!watched(netns, 0, &vni))
		return 0;
	m = sk_dflow(sk);
	if (!m || (!cfg.events && !*m))
		return 0;
	__builtin_memset(&id, 0, sizeof(id));
	if (tcp_id(skb, &id))
		return 0;
	if (cfg.events) {
		/* Arrived through a watched VXLAN device (the last device it
		 * was received on): a delivery worth a line. */
		__u32 iif = (__u32)skb->skb_iif;

		if (watched(netns, iif, &vni))
			hook_emit(bpf_ktime_get_ns(), 0, &id, netns, iif, vni, VX_ST_DELIVERY,
				  VXX_BE_TP_BTF);
	}
	if (!*m)
		return 0;
	h = vx_stamp_hash(&id);
	sl = vx_stamp_busy(h) ? vx_stamp_slot(h) : NULL;
	have = sl && vx_stamp_get(sl, &id, h, &s);
	if (!have || s.at != VX_AT_TC_VX_IN) {
		now = 0;
		if (sl && !have)
			vx_stamp_age(sl, h, &now);
		dflow_stale(m, &now);
		return 0;
	}
	/* The flow's last stamp: none other is on its way. */
	if (*m == vx_dflow_mark(s.ts_ns))
		*m = 0;
	now = bpf_ktime_get_ns();
	if (s.netns == netns && now >= s.ts_ns) {
		/* skb_shinfo(): the shared info sits at head + end (an offset on
		 * 64-bit kernels). When the socket was busy, tcp_add_backlog()
		 * coalesced later skbs into this one and summed their gso_segs:
		 * the same credit as a GRO packet in the datapath. */
		struct skb_shared_info *sh = (void *)(skb->head + skb->end);
		__u32 segs = BPF_CORE_READ(sh, gso_segs), credit;

		credit = (segs ? segs : 1) / (s.segs ? s.segs : 1);
		vx_lat_sample(s.netns, s.ifindex, s.vni, VX_ST_DELIVERY, now - s.ts_ns);
		vx_lat_count(VX_ST_DELIVERY, VX_L_MATCHED, credit ? credit : 1);
	}
	vx_stamp_clear(sl, h);
	return 0;
}
