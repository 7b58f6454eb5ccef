// SPDX-License-Identifier: GPL-2.0-only
/* The per-namespace flags of the datapath's programs (vx_hop_wanted,
 * vx_wire_wanted), from the VXLAN devices attached: see dp_internal.h. */
#include <string.h>
#include <sys/socket.h>

#include "datapath.h"
#include "dp_internal.h"
#include "vx_tc.skel.h"

/* The local VTEP address of watched VXLAN device @w, NULL when unknown. */
static const union vx_addr *local_vtep(const struct vx_dp_watched *w, int *family)
{
	const struct vx_vxlan_dev *v = w->vx;

	*family = v->local_family ? v->local_family : v->route_src_family;
	return *family ? (v->local_family ? &v->local : &v->route_src) : NULL;
}

static bool same_addr(int fa, const union vx_addr *a, int fb, const union vx_addr *b)
{
	return fa == fb &&
	       !memcmp(a, b, fa == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr));
}

/* Whether a remote of @w (its `remote`, or a remote its FDB or routes
 * name) is the local VTEP of a watched VXLAN device in another namespace:
 * this vxray then sees both ends of that tunnel's wire. */
static bool far_end_watched(const struct vx_dp *dp, const struct vx_dp_watched *w)
{
	const struct vx_vxlan_dev *v = w->vx;

	for (int j = 0; j < dp->n_w; j++) {
		const struct vx_dp_watched *o = &dp->w[j];
		const union vx_addr *l;
		int lf;

		if (!o->active || !o->is_vxlan || !o->vx || o->inst == w->inst ||
		    !(l = local_vtep(o, &lf)))
			continue;
		if (!v->remote_is_group && same_addr(v->remote_family, &v->remote, lf, l))
			return true;
		for (int r = 0; r < v->n_remotes && r < VX_INV_MAX_REMOTES; r++)
			if (same_addr(v->remotes[r].family, &v->remotes[r].addr, lf, l))
				return true;
	}
	return false;
}

/* What a namespace's programs do beyond counting, by the VXLAN devices
 * attached (with one copy of the programs, what any namespace's do): its
 * underlay ingress leaves each packet's remote for the
 * device's ingress (vx_hop_wanted) only where a classic device is, and
 * its underlay egress starts the wire stage (vx_wire_wanted) only where
 * this vxray also watches a far end that can end it. Every namespace is
 * looked at again: a device in one is another's far end. */
void dp_wanted_update(struct vx_dp *dp)
{
	bool hop[VX_DP_MAX_INST] = { false }, wire[VX_DP_MAX_INST] = { false };

	/* vx_dp_attach() updates once before attaching them all and once
	 * after: per device, a thousand devices cost a billion comparisons. */
	if (dp->attaching)
		return;
	for (int k = 0; k < dp->n_w; k++) {
		const struct vx_dp_watched *w = &dp->w[k];

		if (w->active && w->is_vxlan && w->vx)
			hop[w->inst] |= !w->vx->external;
	}
	/* A far end is in another namespace: none with one. */
	for (int k = 0; dp->n_inst > 1 && k < dp->n_w; k++) {
		const struct vx_dp_watched *w = &dp->w[k];

		if (w->active && w->is_vxlan && w->vx && !wire[w->inst])
			wire[w->inst] = far_end_watched(dp, w);
	}
	/* One copy of the programs for every namespace: wanted in one,
	 * done in all (a wire stamp nobody ends only takes a slot). */
	for (int i = 0; !dp->per_netns && i < dp->n_inst; i++) {
		hop[0] |= hop[i];
		wire[0] |= wire[i];
	}
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];
		int from = dp->per_netns ? i : 0;

		if (in->tc && in->tc->bss && !in->shared) {
			in->tc->bss->vx_hop_wanted = hop[from];
			in->tc->bss->vx_wire_wanted = wire[from];
		}
	}
}
