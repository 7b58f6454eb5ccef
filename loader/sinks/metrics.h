/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus text exposition (format 0.0.4) for `--metrics` and
 * `vxray agent`: a registry of counter, gauge and histogram families with
 * labels, refilled from BPF map reads every --interval. httpd.h serves it
 * on /metrics.
 *
 * Values are set, not added: the kernel's maps already hold totals since
 * start, so each refresh writes the current total of every series it
 * sees. A series that stops being refreshed keeps its last value, which is
 * what Prometheus expects of a counter.
 *
 * Memory is bounded: each family holds at most max_series label sets; a
 * new set beyond that is refused and counted in
 * vxray_metrics_series_refused_total{family="..."}, so a flood of flows
 * or VTEPs can slow no scrape and exhaust no memory. */
#ifndef VXRAY_METRICS_H
#define VXRAY_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VX_METRICS_MAX_LABELS 10 /* vxray_vxlan_device_info has 9 */
#define VX_METRICS_MAX_BUCKETS 32

enum vx_metric_type {
	VX_METRIC_COUNTER,
	VX_METRIC_GAUGE,
	VX_METRIC_HISTOGRAM,
};

struct vx_metrics;
struct vx_mfamily;

struct vx_metrics *vx_metrics_new(void);
void vx_metrics_free(struct vx_metrics *m);

/* Register a family. @labels is a NULL-terminated list of label names (or
 * NULL for none); @max_series caps its label sets. Returns NULL with errno
 * EINVAL for a name or label that is not a valid Prometheus identifier, or
 * EEXIST for a name already registered. */
struct vx_mfamily *vx_metrics_add(struct vx_metrics *m, const char *name, enum vx_metric_type type,
				  const char *help, const char *const *labels,
				  unsigned int max_series);
/* A histogram family: @n_bounds ascending upper bounds (in base units,
 * e.g. seconds); +Inf is implied. */
struct vx_mfamily *vx_metrics_add_histogram(struct vx_metrics *m, const char *name,
					    const char *help, const char *const *labels,
					    const double *bounds, int n_bounds,
					    unsigned int max_series);

/* Writers take the registry lock around a whole refresh so that a scrape
 * never sees half of one. */
void vx_metrics_lock(struct vx_metrics *m);
void vx_metrics_unlock(struct vx_metrics *m);

/* Set a counter or gauge series; @values holds one value per label name.
 * Returns 0, -ENOSPC when the family is full (the refusal is counted), or
 * -EINVAL for a histogram family or a wrong number of values. */
int vx_metric_set(struct vx_mfamily *f, const char *const *values, double v);
/* Count a label set the caller could not even offer (its own table was
 * full) as refused. */
void vx_metric_refuse(struct vx_mfamily *f);
/* Add @delta to a counter or gauge series (created at 0), for sources
 * that report growth since their last read rather than totals. */
int vx_metric_add(struct vx_mfamily *f, const char *const *values, double delta);
/* Set a histogram series: @counts has n_bounds + 1 per-bucket
 * (not cumulative) counts, the last for observations above every bound. */
int vx_metric_set_histogram(struct vx_mfamily *f, const char *const *values, const uint64_t *counts,
			    double sum);
/* Forget every series of @f (for gauges that describe the current state,
 * such as the programs attached now). */
void vx_metric_clear(struct vx_mfamily *f);

/* Render the whole registry; the caller holds no lock. Returns bytes
 * written or a negative errno. */
int vx_metrics_render(struct vx_metrics *m, FILE *out);
/* The same into a malloc'd buffer (*buf, *len); the caller frees it. */
int vx_metrics_render_buf(struct vx_metrics *m, char **buf, size_t *len);

/* Escape a label value per the exposition format (\\, \" and \n). */
void vx_metrics_escape_label(const char *in, FILE *out);

#endif
