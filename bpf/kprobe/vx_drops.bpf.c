// SPDX-License-Identifier: GPL-2.0-only
/* Kernel packet drops: every skb freed with a drop reason, with the place
 * that freed it, the namespace and device it belonged to, its headers and,
 * for VXLAN, the VNI and the overlay headers.
 *
 * Four backends of the same probe, side by side; the loader autoloads one
 * (see loader/views/view_drops.c):
 *   fentry/kprobe on the kernel's drop function -- kfree_skb_reason(skb,
 *     reason) up to 6.10, sk_skb_reason_drop(sk, skb, reason) since 6.11;
 *   tp_btf/kfree_skb -- (skb, location, reason) since 5.17, 6.11 appended
 *     rx_sk, which this program never reads, so one program fits both;
 *   tracepoint/skb/kfree_skb -- the classic fallback, needs tracefs.
 * Tracepoints are global, so scoping to namespaces/devices happens here,
 * before anything is copied to userspace. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../kprobe/vx_drops.h"
#include "vx_skbread.bpf.h"
#include "vx_agg.bpf.h"
#include "vx_cap.bpf.h"
#include "vx_rb.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct vxd_config cfg = {
	.consumed_reason = ~0U,
	.vxlan_port = 4789,
};

#define VXD_RB_SIZE (256 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VXD_RB_SIZE);
} vxd_rb SEC(".maps");

/* Events the ring buffer had no room for: reported, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vxd_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXD_MAX_SCOPE);
	__type(key, struct vxd_scope_key);
	__type(value, __u8);
} vxd_scope SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXD_MAX_AGG);
	__type(key, struct vxd_agg_key);
	__type(value, __u64);
} vxd_agg SEC(".maps");

/* Sized to 1 here; the loader grows it only for --stack. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, VXD_STACK_DEPTH * sizeof(__u64));
} vxd_stacks SEC(".maps");

static __always_inline bool in_scope(__u32 netns, __u32 ifindex)
{
	struct vxd_scope_key k = { .netns = netns, .ifindex = ifindex };

	if (!cfg.scoped)
		return true;
	if (bpf_map_lookup_elem(&vxd_scope, &k))
		return true;
	k.ifindex = 0;
	return bpf_map_lookup_elem(&vxd_scope, &k) != NULL;
}

static __always_inline int handle_drop(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason,
				       __u8 backend)
{
	struct vxd_agg_key ak = {};
	struct net_device *dev;
	struct vxd_event *e;
	__u32 netns = 0, ifindex = 0, zero = 0;
	__u64 *cnt;

	/* consume_skb() paths are not drops; kernels that route them
	 * through kfree_skb_reason() mark them SKB_CONSUMED. */
	if (!skb || reason == cfg.consumed_reason)
		return 0;
	/* `vxray policy` wants only NETFILTER_DROP: skip the rest before
	 * they cost a ring-buffer slot. */
	if (cfg.only_one && reason != cfg.only_reason)
		return 0;

	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		ifindex = BPF_CORE_READ(dev, ifindex);
	} else {
		/* Socket-level drops have no device left: the socket's
		 * namespace still scopes them. */
		struct sock *sk = BPF_CORE_READ(skb, sk);

		if (sk)
			netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	}
	if (!in_scope(netns, ifindex))
		return 0;

	ak.location = location;
	ak.reason = reason;
	ak.netns = netns;
	vx_agg_add(&vxd_agg, &ak, 1);
	/* The agent reads the aggregate alone: no record, no wakeup. */
	if (cfg.count_only)
		return 0;

	/* A constant for the verifier: cfg is frozen .rodata. */
	e = bpf_ringbuf_reserve(&vxd_rb, VX_CAP_REC(sizeof(*e), cfg.snaplen), 0);
	if (!e) {
		cnt = bpf_map_lookup_elem(&vxd_lost, &zero);
		if (cnt)
			*cnt += 1;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->location = location;
	e->reason = reason;
	e->netns = netns;
	e->ifindex = ifindex;
	e->len = BPF_CORE_READ(skb, len);
	e->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	e->backend = backend;
	e->stack_id = cfg.stack ? bpf_get_stackid(ctx, &vxd_stacks, 0) : -1;
	parse_skb(skb, e, cfg.vxlan_port);
	if (cfg.snaplen)
		vx_cap_skb(skb, (struct vx_cap *)(e + 1), cfg.snaplen);
	bpf_ringbuf_submit(
		e, vx_rb_wakeup_flags(&vxd_rb, VXD_RB_SIZE, VX_CAP_REC(sizeof(*e), cfg.snaplen)));
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(vxd_tp_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	return handle_drop(ctx, skb, (__u64)location, reason, VXD_BE_TP_BTF);
}

SEC("tracepoint/skb/kfree_skb")
int vxd_tracepoint(struct trace_event_raw_kfree_skb *args)
{
	return handle_drop(args, args->skbaddr, (__u64)args->location, args->reason,
			   VXD_BE_TRACEPOINT);
}

/* fentry's context has no caller address. The stack seen from the
 * trampoline holds the traced function's own patched prologue (a few bytes
 * past its start) and, next, its caller: the return address into the
 * function that dropped, which is what the tracepoint's "location" names
 * too. Whether the trampoline's own frame comes first varies (6.1 shows it
 * on some calls and not others), so the prologue frame is found by
 * address, not by position. */
#define VXD_FENTRY_FRAMES 4

static __always_inline __u64 fentry_caller(void *ctx)
{
	__u64 ips[VXD_FENTRY_FRAMES] = {}, fn = bpf_get_func_ip(ctx);
	long n = bpf_get_stack(ctx, ips, sizeof(ips), 0) / (long)sizeof(ips[0]);

#pragma unroll
	for (int i = 0; i < VXD_FENTRY_FRAMES - 1; i++)
		if (i + 1 < n && ips[i] >= fn && ips[i] - fn < 32)
			return ips[i + 1];
	return n >= 2 ? ips[1] : 0;
}

SEC("fentry/kfree_skb_reason")
int BPF_PROG(vxd_fentry_old, struct sk_buff *skb, enum skb_drop_reason reason)
{
	return handle_drop(ctx, skb, fentry_caller(ctx), reason, VXD_BE_FENTRY);
}

SEC("fentry/sk_skb_reason_drop")
int BPF_PROG(vxd_fentry_new, struct sock *sk, struct sk_buff *skb, enum skb_drop_reason reason)
{
	return handle_drop(ctx, skb, fentry_caller(ctx), reason, VXD_BE_FENTRY);
}

/* At a kprobe on function entry the return address is the caller, which
 * is what the tracepoint's "location" means too. */
static __always_inline __u64 kprobe_caller(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	__u64 ret = 0;

	bpf_probe_read_kernel(&ret, sizeof(ret), (void *)PT_REGS_SP_CORE(regs));
	return ret;
#else
	return PT_REGS_RET_CORE(regs);
#endif
}

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(vxd_kprobe_old, struct sk_buff *skb, enum skb_drop_reason reason)
{
	return handle_drop(ctx, skb, kprobe_caller(ctx), reason, VXD_BE_KPROBE);
}

SEC("kprobe/sk_skb_reason_drop")
int BPF_KPROBE(vxd_kprobe_new, struct sock *sk, struct sk_buff *skb, enum skb_drop_reason reason)
{
	return handle_drop(ctx, skb, kprobe_caller(ctx), reason, VXD_BE_KPROBE);
}
