/* SPDX-License-Identifier: GPL-2.0-only */
/* Adaptive ring-buffer wakeups. Waking the consumer for every record costs
 * a context switch per event, which caps the event rate far below what the
 * ring and the consumer can carry. So a record is submitted without a
 * wakeup, except the one record that takes the ring past an eighth of its
 * size: that one wakes the consumer, which then drains everything there
 * is. Forcing a wakeup for every record above the mark instead costs an
 * irq_work each while the consumer is already busy (6 us per event in
 * bench/vxbench prog). A quiet ring is still emptied: the userspace loop
 * (loader/common/loop.c) drains every ring buffer on a short timer
 * (VX_LOOP_DRAIN_MS), which bounds the added delay of a lone event. */
#ifndef VXRAY_RB_BPF_H
#define VXRAY_RB_BPF_H

#include <bpf/bpf_helpers.h>

/* Flags for bpf_ringbuf_submit() of a reserved record of @rec bytes on @rb,
 * a ring of @size bytes. The pending count already includes the record
 * (reserve advanced the producer position); the 8-byte record header is
 * left out of @rec, which only widens the crossing window by 8 bytes. */
#define vx_rb_wakeup_flags(rb, size, rec)                                                          \
	({                                                                                         \
		__u64 __avail = bpf_ringbuf_query((rb), BPF_RB_AVAIL_DATA);                        \
		__avail > (size) / 8 && __avail - (rec) <= (size) / 8 ? BPF_RB_FORCE_WAKEUP :      \
									BPF_RB_NO_WAKEUP;          \
	})

#endif
