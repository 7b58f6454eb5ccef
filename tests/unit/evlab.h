/* SPDX-License-Identifier: GPL-2.0-only */
/* Hand-built evidence for the tests of the findings (test_findings.c,
 * test_pathjudge.c, test_latjudge.c): the lab's two ends, vxa and vxb,
 * each with vxlan100 (VNI 100) over und0, each other's peer, healthy
 * traffic; the judge over it; a finding's evidence searched. Included by
 * one test file each: the state is the file's own. */
#ifndef VXRAY_TEST_EVLAB_H
#define VXRAY_TEST_EVLAB_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"

static struct vx_evidence ev;
static struct vx_finding out[VX_MAX_FINDINGS];

/* Two ends over one link (10.0.0.1, 10.0.0.2), or with @routed over a
 * routed underlay (10.0.1.1, 10.0.2.2); a window of @window_s. */
static inline void ev_lab(bool routed, double window_s)
{
	memset(&ev, 0, sizeof(ev));
	ev.window_s = window_s;
	ev.probed = true;
	for (int i = 0; i < 2; i++) {
		struct vx_ev_tunnel *t = &ev.tun[i];
		int me = routed ? i + 1 : 0, peer = routed ? 2 - i : 0;

		snprintf(t->netns, sizeof(t->netns), "%s", i ? "vxb" : "vxa");
		snprintf(t->device, sizeof(t->device), "vxlan100");
		snprintf(t->underlay, sizeof(t->underlay), "und0");
		t->vni = 100;
		snprintf(t->local, sizeof(t->local), "10.0.%d.%d", me, i + 1);
		snprintf(t->remote, sizeof(t->remote), "10.0.%d.%d", peer, 2 - i);
		t->dstport = 4789;
		t->mtu = 1450;
		t->underlay_mtu = 1500;
		t->peer = !i;
		t->encap = 40;
		t->decap = 40;
		t->underlay_rx = 42;
	}
	ev.n_tun = 2;
}

static inline int judge(void)
{
	return vx_findings_judge(&ev, out, VX_MAX_FINDINGS);
}

static inline bool has_ev(const struct vx_finding *f, const char *needle)
{
	for (int i = 0; i < f->n_evidence; i++)
		if (strstr(f->evidence[i], needle))
			return true;
	return false;
}

#endif
