// SPDX-License-Identifier: GPL-2.0-only
/* The drops diagnose does not weigh (see vx_findings_notes in findings.h):
 * noise on traffic nobody asked about, said once per kind with what the
 * kernel means by its reason, never a finding and never the exit code.
 * Apart from findings.c, which judges what matters. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dropreason.h"
#include "findings.h"
#include "names.h"

int vx_findings_notes(const struct vx_evidence *ev, char (*notes)[VX_NOTE_LEN], int max)
{
	const uint32_t fault = VX_DR_DECAP | VX_DR_ENCAP | VX_DR_NEIGH | VX_DR_MTU | VX_DR_POLICY;
	bool done[VX_EV_MAX_DROPS] = { false };
	int n = 0;

	for (int d = 0; d < ev->n_drops && n < max; d++) {
		const struct vx_ev_drop *x = &ev->drops[d];
		const struct vx_drop_reason_info *r = vx_drop_reason_info(x->reason);
		uint64_t count = 0;

		if (done[d] || !x->unrelated || !r || !(r->flags & fault))
			continue;
		/* One note per (namespace, reason, device). */
		for (int e = d; e < ev->n_drops; e++) {
			const struct vx_ev_drop *y = &ev->drops[e];

			if (y->unrelated && !strcmp(y->netns, x->netns) &&
			    !strcmp(y->reason, x->reason) && !strcmp(y->device, x->device)) {
				done[e] = true;
				count += y->count;
			}
		}
		snprintf(notes[n++], VX_NOTE_LEN,
			 "%llu drop%s in %s%s%s of %s (e.g. %s), not a finding: %s, %s",
			 (unsigned long long)count, count == 1 ? "" : "s", vx_ns_label_of(x->netns),
			 x->device[0] ? " on " : "", x->device,
			 ev->probed ? "other traffic than the probe's" :
				      "the host's own link-local control traffic",
			 x->packet[0] ? x->packet : "a packet not parsed", r->name, r->meaning);
	}
	return n;
}
