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

#include "datapath.h"
#include "opts.h"

struct vx_xmit;
struct bpf_object;
struct bpf_link;
struct ring_buffer;
struct vx_loop;
struct vx_hook_event;

/* One timed vxlan_xmit/vxlan_rcv or one delivered TCP segment; valid
 * during the call only. */
typedef void (*vx_hook_cb)(void *ctx, const struct vx_hook_event *e);

#define VX_LATHOOKS_MAX_LINKS 5

struct vx_lathooks {
	struct vx_xmit *skel;
	struct bpf_link *links[VX_LATHOOKS_MAX_LINKS];
	int n_links;
	const char *xmit_backend; /* "fentry", "kprobe", "tracepoint", or NULL */
	bool delivery;		  /* tcp_probe attached */
	bool rcv;		  /* vxlan_rcv timed (fentry, kprobe) */
	bool events;		  /* struct vx_hook_event records asked for */
	uint8_t sample;		  /* VX_SAMPLE_*: which calls and packets are timed */
	uint8_t sample_tshift;	  /* auto's aim, 2^this stamps a second and CPU;
				   * 0: VX_SAMPLE_TARGET */
	unsigned int refused;	  /* bit (enum vx_backend - 1): xmit backends
				   * the kernel refused */
	char why[256];		  /* why better xmit backends were refused */
	vx_hook_cb cb;
	void *ctx;
	struct ring_buffer *rb; /* vx_lathooks_add_to_loop() with events */
};

/* What vx_lathooks_open() loads, and for whom. */
enum {
	VX_LATHOOKS_XMIT = 1 << 0, /* vxlan_xmit's (and vxlan_rcv's) hooks */
	VX_LATHOOKS_HIST = 1 << 1, /* histograms only, always on: auto sampling
				    * aims at 2^VX_SAMPLE_HIST_SHIFT stamps a second */
};

/* Load and attach; @be forces the xmit backend (VX_BACKEND_AUTO: best
 * first). Without VX_LATHOOKS_XMIT in @flags only the delivery hook loads
 * (vxlan_xmit's and vxlan_rcv's programs run for every frame every device
 * of the host sends, a cost a view that does not read those stages need
 * not pay). @sample (VX_SAMPLE_*, 0 with a @cb) says which calls and
 * packets are timed, here and in the datapath that vx_lathooks_dp_config()
 * joins to these hooks; a @cb also gets one struct vx_hook_event per timed
 * vxlan_xmit and vxlan_rcv and per TCP segment delivered through a watched
 * VXLAN device (`vxray trace`), once vx_lathooks_add_to_loop() ran. Failure
 * to get either stage is not fatal: the stages that could not be hooked are
 * reported missing. Returns a negative errno only when a forced backend is
 * refused, having printed why. */
int vx_lathooks_open(struct vx_lathooks *h, enum vx_backend be, uint8_t sample, unsigned int flags,
		     vx_hook_cb cb, void *ctx);
/* The event ring in @loop (with a callback); 0 or a negative errno. */
int vx_lathooks_add_to_loop(struct vx_lathooks *h, struct vx_loop *loop);
/* Deliver what is already in the ring. */
void vx_lathooks_drain(struct vx_lathooks *h);
/* Events the ring buffer had no room for, since open. */
uint64_t vx_lathooks_lost(const struct vx_lathooks *h);
/* Make @obj's latency maps (vxl_*) these hooks' maps. Call before loading
 * @obj; a no-op when nothing was loaded. */
int vx_lathooks_share(const struct vx_lathooks *h, struct bpf_object *obj);
/* vx_dp_opts.before_load for a view that joins latency: @in's programs
 * (tc, and XDP when loaded) stamp and join with these hooks' sampling
 * into their maps, and leave a delivery stamp only when tcp_probe is
 * there to end it. */
int vx_lathooks_dp_config(const struct vx_lathooks *h, struct vx_dp_inst *in);
/* Time vxlan_rcv in this namespace (@on), or no longer. */
int vx_lathooks_watch_ns(const struct vx_lathooks *h, uint32_t netns, bool on);
/* Time vxlan_xmit on this device. */
int vx_lathooks_watch(const struct vx_lathooks *h, uint32_t netns, uint32_t ifindex, uint32_t vni,
		      bool on);
/* vx_dp_opts.on_change for a view that runs these hooks beside a
 * datapath: a VXLAN device that appears or vanishes is timed or no longer. */
void vx_lathooks_on_change(const struct vx_lathooks *h, const struct vx_dp_watched *w, bool added);
/* After vx_dp_attach(): time every namespace and VXLAN device @dp watches. */
void vx_lathooks_watch_dp(const struct vx_lathooks *h, const struct vx_dp *dp);
/* vx_dp_opts.on_netns likewise: a followed namespace created again. */
void vx_lathooks_on_netns(const struct vx_lathooks *h, uint32_t old_inum, uint32_t new_inum);
void vx_lathooks_close(struct vx_lathooks *h);

#endif
