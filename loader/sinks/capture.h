/* SPDX-License-Identifier: GPL-2.0-only */
/* --pcap FILE / --snaplen N for the views that see packets (encap, trace,
 * drops, policy): the packet bytes the programs put behind each event
 * (bpf/include/vx_cap.h) written to a pcapng file (pcapng.c), one
 * interface per (namespace, device, hook) named "ns/dev/hook", each packet
 * with a comment naming its event, at its wall-clock time in ns.
 *
 * Lifecycle: vx_capture_open() before anything is attached (an unwritable
 * file is a usage error), vx_capture_snaplen() into the programs' rodata,
 * vx_capture_dp()/vx_capture_drop() per event, vx_capture_flush() every
 * tick, vx_capture_close() at the end (says how many packets it wrote). */
#ifndef VXRAY_CAPTURE_H
#define VXRAY_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "vx_cap.h"

struct vx_capture;
struct vx_event;
struct vx_drop;

/* *@out is NULL when --pcap was not given. 0, or a negative errno after
 * printing one sentence (exit 2: the file cannot be written). */
int vx_capture_open(struct vx_capture **out, const struct vx_opts *o);
/* The snap length for the programs' rodata: 0 without capture. */
uint16_t vx_capture_snaplen(const struct vx_capture *c);
/* Where the capture goes, for a message: its file, or "standard output". */
const char *vx_capture_where(const struct vx_capture *c);

/* A datapath event (struct vx_event) and the tail behind it, if any. */
void vx_capture_dp(struct vx_capture *c, const struct vx_event *e, const struct vx_cap *cap,
		   const char *netns, const char *dev, uint64_t mono_to_real);
/* A drop; @hook names the probe ("kfree_skb"), @dev may be "-". */
void vx_capture_drop(struct vx_capture *c, const struct vx_drop *d, const char *netns,
		     const char *dev, const char *hook, uint64_t mono_to_real);
void vx_capture_flush(struct vx_capture *c);
/* Close and say "wrote N packets to FILE"; @lost events never reached it. */
void vx_capture_close(struct vx_capture *c, uint64_t lost);
/* Close and remove the file, silently: the view failed before it ran. */
void vx_capture_discard(struct vx_capture *c);

#endif
