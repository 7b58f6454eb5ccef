/* SPDX-License-Identifier: GPL-2.0-only */
/* Adaptive ring-buffer wakeups. Waking the consumer for every record costs
 * a context switch per event, which caps the event rate far below what the
 * ring and the consumer can carry. So a record is submitted without a
 * wakeup while the ring holds less than an eighth of its size; above that
 * the consumer is woken at once. A quiet ring is still emptied: the
 * userspace loop (loader/loop.c) drains every ring buffer on a short timer
 * (VX_LOOP_DRAIN_MS), which bounds the added delay of a lone event. */
#ifndef VXRAY_RB_BPF_H
#define VXRAY_RB_BPF_H

#include <bpf/bpf_helpers.h>

/* Flags for bpf_ringbuf_submit() on @rb, a ring of @size bytes. */
#define vx_rb_wakeup_flags(rb, size)                                          \
	(bpf_ringbuf_query((rb), BPF_RB_AVAIL_DATA) > (size) / 8 ?             \
		 BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)

#endif
