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
#include "names.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_nfhook.h"
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

/* An nf_hook_slow drop record: the hook and family the kernel ran the
 * rules with, and where in its stack the function that ran the hook is. */
struct vx_nf_drop_rec {
	struct vxn_event ev;
	enum vx_nf_hook hook;
	int family;	 /* 4, 6, or 0 (bridge, arp, unknown) */
	int first_frame; /* stack index of the hook's caller */
};

/* Decode @data (a struct vxn_event) whose stack is @ips with the symbol
 * names @syms (NULL for one vxray could not name), @n of each: 0, or
 * -EINVAL when short. The stack of fexit starts with the BPF program, its
 * trampoline and nf_hook_slow, kretprobe's at the caller: first_frame
 * skips what is not the caller. */
int vx_nf_drop_decode(const void *data, size_t len, const char *const *syms, int n,
		      struct vx_nf_drop_rec *out);

#endif
