/* SPDX-License-Identifier: GPL-2.0-only */
/* Time as vxray reads and prints it: BPF timestamps are CLOCK_MONOTONIC
 * (bpf_ktime_get_ns); lines show the wall clock. */
#ifndef VXRAY_CLOCK_H
#define VXRAY_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC now, in ns: the clock of every BPF timestamp. */
uint64_t vx_now_ns(void);
/* Add to a CLOCK_MONOTONIC time to get CLOCK_REALTIME (taken once per run). */
uint64_t vx_mono_to_real(void);
/* "HH:MM:SS.mmm" (@digits 3) or "HH:MM:SS.uuuuuu" (@digits 6), local time. */
void vx_fmt_wallclock(uint64_t real_ns, int digits, char *buf, size_t len);

#endif
