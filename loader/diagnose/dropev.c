// SPDX-License-Identifier: GPL-2.0-only
/* The drops of a diagnosis window, named by the netfilter rules behind
 * them (see dropev.h). */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dropev.h"
#include "dropsrc.h"
#include "log.h"
#include "names.h"
#include "netns.h"

/* ---- netfilter rule counters ---------------------------------------------- */

static struct vx_dropev_rule *rule_slot(struct vx_dropev *w, const char *netns, const char *rule)
{
	for (int i = 0; i < w->n_rules; i++)
		if (!strcmp(w->rules[i].netns, netns) && !strcmp(w->rules[i].rule, rule))
			return &w->rules[i];
	if (w->n_rules >= VX_DROPEV_MAX_RULES)
		return NULL;
	snprintf(w->rules[w->n_rules].netns, VX_NETNS_NAME_MAX, "%s", netns);
	snprintf(w->rules[w->n_rules].rule, sizeof(w->rules[0].rule), "%s", rule);
	return &w->rules[w->n_rules++];
}

/* The rules of every namespace (policy.c: nftables, iptables-nft and
 * -legacy); at the end, each DROP/REJECT rule whose counter rose. */
void vx_dropev_snap_rules(struct vx_dropev *w, const char names[][VX_NETNS_NAME_MAX], int n_names,
			  bool end)
{
	static struct vx_nf_hit hits[VX_DROPEV_MAX_RULES];

	for (int n = 0; n < n_names; n++) {
		struct vx_nf_ruleset now = {};
		int k, ret = vx_nf_read_ruleset(names[n], &now);

		if (ret) {
			pr_debug("diagnose: cannot read the rules of %s: %s",
				 vx_ns_label_of(names[n]), vx_strerror(ret));
			vx_nf_ruleset_free(&now);
			continue;
		}
		w->have_rules = true;
		if (!end) {
			vx_nf_ruleset_free(&w->rs[n]);
			w->rs[n] = now;
			w->have_rs[n] = true;
			continue;
		}
		k = vx_nf_counter_hits(w->have_rs[n] ? &w->rs[n] : NULL, &now, hits,
				       VX_DROPEV_MAX_RULES);
		for (int i = 0; i < k && i < VX_DROPEV_MAX_RULES; i++) {
			const struct vx_nf_rule *r = hits[i].rule;
			struct vx_dropev_rule *rc;
			char text[sizeof(rc->rule)];

			if (r->policy)
				snprintf(text, sizeof(text), "policy %s of %s %s/%s",
					 vx_nf_verdict_name(r->verdict), r->family, r->table,
					 r->chain);
			else if (!strncmp(r->text, "-A ", 3))
				snprintf(text, sizeof(text), "%s", r->text);
			else
				snprintf(text, sizeof(text), "%s %s/%s: %s", r->family, r->table,
					 r->chain, r->text);
			rc = rule_slot(w, names[n], text);
			if (!rc)
				break;
			rc->seen_before = true;
			rc->after += hits[i].packets;
		}
		vx_nf_ruleset_free(&now);
	}
}

/* In a namespace without a VXLAN device (a router on the underlay path),
 * a rule on UDP to any diagnosed tunnel's port matches the encapsulated
 * packets it forwards. */
static bool hop_rule_is_outer(const struct vx_dropev *w, const struct vx_dropev_rule *r)
{
	for (int i = 0; i < w->ev->n_tun; i++)
		if (!strcmp(w->ev->tun[i].netns, r->netns))
			return false;
	for (int i = 0; i < w->ev->n_tun; i++) {
		char port[32], nport[32];

		snprintf(port, sizeof(port), "--dport %u", w->ev->tun[i].dstport);
		snprintf(nport, sizeof(nport), "udp dport %u", w->ev->tun[i].dstport);
		if ((strstr(r->rule, "-p udp") && strstr(r->rule, port)) || strstr(r->rule, nport))
			return true;
	}
	return false;
}

/* A rule that matches the encapsulated packets: UDP to a tunnel's port, or
 * traffic arriving on a tunnel's underlay device. */
static bool rule_is_outer(const struct vx_dropev *w, const struct vx_dropev_rule *r)
{
	if (hop_rule_is_outer(w, r))
		return true;
	for (int i = 0; i < w->ev->n_tun; i++) {
		const struct vx_ev_tunnel *t = &w->ev->tun[i];
		char port[32], ul[32];

		if (strcmp(t->netns, r->netns))
			continue;
		char nport[32], nul[40];

		/* iptables and nft spellings of "UDP to the VXLAN port" and "in
		 * on the underlay". */
		snprintf(port, sizeof(port), "--dport %u", t->dstport);
		snprintf(ul, sizeof(ul), "-i %s ", t->underlay);
		snprintf(nport, sizeof(nport), "udp dport %u", t->dstport);
		snprintf(nul, sizeof(nul), "iifname \"%s\"", t->underlay);
		if ((strstr(r->rule, "-p udp") && strstr(r->rule, port)) ||
		    strstr(r->rule, nport) ||
		    (t->underlay[0] && (strstr(r->rule, ul) || strstr(r->rule, nul))))
			return true;
	}
	return false;
}

/* ---- drops ---------------------------------------------------------------- */

/* UDP to any watched tunnel's port: an encapsulated packet even when the
 * drop probe, which knows one VXLAN port, did not parse it as one (a
 * sender using another tunnel's port is the wrong-port fault itself). */
static bool outer_udp(const struct vx_dropev *w, const struct vxd_event *e)
{
	if (!(e->flags & VXD_F_OUTER) || e->outer.proto != IPPROTO_UDP || (e->flags & VXD_F_DECAP))
		return false;
	for (int i = 0; i < w->ev->n_tun; i++)
		if (w->ev->tun[i].dstport == e->outer.dport)
			return true;
	return false;
}

void vx_dropev_interest(struct vx_dropev *w, int family, const void *addr)
{
	struct vx_dropev_addr *a;

	if ((family != AF_INET && family != AF_INET6) || w->n_interest >= 2 * VX_EV_MAX_PROBES)
		return;
	a = &w->interest[w->n_interest++];
	memset(a, 0, sizeof(*a));
	a->family = family == AF_INET ? 4 : 6;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
}

static bool is_interest(const struct vx_dropev *w, uint8_t family, const uint8_t *a)
{
	for (int i = 0; i < w->n_interest; i++)
		if (w->interest[i].family == family &&
		    !memcmp(w->interest[i].addr, a, family == 4 ? 4 : 16))
			return true;
	return false;
}

/* A neighbour solicitation for an address of @w's (to its solicited-node
 * multicast address, ff02::1:ffXX:XXXX): the probe resolving its target. */
static bool solicits_interest(const struct vx_dropev *w, const struct vxd_ip *ip)
{
	static const uint8_t snm[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	if (ip->family != 6 || memcmp(ip->daddr, snm, sizeof(snm)))
		return false;
	for (int i = 0; i < w->n_interest; i++)
		if (w->interest[i].family == 6 &&
		    !memcmp(w->interest[i].addr + 13, ip->daddr + 13, 3))
			return true;
	return false;
}

/* The host's own link-local control traffic, which no user sends and no
 * tunnel carries on purpose: IPv6 to link-scope multicast (router and
 * neighbour solicitations, MLD reports) or from a link-local or the
 * unspecified address, IPv4 to 224.0.0.0/24 (IGMP, routing protocols). */
static bool link_local_control(const struct vxd_ip *ip)
{
	const uint8_t *s = ip->saddr, *d = ip->daddr;

	if (ip->family == 4)
		return d[0] == 224 && d[1] == 0 && d[2] == 0;
	if (ip->family != 6)
		return false;
	if (d[0] == 0xff && (d[1] & 0x0f) <= 2)
		return true;
	if (s[0] == 0xfe && (s[1] & 0xc0) == 0x80)
		return true;
	for (int i = 0; i < 16; i++)
		if (s[i])
			return false;
	return true; /* :: : duplicate address detection */
}

/* A packet from or to a VTEP of a watched tunnel: the tunnel's own
 * underlay traffic, such as the ICMP "fragmentation needed" a hop sends
 * back toward the sender, which always matters. */
static bool vtep_traffic(const struct vx_dropev *w, const struct vxd_ip *ip)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = ip->family == 4 ? AF_INET : AF_INET6;

	if (!w->ev || !inet_ntop(af, ip->saddr, s, sizeof(s)) ||
	    !inet_ntop(af, ip->daddr, d, sizeof(d)))
		return false;
	for (int i = 0; i < w->ev->n_tun; i++) {
		const struct vx_ev_tunnel *t = &w->ev->tun[i];

		if ((t->local[0] && (!strcmp(t->local, s) || !strcmp(t->local, d))) ||
		    (t->remote[0] && (!strcmp(t->remote, s) || !strcmp(t->remote, d))))
			return true;
	}
	return false;
}

/* Whether drop @e hit the traffic that matters: the probe's when there is
 * one, else anything but link-local control traffic. What cannot be told
 * (not IP; an outer packet whose inner headers were not parsed) matters. */
static bool related(const struct vx_dropev *w, const struct vxd_event *e, bool outer)
{
	const struct vxd_ip *ip;

	if (e->flags & VXD_F_TUNNEL) {
		if (!(e->flags & VXD_F_INNER))
			return true;
		ip = &e->inner;
	} else if (outer || !(e->flags & VXD_F_OUTER)) {
		return true;
	} else {
		ip = &e->outer; /* the packet's own headers */
	}
	if (ip->family != 4 && ip->family != 6)
		return true;
	if (solicits_interest(w, ip))
		return true;
	if (link_local_control(ip))
		return false;
	if (!(e->flags & VXD_F_TUNNEL) && vtep_traffic(w, ip))
		return true;
	return !w->n_interest || is_interest(w, ip->family, ip->saddr) ||
	       is_interest(w, ip->family, ip->daddr);
}

void vx_dropev_on_drop(void *ctx, const struct vx_drop *x)
{
	struct vx_dropev *w = ctx;
	struct vx_evidence *ev = w->ev;
	const struct vxd_event *e = x->ev;
	const char *reason = x->reason ? x->reason : "?", *dev;
	/* An unknown location ("-") is kept empty, and compared so. */
	const char *loc = x->location && strcmp(x->location, "-") ? x->location : "";
	bool outer = ((e->flags & VXD_F_TUNNEL) && !(e->flags & VXD_F_DECAP)) || outer_udp(w, e);
	/* The evidence's namespaces are as the options name them: "" for
	 * vxray's own. */
	const char *ns = e->netns == vx_netns_inum(NULL) ? "" : vx_ns_label(e->netns);
	bool unrelated = !related(w, e, outer);
	struct vx_ev_drop *r = NULL;

	if (!strncmp(reason, "SKB_DROP_REASON_", 16))
		reason += 16;
	dev = e->ifindex ? vx_dev_label(e->netns, e->ifindex) : "";
	for (int i = 0; i < ev->n_drops && !r; i++) {
		struct vx_ev_drop *y = &ev->drops[i];

		if (y->outer == outer && !strcmp(y->netns, ns) && !strcmp(y->reason, reason) &&
		    !strcmp(y->location, loc) && !strcmp(y->device, dev ? dev : "") &&
		    y->has_vni == !!(e->flags & VXD_F_TUNNEL) &&
		    (!y->has_vni || y->vni == e->vni) && y->unrelated == unrelated)
			r = y;
	}
	if (!r) {
		if (ev->n_drops >= VX_EV_MAX_DROPS)
			return;
		r = &ev->drops[ev->n_drops++];
		snprintf(r->netns, sizeof(r->netns), "%s", ns);
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
		snprintf(r->location, sizeof(r->location), "%s", loc);
		snprintf(r->device, sizeof(r->device), "%s", dev ? dev : "");
		r->outer = outer;
		r->has_vni = e->flags & VXD_F_TUNNEL;
		r->vni = e->vni;
		r->unrelated = unrelated;
		if (e->flags & VXD_F_OUTER)
			vx_ip_fmt(e->flags & VXD_F_INNER ? &e->inner : &e->outer, r->packet,
				  sizeof(r->packet));
		else
			snprintf(r->packet, sizeof(r->packet), "%s frame",
				 vx_ethertype_name(e->protocol));
		if (outer && (e->flags & VXD_F_OUTER)) {
			vx_ip_addr_str(&e->outer, e->outer.saddr, r->outer_src,
				       sizeof(r->outer_src));
			vx_ip_addr_str(&e->outer, e->outer.daddr, r->outer_dst,
				       sizeof(r->outer_dst));
			if (e->outer.proto == IPPROTO_UDP)
				r->outer_dport = e->outer.dport;
		}
	}
	r->count++;
}

/* How many DROP/REJECT rules in @rc's namespace, of its kind (outer or
 * inner), dropped something in the window. */
static int rules_rose(const struct vx_dropev *w, const struct vx_dropev_rule *rc)
{
	int n = 0;

	for (int i = 0; i < w->n_rules; i++) {
		const struct vx_dropev_rule *r = &w->rules[i];

		n += !strcmp(r->netns, rc->netns) && r->after > r->before &&
		     rule_is_outer(w, r) == rule_is_outer(w, rc);
	}
	return n;
}

/* Put names on the NETFILTER_DROP drops: each DROP/REJECT rule whose
 * counter rose becomes its own drop entry; what the rules do not account
 * for (conntrack's own drops) stays without a rule. */
void vx_dropev_attach_rules(struct vx_dropev *w)
{
	struct vx_evidence *ev = w->ev;

	for (int i = 0; i < w->n_rules; i++) {
		struct vx_dropev_rule *rc = &w->rules[i];
		uint64_t delta = rc->after - (rc->seen_before ? rc->before : 0);
		bool outer = rule_is_outer(w, rc);
		struct vx_ev_drop *x, *from = NULL;

		if (!delta || rc->after < rc->before)
			continue;
		/* The matching kernel drops, to take their location and count;
		 * those of the traffic that matters first. */
		for (int k = 0; k < ev->n_drops; k++) {
			struct vx_ev_drop *y = &ev->drops[k];

			if (!y->rule[0] && y->outer == outer && !strcmp(y->netns, rc->netns) &&
			    !strcmp(y->reason, "NETFILTER_DROP") && y->count &&
			    (!from || from->unrelated))
				from = y;
		}
		if (from && rules_rose(w, rc) == 1) {
			/* The only rule of its kind that dropped: every such drop
			 * is its (the counters are read a moment apart from the
			 * probe's window, so take the larger count). */
			snprintf(from->rule, sizeof(from->rule), "%s", rc->rule);
			if (from->count < delta)
				from->count = delta;
			continue;
		}
		if (ev->n_drops >= VX_EV_MAX_DROPS)
			break;
		x = &ev->drops[ev->n_drops++];
		memset(x, 0, sizeof(*x));
		snprintf(x->netns, sizeof(x->netns), "%s", rc->netns);
		snprintf(x->reason, sizeof(x->reason), "NETFILTER_DROP");
		snprintf(x->rule, sizeof(x->rule), "%s", rc->rule);
		if (from) {
			snprintf(x->location, sizeof(x->location), "%s", from->location);
			snprintf(x->device, sizeof(x->device), "%s", from->device);
			snprintf(x->packet, sizeof(x->packet), "%s", from->packet);
			x->unrelated = from->unrelated;
			from->count = from->count > delta ? from->count - delta : 0;
		}
		x->outer = outer;
		x->count = delta;
	}
	/* Drop entries emptied by the rules above. */
	for (int k = 0; k < ev->n_drops; k++) {
		if (ev->drops[k].count)
			continue;
		memmove(&ev->drops[k], &ev->drops[k + 1],
			sizeof(ev->drops[0]) * (size_t)(ev->n_drops - k - 1));
		ev->n_drops--;
		k--;
	}
}

void vx_dropev_free(struct vx_dropev *w)
{
	for (int i = 0; i < VX_MAX_NETNS; i++)
		vx_nf_ruleset_free(&w->rs[i]);
}
