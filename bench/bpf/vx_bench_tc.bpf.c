// SPDX-License-Identifier: GPL-2.0-only
/* The baseline for bench/: a tc program that does nothing. Its cost through
 * BPF_PROG_TEST_RUN is the floor that vxray's tc programs are compared
 * with in the same run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define VX_CTX struct __sk_buff
#include "vx_lat.bpf.h"
#include "vx_parse.h"

#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int vxb_tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/* The timestamp alone: every vxray program takes one, so this is the part
 * of the per-packet cost that no parser change can remove. */
SEC("tc")
int vxb_tc_ktime(struct __sk_buff *skb)
{
	volatile __u64 ts = bpf_ktime_get_ns();

	(void)ts;
	return TC_ACT_UNSPEC;
}

/* The cheap clock, for the trade-off: bpf_ktime_get_coarse_ns() reads the
 * last tick's time without touching the clocksource, but moves only once a
 * tick (1-4 ms), far coarser than the microsecond stages latency measures. */
SEC("tc")
int vxb_tc_coarse(struct __sk_buff *skb)
{
	volatile __u64 ts = bpf_ktime_get_coarse_ns();

	(void)ts;
	return TC_ACT_UNSPEC;
}

/* The floor of the latency join: the clock, then one stamp read and one
 * stamp write through vxray's own helpers (vx_lat.bpf.h), the slot found
 * every time, as each hook of a joined packet does. What vxray's
 * latency-on programs cost beyond this row is the parse and the
 * bookkeeping. */
SEC("tc")
int vxb_tc_join(struct __sk_buff *skb)
{
	struct vx_pkt_id id = { .saddr = 1, .daddr = 2, .seq = 3, .proto = 6, .family = 4 };
	struct vx_lat_stamp old, st = { .ts_ns = bpf_ktime_get_ns(), .segs = 1 };
	struct vx_stamp_slot *sl;
	__u32 h = vx_stamp_hash(&id);

	sl = vx_stamp_slot(h);
	if (!sl)
		return TC_ACT_UNSPEC;
	if (vx_stamp_get(sl, &id, h, &old))
		st.at = old.at + 1;
	vx_stamp_put(sl, &id, h, &st);
	return TC_ACT_UNSPEC;
}

/* The parse floor, on the devices (live, `vxbench attach -P`): what
 * counting every frame exactly cannot do without: vx_handle's own parse
 * (vx_parse_frame: outer Ethernet, IP, UDP and VXLAN on the underlay, the
 * inner frame on both devices) and one per-CPU counter for the result. vxray's programs cost more
 * than this by the namespace, the per-tunnel tables and latency. */
const volatile __u16 vxb_vxlan_ports[1] = { VX_VXLAN_PORT };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VX_C__MAX);
	__type(key, __u32);
	__type(value, __u64);
} vxb_cnt SEC(".maps");

static __always_inline void vxb_parse_count(struct __sk_buff *skb, bool underlay)
{
	struct vx_pkt p;
	__u32 idx, off;
	__u64 *n;

	__builtin_memset(&p, 0, sizeof(p));
	idx = (__u32)vx_parse_frame(skb, underlay, vxb_vxlan_ports, 1, &p, &off);
	n = bpf_map_lookup_elem(&vxb_cnt, &idx);
	if (n)
		(*n)++;
}

SEC("tc")
int vxb_tc_parse_ul(struct __sk_buff *skb)
{
	vxb_parse_count(skb, true);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int vxb_tc_parse_vx(struct __sk_buff *skb)
{
	vxb_parse_count(skb, false);
	return TC_ACT_UNSPEC;
}
