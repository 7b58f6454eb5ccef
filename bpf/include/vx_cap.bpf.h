/* SPDX-License-Identifier: GPL-2.0-only */
/* Filling the capture tail of a ring-buffer record (vx_cap.h). Only ever
 * called under `if (cfg.snaplen)`: a .rodata constant, so with capture off
 * the verifier drops the call and the reservation stays the bare event.
 *
 * @snaplen below is always that constant: the verifier then knows every
 * length's upper bound, which is what lets a variable-length copy into a
 * fixed-size reservation pass. */
#ifndef VXRAY_CAP_BPF_H
#define VXRAY_CAP_BPF_H

#include "vx_cap.h"

/* Bytes a record of @base bytes reserves with a snap length @snaplen. */
#define VX_CAP_REC(base, snaplen)                                                                  \
	((base) + ((snaplen) ? sizeof(struct vx_cap) + VX_CAP_ROOM(snaplen) : 0))

/* Zero data[from..room) in 8-byte words (from rounded down: the copy that
 * follows rewrites the bytes below @from). Ring-buffer space is not zeroed
 * by reserve; a short packet must not leave an earlier record's bytes in
 * its tail. Each store is bounded on its own index, behind a barrier:
 * clang would otherwise walk a pointer beside the counter, which the
 * verifier cannot relate to the bound. A volatile store keeps clang from
 * turning the loop into a memset call, which BPF cannot make. */
static __always_inline void vx_cap_zero(void *data, __u64 from, __u64 room)
{
	volatile __u64 *w = data;

	for (__u64 i = from / 8; i < room / 8; i++) {
		__u64 j = i;

		asm volatile("" : "+r"(j));
		if (j < room / 8)
			w[j] = 0;
	}
}

/* min(@v, @max) as a 64-bit value: the verifier must see the bounds (and
 * the zero test) on the very register passed as a length, and a 32-bit
 * value makes clang test a zero-extended copy and pass the original. The
 * barrier keeps the bound from being folded away before the use. */
static __always_inline __u64 vx_cap_min(__u64 v, __u64 max)
{
	if (v > max)
		v = max;
	asm volatile("" : "+r"(v));
	if (v > max)
		v = max;
	return v;
}

#ifdef __VMLINUX_H__
#include <bpf/bpf_core_read.h>

#define VX_CAP_HDR_UNSET ((__u16)~0U)

/* A hooked function's skb (kfree_skb and friends): no packet pointers, so
 * the bytes come from kernel memory, from the MAC header when there is one
 * in front of the network header, else from the network header, and only
 * from the linear part (head .. data + len - data_len): paged data would
 * need the frags walked, and the headers a reader wants are linear. */
static __always_inline void vx_cap_skb(struct sk_buff *skb, struct vx_cap *c, __u32 snaplen)
{
	unsigned char *head = BPF_CORE_READ(skb, head), *skdata = BPF_CORE_READ(skb, data);
	__u16 mac = BPF_CORE_READ(skb, mac_header), nh = BPF_CORE_READ(skb, network_header);
	__u32 len = BPF_CORE_READ(skb, len), data_len = BPF_CORE_READ(skb, data_len);
	__u64 doff = (__u64)(skdata - head), start, lin_end, n = 0;
	__u8 link = 0;

	if (mac != VX_CAP_HDR_UNSET && (nh == VX_CAP_HDR_UNSET || mac + 14 <= nh)) {
		start = mac;
		link = VX_CAP_ETH;
	} else if (nh != VX_CAP_HDR_UNSET) {
		start = nh;
		link = VX_CAP_RAW;
	} else {
		start = doff;
	}
	lin_end = doff + len - data_len;
	if (!head || len < data_len || doff > 0xffff || start > lin_end)
		link = 0;
	if (link) {
		n = vx_cap_min(lin_end - start, snaplen);
		c->orig_len = (__u32)(doff + len - start);
	}
	vx_cap_zero(c + 1, n, VX_CAP_ROOM(snaplen));
	if (n && bpf_probe_read_kernel(c + 1, n, head + start)) {
		vx_cap_zero(c + 1, 0, VX_CAP_ROOM(snaplen));
		n = 0;
		link = 0;
	}
	c->caplen = (__u16)n;
	c->link = link;
	c->pad = 0;
	if (!link)
		c->orig_len = 0;
}
#endif

#endif
