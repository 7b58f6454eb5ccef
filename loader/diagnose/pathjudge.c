// SPDX-License-Identifier: GPL-2.0-only
/* The findings about the underlay path between two VTEPs; see
 * findings.h. A namespace that holds no VXLAN device but was diagnosed is
 * a hop on the path (the lab's router): its drops of the tunnel's packets
 * name where they die. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "names.h"

static struct vx_finding *add(struct vx_pjudge *p, enum vx_verdict v, const char *netns,
			      const char *device)
{
	return vx_finding_add(p->out, p->n, p->max, v, netns, device);
}

static const char *ns(const char *netns)
{
	return vx_ns_label_of(netns);
}

/* A diagnosed namespace without a VXLAN device: a hop on the underlay. */
static bool is_hop(const struct vx_evidence *ev, const char *netns)
{
	for (int i = 0; i < ev->n_tun; i++)
		if (!strcmp(ev->tun[i].netns, netns))
			return false;
	return true;
}

static bool ct_full_in(const struct vx_pjudge *p, const char *netns)
{
	for (int i = 0; i < p->ev->n_ct; i++)
		if (!strcmp(p->ev->ct[i].netns, netns))
			return p->ct_full[i];
	return false;
}

static bool has_finding(const struct vx_pjudge *p, enum vx_verdict v, const char *netns)
{
	for (int i = 0; i < *p->n; i++)
		if (p->out[i].verdict == v && !strcmp(p->out[i].netns, netns))
			return true;
	return false;
}

/* VXLAN overhead on top of an inner IP packet, by the outer family. */
static unsigned overhead(const struct vx_ev_tunnel *t)
{
	return strchr(t->local, ':') || strchr(t->remote, ':') ? 70 : 50;
}

/* ---- bad outer UDP checksums ---------------------------------------------- */

void vx_pjudge_outer_csum(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int t = 0; t < ev->n_tun; t++) {
		const struct vx_ev_tunnel *b = &ev->tun[t], *a = NULL;
		uint64_t drops = 0, lost = 0;
		struct vx_finding *f;
		bool first = true;

		/* One finding per namespace: its first tunnel stands for it. */
		for (int k = 0; k < t && first; k++)
			first = strcmp(ev->tun[k].netns, b->netns) != 0;
		if (!first)
			continue;
		for (int d = 0; d < ev->n_drops; d++)
			if (!p->drop_used[d] && ev->drops[d].outer &&
			    !strcmp(ev->drops[d].netns, b->netns) &&
			    !strcmp(ev->drops[d].reason, "UDP_CSUM"))
				drops += ev->drops[d].count;
		/* The senders toward this namespace, and what they lost. */
		for (int k = 0; k < ev->n_tun; k++) {
			const struct vx_ev_tunnel *s = &ev->tun[k];

			if (s->peer < 0 || strcmp(ev->tun[s->peer].netns, b->netns))
				continue;
			if (!a)
				a = s;
			if (s->encap > ev->tun[s->peer].decap)
				lost += s->encap - ev->tun[s->peer].decap;
		}
		/* Without the drop probe, the counter and the loss it explains. */
		if (drops < VX_ONE_SIDED_MIN &&
		    !(b->udp_csum_errors >= VX_ONE_SIDED_MIN && lost >= VX_ONE_SIDED_MIN))
			continue;
		f = add(p, VX_V_OUTER_CSUM, b->netns, b->underlay);
		if (!f)
			return;
		for (int k = 0; k < ev->n_tun; k++)
			if (!strcmp(ev->tun[k].netns, b->netns))
				p->tun_quiet[k] = true;
		if (a)
			snprintf(f->sentence, sizeof(f->sentence),
				 "VXLAN packets from %s arrive at %s with bad outer UDP checksums "
				 "(UDP/%u, %s -> %s): %s's kernel drops them before decapsulation "
				 "(UDP_CSUM: %llu packets; Udp InCsumErrors +%llu).",
				 ns(a->netns), ns(b->netns), b->dstport,
				 a->local[0] ? a->local : "?", a->remote[0] ? a->remote : "?",
				 ns(b->netns), (unsigned long long)drops,
				 (unsigned long long)b->udp_csum_errors);
		else
			snprintf(
				f->sentence, sizeof(f->sentence),
				"VXLAN packets arrive at %s with bad outer UDP checksums (UDP/%u): "
				"its kernel drops them before decapsulation (UDP_CSUM: %llu packets; "
				"Udp InCsumErrors +%llu).",
				ns(b->netns), b->dstport, (unsigned long long)drops,
				(unsigned long long)b->udp_csum_errors);
		for (int d = 0; d < ev->n_drops; d++) {
			if (p->drop_used[d] || !ev->drops[d].outer ||
			    strcmp(ev->drops[d].netns, b->netns) ||
			    strcmp(ev->drops[d].reason, "UDP_CSUM"))
				continue;
			p->drop_used[d] = true;
			vx_drop_evid(f, &ev->drops[d]);
		}
		vx_evid(f, "Udp InCsumErrors in %s rose by %llu during the window", ns(b->netns),
			(unsigned long long)b->udp_csum_errors);
		for (int k = 0; k < ev->n_tun; k++) {
			const struct vx_ev_tunnel *s = &ev->tun[k];
			char vb[24];

			if (s->peer >= 0 && !strcmp(ev->tun[s->peer].netns, b->netns))
				vx_evid(f,
					"%s (%s, %s) encapsulated %llu packets toward %s, which "
					"decapsulated %llu",
					ns(s->netns), s->device, vx_ev_vni(s, vb, sizeof(vb)),
					(unsigned long long)s->encap, ns(b->netns),
					(unsigned long long)ev->tun[s->peer].decap);
		}
		snprintf(
			f->next, sizeof(f->next),
			"Suspect the sender's transmit checksum offload: on %s, `ethtool -K "
			"<underlay NIC> tx off`; if the errors stop, its NIC or driver computes them "
			"wrong. `tcpdump -vvni %s udp port %u` in %s prints each 'bad udp cksum'.",
			a ? ns(a->netns) : "the sender", b->underlay[0] ? b->underlay : "any",
			b->dstport, ns(b->netns));
	}
}

/* ---- a hop that drops the tunnel ------------------------------------------ */

/* Every outer packet @a sent toward @b vanished before @b's underlay: @b
 * decapsulated none, its underlay received fewer packets than half of them
 * (a stray ARP or IPv6 multicast arrives anyway), and nothing in @b
 * dropped an outer packet or explains it otherwise; nor did @a drop its
 * own outer packets (an underlay neighbour that never answers: the encap
 * failure's). */
static bool lost_on_path(const struct vx_pjudge *p, const struct vx_ev_tunnel *a, int bi)
{
	const struct vx_evidence *ev = p->ev;
	const struct vx_ev_tunnel *b = &ev->tun[bi];

	if (a->encap < VX_ONE_SIDED_MIN || b->decap || p->tun_quiet[bi] ||
	    ct_full_in(p, b->netns) || has_finding(p, VX_V_DECAP, b->netns) ||
	    b->underlay_rx * 2 >= a->encap)
		return false;
	for (int d = 0; d < ev->n_drops; d++)
		if (!p->drop_used[d] && ev->drops[d].outer &&
		    (!strcmp(ev->drops[d].netns, b->netns) ||
		     !strcmp(ev->drops[d].netns, a->netns)))
			return false;
	return true;
}

static int hop_drop(const struct vx_pjudge *p)
{
	for (int d = 0; d < p->ev->n_drops; d++)
		if (!p->drop_used[d] && p->ev->drops[d].outer &&
		    is_hop(p->ev, p->ev->drops[d].netns))
			return d;
	return -1;
}

static void path_evid(struct vx_finding *f, const struct vx_ev_tunnel *a,
		      const struct vx_ev_tunnel *b)
{
	char vb[24];

	vx_evid(f, "%s (%s, %s, %s -> %s) encapsulated %llu packets", ns(a->netns), a->device,
		vx_ev_vni(a, vb, sizeof(vb)), a->local[0] ? a->local : "?",
		a->remote[0] ? a->remote : "?", (unsigned long long)a->encap);
	vx_evid(f, "%s's underlay %s received %llu packets, %s decapsulated none", ns(b->netns),
		b->underlay[0] ? b->underlay : "?", (unsigned long long)b->underlay_rx, b->device);
}

void vx_pjudge_path(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;

	for (int t = 0; t < ev->n_tun; t++) {
		const struct vx_ev_tunnel *a = &ev->tun[t], *b;
		const struct vx_ev_drop *x = NULL;
		char back[160] = "", hops[160] = "", rule[220] = "";
		struct vx_finding *f;
		uint64_t n = 0, n_rule = 0;
		bool rev, nf = true;
		int d;

		if (a->peer < 0 || !lost_on_path(p, a, a->peer))
			continue;
		b = &ev->tun[a->peer];
		rev = lost_on_path(p, b, t);
		p->tun_quiet[a->peer] = true;
		if (rev) {
			p->tun_quiet[t] = true;
			snprintf(back, sizeof(back),
				 "; the same from %s to %s (%llu encapsulated, %llu "
				 "received)",
				 ns(b->netns), ns(a->netns), (unsigned long long)b->encap,
				 (unsigned long long)a->underlay_rx);
		}
		d = hop_drop(p);
		if (d >= 0)
			x = &ev->drops[d];
		f = add(p, VX_V_UNDERLAY_PATH, x ? x->netns : NULL, x ? x->device : NULL);
		if (!f)
			return;
		path_evid(f, a, b);
		if (rev)
			path_evid(f, b, a);
		/* Every outer drop at that hop: both directions, each rule. A
		 * rule's entry counts what its counter rose by, both directions
		 * of it, the entries without a rule count what the drop probe
		 * saw (dropev.c): the larger sum is the hop's. */
		for (int e = 0; x && e < ev->n_drops; e++) {
			const struct vx_ev_drop *y = &ev->drops[e];

			if (p->drop_used[e] || !y->outer || strcmp(y->netns, x->netns))
				continue;
			p->drop_used[e] = true;
			if (y->rule[0])
				n_rule += y->count;
			else
				n += y->count;
			nf &= !strcmp(y->reason, "NETFILTER_DROP");
			if (y->rule[0] && !rule[0])
				snprintf(rule, sizeof(rule), "%s", y->rule);
			vx_drop_evid(f, y);
		}
		if (n_rule > n)
			n = n_rule;
		if (x && nf) {
			snprintf(
				f->sentence, sizeof(f->sentence),
				"VXLAN packets from %s to %s are dropped at %s, a hop on the underlay "
				"between them: netfilter there drops the outer packets it forwards "
				"(UDP/%u, %s -> %s; %llu packets)%s%s%s%s.",
				ns(a->netns), ns(b->netns), ns(x->netns), b->dstport, a->local,
				a->remote, (unsigned long long)n, rule[0] ? " by '" : "", rule,
				rule[0] ? "'" : "", rev ? ", in both directions" : "");
			snprintf(f->next, sizeof(f->next),
				 "Allow UDP/%u between %s and %s in %s's firewall%s%s.", b->dstport,
				 a->local, a->remote, ns(x->netns),
				 rule[0] ? "; the rule is: " : "", rule);
			continue;
		}
		if (x) {
			snprintf(
				f->sentence, sizeof(f->sentence),
				"VXLAN packets from %s to %s are dropped at %s, a hop on the underlay "
				"between them: it drops the outer packets it forwards (UDP/%u, %s -> "
				"%s; %llu packets, %s%s%s)%s.",
				ns(a->netns), ns(b->netns), ns(x->netns), b->dstport, a->local,
				a->remote, (unsigned long long)n, x->reason,
				x->location[0] ? " at " : "", x->location,
				rev ? ", in both directions" : "");
			snprintf(
				f->next, sizeof(f->next),
				"`vxray drops --netns %s --stack` shows where; check its routes and "
				"filters for UDP/%u between %s and %s.",
				ns(x->netns), b->dstport, a->local, a->remote);
			continue;
		}
		/* Hops that were watched and saw none of it. */
		for (int w = 0; w < ev->n_watched; w++)
			if (is_hop(ev, ev->watched[w]) &&
			    strlen(hops) + strlen(ev->watched[w]) + 3 < sizeof(hops))
				snprintf(hops + strlen(hops), sizeof(hops) - strlen(hops), "%s%s",
					 hops[0] ? ", " : "", ns(ev->watched[w]));
		if (hops[0])
			vx_evid(f, "watched on the way: %s, which dropped none of them", hops);
		snprintf(f->sentence, sizeof(f->sentence),
			 "VXLAN packets from %s to %s are lost between %s and %s in the underlay: "
			 "%s encapsulated %llu (UDP/%u to %s) and %s's underlay %s received %llu "
			 "packets%s.",
			 ns(a->netns), ns(b->netns), ns(a->netns), ns(b->netns), ns(a->netns),
			 (unsigned long long)a->encap, b->dstport, a->remote, ns(b->netns),
			 b->underlay[0] ? b->underlay : "?", (unsigned long long)b->underlay_rx,
			 back);
		snprintf(f->next, sizeof(f->next),
			 "Something between the VTEPs drops UDP/%u (a firewall, ACL or security "
			 "group) or misroutes it: name the routers' namespaces with --netns to see "
			 "which, or check the path from %s to %s.",
			 b->dstport, a->local, a->remote);
	}
}

/* ---- PMTU black hole ------------------------------------------------------ */

/* Below the smallest size lost when no size was answered: the probe's
 * finest step, so the advice is a size that was not seen to fail. */
#define VX_PROBE_SWEEP_STEP_BYTES 10

/* Target @q's pings through tunnel @a: small ones answered, the full-size
 * ones and the sweep's larger sizes lost with a clean edge, no ICMP
 * too-big back, and neither end's configuration to blame. */
static bool black_hole(const struct vx_pjudge *p, const struct vx_ev_probe *q)
{
	const struct vx_evidence *ev = p->ev;
	const struct vx_ev_tunnel *a, *b;

	if (q->tun < 0 || q->tun >= ev->n_tun)
		return false;
	a = &ev->tun[q->tun];
	b = a->peer >= 0 ? &ev->tun[a->peer] : NULL;
	/* An ICMP too-big, or a route MTU the kernel lowered: PMTU discovery
	 * works, the path is only narrower than the overlay expects. */
	if (q->too_big || (q->route_mtu && q->route_mtu < a->mtu))
		return false;
	return q->big_sent && !q->big_received && q->sent >= VX_PROBE_MIN_SENT &&
	       q->received >= VX_PROBE_MIN_ANSWERED * q->sent && q->sweep_sent && q->sweep_clean &&
	       q->sweep_lost && !a->mtu_bad && !(b && b->mtu_bad) && !ct_full_in(p, a->netns) &&
	       !(b && ct_full_in(p, b->netns));
}

/* A router's drop of a packet too big for its next link: the kernel's
 * reason, or before forwarding's drops had reasons (6.1) only the place. */
static bool too_big_drop(const struct vx_ev_drop *x)
{
	return !strcmp(x->reason, "PKT_TOO_BIG") ||
	       (!strcmp(x->reason, "NOT_SPECIFIED") && (!strncmp(x->location, "ip_forward+", 11) ||
							!strncmp(x->location, "ip6_forward+", 12)));
}

/* A netfilter rule that drops the ICMP a router sends when a packet is too
 * big for its next link, in iptables' and nft's words. */
static bool blocks_too_big(const char *rule)
{
	static const char *const words[] = { "fragmentation-needed", "frag-needed",
					     "packet-too-big", "icmp-type 3/4", "icmpv6-type 2" };

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strstr(rule, words[i]))
			return true;
	return false;
}

static void probe_evid(struct vx_finding *f, const struct vx_ev_probe *q,
		       const struct vx_ev_tunnel *a)
{
	vx_evid(f,
		"probe %s -> %s: %u of %u small pings answered, %u of %u full-size (%u bytes, DF); "
		"swept sizes answered up to %u, lost from %u",
		ns(q->from), q->to, q->received, q->sent, q->big_received, q->big_sent, a->mtu,
		q->sweep_ok, q->sweep_lost);
	if (q->tcp_sent > q->tcp_received)
		vx_evid(f, "TCP %s -> %s: %llu of %llu bytes arrived", ns(q->from), q->to,
			(unsigned long long)q->tcp_received, (unsigned long long)q->tcp_sent);
}

void vx_pjudge_pmtu(struct vx_pjudge *p)
{
	const struct vx_evidence *ev = p->ev;
	bool done[VX_EV_MAX_TUN] = { false };

	for (int i = 0; i < ev->n_probes; i++) {
		const struct vx_ev_probe *q = &ev->probes[i], *r = NULL;
		const struct vx_ev_tunnel *a, *b;
		const struct vx_ev_drop *big = NULL, *icmp = NULL, *at;
		char hop[300] = "", mtu[64];
		struct vx_finding *f;
		uint64_t n_big = 0;
		unsigned ovh, hi, fit;

		if (done[i] || !black_hole(p, q))
			continue;
		done[i] = true;
		a = &ev->tun[q->tun];
		b = a->peer >= 0 ? &ev->tun[a->peer] : NULL;
		ovh = overhead(a);
		/* The other direction, when its probe shows the same. */
		for (int k = 0; b && k < ev->n_probes && !r; k++) {
			if (!done[k] && ev->probes[k].tun == a->peer &&
			    black_hole(p, &ev->probes[k])) {
				r = &ev->probes[k];
				done[k] = true;
			}
		}
		/* A watched hop that drops them as too big, and its ICMP. */
		for (int d = 0; d < ev->n_drops; d++) {
			const struct vx_ev_drop *x = &ev->drops[d];

			if (p->drop_used[d] || !is_hop(ev, x->netns) || !too_big_drop(x) ||
			    (big && strcmp(big->netns, x->netns)))
				continue;
			p->drop_used[d] = true;
			n_big += x->count;
			if (!big)
				big = x;
		}
		/* The rule that drops the ICMP is known by its words; a nameless
		 * netfilter drop counts only beside the hop's too-big ones. */
		for (int d = 0; d < ev->n_drops; d++) {
			const struct vx_ev_drop *x = &ev->drops[d];

			if (p->drop_used[d] || !is_hop(ev, x->netns) || x->outer ||
			    strcmp(x->reason, "NETFILTER_DROP") ||
			    (big && strcmp(x->netns, big->netns)) ||
			    (icmp && strcmp(x->netns, icmp->netns)) ||
			    !(blocks_too_big(x->rule) || (big && !x->rule[0])))
				continue;
			p->drop_used[d] = true;
			if (!icmp || (!icmp->rule[0] && x->rule[0]))
				icmp = x;
		}
		at = big ? big : icmp;
		f = add(p, VX_V_PMTU_BLACKHOLE, at ? at->netns : NULL, big ? big->device : NULL);
		if (!f)
			return;
		hi = q->sweep_lost + ovh - 1;
		if (q->sweep_ok)
			snprintf(mtu, sizeof(mtu), "%u-%u", q->sweep_ok + ovh, hi);
		else
			snprintf(mtu, sizeof(mtu), "under %u", q->sweep_lost + ovh);
		if (big) {
			bool named = !strcmp(big->reason, "PKT_TOO_BIG");

			snprintf(
				hop, sizeof(hop),
				"; %s drops them as too big for its next link (%s%s%s, %llu "
				"packets)%s",
				ns(big->netns), big->reason, named ? "" : " at ",
				named ? "" : big->location, (unsigned long long)n_big,
				icmp ? " and its firewall drops the ICMP 'fragmentation needed' it "
				       "sends back" :
				       "");
		} else if (icmp) {
			snprintf(hop, sizeof(hop),
				 "; %s's firewall drops the ICMP 'fragmentation needed' sent back",
				 ns(icmp->netns));
		}
		snprintf(
			f->sentence, sizeof(f->sentence),
			"PMTU black hole between %s and %s: overlay packets of up to %u bytes "
			"cross, %u bytes and more (DF) vanish and no ICMP 'fragmentation needed' "
			"comes back; a link on the underlay path carries %s-byte packets, where the "
			"overlay MTU %u needs %u%s.",
			ns(a->netns), b ? ns(b->netns) : q->to, q->sweep_ok, q->sweep_lost, mtu,
			a->mtu, a->mtu + ovh, hop);
		probe_evid(f, q, a);
		if (r)
			probe_evid(f, r, b);
		if (b)
			vx_evid(f,
				"both ends' MTUs fit their own links: %s %s %u over %s %u, %s %s %u over %s %u",
				ns(a->netns), a->device, a->mtu, a->underlay, a->underlay_mtu,
				ns(b->netns), b->device, b->mtu, b->underlay, b->underlay_mtu);
		else
			vx_evid(f, "%s's MTU fits its own link: %s %u over %s %u", ns(a->netns),
				a->device, a->mtu, a->underlay, a->underlay_mtu);
		if (a->rt_full || (b && b->rt_full))
			vx_evid(f, "TCP retransmits through the tunnel: %llu full-size, %llu small",
				(unsigned long long)(a->rt_full + (b ? b->rt_full : 0)),
				(unsigned long long)(a->rt_small + (b ? b->rt_small : 0)));
		if (big)
			vx_drop_evid(f, big);
		if (icmp)
			vx_drop_evid(f, icmp);
		fit = q->sweep_ok ? q->sweep_ok : q->sweep_lost - VX_PROBE_SWEEP_STEP_BYTES;
		if (icmp && icmp->rule[0])
			snprintf(
				f->next, sizeof(f->next),
				"Let ICMP 'fragmentation needed' out of %s (the rule dropping it: %s), "
				"or lower the overlay MTU to %u on both ends.",
				ns(icmp->netns), icmp->rule, fit);
		else
			snprintf(
				f->next, sizeof(f->next),
				"Lower the overlay MTU to %u on both ends (`ip link set %s mtu %u`), or "
				"let ICMP 'fragmentation needed' (ICMPv6 'packet too big') through %s so "
				"PMTU discovery works.",
				fit, a->device, fit, at ? ns(at->netns) : "every hop of the path");
	}
}
