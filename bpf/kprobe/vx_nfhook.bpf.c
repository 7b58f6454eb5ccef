// SPDX-License-Identifier: GPL-2.0-only
/* Netfilter verdicts that drop: nf_hook_slow(skb, state, e, s) returns
 * < 0 when a rule said NF_DROP (-EPERM, or the errno NF_DROP_ERR carried).
 * state gives the hook, family, devices and namespace the rules ran with,
 * so nothing has to be inferred from a stack.
 *
 * Two backends side by side; the loader autoloads one:
 *   fexit/nf_hook_slow -- arguments and return value in one program;
 *   kprobe + kretprobe -- the entry stashes skb and state per task, the
 *     return reads them back.
 * On a drop nf_hook_slow has already freed the skb: its headers are read
 * with bpf_probe_read_kernel right after, before the data is reused in
 * practice (best effort, never trusted for a length); the hook state lives
 * on the caller's stack and is intact. Hosts that allow neither use kfree_skb (vx_drops.bpf.c). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../kprobe/vx_nfhook.h"
#include "vx_skbread.bpf.h"
#include "vx_agg.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct vxn_config cfg = {
	.vxlan_port = 4789,
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} vxn_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vxn_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXD_MAX_SCOPE);
	__type(key, struct vxd_scope_key);
	__type(value, __u8);
} vxn_scope SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VXD_MAX_AGG);
	__type(key, struct vxn_agg_key);
	__type(value, __u64);
} vxn_agg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, VXD_STACK_DEPTH * sizeof(__u64));
} vxn_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct vxn_frame);
} vxn_tasks SEC(".maps");

static __always_inline bool in_scope(__u32 netns, __u32 ifindex)
{
	struct vxd_scope_key k = { .netns = netns, .ifindex = ifindex };

	if (!cfg.scoped)
		return true;
	if (ifindex && bpf_map_lookup_elem(&vxn_scope, &k))
		return true;
	k.ifindex = 0;
	return bpf_map_lookup_elem(&vxn_scope, &k) != NULL;
}

static __always_inline int handle_verdict(void *ctx, struct sk_buff *skb,
					  struct nf_hook_state *state, __u64 caller, int ret,
					  __u8 backend)
{
	struct vxn_agg_key ak = {};
	struct net_device *in, *out;
	struct vxn_event *e;
	__u32 netns, in_if = 0, out_if = 0, zero = 0;
	__u64 *cnt;

	if (ret >= 0 || !skb || !state)
		return 0;
	netns = BPF_CORE_READ(state, net, ns.inum);
	in = BPF_CORE_READ(state, in);
	out = BPF_CORE_READ(state, out);
	if (in)
		in_if = BPF_CORE_READ(in, ifindex);
	if (out)
		out_if = BPF_CORE_READ(out, ifindex);
	if (!in_scope(netns, in_if) && !(out_if && in_scope(netns, out_if)))
		return 0;

	ak.netns = netns;
	ak.hook = BPF_CORE_READ(state, hook);
	ak.pf = BPF_CORE_READ(state, pf);
	vx_agg_add(&vxn_agg, &ak, 1);

	e = bpf_ringbuf_reserve(&vxn_rb, sizeof(*e), 0);
	if (!e) {
		cnt = bpf_map_lookup_elem(&vxn_lost, &zero);
		if (cnt)
			*cnt += 1;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->d.ts_ns = bpf_ktime_get_ns();
	e->d.location = caller;
	e->d.netns = netns;
	e->d.ifindex = in_if ? in_if : out_if;
	/* No skb->len: the freed sk_buff's own fields are the first to be
	 * reused (the 6.1 guest showed garbage there), the loader prints
	 * "len=-". */
	e->d.protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	e->d.backend = backend;
	e->d.stack_id = cfg.stack ? bpf_get_stackid(ctx, &vxn_stacks, 0) : -1;
	e->hook = ak.hook;
	e->pf = ak.pf;
	e->in_ifindex = in_if;
	e->out_ifindex = out_if;
	e->ret = ret;
	parse_skb(skb, &e->d, cfg.vxlan_port);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Seen from the trampoline the second frame is nf_hook_slow's caller. */
static __always_inline __u64 fentry_caller(void *ctx)
{
	__u64 ips[2] = {};

	if (bpf_get_stack(ctx, ips, sizeof(ips), 0) < (long)sizeof(ips))
		return 0;
	return ips[1];
}

SEC("fexit/nf_hook_slow")
int BPF_PROG(vxn_fexit, struct sk_buff *skb, struct nf_hook_state *state,
	     const struct nf_hook_entries *e, unsigned int s, int ret)
{
	return handle_verdict(ctx, skb, state, fentry_caller(ctx), ret, VXD_BE_FENTRY);
}

SEC("kprobe/nf_hook_slow")
int BPF_KPROBE(vxn_kprobe, struct sk_buff *skb, struct nf_hook_state *state)
{
	__u64 id = bpf_get_current_pid_tgid(), ret_addr = 0;
	struct vxn_frame zero = {}, *f;
	__u32 d;

	f = bpf_map_lookup_elem(&vxn_tasks, &id);
	if (!f) {
		bpf_map_update_elem(&vxn_tasks, &id, &zero, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&vxn_tasks, &id);
		if (!f)
			return 0;
	}
	d = f->depth;
	f->depth = d + 1; /* counted even when too deep, so returns pair up */
	if (d >= VXN_MAX_NEST)
		return 0;
#if defined(__TARGET_ARCH_x86)
	/* at entry the return address is on top of the stack */
	bpf_probe_read_kernel(&ret_addr, sizeof(ret_addr), (void *)PT_REGS_SP_CORE(ctx));
#endif
	f->skb[d] = (__u64)skb;
	f->state[d] = (__u64)state;
	f->caller[d] = ret_addr;
	return 0;
}

SEC("kretprobe/nf_hook_slow")
int BPF_KRETPROBE(vxn_kretprobe, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vxn_frame *f = bpf_map_lookup_elem(&vxn_tasks, &id);
	__u64 skb, state, caller;
	__u32 d;

	if (!f || !f->depth)
		return 0;
	d = --f->depth;
	if (d >= VXN_MAX_NEST)
		return 0;
	skb = f->skb[d];
	state = f->state[d];
	caller = f->caller[d];
	if (!d)
		bpf_map_delete_elem(&vxn_tasks, &id);
	return handle_verdict(ctx, (struct sk_buff *)skb, (struct nf_hook_state *)state, caller,
			      ret, VXD_BE_KPROBE);
}
