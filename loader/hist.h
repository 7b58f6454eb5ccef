/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading the kernel's log-linear latency histograms (struct vx_lat_hist,
 * four slots per power of two): merging per-CPU copies, percentiles, a
 * bimodality test, and bpftrace-style hist() output. */
#ifndef VXRAY_HIST_H
#define VXRAY_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vxray.h"

/* Add @src into @dst (count, sum and slots add; max is the larger). */
void vx_hist_merge(struct vx_lat_hist *dst, const struct vx_lat_hist *src);
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

#endif
