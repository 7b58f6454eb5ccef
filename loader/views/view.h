/* SPDX-License-Identifier: GPL-2.0-only */
/* What every view opens before its engines and closes after them, in one
 * order with one exit code each:
 *
 *	struct vx_view v;
 *	if ((ret = vx_view_open(&v, o, VX_VIEW_CAPTURE)))
 *		return ret;                  one sentence already printed
 *	... open engines (v.cap's snap length into their config), run ...
 *	vx_view_close(&v, ran, lost);
 *
 * 1. privileges, and BTF unless VX_VIEW_BTF_OPTIONAL (the view then says
 *    itself what is lost without it): VX_EXIT_NOTREADY;
 * 2. --metrics, listening before anything is attached, so that a port in
 *    use (VX_EXIT_NOTREADY) or a bad address (VX_EXIT_USAGE) is found
 *    early; always for VX_VIEW_AGENT;
 * 3. --pcap when the view captures (VX_VIEW_CAPTURE): an unwritable file
 *    is VX_EXIT_USAGE. */
#ifndef VXRAY_VIEW_H
#define VXRAY_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "mexport.h"
#include "opts.h"
#include "sysinfo.h"

enum {
	VX_VIEW_CAPTURE = 1,	  /* honours --pcap */
	VX_VIEW_AGENT = 2,	  /* serves metrics even without --metrics */
	VX_VIEW_BTF_OPTIONAL = 4, /* runs without kernel BTF */
};

struct vx_view {
	struct vx_sysinfo si;
	struct vx_mexport *me;	/* NULL without --metrics */
	struct vx_capture *cap; /* NULL without --pcap */
};

/* VX_EXIT_OK, or the exit code after one sentence saying why; nothing is
 * left open then. */
int vx_view_open(struct vx_view *v, const struct vx_opts *o, unsigned int flags);
/* @ran: the engines ran, so the capture is real (else it is removed);
 * @lost: events the capture could not have, said in its trailer. */
void vx_view_close(struct vx_view *v, bool ran, uint64_t lost);

#endif
