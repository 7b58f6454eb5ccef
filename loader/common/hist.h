/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading the kernel's log-linear latency histograms (struct vx_lat_hist,
 * four slots per power of two): merging per-CPU copies, percentiles, a
 * bimodality test, Prometheus buckets, and the rows `vxray latency` prints
 * with bpftrace-style hist() output. What the map holds is taken as it
 * is: any count, sum, max or slot value must read without overflow, and
 * any stage number (tests/fuzz/fuzz_lathist.c). */
#ifndef VXRAY_HIST_H
#define VXRAY_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vxray.h"

struct jw;

/* Add @src into @dst (count, sum and slots add; max is the larger). */
void vx_hist_merge(struct vx_lat_hist *dst, const struct vx_lat_hist *src);
/* @dst = the sum of @ncpu per-CPU copies (a per-CPU map's value). */
void vx_hist_sum(struct vx_lat_hist *dst, const struct vx_lat_hist *percpu, int ncpu);
/* Cumulative-free bucket counts for Prometheus: @counts[i] (0 <= i < @n)
 * gets the samples of every slot whose values all lie at or below
 * @bounds[i] and above @bounds[i - 1]; @counts[@n] the rest (+Inf).
 * @bounds ascending; exact when they are slot boundaries. */
void vx_hist_buckets(const struct vx_lat_hist *h, const uint64_t *bounds, int n, uint64_t *counts);
/* The stage's name ("encap", ..., "rcv") and what it spans, or NULL for a
 * number that is no stage. */
const char *vx_lat_stage_name(unsigned int stage);
const char *vx_lat_stage_what(unsigned int stage);
/* The value below which a fraction @q (0..1) of the samples lie,
 * interpolated linearly inside its slot and never above max_ns; 0 for an
 * empty histogram. */
uint64_t vx_hist_quantile(const struct vx_lat_hist *h, double q);
/* Two separate humps: each at least 10% of the samples, their peaks at
 * least two powers of two apart, and the trough between them below half
 * the smaller peak. The peaks' lower bounds go to @lo and @hi when true. */
bool vx_hist_bimodal(const struct vx_lat_hist *h, uint64_t *lo, uint64_t *hi);
/* "850ns", "12.3us", "4.10ms", "1.20s". */
void vx_fmt_ns(uint64_t ns, char *buf, size_t len);
/* One line per slot from the first non-empty one to the last, with a bar
 * scaled to the fullest, each line prefixed with @indent. */
void vx_hist_print(FILE *f, const struct vx_lat_hist *h, const char *indent);
/* One histogram row of `vxray latency -j` (an object inside "hists"), and
 * the same as text lines. */
void vx_lat_row_json(struct jw *j, const char *netns, const char *device, uint32_t vni,
		     const struct vx_lat_hist *h);
void vx_lat_row_text(FILE *f, const char *netns, const char *device, uint32_t vni,
		     const struct vx_lat_hist *h);

#endif
