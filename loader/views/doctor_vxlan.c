// SPDX-License-Identifier: GPL-2.0-only
/* `vxray doctor`'s VXLAN devices: one row each (text) or one object each
 * (JSON), with what a device sends to and accepts spelled out: external
 * mode, VNI filter ranges and their groups, FDB and route remotes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "doctor.h"
#include "inventory.h"
#include "json.h"
#include "names.h"

static const char *addr_str(int family, const union vx_addr *a, char *buf, size_t len)
{
	if (!family)
		return "-";
	return inet_ntop(family, a, buf, (socklen_t)len) ? buf : "?";
}

static bool same_addr(int family, const union vx_addr *a, int family_b, const union vx_addr *b)
{
	return family == family_b && !memcmp(a, b, family == AF_INET ? 4 : 16);
}

static const char *remote_from(uint8_t from)
{
	return from == VX_REMOTE_ROUTE ? "route" : "fdb";
}

/* The remotes worth listing: every one its FDB or routes give but the
 * device's own remote, which the kernel keeps as an FDB entry too. */
static bool remote_listed(const struct vx_vxlan_dev *d, const struct vx_remote *r)
{
	return !(r->from == VX_REMOTE_FDB && r->vni == VX_VNI_UNKNOWN &&
		 same_addr(d->remote_family, &d->remote, r->family, &r->addr));
}

static int n_kept(int n, int max)
{
	return n < max ? n : max;
}

/* The REMOTE column: the device's own remote (or group), else the first
 * remote its FDB or routes give, and how many more there are. */
static void remote_col(const struct vx_vxlan_dev *d, char *buf, size_t len)
{
	const struct vx_remote *first = d->remotes;
	char a[INET6_ADDRSTRLEN], more[16] = "";

	if (d->remote_family) {
		snprintf(buf, len, "%s%s", addr_str(d->remote_family, &d->remote, a, sizeof(a)),
			 d->remote_is_group ? " (grp)" : "");
		return;
	}
	if (!d->n_remotes) {
		snprintf(buf, len, "-");
		return;
	}
	if (d->n_remotes > 1)
		snprintf(more, sizeof(more), " +%d", d->n_remotes - 1);
	snprintf(buf, len, "%s (%s)%s", addr_str(first->family, &first->addr, a, sizeof(a)),
		 remote_from(first->from), more);
}

/* The LOCAL column: the device's own local address, else the source the
 * route to its first remote gives its outer packets, marked so. */
static void local_col(const struct vx_vxlan_dev *d, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (d->local_family)
		snprintf(buf, len, "%s", addr_str(d->local_family, &d->local, a, sizeof(a)));
	else if (d->route_src_family)
		snprintf(buf, len, "%s (route)",
			 addr_str(d->route_src_family, &d->route_src, a, sizeof(a)));
	else
		snprintf(buf, len, "-");
}

static bool group_is_mcast(const struct vx_vni_range *r)
{
	return r->group_family == AF_INET ? IN_MULTICAST(ntohl(r->group.v4.s_addr)) :
					    IN6_IS_ADDR_MULTICAST(&r->group.v6);
}

static void vni_range_str(const struct vx_vni_range *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n = r->end > r->start ? snprintf(buf, len, "%u-%u", r->start, r->end) :
				    snprintf(buf, len, "%u", r->start);

	if (r->group_family && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %s %s", group_is_mcast(r) ? "group" : "remote",
			 addr_str(r->group_family, &r->group, a, sizeof(a)));
}

/* The lines under a device's row: what its columns cannot say. */
#define DETAIL "                 "

static void print_dev_details(const struct vx_vxlan_dev *d)
{
	char a[INET6_ADDRSTRLEN], v[96];
	int listed = 0, n = n_kept(d->n_remotes, VX_INV_MAX_REMOTES);

	if (d->external)
		printf(DETAIL "external (collect_md): each packet carries its VNI and remote VTEP "
			      "(lwtunnel routes, OVS, Cilium)\n");
	if (d->master[0])
		printf(DETAIL "a port of %s: the overlay's addresses live there\n", d->master);
	if (d->vnifilter) {
		printf(DETAIL "VNI filter:");
		for (int i = 0; i < n_kept(d->n_vnis, VX_INV_MAX_VNIS); i++) {
			vni_range_str(&d->vnis[i], v, sizeof(v));
			printf("%s %s", i ? "," : "", v);
		}
		if (!d->n_vnis)
			printf(" empty: every VNI is refused");
		if (d->n_vnis > VX_INV_MAX_VNIS)
			printf(" and %d more", d->n_vnis - VX_INV_MAX_VNIS);
		printf("\n");
	}
	/* One remote of no VNI of its own is all in the REMOTE column. */
	if (d->n_remotes == 1 && !d->remote_family && d->remotes[0].vni == VX_VNI_UNKNOWN)
		n = 0;
	for (int i = 0; i < n; i++) {
		const struct vx_remote *r = &d->remotes[i];

		if (!remote_listed(d, r))
			continue;
		printf("%s %s", listed++ ? "," : DETAIL "remotes:",
		       addr_str(r->family, &r->addr, a, sizeof(a)));
		if (r->vni != VX_VNI_UNKNOWN)
			printf(" vni %u", r->vni);
		printf(" (%s)", remote_from(r->from));
	}
	if (listed && d->n_remotes > VX_INV_MAX_REMOTES)
		printf(" and %d more", d->n_remotes - VX_INV_MAX_REMOTES);
	if (listed)
		printf("\n");
}

static void print_dev_json(struct jw *w, const struct vx_vxlan_dev *d)
{
	char a[INET6_ADDRSTRLEN];

	jw_str(w, "master", d->master[0] ? d->master : NULL);
	jw_bool(w, "external", d->external);
	jw_bool(w, "vnifilter", d->vnifilter);
	jw_arr_open(w, "vnis");
	for (int i = 0; i < n_kept(d->n_vnis, VX_INV_MAX_VNIS); i++) {
		const struct vx_vni_range *r = &d->vnis[i];

		jw_obj_open(w, NULL);
		jw_uint(w, "vni", r->start);
		if (r->end > r->start)
			jw_uint(w, "vni_end", r->end);
		if (r->group_family)
			jw_str(w, group_is_mcast(r) ? "group" : "remote_vtep",
			       addr_str(r->group_family, &r->group, a, sizeof(a)));
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (d->n_vnis > VX_INV_MAX_VNIS)
		jw_int(w, "vnis_more", d->n_vnis - VX_INV_MAX_VNIS);
	jw_arr_open(w, "remotes");
	for (int i = 0; i < n_kept(d->n_remotes, VX_INV_MAX_REMOTES); i++) {
		const struct vx_remote *r = &d->remotes[i];

		if (!remote_listed(d, r))
			continue;
		jw_obj_open(w, NULL);
		jw_str(w, "remote_vtep", addr_str(r->family, &r->addr, a, sizeof(a)));
		vx_vni_json(w, "vni", r->vni);
		jw_str(w, "from", remote_from(r->from));
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (d->n_remotes > VX_INV_MAX_REMOTES)
		jw_int(w, "remotes_more", d->n_remotes - VX_INV_MAX_REMOTES);
}

void vx_doctor_vxlan_text(const struct vx_inventory *inv)
{
	printf("\nVXLAN devices\n");
	if (!inv->n) {
		printf("  none found\n");
	} else {
		printf("  %-12s %-14s %8s %-16s %-18s %5s %-14s %-5s %5s %5s\n", "NETNS", "DEVICE",
		       "VNI", "LOCAL", "REMOTE", "PORT", "UNDERLAY", "LEARN", "MTU", "U-MTU");
		for (int i = 0; i < inv->n; i++) {
			const struct vx_vxlan_dev *d = &inv->devs[i];
			char remote[INET6_ADDRSTRLEN + 24], local[INET6_ADDRSTRLEN + 8],
				umtu[16] = "-", vni[16];

			if (d->underlay_mtu)
				snprintf(umtu, sizeof(umtu), "%u", d->underlay_mtu);
			remote_col(d, remote, sizeof(remote));
			local_col(d, local, sizeof(local));
			if (d->external)
				snprintf(vni, sizeof(vni), "external");
			else
				snprintf(vni, sizeof(vni), "%u", d->vni);
			printf("  %-12s %-14s %8s %-16s %-18s %5u %-14s %-5s %5u %5s\n",
			       vx_ns_label_of(d->netns), d->name, vni, local, remote, d->dstport,
			       d->underlay[0] ? d->underlay : "-", d->learning ? "yes" : "no",
			       d->mtu, umtu);
			print_dev_details(d);
		}
	}
}

void vx_doctor_vxlan_json(struct jw *w, const struct vx_inventory *inv)
{
	char a[INET6_ADDRSTRLEN], msg[256];

	jw_arr_open(w, "vxlan");
	for (int i = 0; i < inv->n; i++) {
		const struct vx_vxlan_dev *d = &inv->devs[i];
		bool bad = vx_mtu_problem(d, msg, sizeof(msg));

		jw_obj_open(w, NULL);
		jw_str(w, "netns", vx_ns_label_of(d->netns));
		jw_str(w, "device", d->name);
		jw_int(w, "ifindex", d->ifindex);
		if (d->external)
			jw_null(w, "vni");
		else
			jw_uint(w, "vni", d->vni);
		if (d->local_family)
			jw_str(w, "local_vtep", addr_str(d->local_family, &d->local, a, sizeof(a)));
		else
			jw_null(w, "local_vtep");
		if (d->route_src_family)
			jw_str(w, "route_source",
			       addr_str(d->route_src_family, &d->route_src, a, sizeof(a)));
		if (d->remote_family)
			jw_str(w, d->remote_is_group ? "group" : "remote_vtep",
			       addr_str(d->remote_family, &d->remote, a, sizeof(a)));
		else
			jw_null(w, "remote_vtep");
		jw_uint(w, "dstport", d->dstport);
		jw_bool(w, "learning", d->learning);
		jw_bool(w, "up", d->up);
		jw_uint(w, "mtu", d->mtu);
		if (d->underlay[0]) {
			jw_str(w, "underlay", d->underlay);
			jw_uint(w, "underlay_mtu", d->underlay_mtu);
			jw_str(w, "underlay_found_by", d->underlay_from_route ? "route" : "link");
		} else {
			jw_null(w, "underlay");
		}
		print_dev_json(w, d);
		jw_bool(w, "mtu_mismatch", bad);
		if (bad)
			jw_str(w, "mtu_problem", msg);
		jw_obj_close(w);
	}
	jw_arr_close(w);
}
