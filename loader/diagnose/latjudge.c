// SPDX-License-Identifier: GPL-2.0-only
/* The underlay latency finding; see findings.h. Two kinds of evidence:
 * - against a baseline: a stage's median now against the same stage in
 *   --baseline, else in the window's first third (a fault that began
 *   during the window); a rise spent in the tunnel ends (an encap or
 *   decap stage, the overlay round trip while the underlay's own stays
 *   fast) is named there, not on the underlay;
 * - needing no earlier run, for a fault that was there before vxray
 *   started: the wire stage (sender's underlay egress to receiver's
 *   underlay ingress, both on this host, one clock) of a tunnel A->B
 *   against B->A, where a queue on one side's path moves one direction
 *   only, and against what a wire on one host takes at all; one VNI of a
 *   device against its other VNIs (another remote or path); a stage of
 *   the underlay with two humps far apart (part of the traffic waits);
 *   the overlay's round trip against the underlay's (--probe); an encap
 *   or decap stage slower than encapsulation ever is.
 * Every threshold is the same pair: 3x and +0.5 ms at the median. The
 * finding's sentence comes from the first that fires: an earlier run's
 * baseline, the wire A->B against B->A, the window's first third, then
 * the rest in the order above. */
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

/* The latency finding, made at @netns/@device (*fresh) when there is none
 * yet; NULL when there is no room. */
static struct vx_finding *finding_at(struct vx_pjudge *p, const char *netns, const char *device,
				     bool *fresh)
{
	struct vx_finding *f = latency_finding(p);

	*fresh = !f;
	return f ? f : vx_finding_add(p->out, p->n, p->max, VX_V_LATENCY, netns, device);
}

static bool grew(double now_us, double base_us)
{
	return now_us >= VX_LAT_FACTOR * base_us && now_us - base_us >= VX_LAT_MIN_DELTA_US;
}

/* The host's own delivery to a socket (an application slow to read, a
 * busy CPU) is not the tunnel's: its stage is evidence, never a finding. */
static bool judged(const struct vx_ev_lat *l)
{
	return l->samples && strcmp(l->stage, "delivery");
}

/* An encapsulation or decapsulation stage: time a tunnel end spends. */
static bool end_stage(const struct vx_ev_lat *l)
{
	return !strcmp(l->stage, "encap") || !strcmp(l->stage, "decap");
}

/* The tunnel of @l's namespace whose underlay (encap) or VXLAN device
 * (decap) @l was measured at. */
static const struct vx_ev_tunnel *stage_tunnel(const struct vx_evidence *ev,
					       const struct vx_ev_lat *l)
{
	bool encap = !strcmp(l->stage, "encap");

	for (int i = 0; i < ev->n_tun; i++)
		if (!strcmp(ev->tun[i].netns, l->netns) &&
		    !strcmp(encap ? ev->tun[i].underlay : ev->tun[i].device, l->device))
			return &ev->tun[i];
	return NULL;
}

/* The slowest encap or decap stage at the ends in @a's and @b's (may be
 * NULL) namespaces: where the tunnel ends spend their time. */
static const struct vx_ev_lat *slowest_end_stage(const struct vx_evidence *ev,
						 const struct vx_ev_tunnel *a,
						 const struct vx_ev_tunnel *b)
{
	const struct vx_ev_lat *m = NULL;

	for (int k = 0; k < ev->n_lat; k++) {
		const struct vx_ev_lat *l = &ev->lat[k];

		if (l->samples && end_stage(l) &&
		    (!strcmp(l->netns, a->netns) || (b && !strcmp(l->netns, b->netns))) &&
		    (!m || l->p50_us > m->p50_us))
			m = l;
	}
	return m;
}

/* @excess_us more on tunnel @t's overlay round trip than on its
 * underlay's is spent in the tunnel ends. vxray's own programs add to
 * the overlay's round trip too (a millisecond under an emulated CPU):
 * when the peer is watched here, the ends' own stages must show at least
 * half of it. */
static bool ends_show(const struct vx_evidence *ev, const struct vx_ev_tunnel *t, double excess_us)
{
	const struct vx_ev_tunnel *peer = t->peer >= 0 ? &ev->tun[t->peer] : NULL;
	const struct vx_ev_lat *end = slowest_end_stage(ev, t, peer);

	return !peer || (end && end->p50_us >= excess_us / 2);
}

static void ends_next(struct vx_finding *f, const struct vx_ev_tunnel *t)
{
	snprintf(f->next, sizeof(f->next),
		 "The time is spent between overlay and underlay, not on the path: "
		 "a queue on %s (`tc -s qdisc show dev %s` in %s) or on the peer's "
		 "VXLAN device, or slow encapsulation or decapsulation at either "
		 "end; `vxray latency` on each end splits the stages.",
		 t->device, t->device, ns(t->netns));
}

/* The --probe target whose overlay round trip is @l ("rtt"), when its
 * tunnel's remote VTEP answered enough underlay pings to compare. */
static const struct vx_ev_probe *probe_of(const struct vx_evidence *ev, const struct vx_ev_lat *l)
{
	for (int i = 0; i < ev->n_probes; i++) {
		const struct vx_ev_probe *q = &ev->probes[i];

		if (q->tun >= 0 && q->ul_samples >= VX_PROBE_MIN_SENT &&
		    !strcmp(ev->tun[q->tun].netns, l->netns) &&
		    !strcmp(ev->tun[q->tun].device, l->device))
			return q;
	}
	return NULL;
}

/* Where a stage's rise was spent. An encap or decap stage is a tunnel
 * end's. The overlay round trip holds the underlay's: it is the ends'
 * when the underlay's own round trip, pinged from the same namespace at
 * the same times, stays far below it (*@q). NULL: the underlay's, or
 * (*@skip) the ends' own stages do not show it. */
static const struct vx_ev_tunnel *rise_at_ends(const struct vx_evidence *ev,
					       const struct vx_ev_lat *l,
					       const struct vx_ev_probe **q, bool *skip)
{
	*q = NULL;
	*skip = false;
	if (end_stage(l))
		return stage_tunnel(ev, l);
	if (strcmp(l->stage, "rtt") || !(*q = probe_of(ev, l)) ||
	    !grew(l->p50_us, (*q)->ul_rtt_p50_us))
		return NULL;
	*skip = !ends_show(ev, &ev->tun[(*q)->tun], l->p50_us - (*q)->ul_rtt_p50_us);
	return &ev->tun[(*q)->tun];
}

/* Each stage against its baseline: an earlier run's (@own false) or the
 * window's own first third (@own true). Both directions of one underlay
 * move together: one finding, the rest its evidence. A rise spent in the
 * tunnel ends is named there, not on the underlay. */
static void against_baseline(struct vx_pjudge *p, bool own)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *l = &ev->lat[i];
		const struct vx_ev_tunnel *t;
		const struct vx_ev_probe *q;
		bool rtt = !strcmp(l->stage, "rtt"), skip, fresh;
		struct vx_finding *f;

		if (!l->has_base || l->base_own != own || !judged(l) ||
		    !grew(l->p50_us, l->base_p50_us))
			continue;
		t = rise_at_ends(ev, l, &q, &skip);
		if (skip || !(f = finding_at(p, l->netns, t ? t->device : l->device, &fresh)))
			continue;
		if (!fresh) {
			vx_evid(f, "%s through %s in %s: p50 %.0f us -> %.0f us (baseline: %s)",
				l->stage, l->device, ns(l->netns), l->base_p50_us, l->p50_us,
				l->base_from);
			continue;
		}
		snprintf(f->sentence, sizeof(f->sentence),
			 "%s: the %s%s through %s in %s rose from %.0f us to %.0f us at the "
			 "median (+%.2f ms).",
			 t ? "Overlay latency added in the tunnel ends" :
			     "Underlay latency degraded",
			 rtt ? "overlay round trip" : l->stage, rtt ? "" : " stage", l->device,
			 ns(l->netns), l->base_p50_us, l->p50_us,
			 (l->p50_us - l->base_p50_us) / 1000.0);
		vx_evid(f, "%s p50 %.0f us, p90 %.0f us over %llu samples", l->stage, l->p50_us,
			l->p90_us, (unsigned long long)l->samples);
		vx_evid(f, "baseline (%s): p50 %.0f us, p90 %.0f us", l->base_from, l->base_p50_us,
			l->base_p90_us);
		if (q)
			vx_evid(f,
				"underlay pings to %s from the same namespace: p50 %.0f us over %u",
				q->ul_to, q->ul_rtt_p50_us, q->ul_samples);
		if (t)
			ends_next(f, t);
		else
			snprintf(f->next, sizeof(f->next),
				 "Look for queues on the underlay path: `tc -s qdisc show dev "
				 "<underlay>` (backlog, shaping, netem) and link utilisation; "
				 "`vxray latency` splits the stages.");
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
	bool oneway, host, fresh;

	if (ba->p50_us > ab->p50_us) {
		s = b, r = a;
		slow = ba, fast = ab;
	}
	oneway = grew(slow->p50_us, fast->p50_us);
	host = fast->p50_us >= VX_WIRE_HOST_MAX_US;
	if (!oneway && !host && slow->p50_us < VX_WIRE_HOST_MAX_US)
		return;
	if (!(f = finding_at(p, s->netns, s->underlay, &fresh)))
		return;
	if (fresh) {
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

static void lat_evid(struct vx_finding *f, const struct vx_ev_lat *l)
{
	vx_evid(f, "%s of VNI %u through %s in %s: p50 %.0f us, p90 %.0f us over %llu samples",
		l->stage, l->vni, l->device, ns(l->netns), l->p50_us, l->p90_us,
		(unsigned long long)l->samples);
}

/* One VNI of a device and stage against the fastest other VNI there: a
 * VNI whose packets take another remote or path. */
static void vni_against_vnis(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *s = &ev->lat[i], *fast = NULL;
		struct vx_finding *f;
		bool fresh;

		if (!judged(s) || !s->vni)
			continue;
		for (int k = 0; k < ev->n_lat; k++) {
			const struct vx_ev_lat *o = &ev->lat[k];

			if (o->samples && o->vni && o->vni != s->vni &&
			    !strcmp(o->netns, s->netns) && !strcmp(o->device, s->device) &&
			    !strcmp(o->stage, s->stage) && (!fast || o->p50_us < fast->p50_us))
				fast = o;
		}
		if (!fast || !grew(s->p50_us, fast->p50_us) ||
		    !(f = finding_at(p, s->netns, s->device, &fresh)))
			continue;
		if (fresh) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "Underlay latency degraded for one VNI: the %s stage of VNI %u "
				 "through %s in %s takes %.2f ms at the median, VNI %u's on the "
				 "same device %.2f ms (%.0fx, +%.2f ms).",
				 s->stage, s->vni, s->device, ns(s->netns), s->p50_us / 1000.0,
				 fast->vni, fast->p50_us / 1000.0,
				 fast->p50_us > 0 ? s->p50_us / fast->p50_us : 0.0,
				 (s->p50_us - fast->p50_us) / 1000.0);
			snprintf(f->next, sizeof(f->next),
				 "VNI %u's packets take another remote or path than VNI %u's: "
				 "`vxray encap --summary --vni %u` names its remote VTEP; look for "
				 "a queue or a slow hop toward it.",
				 s->vni, fast->vni, s->vni);
		}
		lat_evid(f, s);
		lat_evid(f, fast);
	}
}

/* A stage of the underlay (encap, wire, decap) with two humps far apart:
 * part of the traffic waits (one ECMP member, one remote, a policer). */
static void shapes(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *l = &ev->lat[i];
		struct vx_finding *f;
		bool fresh;

		if (!l->bimodal || !l->samples || (!end_stage(l) && strcmp(l->stage, "wire")) ||
		    l->hi_us < VX_WIRE_HOST_MAX_US || !grew(l->hi_us, l->lo_us) ||
		    !(f = finding_at(p, l->netns, l->device, &fresh)))
			continue;
		if (fresh) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "Underlay latency degraded for part of the traffic: the %s stage "
				 "through %s in %s has two humps, %.0f%% of its packets from "
				 "%.2f ms up and the rest from %.0f us.",
				 l->stage, l->device, ns(l->netns), l->hi_share * 100.0,
				 l->hi_us / 1000.0, l->lo_us);
			snprintf(
				f->next, sizeof(f->next),
				"Part of the traffic takes a slower path or queue (an ECMP member, "
				"one remote, a policer): `vxray latency` draws the histogram, "
				"`vxray encap --summary` lists each remote VTEP.");
		}
		vx_evid(f,
			"%s through %s in %s: two humps, from %.0f us (%.0f%%) and from %.0f us "
			"(%.0f%%); p50 %.0f us, p90 %.0f us over %llu samples",
			l->stage, l->device, ns(l->netns), l->lo_us, (1 - l->hi_share) * 100.0,
			l->hi_us, l->hi_share * 100.0, l->p50_us, l->p90_us,
			(unsigned long long)l->samples);
	}
}

/* --probe's overlay round trip against the remote VTEP's own over the
 * underlay, pinged from the same namespace at the same times: what the
 * overlay adds above the underlay is spent in the tunnel ends (a queue on
 * a VXLAN device, encapsulation, decapsulation), here or at the peer,
 * which may be another host, when the ends' stages show it (ends_show). */
static void overlay_vs_underlay(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_probes; i++) {
		const struct vx_ev_probe *q = &ev->probes[i];
		const struct vx_ev_tunnel *t = q->tun >= 0 ? &ev->tun[q->tun] : NULL;
		struct vx_finding *f;
		bool fresh;

		if (!t || q->ul_samples < VX_PROBE_MIN_SENT || q->rtt_samples < VX_PROBE_MIN_SENT ||
		    !grew(q->rtt_p50_us, q->ul_rtt_p50_us) ||
		    !ends_show(ev, t, q->rtt_p50_us - q->ul_rtt_p50_us) ||
		    !(f = finding_at(p, t->netns, t->device, &fresh)))
			continue;
		if (fresh) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "Overlay latency added in the tunnel ends: the overlay round trip "
				 "from %s to %s takes %.2f ms at the median, the underlay's own to "
				 "its VTEP %s %.2f ms (%.0fx, +%.2f ms).",
				 ns(q->from), q->to, q->rtt_p50_us / 1000.0, q->ul_to,
				 q->ul_rtt_p50_us / 1000.0,
				 q->ul_rtt_p50_us > 0 ? q->rtt_p50_us / q->ul_rtt_p50_us : 0.0,
				 (q->rtt_p50_us - q->ul_rtt_p50_us) / 1000.0);
			ends_next(f, t);
		}
		vx_evid(f,
			"overlay pings %s -> %s: p50 %.0f us over %u; underlay pings to %s from the "
			"same namespace: p50 %.0f us over %u",
			ns(q->from), q->to, q->rtt_p50_us, q->rtt_samples, q->ul_to,
			q->ul_rtt_p50_us, q->ul_samples);
		for (int k = 0; k < ev->n_lat; k++) {
			const struct vx_ev_lat *l = &ev->lat[k];

			if (l->samples && !strcmp(l->netns, t->netns) && end_stage(l))
				vx_evid(f, "%s through %s in %s: p50 %.0f us", l->stage, l->device,
					ns(l->netns), l->p50_us);
		}
	}
}

/* Encapsulation (VXLAN device egress to underlay egress) and
 * decapsulation (underlay ingress to VXLAN device ingress) take
 * microseconds on any host, tens of them on an emulated CPU: a median
 * past VX_WIRE_HOST_MAX_US is a queue on the VXLAN device or a stalled
 * end. */
static void slow_ends(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int i = 0; i < ev->n_lat; i++) {
		const struct vx_ev_lat *l = &ev->lat[i];
		const struct vx_ev_tunnel *t;
		struct vx_finding *f;
		bool fresh, encap = !strcmp(l->stage, "encap");

		if (!l->samples || !end_stage(l) || l->p50_us < VX_WIRE_HOST_MAX_US ||
		    !(t = stage_tunnel(ev, l)) || !(f = finding_at(p, l->netns, t->device, &fresh)))
			continue;
		if (fresh) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "Overlay latency added in the tunnel ends: %s in %s takes %.2f ms "
				 "at the median (%s), where it takes microseconds on any host.",
				 encap ? "encapsulation" : "decapsulation", ns(l->netns),
				 l->p50_us / 1000.0,
				 encap ? "from the VXLAN device's egress to the underlay's" :
					 "from the underlay's ingress to the VXLAN device's");
			snprintf(
				f->next, sizeof(f->next),
				"Look for a queue on %s: `tc -s qdisc show dev %s` in %s (backlog, "
				"shaping, netem), and at CPU pressure on %s; `vxray latency` "
				"draws the stage.",
				t->device, t->device, ns(l->netns), ns(l->netns));
		}
		vx_evid(f, "%s through %s in %s (%s): p50 %.0f us, p90 %.0f us over %llu samples",
			l->stage, l->device, ns(l->netns), t->device, l->p50_us, l->p90_us,
			(unsigned long long)l->samples);
	}
}

void vx_pjudge_latency(struct vx_pjudge *p)
{
	/* A healthy earlier run is the strongest evidence; the window's first
	 * third is right only when the fault began during the window (a queue
	 * that fills as the probe's traffic starts looks like one), so the
	 * wire A->B against B->A comes before it. */
	against_baseline(p, false);
	wire_pairs(p);
	against_baseline(p, true);
	vni_against_vnis(p);
	shapes(p);
	overlay_vs_underlay(p);
	slow_ends(p);
}
