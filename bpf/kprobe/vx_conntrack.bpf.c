// SPDX-License-Identifier: GPL-2.0-only
/* Conntrack table pressure, per namespace and L4 protocol: entries
 * allocated (and allocations refused because the table was full),
 * confirmed (and refused at insertion), and destroyed.
 *
 * Two backends of the same counters, side by side; the loader autoloads
 * one (loader/engines/conntrack.c):
 *   fexit on __nf_conntrack_alloc and __nf_conntrack_confirm (their return
 *     value is the verdict), fentry on the destructor;
 *   kprobe + kretprobe on the same functions, the entry arguments stashed
 *     per thread until the return.
 * The destructor is nf_ct_destroy() since 5.19 (nf_ct_put() calls it
 * directly); older kernels only have nf_conntrack_destroy(). Mainline has
 * no conntrack tracepoints: where neither backend loads, the loader uses
 * ctnetlink instead and this object is not loaded at all. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../kprobe/vx_conntrack.h"
#include "vx_agg.bpf.h"
#include "vx_rb.bpf.h"

#define NF_DROP 0
#define NF_ACCEPT 1
#define NFCT_PTRMASK (~7UL)
#define IPS_CONFIRMED (1UL << 3)
#define MAX_ERRNO 4095

char LICENSE[] SEC("license") = "GPL";

const volatile struct vxc_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXC_MAX_KEYS);
	__type(key, struct vxc_key);
	__type(value, struct vxc_counts);
} vxc_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXC_MAX_SCOPE);
	__type(key, __u32);
	__type(value, __u8);
} vxc_scope SEC(".maps");

/* Counts that found vxc_counts full (or a kretprobe without its entry):
 * reported by the loader, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vxc_lost SEC(".maps");

/* kprobe -> kretprobe: what the entry saw, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXC_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct vxc_stash);
} vxc_inflight SEC(".maps");

/* Events (cfg.events); the loader shrinks it to one page without them. */
#define VXC_RB_SIZE (1 << 20)
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VXC_RB_SIZE);
} vxc_rb SEC(".maps");

enum field { F_ALLOC, F_ALLOC_FAILED, F_CONFIRMED, F_INSERT_FAILED, F_DESTROYED };

static __always_inline void lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&vxc_lost, &zero);

	if (n)
		*n += 1;
}

static __always_inline bool in_scope(__u32 netns)
{
	return !cfg.scoped || bpf_map_lookup_elem(&vxc_scope, &netns);
}

static __always_inline void count(__u32 netns, __u8 proto, enum field f)
{
	struct vxc_key k = { .netns = netns, .proto = proto };
	struct vxc_counts *c, zero = {};

	if (!in_scope(netns))
		return;
	c = vx_lookup_or_init(&vxc_counts, &k, &zero);
	if (!c) {
		lost();
		return;
	}
	switch (f) {
	case F_ALLOC: __sync_fetch_and_add(&c->alloc, 1); break;
	case F_ALLOC_FAILED: __sync_fetch_and_add(&c->alloc_failed, 1); break;
	case F_CONFIRMED: __sync_fetch_and_add(&c->confirmed, 1); break;
	case F_INSERT_FAILED: __sync_fetch_and_add(&c->insert_failed, 1); break;
	case F_DESTROYED: __sync_fetch_and_add(&c->destroyed, 1); break;
	}
}

static __always_inline __u32 net_inum(struct net *net)
{
	return BPF_CORE_READ(net, ns.inum);
}

static __always_inline __u32 ct_inum(struct nf_conn *ct)
{
	return BPF_CORE_READ(ct, ct_net.net, ns.inum);
}

static __always_inline __u8 ct_proto(struct nf_conn *ct)
{
	return BPF_CORE_READ(ct, tuplehash[0].tuple.dst.protonum);
}

static __always_inline bool is_err(const void *p)
{
	return (unsigned long)p >= (unsigned long)-MAX_ERRNO;
}

/* The tuple as the drop records write one: addresses, protocol, ports or
 * ICMP type and code. */
static __always_inline void read_tuple(const struct nf_conntrack_tuple *t, struct vxd_ip *ip)
{
	__u16 l3 = BPF_CORE_READ(t, src.l3num);

	ip->family = l3 == 2 ? 4 : l3 == 10 ? 6 : 0; /* AF_INET, AF_INET6 */
	ip->proto = BPF_CORE_READ(t, dst.protonum);
	bpf_core_read(ip->saddr, 16, &t->src.u3);
	bpf_core_read(ip->daddr, 16, &t->dst.u3);
	if (ip->proto == IPPROTO_ICMP || ip->proto == 58 /* ICMPv6 */) {
		ip->sport = BPF_CORE_READ(t, dst.u.icmp.type);
		ip->dport = BPF_CORE_READ(t, dst.u.icmp.code);
	} else {
		ip->sport = bpf_ntohs(BPF_CORE_READ(t, src.u.all));
		ip->dport = bpf_ntohs(BPF_CORE_READ(t, dst.u.all));
	}
}

static __always_inline void emit(__u32 netns, const struct nf_conntrack_tuple *t, __u8 kind,
				 __u8 backend)
{
	struct vxc_event *e;

	if (!cfg.events || !t || !in_scope(netns))
		return;
	e = bpf_ringbuf_reserve(&vxc_rb, sizeof(*e), 0);
	if (!e) {
		lost();
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->netns = netns;
	e->kind = kind;
	e->backend = backend;
	read_tuple(t, &e->t);
	bpf_ringbuf_submit(e, vx_rb_wakeup_flags(&vxc_rb, VXC_RB_SIZE, sizeof(*e)));
}

/* Pack (netns, proto) into the stash value for the kretprobe. */
static __always_inline __u64 pack(__u32 netns, __u8 proto)
{
	return ((__u64)proto << 32) | netns;
}

static __always_inline void on_alloc(__u32 netns, __u8 proto, const void *ret,
				     const struct nf_conntrack_tuple *orig, __u8 be)
{
	bool failed = is_err(ret) || !ret;

	count(netns, proto, failed ? F_ALLOC_FAILED : F_ALLOC);
	if (failed)
		emit(netns, orig, VXC_EV_ALLOC_FAILED, be);
}

static __always_inline void on_confirm(struct sk_buff *skb, int verdict, __u8 be)
{
	struct nf_conn *ct = (void *)(BPF_CORE_READ(skb, _nfct) & NFCT_PTRMASK);
	bool ok = verdict == NF_ACCEPT;

	if (!ct)
		return;
	count(ct_inum(ct), ct_proto(ct), ok ? F_CONFIRMED : F_INSERT_FAILED);
	emit(ct_inum(ct), &ct->tuplehash[0].tuple, ok ? VXC_EV_NEW : VXC_EV_INSERT_FAILED, be);
}

static __always_inline void on_destroy(struct nf_conn *ct, __u8 be)
{
	/* Unconfirmed entries (refused, or never inserted) were never in
	 * the table: only confirmed ones leave it. */
	if (ct && (BPF_CORE_READ(ct, status) & IPS_CONFIRMED)) {
		count(ct_inum(ct), ct_proto(ct), F_DESTROYED);
		emit(ct_inum(ct), &ct->tuplehash[0].tuple, VXC_EV_DESTROY, be);
	}
}

/* ---- fentry/fexit ------------------------------------------------------ */

SEC("fexit/__nf_conntrack_alloc")
int BPF_PROG(vxc_fexit_alloc, struct net *net, const struct nf_conntrack_zone *zone,
	     const struct nf_conntrack_tuple *orig, const struct nf_conntrack_tuple *repl,
	     gfp_t gfp, u32 hash, struct nf_conn *ret)
{
	on_alloc(net_inum(net), BPF_CORE_READ(orig, dst.protonum), ret, orig, VXD_BE_FENTRY);
	return 0;
}

SEC("fexit/__nf_conntrack_confirm")
int BPF_PROG(vxc_fexit_confirm, struct sk_buff *skb, int ret)
{
	on_confirm(skb, ret, VXD_BE_FENTRY);
	return 0;
}

SEC("fentry/nf_ct_destroy")
int BPF_PROG(vxc_fentry_destroy, struct nf_conntrack *nfct)
{
	on_destroy((struct nf_conn *)nfct, VXD_BE_FENTRY);
	return 0;
}

SEC("fentry/nf_conntrack_destroy")
int BPF_PROG(vxc_fentry_destroy_old, struct nf_conntrack *nfct)
{
	on_destroy((struct nf_conn *)nfct, VXD_BE_FENTRY);
	return 0;
}

/* ---- kprobe/kretprobe -------------------------------------------------- */

static __always_inline void stash(__u64 v, __u64 tuple)
{
	struct vxc_stash st = { .v = v, .tuple = tuple };
	__u64 id = bpf_get_current_pid_tgid();

	if (bpf_map_update_elem(&vxc_inflight, &id, &st, BPF_ANY))
		lost();
}

/* The entry's stash, or v 0 (and one lost count) when there is none. */
static __always_inline struct vxc_stash unstash(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vxc_stash *v, ret = {};

	v = bpf_map_lookup_elem(&vxc_inflight, &id);
	if (!v) {
		lost();
		return ret;
	}
	ret = *v;
	bpf_map_delete_elem(&vxc_inflight, &id);
	return ret;
}

SEC("kprobe/__nf_conntrack_alloc")
int BPF_KPROBE(vxc_kprobe_alloc, struct net *net, const struct nf_conntrack_zone *zone,
	       const struct nf_conntrack_tuple *orig)
{
	stash(pack(net_inum(net), BPF_CORE_READ(orig, dst.protonum)), (__u64)orig);
	return 0;
}

/* The caller's orig tuple is still on its stack at the return. */
SEC("kretprobe/__nf_conntrack_alloc")
int BPF_KRETPROBE(vxc_kretprobe_alloc, struct nf_conn *ret)
{
	struct vxc_stash v = unstash();

	if (v.v)
		on_alloc((__u32)v.v, (__u8)(v.v >> 32), ret,
			 (const struct nf_conntrack_tuple *)v.tuple, VXD_BE_KPROBE);
	return 0;
}

SEC("kprobe/__nf_conntrack_confirm")
int BPF_KPROBE(vxc_kprobe_confirm, struct sk_buff *skb)
{
	stash((__u64)skb, 0);
	return 0;
}

SEC("kretprobe/__nf_conntrack_confirm")
int BPF_KRETPROBE(vxc_kretprobe_confirm, int ret)
{
	struct vxc_stash v = unstash();

	if (v.v)
		on_confirm((struct sk_buff *)v.v, ret, VXD_BE_KPROBE);
	return 0;
}

SEC("kprobe/nf_ct_destroy")
int BPF_KPROBE(vxc_kprobe_destroy, struct nf_conntrack *nfct)
{
	on_destroy((struct nf_conn *)nfct, VXD_BE_KPROBE);
	return 0;
}

SEC("kprobe/nf_conntrack_destroy")
int BPF_KPROBE(vxc_kprobe_destroy_old, struct nf_conntrack *nfct)
{
	on_destroy((struct nf_conn *)nfct, VXD_BE_KPROBE);
	return 0;
}
