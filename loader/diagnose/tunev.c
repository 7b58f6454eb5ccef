// SPDX-License-Identifier: GPL-2.0-only
/* The tunnels of the evidence: one per VXLAN device of an inventory (the
 * live diagnose), and each tunnel's peer, however they were read (the
 * Prometheus one's are promev.c's). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "inventory.h"

static bool same_vni(const struct vx_ev_tunnel *a, const struct vx_ev_tunnel *b)
{
	return a->vni == b->vni || a->external || b->external;
}

void vx_ev_pair_tunnels(struct vx_evidence *ev)
{
	for (int i = 0; i < ev->n_tun; i++) {
		struct vx_ev_tunnel *a = &ev->tun[i];

		a->peer = -1;
		for (int k = 0; a->remote[0] && k < ev->n_tun; k++) {
			const struct vx_ev_tunnel *b = &ev->tun[k];

			if (k == i || !same_vni(a, b) || strcmp(b->local, a->remote))
				continue;
			if (a->peer < 0 || !strcmp(b->remote, a->local))
				a->peer = k;
		}
	}
}

static const char *addr_str(int family, const union vx_addr *a, char *buf, size_t len)
{
	if (!family || !inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "%s", "");
	return buf;
}

void vx_ev_from_inventory(struct vx_evidence *ev, const struct vx_inventory *inv,
			  const char names[][VX_NETNS_NAME_MAX], int n_names)
{
	for (int i = 0; i < inv->n && ev->n_tun < VX_EV_MAX_TUN; i++) {
		const struct vx_vxlan_dev *v = &inv->devs[i];
		struct vx_ev_tunnel *t;
		union vx_addr r;
		bool in = false;

		for (int k = 0; k < n_names; k++)
			in |= !strcmp(names[k], v->netns);
		if (!in)
			continue;
		t = &ev->tun[ev->n_tun++];
		snprintf(t->netns, sizeof(t->netns), "%s", v->netns);
		snprintf(t->device, sizeof(t->device), "%s", v->name);
		snprintf(t->underlay, sizeof(t->underlay), "%s", v->underlay);
		snprintf(t->master, sizeof(t->master), "%s", v->master);
		t->vni = v->vni;
		t->external = v->external;
		/* Its local address, else the source its route gives. */
		if (v->local_family)
			addr_str(v->local_family, &v->local, t->local, sizeof(t->local));
		else
			addr_str(v->route_src_family, &v->route_src, t->local, sizeof(t->local));
		/* Its own remote, else the first its FDB or routes give, else
		 * its group. */
		r = v->remote;
		addr_str(vx_inventory_first_remote(v, &r) ?: v->remote_family, &r, t->remote,
			 sizeof(t->remote));
		t->dstport = v->dstport;
		t->mtu = v->mtu;
		t->underlay_mtu = v->underlay_mtu;
		t->mtu_bad = vx_mtu_problem(v, t->mtu_msg, sizeof(t->mtu_msg));
	}
	vx_ev_pair_tunnels(ev);
}
