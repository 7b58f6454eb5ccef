// SPDX-License-Identifier: GPL-2.0-only
/* The reasoning behind `vxray diagnose`; see findings.h. Order matters:
 * the most specific explanation claims its evidence first (a full
 * conntrack table explains rule-less netfilter drops and a silent tunnel;
 * a netfilter rule on the outer UDP port explains a one-sided tunnel), so
 * the same symptom never produces a second, wrong verdict. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropreason.h"
#include "findings.h"
#include "names.h"

/* Which kernel drop reasons mean a VXLAN packet could not be decapsulated
 * (VX_DR_DECAP) or sent (VX_DR_ENCAP), and what each means, is the drop
 * reason table's (dropreason.c). NO_SOCKET and UDP_CSUM count only for
 * outer packets (VX_DR_OUTER): UDP to a port nobody listens on is the
 * sender's destination port not being the receiver's. Of the encap
 * reasons, the most telling first; the others rank after these.
 * NO_TX_TARGET is VXLAN_NO_REMOTE's name since 6.14 (no remote and no FDB
 * entry). Neighbour failures count only on an underlay: on the VXLAN
 * device itself they are the overlay's ARP/ND going unanswered, a symptom
 * of whatever else broke the tunnel. */
static const char *const encap_reasons[] = {
	"NO_TX_TARGET", "VXLAN_NO_REMOTE",  "IP_OUTNOROUTES",  "TUNNEL_TXINFO",
	"NEIGH_FAILED", "NEIGH_CREATEFAIL", "NEIGH_QUEUEFULL", "NEIGH_DEAD",
};

/* A drop inside the VXLAN driver's receive path that the kernel gave no
 * reason for: kernels before 6.13 annotate none of vxlan_rcv's drops, so
 * there the place is all the evidence. */
static bool in_vxlan_rcv(const struct vx_ev_drop *d)
{
	/* "vxlan_rcv+0x1f4" from an event, "vxlan_rcv" from a metric. */
	return d->outer && !strncmp(d->location, "vxlan_rcv", 9) &&
	       (!d->location[9] || d->location[9] == '+') && !strcmp(d->reason, "NOT_SPECIFIED");
}

static bool is_decap_drop(const struct vx_ev_drop *d)
{
	if (vx_drop_reason_is(d->reason, VX_DR_DECAP | VX_DR_OUTER))
		return d->outer;
	return in_vxlan_rcv(d) || vx_drop_reason_is(d->reason, VX_DR_DECAP);
}

/* No VXLAN device in the drop's namespace serves the VNI it carried. */
static bool vni_unserved(const struct vx_evidence *ev, const struct vx_ev_drop *d)
{
	if (!d->has_vni)
		return false;
	for (int i = 0; i < ev->n_tun; i++)
		if (!strcmp(ev->tun[i].netns, d->netns) && ev->tun[i].vni == d->vni)
			return false;
	return true;
}

static bool on_vxlan_dev(const struct vx_evidence *ev, const struct vx_ev_drop *d)
{
	for (int i = 0; i < ev->n_tun; i++)
		if (!strcmp(ev->tun[i].netns, d->netns) && !strcmp(ev->tun[i].device, d->device))
			return true;
	return false;
}

static bool is_neigh(const struct vx_ev_drop *d)
{
	return vx_drop_reason_is(d->reason, VX_DR_NEIGH) || !strncmp(d->reason, "NEIGH_", 6);
}

/* The rank of @d's reason in encap_reasons, -1 when it is none. */
/* The transmit side's unannotated drops (before 6.10): in the VXLAN
 * driver's xmit path, of the inner packet. */
static bool in_vxlan_xmit(const struct vx_ev_drop *d)
{
	return !d->outer && !strncmp(d->location, "vxlan_xmit", 10) &&
	       !strcmp(d->reason, "NOT_SPECIFIED");
}

#define N_ENCAP_REASONS (int)(sizeof(encap_reasons) / sizeof(*encap_reasons))

static int encap_rank(const struct vx_evidence *ev, const struct vx_ev_drop *d)
{
	int i;

	for (i = 0; i < N_ENCAP_REASONS; i++)
		if (!strcmp(d->reason, encap_reasons[i]))
			break;
	if (i < N_ENCAP_REASONS || vx_drop_reason_is(d->reason, VX_DR_ENCAP))
		return is_neigh(d) && on_vxlan_dev(ev, d) ? -1 : i;
	/* Least telling: the place without a reason. */
	return in_vxlan_xmit(d) ? N_ENCAP_REASONS + 1 : -1;
}

/* The tunnel of @d's namespace and device, NULL when none is known. */
static const struct vx_ev_tunnel *tunnel_of(const struct vx_evidence *ev,
					    const struct vx_ev_drop *d)
{
	for (int i = 0; i < ev->n_tun; i++)
		if (!strcmp(ev->tun[i].netns, d->netns) && !strcmp(ev->tun[i].device, d->device))
			return &ev->tun[i];
	return NULL;
}

static bool is_nf_drop(const struct vx_ev_drop *d)
{
	return !strcmp(d->reason, "NETFILTER_DROP");
}

struct judge {
	const struct vx_evidence *ev;
	struct vx_finding *out;
	int max, n;
	bool drop_used[VX_EV_MAX_DROPS];
	bool ct_full[VX_MAX_NETNS];
	bool tun_quiet[VX_EV_MAX_TUN]; /* its silence explained by pathjudge.c */
};

static struct vx_finding *add(struct judge *j, enum vx_verdict v, const char *netns,
			      const char *device)
{
	return vx_finding_add(j->out, &j->n, j->max, v, netns, device);
}

static struct vx_finding *find(struct judge *j, enum vx_verdict v, const char *netns)
{
	for (int i = 0; i < j->n; i++)
		if (j->out[i].verdict == v && !strcmp(j->out[i].netns, netns))
			return &j->out[i];
	return NULL;
}

static const char *tun_name(const struct vx_ev_tunnel *t, char *buf, size_t len)
{
	char vb[24];

	snprintf(buf, len, "%s in %s (%s, %s -> %s)", t->device, vx_ns_label_of(t->netns),
		 vx_ev_vni(t, vb, sizeof(vb)), t->local[0] ? t->local : "?",
		 t->remote[0] ? t->remote : "?");
	return buf;
}

static int ct_index(const struct vx_evidence *ev, const char *netns)
{
	for (int i = 0; i < ev->n_ct; i++)
		if (!strcmp(ev->ct[i].netns, netns))
			return i;
	return -1;
}

/* Conntrack first: a full table drops new flows of every kind, including
 * the tunnel's own outer UDP, without any rule saying so. */
static void judge_conntrack(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;

	for (int i = 0; i < ev->n_ct; i++) {
		const struct vx_ev_ct *c = &ev->ct[i];
		uint64_t fails = c->insert_failed + c->drop + c->early_drop;
		double pct = c->max ? 100.0 * c->count / c->max : 0;
		struct vx_finding *f;
		uint64_t dropped = 0;

		if (!c->max || (pct < VX_CT_FULL_PCT && !fails))
			continue;
		/* Failures with a half-empty table are clashes, not exhaustion. */
		if (pct < VX_CT_FULL_PCT && !c->drop && !c->early_drop)
			continue;
		j->ct_full[i] = true;
		for (int d = 0; d < ev->n_drops; d++) {
			if (!j->drop_used[d] && is_nf_drop(&ev->drops[d]) &&
			    !ev->drops[d].rule[0] && !strcmp(ev->drops[d].netns, c->netns)) {
				j->drop_used[d] = true;
				dropped += ev->drops[d].count;
			}
		}
		f = add(j, VX_V_CONNTRACK, c->netns, NULL);
		if (!f)
			return;
		snprintf(f->sentence, sizeof(f->sentence),
			 "The conntrack table in %s is exhausted (%u of %u entries): new flows "
			 "there are dropped.",
			 vx_ns_label_of(c->netns), c->count, c->max);
		vx_evid(f, "conntrack count %u, max %u (%.0f%% full) in %s", c->count, c->max, pct,
			vx_ns_label_of(c->netns));
		vx_evid(f, "during the window: insert_failed %llu, drop %llu, early_drop %llu",
			(unsigned long long)c->insert_failed, (unsigned long long)c->drop,
			(unsigned long long)c->early_drop);
		if (dropped)
			vx_evid(f, "%llu netfilter drops in %s with no rule behind them",
				(unsigned long long)dropped, vx_ns_label_of(c->netns));
		for (int t = 0; t < ev->n_tun; t++) {
			const struct vx_ev_tunnel *a = &ev->tun[t], *b;

			if (a->peer < 0 || strcmp(ev->tun[a->peer].netns, c->netns))
				continue;
			b = &ev->tun[a->peer];
			vx_evid(f,
				"%s encapsulated %llu packets toward %s, which decapsulated %llu",
				vx_ns_label_of(a->netns), (unsigned long long)a->encap,
				vx_ns_label_of(b->netns), (unsigned long long)b->decap);
		}
		snprintf(
			f->next, sizeof(f->next),
			"Raise net.netfilter.nf_conntrack_max (or shorten the timeouts), or exempt "
			"the traffic with a NOTRACK rule in the raw table of %s; `vxray conntrack "
			"--netns %s` shows the table filling.",
			vx_ns_label_of(c->netns), vx_ns_label_of(c->netns));
	}
}

static bool ct_full_in(const struct judge *j, const char *netns)
{
	int i = ct_index(j->ev, netns);

	return i >= 0 && j->ct_full[i];
}

/* Decapsulation and encapsulation failures named by the kernel's own drop
 * reasons, one finding per (kind, namespace). */
static void judge_tunnel_drops(struct judge *j, bool decap)
{
	const struct vx_evidence *ev = j->ev;

	for (int d = 0; d < ev->n_drops; d++) {
		const struct vx_ev_drop *x = &ev->drops[d];
		struct vx_finding *f;

		if (j->drop_used[d] || !(decap ? is_decap_drop(x) : encap_rank(ev, x) >= 0))
			continue;
		f = add(j, decap ? VX_V_DECAP : VX_V_ENCAP, x->netns, x->device);
		if (!f)
			return;
		for (int e = 0; e < ev->n_drops; e++) {
			const struct vx_ev_drop *y = &ev->drops[e];

			if (j->drop_used[e] || strcmp(y->netns, x->netns))
				continue;
			/* The overlay's unanswered ARP behind an encap failure
			 * is part of it. */
			if (decap ? is_decap_drop(y) : encap_rank(ev, y) >= 0 || is_neigh(y)) {
				j->drop_used[e] = true;
				vx_drop_evid(f, y);
				if (!decap && encap_rank(ev, y) >= 0 &&
				    encap_rank(ev, y) < encap_rank(ev, x))
					x = y;
			}
		}
		if (decap) {
			char vni[96] = "", vals[256] = "";
			const char *meaning = vx_drop_reason_meaning(x->reason);
			const char *why =
				!strcmp(x->reason, "VXLAN_VNI_NOT_FOUND") ||
						(in_vxlan_rcv(x) && vni_unserved(ev, x)) ?
					"the VNI it carries has no VXLAN device here" :
				!strcmp(x->reason, "NO_SOCKET") ?
					"nothing listens on the UDP port it was sent to (wrong destination port)" :
				!strcmp(x->reason, "VXLAN_INVALID_HDR") ?
					"its VXLAN header is invalid" :
				in_vxlan_rcv(x) ? "the VXLAN driver drops it" :
				meaning		? meaning :
						  "the kernel refused it";

			if (x->has_vni && vni_unserved(ev, x)) {
				snprintf(vni, sizeof(vni),
					 "; it carries VNI %u, which no VXLAN device "
					 "in %s has",
					 x->vni, vx_ns_label_of(x->netns));
				vx_mm_vni(ev, x, vals, sizeof(vals));
			} else if (!strcmp(x->reason, "NO_SOCKET")) {
				vx_mm_port(ev, x, vals, sizeof(vals));
			}
			snprintf(
				f->sentence, sizeof(f->sentence),
				"VXLAN packets reach %s but cannot be decapsulated: %s (%s%s%s)%s%s.",
				vx_ns_label_of(x->netns), why, x->reason,
				in_vxlan_rcv(x) ? " in " : "", in_vxlan_rcv(x) ? x->location : "",
				vni, vals);
			snprintf(
				f->next, sizeof(f->next),
				"Compare VNI and dstport on both ends (`ip -d link show type vxlan` in "
				"each namespace); `vxray drops --netns %s` shows each drop.",
				vx_ns_label_of(x->netns));
		} else {
			/* Without a reason, the device's own configuration says
			 * which: no remote at all, or a remote without a route
			 * (the inventory found no underlay toward it). */
			const struct vx_ev_tunnel *t = tunnel_of(ev, x);
			bool bare = in_vxlan_xmit(x);
			const struct vx_ev_tunnel *at = t ? t : vx_mm_tunnel_at(ev, x);
			const char *remote = vx_mm_remote(x, at);
			const char *meaning = vx_drop_reason_meaning(x->reason);
			char miss[256], to[64] = "";
			const char *why =
				!strcmp(x->reason, "VXLAN_NO_REMOTE") ||
						!strcmp(x->reason, "NO_TX_TARGET") ||
						(bare && t && !t->remote[0]) ?
					"the VXLAN device has no remote or FDB entry for the destination" :
				!strcmp(x->reason, "IP_OUTNOROUTES") ||
						(bare && t && !t->underlay[0]) ?
					"there is no route to the remote VTEP" :
				bare	    ? "the VXLAN driver drops it on transmit" :
				is_neigh(x) ? "the underlay neighbour (ARP/ND) of the remote VTEP" :
				meaning	    ? meaning :
					      "the kernel refused it";

			/* The remote it was going to, where the words name it. */
			if (remote[0] && (!strcmp(x->reason, "IP_OUTNOROUTES") ||
					  (bare && t && !t->underlay[0]) || (is_neigh(x) && !bare)))
				snprintf(to, sizeof(to), " %s", remote);
			vx_mm_remote_miss(ev, at, miss, sizeof(miss), NULL);
			snprintf(
				f->sentence, sizeof(f->sentence),
				"%s cannot encapsulate or send overlay traffic: %s%s%s (%s%s%s)%s.",
				vx_ns_label_of(x->netns), why, to,
				is_neigh(x) && !bare ? " cannot be resolved" : "", x->reason,
				bare ? " in " : "", bare ? x->location : "", miss);
			if (!strcmp(x->reason, "TUNNEL_TXINFO"))
				snprintf(
					f->next, sizeof(f->next),
					"Route the traffic into %s with tunnel information (`ip route "
					"... encap ip id VNI dst REMOTE dev %s`, or the program that "
					"sets it) in %s; `vxray drops --netns %s` shows the packets.",
					at ? at->device : "the device", at ? at->device : "DEV",
					vx_ns_label_of(x->netns), vx_ns_label_of(x->netns));
			else
				snprintf(
					f->next, sizeof(f->next),
					"Check `bridge fdb show dev %s`, `ip route get %s` and `ip "
					"neigh` in %s.",
					at ? at->device : "<vxlan>",
					remote[0] ? remote : "<remote VTEP>",
					vx_ns_label_of(x->netns));
		}
	}
}

/* The outer netfilter drop in @netns that explains a silent peer. */
static int outer_nf_drop(struct judge *j, const char *netns)
{
	for (int d = 0; d < j->ev->n_drops; d++) {
		const struct vx_ev_drop *x = &j->ev->drops[d];

		if (!j->drop_used[d] && x->outer && !strcmp(x->netns, netns))
			return d;
	}
	return -1;
}

/* A tunnel that encapsulates toward a remote no watched tunnel holds,
 * while a tunnel of its VNI is watched elsewhere: its remote is wrong.
 * Drops in its namespace that say why it cannot send (no route, no
 * neighbour) are the encap failure's to word, with the same values. */
static void remote_miss(struct judge *j, const struct vx_ev_tunnel *a)
{
	const struct vx_ev_tunnel *b;
	struct vx_finding *f;
	char miss[256], an[128], bn[128];

	vx_mm_remote_miss(j->ev, a, miss, sizeof(miss), &b);
	if (!b)
		return;
	for (int d = 0; d < j->ev->n_drops; d++)
		if (!j->drop_used[d] && !strcmp(j->ev->drops[d].netns, a->netns) &&
		    encap_rank(j->ev, &j->ev->drops[d]) >= 0)
			return;
	f = add(j, VX_V_ONE_SIDED, a->netns, a->device);
	if (!f)
		return;
	snprintf(f->sentence, sizeof(f->sentence),
		 "The tunnel %s -> %s is one-sided: %s's remote VTEP is not %s's%s.",
		 vx_ns_label_of(a->netns), vx_ns_label_of(b->netns), vx_ns_label_of(a->netns),
		 vx_ns_label_of(b->netns), miss);
	vx_evid(f, "%s encapsulated %llu packets", tun_name(a, an, sizeof(an)),
		(unsigned long long)a->encap);
	vx_evid(f, "%s decapsulated %llu", tun_name(b, bn, sizeof(bn)),
		(unsigned long long)b->decap);
	snprintf(f->next, sizeof(f->next),
		 "Point %s's %s at %s (`ip link set %s type vxlan remote %s`, or its FDB entries), "
		 "or check that %s is the VTEP it should reach.",
		 vx_ns_label_of(a->netns), a->device, b->local, a->device, b->local, a->remote);
}

static void judge_one_sided(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;
	char an[128], bn[128];

	for (int t = 0; t < ev->n_tun; t++) {
		const struct vx_ev_tunnel *a = &ev->tun[t], *b;
		struct vx_finding *f;
		int d;

		if (a->encap < VX_ONE_SIDED_MIN)
			continue;
		if (a->peer < 0) {
			remote_miss(j, a);
			continue;
		}
		b = &ev->tun[a->peer];
		if (b->decap || ct_full_in(j, b->netns) || j->tun_quiet[a->peer])
			continue;
		/* The kernel already said why the peer could not decapsulate. */
		f = find(j, VX_V_DECAP, b->netns);
		if (f) {
			vx_evid(f,
				"%s encapsulated %llu packets toward %s, which decapsulated none",
				vx_ns_label_of(a->netns), (unsigned long long)a->encap,
				vx_ns_label_of(b->netns));
			continue;
		}
		f = add(j, VX_V_ONE_SIDED, b->netns, b->device);
		if (!f)
			return;
		tun_name(a, an, sizeof(an));
		tun_name(b, bn, sizeof(bn));
		vx_evid(f, "%s encapsulated %llu packets", an, (unsigned long long)a->encap);
		vx_evid(f, "%s decapsulated none of them", bn);
		d = outer_nf_drop(j, b->netns);
		if (d >= 0 && is_nf_drop(&ev->drops[d])) {
			const struct vx_ev_drop *x = &ev->drops[d];

			snprintf(
				f->sentence, sizeof(f->sentence),
				"The tunnel %s -> %s is one-sided: netfilter in %s drops the outer "
				"VXLAN packets (UDP/%u) before they are decapsulated.",
				vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				vx_ns_label_of(b->netns), b->dstport);
			for (int e = 0; e < ev->n_drops; e++) {
				if (!j->drop_used[e] && ev->drops[e].outer &&
				    !strcmp(ev->drops[e].netns, b->netns)) {
					j->drop_used[e] = true;
					vx_drop_evid(f, &ev->drops[e]);
				}
			}
			snprintf(f->next, sizeof(f->next),
				 "Allow UDP/%u from %s in %s's firewall%s%s.", b->dstport,
				 b->remote[0] ? b->remote : "the remote VTEP",
				 vx_ns_label_of(b->netns), x->rule[0] ? "; the rule is: " : "",
				 x->rule);
		} else if (d >= 0) {
			j->drop_used[d] = true;
			vx_drop_evid(f, &ev->drops[d]);
			snprintf(
				f->sentence, sizeof(f->sentence),
				"The tunnel %s -> %s is one-sided: the outer packets reach %s and are "
				"dropped there (%s) before decapsulation.",
				vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				vx_ns_label_of(b->netns), ev->drops[d].reason);
			snprintf(
				f->next, sizeof(f->next),
				"`vxray drops --netns %s --stack` shows where; check the VXLAN port "
				"and VNI there.",
				vx_ns_label_of(b->netns));
		} else if (a->dstport && b->dstport && a->dstport != b->dstport) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "The tunnel %s -> %s is one-sided: %s's %s sends to UDP %u, but "
				 "%s's %s listens on UDP %u.",
				 vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				 vx_ns_label_of(a->netns), a->device, a->dstport,
				 vx_ns_label_of(b->netns), b->device, b->dstport);
			snprintf(
				f->next, sizeof(f->next),
				"Use one destination port on both ends (`ip link add ... type vxlan "
				"dstport 4789`; the port cannot be changed on a live device).");
		} else if (ev->no_underlay_rx) {
			snprintf(f->sentence, sizeof(f->sentence),
				 "The tunnel %s -> %s is one-sided: %s encapsulates, %s never "
				 "decapsulates, and no drop counted at %s names the packets.",
				 vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				 vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				 vx_ns_label_of(b->netns));
			snprintf(
				f->next, sizeof(f->next),
				"Run `vxray diagnose` on %s: it sees whether the packets reach its "
				"underlay; else check the underlay path (routes, ACLs, UDP/%u) "
				"between %s and %s.",
				vx_ns_label_of(b->netns), b->dstport, a->local[0] ? a->local : "?",
				b->local[0] ? b->local : "?");
		} else {
			bool arrived = b->underlay_rx > 0;

			if (b->underlay[0])
				vx_evid(f, "the underlay %s in %s received %llu packets",
					b->underlay, vx_ns_label_of(b->netns),
					(unsigned long long)b->underlay_rx);
			snprintf(
				f->sentence, sizeof(f->sentence),
				"The tunnel %s -> %s is one-sided: %s encapsulates, %s never "
				"decapsulates; %s.",
				vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				vx_ns_label_of(a->netns), vx_ns_label_of(b->netns),
				arrived ?
					"packets arrive on its underlay and vanish before the VXLAN socket" :
					"the packets are lost on the underlay between the two VTEPs");
			snprintf(
				f->next, sizeof(f->next), "%s",
				arrived ?
					"Check the receiver's firewall for UDP to the VXLAN port and run `vxray "
					"drops` on it to see where they go." :
					"Check the underlay path between the VTEPs (routes, ACLs, UDP to the "
					"VXLAN port) with `vxray encap` on both underlays.");
		}
	}
}

/* Netfilter drops left after the explanations above: rules that drop
 * overlay (inner) or underlay (outer) traffic. One finding per (netns,
 * overlay/underlay). */
static void judge_netfilter(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;

	for (int d = 0; d < ev->n_drops; d++) {
		const struct vx_ev_drop *x = &ev->drops[d];
		struct vx_finding *f;
		char rules[384] = "";
		uint64_t n = 0;

		if (j->drop_used[d] || !is_nf_drop(x))
			continue;
		f = add(j,
			x->side_unknown ? VX_V_NETFILTER :
			x->outer	? VX_V_NETFILTER_UNDERLAY :
					  VX_V_NETFILTER_OVERLAY,
			x->netns, x->device);
		if (!f)
			return;
		for (int e = d; e < ev->n_drops; e++) {
			const struct vx_ev_drop *y = &ev->drops[e];

			if (j->drop_used[e] || !is_nf_drop(y) || y->outer != x->outer ||
			    y->side_unknown != x->side_unknown || strcmp(y->netns, x->netns))
				continue;
			j->drop_used[e] = true;
			n += y->count;
			vx_drop_evid(f, y);
			if (y->rule[0] && strlen(rules) + strlen(y->rule) + 4 < sizeof(rules))
				snprintf(rules + strlen(rules), sizeof(rules) - strlen(rules),
					 "%s'%s'", rules[0] ? ", " : "", y->rule);
		}
		snprintf(f->sentence, sizeof(f->sentence),
			 "Netfilter in %s drops %s traffic (%llu packets)%s%s.",
			 vx_ns_label_of(x->netns),
			 x->side_unknown ? "some" :
			 x->outer	 ? "underlay (outer VXLAN)" :
					   "decapsulated overlay",
			 (unsigned long long)n, rules[0] ? " by " : "", rules);
		snprintf(
			f->next, sizeof(f->next),
			"Review the rule%s in %s (`iptables -S`, `nft list ruleset`); if the traffic "
			"is meant to pass, delete or narrow it.",
			rules[0] ? " named above" : "s", vx_ns_label_of(x->netns));
	}
}

/* Both ends fit their underlays but disagree: the larger end sends frames
 * the smaller one's overlay cannot carry on (a bridge port or a forwarding
 * hop drops or fragments them), and TCP's MSS differs by direction. */
static void ends_differ(struct judge *j, const struct vx_ev_tunnel *a, const struct vx_ev_tunnel *b)
{
	const struct vx_ev_tunnel *big = a->mtu > b->mtu ? a : b, *small = big == a ? b : a;
	struct vx_finding *f = add(j, VX_V_MTU, small->netns, small->device);
	char vb[24];

	if (!f)
		return;
	snprintf(f->sentence, sizeof(f->sentence),
		 "MTU mismatch between the ends of %s%s: %s's overlay MTU is %u, %s's %u, so %s "
		 "sends frames of up to %u bytes that %s's overlay cannot carry on (a bridge "
		 "port or a forwarding hop drops or fragments them).",
		 big->external ? "the " : "", vx_ev_vni(big, vb, sizeof(vb)),
		 vx_ns_label_of(big->netns), big->mtu, vx_ns_label_of(small->netns), small->mtu,
		 vx_ns_label_of(big->netns), big->mtu, vx_ns_label_of(small->netns));
	vx_evid(f, "path: %s %s (MTU %u) over %s (MTU %u) <-> %s %s (MTU %u) over %s (MTU %u)",
		vx_ns_label_of(a->netns), a->device, a->mtu, a->underlay[0] ? a->underlay : "?",
		a->underlay_mtu, vx_ns_label_of(b->netns), b->device, b->mtu,
		b->underlay[0] ? b->underlay : "?", b->underlay_mtu);
	snprintf(f->next, sizeof(f->next),
		 "Set one overlay MTU on both ends: `ip link set %s mtu %u` in %s (or raise %s's "
		 "to %u where its underlay allows).",
		 big->device, small->mtu, vx_ns_label_of(big->netns), vx_ns_label_of(small->netns),
		 big->mtu);
}

static void judge_mtu(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;
	bool done[VX_EV_MAX_TUN] = { false };

	for (int t = 0; t < ev->n_tun; t++) {
		const struct vx_ev_tunnel *a = &ev->tun[t], *b = NULL, *bad;
		struct vx_finding *f;
		uint64_t full, small, syn;
		char vb[24];

		if (done[t])
			continue;
		if (a->peer >= 0)
			b = &ev->tun[a->peer];
		if (!a->mtu_bad && !(b && b->mtu_bad)) {
			if (b && a->mtu && b->mtu && a->mtu != b->mtu && !done[a->peer]) {
				done[t] = done[a->peer] = true;
				ends_differ(j, a, b);
			}
			continue;
		}
		done[t] = true;
		if (a->peer >= 0)
			done[a->peer] = true;
		/* The end with the smaller underlay is where big frames die. */
		bad = a->mtu_bad ? a : b;
		if (a->mtu_bad && b && b->mtu_bad && b->underlay_mtu < a->underlay_mtu)
			bad = b;
		f = add(j, VX_V_MTU, bad->netns, bad->device);
		if (!f)
			return;
		full = a->rt_full + (b ? b->rt_full : 0);
		small = a->rt_small + (b ? b->rt_small : 0);
		syn = a->rt_synack + (b ? b->rt_synack : 0);
		snprintf(f->sentence, sizeof(f->sentence),
			 "MTU mismatch on %s%s: %s's overlay MTU %u does not fit its underlay "
			 "%s (MTU %u) once %d bytes of VXLAN are added, so full-size packets are "
			 "dropped.",
			 bad->external ? "the " : "", vx_ev_vni(bad, vb, sizeof(vb)),
			 vx_ns_label_of(bad->netns), bad->mtu,
			 bad->underlay[0] ? bad->underlay : "?", bad->underlay_mtu,
			 bad->local[0] && strchr(bad->local, ':') ? 70 : 50);
		if (b)
			vx_evid(f,
				"path: %s %s (MTU %u) over %s (MTU %u) -> %s %s (MTU %u) over %s "
				"(MTU %u)",
				vx_ns_label_of(a->netns), a->device, a->mtu,
				a->underlay[0] ? a->underlay : "?", a->underlay_mtu,
				vx_ns_label_of(b->netns), b->device, b->mtu,
				b->underlay[0] ? b->underlay : "?", b->underlay_mtu);
		else
			vx_evid(f,
				"path: %s %s (MTU %u) over %s (MTU %u) -> %s (the far end is not "
				"watched)",
				vx_ns_label_of(a->netns), a->device, a->mtu,
				a->underlay[0] ? a->underlay : "?", a->underlay_mtu,
				a->remote[0] ? a->remote : "?");
		if (a->mtu_bad)
			vx_evid(f, "%s: %s", vx_ns_label_of(a->netns), a->mtu_msg);
		if (b && b->mtu_bad)
			vx_evid(f, "%s: %s", vx_ns_label_of(b->netns), b->mtu_msg);
		if (full || small || syn)
			vx_evid(f,
				"TCP retransmits through the tunnel: %llu full-size (up to %u bytes), "
				"%llu small, %llu SYNACK%s",
				(unsigned long long)full,
				a->rt_max_len > (b ? b->rt_max_len : 0) ? a->rt_max_len :
				b					? b->rt_max_len :
									  0,
				(unsigned long long)small, (unsigned long long)syn,
				full && !small ?
					": the MTU fingerprint (big segments lost, small pass)" :
					"");
		else
			vx_evid(f,
				"no TCP retransmits seen in the window (no full-size TCP traffic crossed)");
		if (b && a->encap > b->decap)
			vx_evid(f, "%s encapsulated %llu packets, %s decapsulated %llu",
				vx_ns_label_of(a->netns), (unsigned long long)a->encap,
				vx_ns_label_of(b->netns), (unsigned long long)b->decap);
		{
			int over = bad->local[0] && strchr(bad->local, ':') ? 70 : 50;
			uint32_t low = bad->underlay_mtu;

			if (b && b->underlay_mtu && b->underlay_mtu < low)
				low = b->underlay_mtu;
			if (a->underlay_mtu && a->underlay_mtu < low)
				low = a->underlay_mtu;
			if (low > (uint32_t)over)
				snprintf(
					f->next, sizeof(f->next),
					"Set the overlay MTU to %u (the smallest underlay MTU, %u, "
					"minus %d) on both ends (`ip link set %s mtu %u`), or raise "
					"the underlay MTU.",
					low - over, low, over, bad->device, low - over);
			else
				snprintf(
					f->next, sizeof(f->next),
					"Set the overlay MTU to the smallest underlay MTU minus %d on "
					"both ends (`ip link set %s mtu N`), or raise the underlay MTU.",
					over, bad->device);
		}
	}
}

/* Last, and only when nothing above was found: a probe target that did
 * not answer is a fault of its own, whose cause the evidence does not show
 * (a path outside the diagnosed namespaces, an address nobody holds). */
static void judge_probe(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;

	for (int i = 0; i < ev->n_probes; i++) {
		const struct vx_ev_probe *p = &ev->probes[i];
		struct vx_finding *f;

		if (p->sent < VX_PROBE_MIN_SENT || p->received >= VX_PROBE_MIN_ANSWERED * p->sent)
			continue;
		f = add(j, VX_V_UNREACHABLE, p->from, NULL);
		if (!f)
			return;
		snprintf(f->sentence, sizeof(f->sentence),
			 "%s cannot reach %s: %u of %u probe pings were answered, and no drop, "
			 "rule or table in the diagnosed namespaces explains it.",
			 vx_ns_label_of(p->from), p->to, p->received, p->sent);
		vx_evid(f, "probe from %s to %s: %u sent, %u answered", vx_ns_label_of(p->from),
			p->to, p->sent, p->received);
		snprintf(
			f->next, sizeof(f->next),
			"Check that %s is the right address and routed from %s (`ip route get %s`); "
			"diagnose the namespaces along the path with --netns.",
			p->to, vx_ns_label_of(p->from), p->to);
	}
}

static void judge_healthy(struct judge *j)
{
	const struct vx_evidence *ev = j->ev;
	struct vx_finding *f = add(j, VX_V_HEALTHY, NULL, NULL);
	char name[128];
	uint64_t total = 0;

	if (!f)
		return;
	for (int t = 0; t < ev->n_tun; t++) {
		const struct vx_ev_tunnel *a = &ev->tun[t];

		total += a->encap + a->decap;
		vx_evid(f, "%s: %llu encapsulated, %llu decapsulated, MTU %u over %u fits",
			tun_name(a, name, sizeof(name)), (unsigned long long)a->encap,
			(unsigned long long)a->decap, a->mtu, a->underlay_mtu);
	}
	for (int i = 0; i < ev->n_ct; i++)
		vx_evid(f, "conntrack in %s: %u of %u entries, no failures",
			vx_ns_label_of(ev->ct[i].netns), ev->ct[i].count, ev->ct[i].max);
	for (int i = 0; i < ev->n_lat; i++)
		if (ev->lat[i].samples)
			vx_evid(f, "%s %s in %s: p50 %.0f us%s", ev->lat[i].stage,
				ev->lat[i].device, vx_ns_label_of(ev->lat[i].netns),
				ev->lat[i].p50_us,
				ev->lat[i].has_base ? " (within its baseline)" : "");
	vx_evid(f, "no tunnel, netfilter or conntrack drops in %.1f s", ev->window_s);
	snprintf(f->sentence, sizeof(f->sentence), "No fault found%s.",
		 !ev->n_tun ? ": no VXLAN device was found to watch" :
		 total	    ? "" :
			      ", but no overlay traffic crossed the tunnels (try --probe)");
	snprintf(f->next, sizeof(f->next), "%s",
		 !ev->n_tun ? "Name the namespaces that hold the VXLAN devices with --netns." :
		 total	    ? "Nothing to do; keep this run with -j as a --baseline for later." :
			      "Run again with --probe, or while the application sends traffic.");
}

/* The underlay path's judges (pathjudge.c) see what this file's saw. */
static struct vx_pjudge path_judge(struct judge *j)
{
	return (struct vx_pjudge){ .ev = j->ev,
				   .drop_used = j->drop_used,
				   .ct_full = j->ct_full,
				   .tun_quiet = j->tun_quiet,
				   .out = j->out,
				   .n = &j->n,
				   .max = j->max };
}

int vx_findings_judge(const struct vx_evidence *ev, struct vx_finding *out, int max)
{
	struct judge j = { .ev = ev, .out = out, .max = max };
	struct vx_pjudge pj = path_judge(&j);

	if (max <= 0)
		return 0;
	/* Drops of traffic that does not matter are notes (vx_findings_notes). */
	for (int d = 0; d < ev->n_drops; d++)
		j.drop_used[d] = ev->drops[d].unrelated;
	judge_conntrack(&j);
	/* Bad outer checksums before the decap reasons: UDP_CSUM is one of
	 * them, and the checksum judge also reads Udp InCsumErrors. */
	vx_pjudge_outer_csum(&pj);
	judge_tunnel_drops(&j, true);
	vx_pjudge_path(&pj);
	judge_one_sided(&j);
	judge_tunnel_drops(&j, false);
	vx_pjudge_pmtu(&pj);
	judge_netfilter(&j);
	judge_mtu(&j);
	vx_pjudge_latency(&pj);
	if (!j.n)
		judge_probe(&j);
	if (!j.n)
		judge_healthy(&j);
	return j.n;
}
