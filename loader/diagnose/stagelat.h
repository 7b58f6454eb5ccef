/* SPDX-License-Identifier: GPL-2.0-only */
/* Per-stage latency over a diagnosis window (encap, wire, decap,
 * delivery): the datapath programs with latency joining (datapath.c,
 * lathooks.c) on every VXLAN device and underlay of the chosen
 * namespaces, their histograms read at the end of the window, again at a
 * third of it for the "first part" baseline, and around the probe's own
 * burst of full-size pings and TCP, whose queueing is vxray's doing and is
 * taken out of every stage.
 *
 * Lifecycle: vx_stagelat_start() -> vx_stagelat_tick() at each loop tick
 * and vx_stagelat_burst() at the probe's marks -> vx_stagelat_fill() ->
 * vx_stagelat_stop(). */
#ifndef VXRAY_STAGELAT_H
#define VXRAY_STAGELAT_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath.h"
#include "baseline.h"
#include "findings.h"
#include "hist.h"
#include "lathooks.h"
#include "opts.h"

#define VX_STAGELAT_MAX_ROWS 64

struct vx_stagelat_row {
	struct vx_lat_key k;
	struct vx_lat_hist h;
};

struct vx_stagelat {
	struct vx_opts dpo; /* the view's options, narrowed to its namespaces */
	struct vx_dp dp;
	struct vx_lathooks hooks;
	bool up; /* attached: there is something to read */
	/* At the end of the window's first third. */
	struct vx_stagelat_row mid[VX_STAGELAT_MAX_ROWS];
	int n_mid;
	bool mid_taken;
	/* Around the probe's own burst (full-size pings, the TCP exchange). */
	struct vx_stagelat_row burst0[VX_STAGELAT_MAX_ROWS], burst1[VX_STAGELAT_MAX_ROWS];
	int n_burst0, n_burst1;
};

/* Attach the datapath with latency joining to every VXLAN device and
 * underlay of the @n namespaces @names, with the rest of @o. A negative
 * errno (already printed) when it cannot: then the caller goes without. */
int vx_stagelat_start(struct vx_stagelat *s, const struct vx_opts *o,
		      const char names[][VX_NETNS_NAME_MAX], int n);
/* The flow table (vxp_flow) the datapath learns TCP flows' tunnels into. */
int vx_stagelat_flow_fd(struct vx_stagelat *s);
/* At each tick, @elapsed_ns into a window of @window_ns: keeps the
 * histograms as they are once the first third has passed. */
void vx_stagelat_tick(struct vx_stagelat *s, uint64_t elapsed_ns, uint64_t window_ns);
/* The probe's burst begins (@end false) or ends. */
void vx_stagelat_burst(struct vx_stagelat *s, bool end);
/* One ev->lat entry per watched device and stage with enough samples,
 * against @base (@baseline says where it came from) when it knows the stage,
 * else against the window's first third. */
void vx_stagelat_fill(struct vx_stagelat *s, struct vx_evidence *ev, const struct vx_baseline *base,
		      const char *baseline);
void vx_stagelat_stop(struct vx_stagelat *s);

#endif
