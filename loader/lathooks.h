/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel-hook half of `vxray latency` (bpf/kprobe/vx_xmit.bpf.c): the
 * vxlan_xmit entry->return stage with the best backend this kernel allows
 * (fentry/fexit, kprobe/kretprobe, net_dev_start_xmit/net_dev_xmit), the
 * vxlan_rcv entry->return stage where the backend is fentry or kprobe, and
 * the delivery stage on tp_btf/tcp_probe. Loaded before the datapath, whose
 * latency maps are then made the same as these with vx_lathooks_share(). */
#ifndef VXRAY_LATHOOKS_H
#define VXRAY_LATHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"

struct vx_xmit;
struct bpf_object;
struct bpf_link;

#define VX_LATHOOKS_MAX_LINKS 5

struct vx_lathooks {
	struct vx_xmit *skel;
	struct bpf_link *links[VX_LATHOOKS_MAX_LINKS];
	int n_links;
	const char *xmit_backend;	/* "fentry", "kprobe", "tracepoint", or NULL */
	bool delivery;			/* tcp_probe attached */
	bool rcv;			/* vxlan_rcv timed (fentry, kprobe) */
	unsigned int refused;		/* bit (enum vx_backend - 1): xmit backends
					 * the kernel refused */
	char why[256];			/* why better xmit backends were refused */
};

/* Load and attach; @be forces the xmit backend (VX_BACKEND_AUTO: best
 * first). Failure to get either stage is not fatal: the stages that could
 * not be hooked are reported missing. Returns a negative errno only when
 * a forced backend is refused, having printed why. */
int vx_lathooks_open(struct vx_lathooks *h, enum vx_backend be);
/* Make @obj's latency maps (vxl_*) these hooks' maps. Call before loading
 * @obj; a no-op when nothing was loaded. */
int vx_lathooks_share(const struct vx_lathooks *h, struct bpf_object *obj);
/* Time vxlan_rcv in this namespace. */
int vx_lathooks_watch_ns(const struct vx_lathooks *h, uint32_t netns);
/* Time vxlan_xmit on this device. */
int vx_lathooks_watch(const struct vx_lathooks *h, uint32_t netns, uint32_t ifindex,
		      uint32_t vni, bool on);
void vx_lathooks_close(struct vx_lathooks *h);

#endif
