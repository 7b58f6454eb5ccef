/* SPDX-License-Identifier: GPL-2.0-only */
/* The latency baseline `vxray agent` keeps for `vxray diagnose`: nobody
 * saves a healthy `diagnose -j` the week before things go wrong, so the
 * agent, which runs all the time, does.
 *
 * Every stage of every watched device (netns, device, stage: as diagnose
 * names them) is summarised once per window of VX_BASESTATE_INTERVALS
 * agent intervals (5 minutes at the default 1 s): the window's own
 * histogram (the datapath's cumulative one minus the last reading) gives a
 * median and a p90 when it holds enough samples. The last
 * VX_BASESTATE_WINDOWS of them are kept per stage, and its baseline is
 * their lower quartile: healthy unless a fault has lasted three quarters
 * of the history (8 hours at the default interval).
 *
 * The state is one file, DIR/baseline.json (default DIR /var/lib/vxray),
 * rewritten atomically (a temporary file renamed over it) at the end of
 * each window and read back when an agent starts, so a restart keeps the
 * history. It is a JSON document of "type":"baseline" whose "latency"
 * array has the objects `--baseline` reads (netns, device, stage, p50_us,
 * p90_us; the first two only for stages with VX_BASESTATE_MIN_WINDOWS
 * windows) plus the windows themselves ("windows": [[p50, p90], ...]).
 * Bounded: VX_BASESTATE_KEYS stages; more are left out and counted. */
#ifndef VXRAY_BASESTATE_H
#define VXRAY_BASESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxray.h"

#define VX_BASESTATE_DIR "/var/lib/vxray"
#define VX_BASESTATE_FILE "baseline.json"
#define VX_BASESTATE_KEYS 256
#define VX_BASESTATE_WINDOWS 96
#define VX_BASESTATE_MIN_WINDOWS 3
#define VX_BASESTATE_INTERVALS 300
/* Fewer samples than this in a window say nothing about it. */
#define VX_BASESTATE_MIN_SAMPLES 8

struct vx_basestate;

/* The state in @dir (made when the first window closes) with windows of
 * @window_ns, loaded from what an earlier agent left there. NULL with one
 * sentence in @err when @dir is there but cannot be written; a state file
 * that cannot be read is set aside (renamed to baseline.json.bad) with a
 * warning. */
struct vx_basestate *vx_basestate_open(const char *dir, uint64_t window_ns, char *err,
				       size_t errlen);
/* One stage's cumulative histogram as read this tick (since the datapath
 * loaded); several for one stage (one per VNI) add up. */
void vx_basestate_see(struct vx_basestate *b, const char *netns, const char *device,
		      const char *stage, const struct vx_lat_hist *cum);
/* The tick ends at @now_ns (monotonic): what each stage counted since the
 * last tick joins its window (a histogram that shrank was reloaded and
 * counts from zero), and a window that is over is closed and the file
 * rewritten. 0, or a negative errno when it cannot be
 * written (said once, with the path). */
int vx_basestate_tick(struct vx_basestate *b, uint64_t now_ns);
/* Stages beyond VX_BASESTATE_KEYS left out so far. */
uint64_t vx_basestate_dropped(const struct vx_basestate *b);
void vx_basestate_close(struct vx_basestate *b);

/* diagnose's side: the state in @dir as a baseline (baseline.h), NULL when
 * there is none, or, with a warning, when it cannot be read; @from gets
 * where it came from and how old it is, in words, also said on stderr. */
struct vx_baseline;
struct vx_baseline *vx_basestate_read(const char *dir, char *from, size_t fromlen);

/* The baseline of @windows (@n of them, [i][0] medians, [i][1] p90s, in
 * us): the lower quartile of each, into @p50 and @p90. False when @n is
 * below VX_BASESTATE_MIN_WINDOWS. Pure: unit-tested. */
bool vx_basestate_quartile(const double (*windows)[2], int n, double *p50, double *p90);

#endif
