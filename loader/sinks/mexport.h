/* SPDX-License-Identifier: GPL-2.0-only */
/* The Prometheus series vxray exports (--metrics on the long-running
 * views, and `vxray agent`): one registry of families named by Prometheus
 * conventions (loader/sinks/metrics.c renders it, httpd.c serves it), filled from the
 * engines a view already runs, at that view's own --interval tick. So a
 * view with --metrics attaches nothing twice: what it prints and what it
 * serves come from the same map reads.
 *
 * Lifecycle: vx_mexport_start() (before anything is attached: a port in
 * use is a usage error) -> every tick vx_mexport_begin(), the fills the
 * view has engines for, vx_mexport_end() -> vx_mexport_stop() before the
 * engines are closed. Every function is a no-op on a NULL exporter, so a
 * view calls them unconditionally. */
#ifndef VXRAY_MEXPORT_H
#define VXRAY_MEXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"

struct vx_mexport;
struct vx_dp;
struct vx_drop_row;
struct vx_retranssrc;
struct vx_inventory;
struct vx_ct_snapshot;
struct vx_nf_ruleset;
struct vx_nf_rule;
struct vx_lathooks;

#define VX_MEXPORT_AGENT_PORT 9435

/* With --metrics (or @always, for the agent: 127.0.0.1:9435 unless
 * --metrics names another), listen and serve; else *@out is NULL and
 * nothing happens. 0, or a negative errno after printing one sentence. */
int vx_mexport_start(struct vx_mexport **out, const struct vx_opts *o, bool always);
/* "http://127.0.0.1:9435/metrics", for the startup line ("" when off). */
const char *vx_mexport_url(const struct vx_mexport *me);

/* A tick's fills go between these (the registry lock: a scrape never
 * sees half a refresh). end() counts the refresh. */
void vx_mexport_begin(struct vx_mexport *me);
void vx_mexport_end(struct vx_mexport *me);

/* Health: what a probe runs on (value 1), a backend the kernel refused for
 * it (value 1: the view runs without or with a worse one), and how many
 * programs of a kind are attached now. */
void vx_mexport_backend(struct vx_mexport *me, const char *probe, const char *backend);
void vx_mexport_refused(struct vx_mexport *me, const char *probe, const char *backend);
void vx_mexport_attached(struct vx_mexport *me, const char *kind, int n);
/* The latency hooks' backends (xmit, rcv, delivery) and refusals. */
void vx_mexport_lathooks(struct vx_mexport *me, const struct vx_lathooks *h);

/* The datapath's counters, per-tunnel packets and bytes, interfaces and,
 * where the latency maps exist, each stage's histogram. */
void vx_mexport_datapath(struct vx_mexport *me, const struct vx_dp *dp);
/* Drop aggregates that grew since the view's last read (the view owns the
 * read: the engine hands out deltas once), and the engine's lost count. */
void vx_mexport_drops(struct vx_mexport *me, const struct vx_drop_row *rows, int n, uint64_t lost);
/* Drops counted elsewhere (nf_hook_slow verdicts): add @delta. */
void vx_mexport_drops_add(struct vx_mexport *me, const char *netns, const char *reason,
			  const char *location, uint64_t delta);
void vx_mexport_retrans(struct vx_mexport *me, const struct vx_retranssrc *rt,
			const struct vx_inventory *inv);
void vx_mexport_conntrack(struct vx_mexport *me, const struct vx_ct_snapshot *snap);
/* A DROP/REJECT rule's own packet counter, in namespace @netns ("host"). */
void vx_mexport_nf_rule(struct vx_mexport *me, const char *netns, const struct vx_nf_rule *r);
/* Events a source's ring buffer had no room for, cumulative. */
void vx_mexport_lost(struct vx_mexport *me, const char *source, uint64_t lost);

void vx_mexport_stop(struct vx_mexport *me);

#endif
