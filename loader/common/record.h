/* SPDX-License-Identifier: GPL-2.0-only */
/* Ring-buffer records as the engines take them from the kernel: checked
 * against their size and copied out of the ring. The programs write them
 * (bpf/include/vxray.h, bpf/kprobe/vx_retrans.h, bpf/include/vx_cap.h);
 * these are the only readers. */
#ifndef VXRAY_RECORD_H
#define VXRAY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vx_cap.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_retrans.h"

/* A datapath record into @e: 0, or -EINVAL when @len is short of a
 * struct vx_event (nothing to use). */
int vx_dp_event_decode(const void *data, size_t len, struct vx_event *e);
/* A retransmit record into @e: 0, or -EINVAL when short. *@full_size: a
 * retransmit of at least one MSS, the MTU fingerprint. */
int vx_retrans_decode(const void *data, size_t len, struct vxr_event *e, bool *full_size);
/* The capture tail of a ring record of @size bytes whose event part is
 * @base bytes, or NULL when it carries none or is inconsistent (a caplen
 * past the snap length or past the record). */
const struct vx_cap *vx_cap_of(const void *rec, size_t base, size_t size, uint16_t snaplen);

#endif
