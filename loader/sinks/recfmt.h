/* SPDX-License-Identifier: GPL-2.0-only */
/* Ring-buffer records turned into output: the datapath's struct vx_event
 * as `vxray encap` and `vxray trace` print it, the TCP retransmit record
 * (struct vxr_event) and the netfilter drop record of nf_hook_slow
 * (struct vxn_event). The records come from programs that parse packets
 * nobody controls, so every function here takes a record of any length and
 * fields of any value; none looks anything up (the caller passes the names
 * it resolved), so libFuzzer drives them as they are
 * (tests/fuzz/fuzz_dpevent.c, fuzz_retrans.c, fuzz_nfhook.c). */
#ifndef VXRAY_RECFMT_H
#define VXRAY_RECFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dropsrc.h"
#include "inventory.h"
#include "policy.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_nfhook.h"
#include "../bpf/kprobe/vx_retrans.h"

/* What the caller resolved for one record. */
struct vx_rec_names {
	const char *netns;     /* "host", an `ip netns` name or "netns:<inum>" */
	const char *device;    /* "?" when unknown */
	uint64_t mono_to_real; /* added to the kernel timestamp: wall clock */
};

/* ---- datapath events (encap, trace) -------------------------------------- */

/* One `vxray encap` line, or one JSON object line. */
void vx_encap_print(FILE *f, bool json, const struct vx_event *e, const struct vx_rec_names *n);

/* The inner packet of a datapath event in words, for a `vxray trace`
 * line (traceline.c lays the line out, the same for every source). */
void vx_dp_fmt_inner(const struct vx_pkt *p, char *out, size_t len);

/* ---- TCP retransmits ---------------------------------------------------- */

/* One `vxray retrans` line or JSON object line; @t is the tunnel the flow
 * leaves through (NULL: none known). */
void vx_retrans_print(FILE *f, bool json, const struct vxr_event *e, bool full_size,
		      const struct vx_vxlan_dev *t, const struct vx_rec_names *n);

/* ---- netfilter drops (policy) ------------------------------------------- */

/* What `vxray policy` prints for one netfilter drop: @hook and @family
 * the drop's, @location and @stack (@n_stack lines) already named. */
struct vx_nf_drop_out {
	const struct vxd_event *e;
	enum vx_nf_hook hook;
	const char *family; /* "ipv4", "ipv6", "?" */
	const char *location;
	const char *const *stack;
	int n_stack;
};
void vx_nf_drop_print(FILE *f, bool json, const struct vx_nf_drop_out *d,
		      const struct vx_rec_names *n);
/* "ipv4", "ipv6" or "?": @family, else the record's own headers. */
const char *vx_nf_family_name(int family, const struct vxd_event *e);

#endif
