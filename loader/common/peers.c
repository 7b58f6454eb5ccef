// SPDX-License-Identifier: GPL-2.0-only
/* Where a VXLAN device sends, decoded from rtnetlink: its all-zero FDB
 * entries (head-end replication: a device with no `remote` of its own),
 * the lwtunnel routes that feed an external device, and the VNI filter of
 * a VNI-filtering one. Pure functions over (nlmsghdr, nlmsg_len), as
 * vx_inventory_parse_link is, so that they are unit-tested and fuzzed on
 * crafted input; inventory.c sends the dumps. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/lwtunnel.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "inventory.h"

/* The payload of @nlh after a family header of @hdr bytes, checked whole. */
static bool msg_ok(const struct nlmsghdr *nlh, size_t hdr)
{
	return nlh->nlmsg_len >= mnl_nlmsg_size(hdr) &&
	       vx_nl_attrs_fill(mnl_nlmsg_get_payload_offset(nlh, hdr),
				(int)(nlh->nlmsg_len - mnl_nlmsg_size(hdr)));
}

static bool is_mcast(int family, const union vx_addr *a)
{
	return family == AF_INET ? IN_MULTICAST(ntohl(a->v4.s_addr)) :
				   IN6_IS_ADDR_MULTICAST(&a->v6);
}

static bool is_any(int family, const union vx_addr *a)
{
	static const union vx_addr zero;

	return !memcmp(a, &zero, family == AF_INET ? 4 : 16);
}

/* An address attribute of 4 or 16 bytes: its family, 0 for another size. */
static int addr_attr(const struct nlattr *a, union vx_addr *out)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	if (len != 4 && len != 16)
		return 0;
	memset(out, 0, sizeof(*out));
	memcpy(out, mnl_attr_get_payload(a), len);
	return len == 4 ? AF_INET : AF_INET6;
}

/* ---- FDB ---------------------------------------------------------------- */

struct fdb_attrs {
	const struct nlattr *tb[NDA_MAX + 1];
	bool bad;
};

static int fdb_attr_cb(const struct nlattr *a, void *data)
{
	struct fdb_attrs *f = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NDA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == NDA_VNI && mnl_attr_validate(a, MNL_TYPE_U32) < 0) ||
	    (type == NDA_DST && mnl_attr_get_payload_len(a) != 4 &&
	     mnl_attr_get_payload_len(a) != 16)) {
		f->bad = true;
		return MNL_CB_ERROR;
	}
	f->tb[type] = a;
	return MNL_CB_OK;
}

int vx_inventory_parse_fdb(const struct nlmsghdr *nlh, int *ifindex, struct vx_remote *out)
{
	static const uint8_t zero_mac[6];
	struct fdb_attrs f = {};
	const struct ndmsg *nd;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return 0;
	if (!msg_ok(nlh, sizeof(*nd)))
		return -EINVAL;
	nd = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nd), fdb_attr_cb, &f) < 0 || f.bad)
		return -EINVAL;
	if (nd->ndm_family != AF_BRIDGE || !f.tb[NDA_DST] || !f.tb[NDA_LLADDR] ||
	    mnl_attr_get_payload_len(f.tb[NDA_LLADDR]) != 6 ||
	    memcmp(mnl_attr_get_payload(f.tb[NDA_LLADDR]), zero_mac, 6))
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = addr_attr(f.tb[NDA_DST], &out->addr);
	if (is_any(out->family, &out->addr))
		return 0;
	out->vni = f.tb[NDA_VNI] ? mnl_attr_get_u32(f.tb[NDA_VNI]) & 0xffffff : VX_VNI_UNKNOWN;
	out->from = VX_REMOTE_FDB;
	*ifindex = nd->ndm_ifindex;
	return 1;
}

/* ---- lwtunnel routes ---------------------------------------------------- */

struct route_attrs {
	const struct nlattr *oif, *encap, *encap_type;
	bool bad;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_attrs *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		r->oif = a;
		break;
	case RTA_ENCAP_TYPE:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			goto bad;
		r->encap_type = a;
		break;
	case RTA_ENCAP:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			goto bad;
		r->encap = a;
		break;
	}
	return MNL_CB_OK;
bad:
	r->bad = true;
	return MNL_CB_ERROR;
}

struct encap_attrs {
	const struct nlattr *id, *dst;
	bool v6, bad;
};

static int encap_attr_cb(const struct nlattr *a, void *data)
{
	struct encap_attrs *e = data;
	int type = mnl_attr_get_type(a);

	/* LWTUNNEL_IP_ID and _DST have the same numbers as their IP6 twins. */
	if (type == (e->v6 ? LWTUNNEL_IP6_ID : LWTUNNEL_IP_ID)) {
		if (mnl_attr_get_payload_len(a) != 8)
			goto bad;
		e->id = a;
	} else if (type == (e->v6 ? LWTUNNEL_IP6_DST : LWTUNNEL_IP_DST)) {
		if (mnl_attr_get_payload_len(a) != (e->v6 ? 16 : 4))
			goto bad;
		e->dst = a;
	}
	return MNL_CB_OK;
bad:
	e->bad = true;
	return MNL_CB_ERROR;
}

int vx_inventory_parse_route(const struct nlmsghdr *nlh, int *oif, struct vx_remote *out)
{
	struct route_attrs r = {};
	struct encap_attrs e = {};
	uint16_t type;
	uint64_t id;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (!msg_ok(nlh, sizeof(struct rtmsg)))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr_cb, &r) < 0 || r.bad)
		return -EINVAL;
	if (!r.oif || !r.encap || !r.encap_type)
		return 0;
	type = mnl_attr_get_u16(r.encap_type);
	if (type != LWTUNNEL_ENCAP_IP && type != LWTUNNEL_ENCAP_IP6)
		return 0;
	e.v6 = type == LWTUNNEL_ENCAP_IP6;
	if (!vx_nl_attrs_fill(mnl_attr_get_payload(r.encap), mnl_attr_get_payload_len(r.encap)) ||
	    mnl_attr_parse_nested(r.encap, encap_attr_cb, &e) < 0 || e.bad)
		return -EINVAL;
	if (!e.dst)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = addr_attr(e.dst, &out->addr);
	if (is_any(out->family, &out->addr))
		return 0;
	out->vni = VX_VNI_UNKNOWN;
	if (e.id) {
		memcpy(&id, mnl_attr_get_payload(e.id), 8);
		out->vni = (uint32_t)(be64toh(id) & 0xffffff);
	}
	out->from = VX_REMOTE_ROUTE;
	*oif = (int)mnl_attr_get_u32(r.oif);
	return 1;
}

/* ---- the VNI filter ------------------------------------------------------ */

struct vni_attrs {
	const struct nlattr *start, *end, *group, *group6;
	bool bad;
};

static int vni_attr_cb(const struct nlattr *a, void *data)
{
	struct vni_attrs *v = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case VXLAN_VNIFILTER_ENTRY_START:
		if (len != 4)
			goto bad;
		v->start = a;
		break;
	case VXLAN_VNIFILTER_ENTRY_END:
		if (len != 4)
			goto bad;
		v->end = a;
		break;
	case VXLAN_VNIFILTER_ENTRY_GROUP:
		if (len != 4)
			goto bad;
		v->group = a;
		break;
	case VXLAN_VNIFILTER_ENTRY_GROUP6:
		if (len != 16)
			goto bad;
		v->group6 = a;
		break;
	}
	return MNL_CB_OK;
bad:
	v->bad = true;
	return MNL_CB_ERROR;
}

struct tunnel_ctx {
	struct vx_vxlan_dev *d;
	int err;
};

static int tunnel_attr_cb(const struct nlattr *a, void *data)
{
	struct tunnel_ctx *c = data;
	struct vni_attrs v = {};
	struct vx_vni_range *r;

	if (mnl_attr_get_type(a) != VXLAN_VNIFILTER_ENTRY)
		return MNL_CB_OK;
	if (!vx_nl_attrs_fill(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)) ||
	    mnl_attr_parse_nested(a, vni_attr_cb, &v) < 0 || v.bad || !v.start) {
		c->err = -EINVAL;
		return MNL_CB_ERROR;
	}
	if (c->d->n_vnis++ >= VX_INV_MAX_VNIS)
		return MNL_CB_OK;
	r = &c->d->vnis[c->d->n_vnis - 1];
	memset(r, 0, sizeof(*r));
	r->start = mnl_attr_get_u32(v.start) & 0xffffff;
	r->end = v.end ? mnl_attr_get_u32(v.end) & 0xffffff : r->start;
	if (r->end < r->start)
		r->end = r->start;
	if (v.group)
		r->group_family = addr_attr(v.group, &r->group);
	else if (v.group6)
		r->group_family = addr_attr(v.group6, &r->group);
	if (r->group_family && is_any(r->group_family, &r->group))
		r->group_family = 0;
	return MNL_CB_OK;
}

int vx_inventory_parse_vnifilter(const struct nlmsghdr *nlh, struct vx_vxlan_dev *d)
{
	struct tunnel_ctx c = { .d = d };
	const struct tunnel_msg *t;

	if (nlh->nlmsg_type != RTM_NEWTUNNEL)
		return 0;
	if (!msg_ok(nlh, sizeof(*t)))
		return -EINVAL;
	t = mnl_nlmsg_get_payload(nlh);
	if (t->family != AF_BRIDGE || (int)t->ifindex != d->ifindex)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*t), tunnel_attr_cb, &c) < 0 || c.err)
		return -EINVAL;
	return 1;
}

/* ---- a device's remotes -------------------------------------------------- */

int vx_inventory_add_remote(struct vx_vxlan_dev *d, const struct vx_remote *r)
{
	size_t n = r->family == AF_INET ? 4 : 16;
	int kept = d->n_remotes < VX_INV_MAX_REMOTES ? d->n_remotes : VX_INV_MAX_REMOTES;

	for (int i = 0; i < kept; i++)
		if (d->remotes[i].family == r->family && d->remotes[i].vni == r->vni &&
		    d->remotes[i].from == r->from && !memcmp(&d->remotes[i].addr, &r->addr, n))
			return 0;
	if (d->n_remotes < VX_INV_MAX_REMOTES)
		d->remotes[d->n_remotes] = *r;
	d->n_remotes++;
	return 1;
}

int vx_inventory_first_remote(const struct vx_vxlan_dev *d, union vx_addr *out)
{
	int kept = d->n_remotes < VX_INV_MAX_REMOTES ? d->n_remotes : VX_INV_MAX_REMOTES;

	if (d->remote_family && !d->remote_is_group) {
		*out = d->remote;
		return d->remote_family;
	}
	for (int i = 0; i < kept; i++) {
		if (!is_mcast(d->remotes[i].family, &d->remotes[i].addr)) {
			*out = d->remotes[i].addr;
			return d->remotes[i].family;
		}
	}
	return 0;
}
