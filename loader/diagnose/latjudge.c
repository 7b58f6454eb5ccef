// SPDX-License-Identifier: GPL-2.0-only
/* The underlay latency finding; see findings.h. Two kinds of evidence:
 * - against a baseline: a stage's median now against the same stage in
 *   --baseline, else in the window's first third (a fault that began
 *   during the window);
 * - needing no earlier run, for a fault that was there before vxray
 *   started: the wire stage (sender's underlay egress to receiver's
 *   underlay ingress, both on this host, one clock) of a tunnel A->B
 *   against B->A, where a queue on one side's path moves one direction
 *   only, and against what a wire on one host takes at all.
 * Every threshold is the same pair: 3x and +0.5 ms at the median. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "names.h"

static const char *ns(const char *netns)
{
	return vx_ns_label_of(netns);
}

static struct vx_finding *latency_finding(struct vx_pjudge *p)
{
	for (int k = 0; k < *p->n; k++)
		if (p->out[k].verdict == VX_V_LATENCY)
			return &p->out[k];
	return NULL;
}

static bool grew(double now_us, double base_us)
{
	return now_us >= VX_LAT_FACTOR * base_us && now_us - base_us >= VX_LAT_MIN_DELTA_US;
}

/* Each stage against its baseline. Both directions of one underlay move
 * together: one finding, the rest its evidence. */
static void against_baseline(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *l = &ev->lat[i];
		struct vx_finding *f;

		if (!l->has_base || !l->samples || !grew(l->p50_us, l->base_p50_us))
			continue;
		f = latency_finding(p);
		if (f) {
			vx_evid(f, "%s through %s in %s: p50 %.0f us -> %.0f us (baseline: %s)",
				l->stage, l->device, ns(l->netns), l->base_p50_us, l->p50_us,
				l->base_from);
			continue;
		}
		f = vx_finding_add(p->out, p->n, p->max, VX_V_LATENCY, l->netns, l->device);
		if (!f)
			return;
		snprintf(f->sentence, sizeof(f->sentence),
			 "Underlay latency degraded: the %s%s through %s in %s rose from "
			 "%.0f us to %.0f us at the median (+%.2f ms).",
			 !strcmp(l->stage, "rtt") ? "overlay round trip" : l->stage,
			 !strcmp(l->stage, "rtt") ? "" : " stage", l->device, ns(l->netns),
			 l->base_p50_us, l->p50_us, (l->p50_us - l->base_p50_us) / 1000.0);
		vx_evid(f, "%s p50 %.0f us, p90 %.0f us over %llu samples", l->stage, l->p50_us,
			l->p90_us, (unsigned long long)l->samples);
		vx_evid(f, "baseline (%s): p50 %.0f us, p90 %.0f us", l->base_from, l->base_p50_us,
			l->base_p90_us);
		snprintf(f->next, sizeof(f->next),
			 "Look for queues on the underlay path: `tc -s qdisc show dev <underlay>` "
			 "(backlog, shaping, netem) and link utilisation; `vxray latency` splits "
			 "the stages.");
	}
}

/* The wire stage of packets arriving at tunnel @t's underlay: those its
 * peer sent it. -1 when not measured. */
static int wire_into(const struct vx_evidence *ev, const struct vx_ev_tunnel *t)
{
	for (int i = 0; i < ev->n_lat; i++)
		if (ev->lat[i].samples && !strcmp(ev->lat[i].stage, "wire") &&
		    !strcmp(ev->lat[i].netns, t->netns) && !strcmp(ev->lat[i].device, t->underlay))
			return i;
	return -1;
}

static void wire_evid(struct vx_finding *f, const struct vx_ev_tunnel *from,
		      const struct vx_ev_tunnel *to, const struct vx_ev_lat *l)
{
	vx_evid(f, "wire %s -> %s (%s's %s to %s's %s): p50 %.0f us, p90 %.0f us over %llu samples",
		ns(from->netns), ns(to->netns), ns(from->netns), from->underlay, ns(to->netns),
		to->underlay, l->p50_us, l->p90_us, (unsigned long long)l->samples);
}

/* Tunnel @a to its peer @b, both wire directions measured: a finding when
 * one direction is far slower than the other, or both slower than a wire
 * on one host ever is. */
static void one_pair(struct vx_pjudge *p, const struct vx_ev_tunnel *a,
		     const struct vx_ev_tunnel *b, const struct vx_ev_lat *ab,
		     const struct vx_ev_lat *ba)
{
	const struct vx_ev_tunnel *s = a, *r = b; /* the slow direction's ends */
	const struct vx_ev_lat *slow = ab, *fast = ba;
	struct vx_finding *f;
	bool oneway, host;

	if (ba->p50_us > ab->p50_us) {
		s = b, r = a;
		slow = ba, fast = ab;
	}
	oneway = grew(slow->p50_us, fast->p50_us);
	host = fast->p50_us >= VX_WIRE_HOST_MAX_US;
	if (!oneway && !host && slow->p50_us < VX_WIRE_HOST_MAX_US)
		return;
	f = latency_finding(p);
	if (!f) {
		f = vx_finding_add(p->out, p->n, p->max, VX_V_LATENCY, s->netns, s->underlay);
		if (!f)
			return;
		if (oneway)
			snprintf(f->sentence, sizeof(f->sentence),
				 "Underlay latency degraded in one direction: the wire from %s "
				 "to %s takes %.2f ms at the median, %.2f ms the other way "
				 "(%.0fx, +%.2f ms).",
				 ns(s->netns), ns(r->netns), slow->p50_us / 1000.0,
				 fast->p50_us / 1000.0,
				 fast->p50_us > 0 ? slow->p50_us / fast->p50_us : 0.0,
				 (slow->p50_us - fast->p50_us) / 1000.0);
		else
			snprintf(f->sentence, sizeof(f->sentence),
				 "Underlay latency degraded: the wire between %s and %s takes "
				 "%.2f ms and %.2f ms at the median, where a wire between two "
				 "ends on one host takes tens of microseconds.",
				 ns(s->netns), ns(r->netns), slow->p50_us / 1000.0,
				 fast->p50_us / 1000.0);
		snprintf(f->next, sizeof(f->next),
			 "Look for a queue on the path from %s to %s: `tc -s qdisc show dev %s` "
			 "in %s (backlog, shaping, netem), then each hop toward %s's %s; "
			 "`vxray latency` splits the stages.",
			 ns(s->netns), ns(r->netns), s->underlay, ns(s->netns), ns(r->netns),
			 r->underlay);
	}
	wire_evid(f, s, r, slow);
	wire_evid(f, r, s, fast);
	vx_evid(f,
		"no baseline needed: %s (thresholds: one direction %.0fx the other and +%.2f ms "
		"at the median; %.2f ms on one host)",
		oneway ? "both directions cross the same underlay, one is slower" :
			 "both ends are on this host, the wire is slow both ways",
		VX_LAT_FACTOR, VX_LAT_MIN_DELTA_US / 1000.0, VX_WIRE_HOST_MAX_US / 1000.0);
}

/* Each pair of tunnel ends once: the wire each way. */
static void wire_pairs(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;
	bool done[VX_EV_MAX_LAT] = { false };

	for (int i = 0; i < ev->n_tun; i++) {
		const struct vx_ev_tunnel *a = &ev->tun[i], *b;
		int ab, ba;

		if (a->peer < 0 || !a->underlay[0])
			continue;
		b = &ev->tun[a->peer];
		ab = wire_into(ev, b);
		ba = wire_into(ev, a);
		if (ab < 0 || ba < 0 || done[ab] || done[ba])
			continue;
		done[ab] = done[ba] = true;
		one_pair(p, a, b, &ev->lat[ab], &ev->lat[ba]);
	}
}

void vx_pjudge_latency(struct vx_pjudge *p)
{
	against_baseline(p);
	wire_pairs(p);
}
