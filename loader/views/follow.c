// SPDX-License-Identifier: GPL-2.0-only
/* Following packets across `vxray trace`'s hooks (follow.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "follow.h"
#include "names.h"

static uint32_t id_hash(const struct vx_pkt_id *id)
{
	const uint32_t *w = (const uint32_t *)id;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*id) / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

/* The packet with this identity, a new one replacing whatever held its
 * slot when it is not known (or was last seen a second ago). */
struct vx_fpkt *vx_follow(struct vx_follow *t, const struct vx_event *e, bool *is_new)
{
	struct vx_fpkt *p = &t->pkts[id_hash(&e->pkt.id) % VX_FOLLOW_PKTS];

	*is_new = memcmp(&p->id, &e->pkt.id, sizeof(p->id)) || !p->num ||
		  e->ts_ns - p->last_ts > VX_FOLLOW_JOIN_NS;
	if (*is_new) {
		memset(p, 0, sizeof(*p));
		p->id = e->pkt.id;
		p->first_ts = e->ts_ns;
		p->num = ++t->next_num;
		snprintf(p->first_hook, sizeof(p->first_hook), "%s", vx_at_what(e->at));
		p->flow.family = e->pkt.inner_family;
		p->flow.proto = e->pkt.inner_proto;
		memcpy(p->flow.saddr, e->pkt.inner_src, 16);
		memcpy(p->flow.daddr, e->pkt.inner_dst, 16);
		/* As the drop probe records them: ICMP type and code in
		 * the port fields. */
		if (vx_proto_is_icmp(e->pkt.inner_proto)) {
			p->flow.sport = e->pkt.icmp_type;
			p->flow.dport = e->pkt.icmp_code;
		} else {
			p->flow.sport = e->pkt.inner_sport;
			p->flow.dport = e->pkt.inner_dport;
		}
	}
	p->last_ts = e->ts_ns;
	return p;
}

/* The followed packet with exactly this identity, seen within a second
 * of @ts; NULL when there is none. */
struct vx_fpkt *vx_follow_find(struct vx_follow *t, const struct vx_pkt_id *id, uint64_t ts)
{
	struct vx_fpkt *p = &t->pkts[id_hash(id) % VX_FOLLOW_PKTS];
	uint64_t gap = ts > p->last_ts ? ts - p->last_ts : p->last_ts - ts;

	if (!id->family || !p->num || memcmp(&p->id, id, sizeof(p->id)) || gap > VX_FOLLOW_JOIN_NS)
		return NULL;
	return p;
}

static bool same_flow(const struct vxd_ip *a, const struct vxd_ip *b)
{
	size_t n = a->family == 4 ? 4 : 16;

	return a->family && a->family == b->family && a->proto == b->proto &&
	       !memcmp(a->saddr, b->saddr, n) && !memcmp(a->daddr, b->daddr, n) &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* The followed packet a drop belongs to. The drop record carries the
 * identity the datapath gives the packet (vx_read_id in the kernel, the
 * inner headers when the skb was still or already a tunnel packet): the
 * packet with exactly that identity, seen within a second. Only when the
 * dropped skb's headers give no identity (not IP, unreadable) does the
 * latest packet of its flow stand in, and the line says so. */
struct vx_fpkt *vx_follow_join_drop(struct vx_follow *t, const struct vxd_event *d,
				    enum vx_join *how)
{
	const struct vxd_ip *f = d->inner.family ? &d->inner : &d->outer;
	struct vx_fpkt *best = NULL;

	*how = VX_JOIN_NONE;
	if (d->id.family) {
		best = vx_follow_find(t, &d->id, d->ts_ns);
		*how = best ? VX_JOIN_ID : VX_JOIN_NONE;
		return best;
	}
	for (int i = 0; i < VX_FOLLOW_PKTS; i++) {
		struct vx_fpkt *p = &t->pkts[i];

		if (!p->num || p->last_ts > d->ts_ns || d->ts_ns - p->last_ts > VX_FOLLOW_JOIN_NS ||
		    !same_flow(&p->flow, f))
			continue;
		if (!best || p->last_ts > best->last_ts)
			best = p;
	}
	if (best)
		*how = VX_JOIN_FLOW;
	return best;
}
