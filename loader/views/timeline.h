/* SPDX-License-Identifier: GPL-2.0-only */
/* Where `vxray trace`'s streams merge: every source's events wait here as
 * struct vx_tev, and each flush hands over, in timestamp order, those
 * older than the window (view_trace.c says why the window is what it is);
 * one that arrives after a later event was handed over is handed over
 * anyway, marked late, and counted. Pure: the caller says what time it
 * is, and lays the events out (traceline.c). */
#ifndef VXRAY_TIMELINE_H
#define VXRAY_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traceline.h"

struct vx_timeline {
	uint64_t window_ns; /* events are held this long */
	struct vx_tev *pend;
	size_t n_pend, cap_pend;
	uint64_t last_out_ts;
	uint64_t printed, late, flushes;
};

/* One event handed over by vx_timeline_flush(), @late when a later one
 * was handed over before it. */
typedef void (*vx_timeline_emit)(void *ctx, const struct vx_tev *e, bool late);

void vx_timeline_init(struct vx_timeline *tl, uint64_t window_ns);
/* A copy of the packet behind an event (NULL for NULL), for its struct
 * vx_tev: the timeline frees it once the event was handed over. */
struct vx_cap *vx_timeline_cap_copy(const struct vx_cap *c);
/* 0, or -ENOMEM (the caller still owns @e->cap). */
int vx_timeline_push(struct vx_timeline *tl, const struct vx_tev *e);
/* Push, or free @e->cap and warn that a @what was not shown. */
void vx_timeline_push_or_warn(struct vx_timeline *tl, const struct vx_tev *e, const char *what);
/* Hand over, in timestamp order, what is older than the window at @now
 * (everything when @all); returns how many events it handed over. */
size_t vx_timeline_flush(struct vx_timeline *tl, uint64_t now, bool all, vx_timeline_emit emit,
			 void *ctx);
/* Say how many events a source lost since *@seen (its loss counter was
 * @now then), and remember @now. */
void vx_timeline_say_lost(uint64_t now, uint64_t *seen, const char *what);
/* Say how many events were marked late, if any. */
void vx_timeline_say_late(const struct vx_timeline *tl);
/* Free what still waits, packets included. */
void vx_timeline_free(struct vx_timeline *tl);

#endif
