// SPDX-License-Identifier: GPL-2.0-only
/* TCP retransmits, with the socket's namespace, 4-tuple, state, and how
 * big the retransmitted segment was against the MSS -- full-size
 * retransmits while small ones pass are the MTU fingerprint.
 *
 * Backends, the loader autoloads one: tp_btf (typed, first choice), and the
 * classic tracepoint (its own copies of the addresses and ports).
 *
 * Two modes, by cfg.count: an event per retransmit on vxr_rb (the views),
 * or an increment in vxr_count (the node agent: a lossy path retransmits
 * tens of thousands of segments a second, and an event each costs the
 * kernel a wakeup and userspace a read and a flow lookup per segment). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vx_agg.bpf.h"
#include "vx_flow.bpf.h"
#include "vx_retrans.h"
#include "vxray.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "GPL";

const volatile struct vxr_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} vxr_rb SEC(".maps");

/* Events the ring buffer had no room for: reported, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vxr_lost SEC(".maps");

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline bool wanted(__u32 inum)
{
	if (!cfg.n_netns)
		return true;
	for (int i = 0; i < VXR_MAX_NETNS; i++) {
		if (i >= cfg.n_netns)
			break;
		if (cfg.netns[i] == inum)
			return true;
	}
	return false;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&vxr_lost, &zero);

	if (lost)
		(*lost)++;
}

/* The datapath's flow table, shared by the loader in counting mode (a
 * one-entry map of its own otherwise, never read): the VNI a flow's
 * packets carried, learned from its SYN or SYN-ACK. */
VX_FLOW_MAP(vxr_flow);

/* Counting mode's totals. Keys are never deleted: a value is cumulative,
 * and a retransmit that finds the map full is counted in vxr_lost. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXR_COUNT_KEYS);
	__type(key, struct vxr_count_key);
	__type(value, struct vxr_count_val);
} vxr_count SEC(".maps");

static __always_inline void count(const struct vxr_event *e)
{
	struct vxr_count_val *v, zero = {};
	struct vx_flow_val *f;
	struct vx_flow_key fk;
	struct vxr_count_key k;

	/* Keyed as the datapath learned it: the sending socket's side first. */
	__builtin_memset(&fk, 0, sizeof(fk));
	__builtin_memcpy(fk.saddr, e->saddr, 16);
	__builtin_memcpy(fk.daddr, e->daddr, 16);
	fk.netns = e->netns;
	fk.sport = e->sport;
	fk.dport = e->dport;
	fk.family = e->family == AF_INET ? 4 : 6;
	f = bpf_map_lookup_elem(&vxr_flow, &fk);

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.daddr, e->daddr, 16);
	k.netns = e->netns;
	k.family = e->family;
	if (f) {
		k.known = 1;
		k.vni = f->vni;
	}
	k.size = e->kind == VXR_SYNACK	    ? VXR_SZ_SYNACK :
		 e->mss && e->len >= e->mss ? VXR_SZ_FULL :
					      VXR_SZ_SMALL;
	v = vx_lookup_or_init(&vxr_count, &k, &zero);
	if (!v) {
		count_lost();
		return;
	}
	__sync_fetch_and_add(&v->n, 1);
	/* Racy: a maximum, off by one instant at worst. */
	if (e->len > v->max_len)
		v->max_len = e->len;
}

/* An event filled on the stack (zeroed first: it goes to userspace), out
 * as a record or as a count. */
static __always_inline void emit(struct vxr_event *e)
{
	if (cfg.count) {
		count(e);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&vxr_rb, e, sizeof(*e), 0))
		count_lost();
}

/* Fill the event from the socket itself (tp_btf). */
static __always_inline void from_sock(struct vxr_event *e, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;

	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* Explicit sizes: BPF_CORE_READ_INTO on a byte array copies one byte. */
	if (e->family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	/* A request socket (SYNACK) is not a full socket: no MSS to read. */
	if (e->kind == VXR_RETRANS) {
		e->mss = BPF_CORE_READ(tp, mss_cache);
		e->pmtu = BPF_CORE_READ(icsk, icsk_pmtu_cookie);
	}
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(vxr_tp_btf_skb, const struct sock *sk, const struct sk_buff *skb)
{
	struct vxr_event ev, *e = &ev;
	__u32 inum = sk_netns(sk);

	if (!wanted(inum))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->netns = inum;
	e->kind = VXR_RETRANS;
	e->len = BPF_CORE_READ(skb, len);
	from_sock(e, sk);
	emit(e);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(vxr_tp_btf_synack, const struct sock *sk, const struct request_sock *req)
{
	const struct inet_request_sock *ireq = (const struct inet_request_sock *)req;
	struct vxr_event ev, *e = &ev;
	__u32 inum = sk_netns(sk);

	if (!wanted(inum))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->netns = inum;
	e->kind = VXR_SYNACK;
	/* The listener's socket has no peer; the request socket has the
	 * 4-tuple of the connection being set up. */
	e->family = BPF_CORE_READ(req, __req_common.skc_family);
	e->sport = BPF_CORE_READ(ireq, req.__req_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(ireq, req.__req_common.skc_dport));
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (e->family == AF_INET) {
		bpf_core_read(e->saddr, 4, &req->__req_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &req->__req_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &req->__req_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &req->__req_common.skc_v6_daddr);
	}
	emit(e);
	return 0;
}

/* Classic tracepoint fallback: the event carries its own copies. They sit
 * at unaligned offsets of the record, which the verifier lets a program
 * read only at a constant offset from the context register; a copy through
 * a derived pointer ("modified ctx ptr") is refused, so the helper copies. */
static __always_inline void from_tp(struct vxr_event *e, __u16 family, const __u8 *s4,
				    const __u8 *d4, const __u8 *s6, const __u8 *d6)
{
	e->family = family;
	if (family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, s4);
		bpf_probe_read_kernel(e->daddr, 4, d4);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, s6);
		bpf_probe_read_kernel(e->daddr, 16, d6);
	}
}

/* The tracepoint's record is trace_event_raw_tcp_event_sk_skb on 6.1 and
 * trace_event_raw_tcp_retransmit_skb (one field, err, appended) since
 * 6.11; the fields read here sit at the same offsets in both, so a local
 * definition without CO-RE serves both kernels. */
struct vxr_tp_retrans {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

SEC("tracepoint/tcp/tcp_retransmit_skb")
int vxr_tp_skb(struct vxr_tp_retrans *args)
{
	const struct sock *sk = args->skaddr;
	/* Out of the record first: inside BPF_CORE_READ the access to the
	 * local struct would become a CO-RE relocation against a type the
	 * kernel does not have, and the load would fail. */
	const struct sk_buff *skb = args->skbaddr;
	struct vxr_event ev, *e = &ev;
	__u32 inum = sk_netns(sk);

	if (!wanted(inum))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->netns = inum;
	e->kind = VXR_RETRANS;
	e->len = BPF_CORE_READ(skb, len);
	from_tp(e, args->family, args->saddr, args->daddr, args->saddr_v6, args->daddr_v6);
	e->sport = args->sport;
	e->dport = args->dport;
	e->state = args->state;
	e->mss = BPF_CORE_READ((const struct tcp_sock *)sk, mss_cache);
	e->pmtu = BPF_CORE_READ((const struct inet_connection_sock *)sk, icsk_pmtu_cookie);
	emit(e);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int vxr_tp_synack(struct trace_event_raw_tcp_retransmit_synack *args)
{
	const struct sock *sk = args->skaddr;
	struct vxr_event ev, *e = &ev;
	__u32 inum = sk_netns(sk);

	if (!wanted(inum))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->netns = inum;
	e->kind = VXR_SYNACK;
	from_tp(e, args->family, args->saddr, args->daddr, args->saddr_v6, args->daddr_v6);
	e->sport = args->sport;
	e->dport = args->dport;
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	emit(e);
	return 0;
}
