/* SPDX-License-Identifier: GPL-2.0-only */
/* The baseline `vxray diagnose --baseline FILE` compares latency with. */
#ifndef VXRAY_BASELINE_H
#define VXRAY_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

/* --baseline FILE: an earlier `vxray diagnose -j`, compact or pretty-printed,
 * read with jansson. It is a file the user names, so any bytes: load and
 * parse return NULL with one sentence in @err ("cannot read the baseline
 * ..." or "... is not the output of `vxray diagnose -j`: why") unless it
 * is a JSON diagnosis with a "latency" array. */
struct vx_baseline;
struct vx_baseline *vx_baseline_load(const char *path, char *err, size_t errlen);
struct vx_baseline *vx_baseline_parse(const char *text, size_t len, const char *name, char *err,
				      size_t errlen);
void vx_baseline_free(struct vx_baseline *b);

/* The round trip of (@netns as an option names it, its label matched,
 * @device, @stage) in @b's "latency" array.
 * True with *@p50 and *@p90 (us) when an object names all three and both
 * are numbers, p50 above 0 and p90 not below 0; false, leaving them
 * alone, otherwise. */
bool vx_baseline_lookup(const struct vx_baseline *b, const char *netns, const char *device,
			const char *stage, double *p50, double *p90);

#endif
