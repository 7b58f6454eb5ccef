/* SPDX-License-Identifier: GPL-2.0-only */
/* `vxray diagnose --prometheus`: the evidence findings.c judges, read from
 * what the nodes' agents recorded in Prometheus instead of live probes.
 * Every node's namespace is a place, named NODE/NETNS (NODE its `node`
 * label, else its `instance`); every (VXLAN device, remote VTEP) a tunnel,
 * so that A's encap toward B meets B's decap from A as on one host. What
 * the series cannot say is left unsaid: a rule's drops are tunnel traffic
 * only when the rule names the VXLAN port or device; neighbour drops
 * (no device label) and underlay receive counts are not there. */
#ifndef VXRAY_PROMEV_H
#define VXRAY_PROMEV_H

#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "promapi.h"

#define VX_PROMEV_MAX_NOTES 12
#define VX_PROMEV_NOTE_LEN 320

struct vx_promev_place {
	char name[VX_NETNS_NAME_MAX]; /* NODE/NETNS: the evidence's netns */
	char node[128];
	char node_label[16]; /* the label that named it: "node" or "instance" */
	char netns[VX_NETNS_NAME_MAX];
};

struct vx_promev {
	uint64_t window_s;
	const char *node; /* --node: this node and the far ends of its tunnels */
	struct vx_promev_place places[VX_MAX_NETNS];
	int n_places;
	char notes[VX_PROMEV_MAX_NOTES][VX_PROMEV_NOTE_LEN];
	int n_notes;
};

/* Fill @ev from the server @p for the last pe->window_s seconds; @pe gets
 * the places and notes (what could not be read, agents down, events
 * lost). 0, or a negative errno with one sentence in @err: -EHOSTUNREACH
 * when the server cannot be asked, -ENOENT when it holds no vxray series
 * (or none of --node). */
int vx_promev_fill(struct vx_prom *p, struct vx_promev *pe, struct vx_evidence *ev, char *err,
		   size_t errlen);

/* The index of the place named @name ("NODE/NETNS"), -1 when none. */
int vx_promev_place(const struct vx_promev *pe, const char *name);

/* One more line of evidence on each finding: the series it rests on, with
 * the label selectors of its places, to query or graph. */
void vx_promev_series(const struct vx_promev *pe, const struct vx_evidence *ev,
		      struct vx_finding *f, int n);

#endif
