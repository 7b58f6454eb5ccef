// SPDX-License-Identifier: GPL-2.0-only
/* VXLAN inventory over rtnetlink (libmnl). Decoding is kept apart from the
 * socket work so that it can be unit-tested and fuzzed on crafted input. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "inventory.h"
#include "netns.h"

struct vxlan_attrs {
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1];
};

static int validate_fixed(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len ? 0 : -EINVAL;
}

static int vxlan_attr_cb(const struct nlattr *a, void *data)
{
	struct vxlan_attrs *v = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_VXLAN_MAX) < 0)
		return MNL_CB_OK; /* newer kernel attribute: ignore */
	switch (type) {
	case IFLA_VXLAN_ID:
	case IFLA_VXLAN_LINK:
	case IFLA_VXLAN_GROUP:
	case IFLA_VXLAN_LOCAL:
		if (validate_fixed(a, 4))
			return MNL_CB_ERROR;
		break;
	case IFLA_VXLAN_GROUP6:
	case IFLA_VXLAN_LOCAL6:
		if (validate_fixed(a, 16))
			return MNL_CB_ERROR;
		break;
	case IFLA_VXLAN_PORT:
		if (validate_fixed(a, 2))
			return MNL_CB_ERROR;
		break;
	case IFLA_VXLAN_LEARNING:
	case IFLA_VXLAN_COLLECT_METADATA:
	case IFLA_VXLAN_VNIFILTER:
		if (validate_fixed(a, 1))
			return MNL_CB_ERROR;
		break;
	}
	v->tb[type] = a;
	return MNL_CB_OK;
}

struct linkinfo {
	const struct nlattr *kind, *data;
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct linkinfo *li = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		li->kind = a;
	} else if (mnl_attr_get_type(a) == IFLA_INFO_DATA) {
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		li->data = a;
	}
	return MNL_CB_OK;
}

struct link_attrs {
	const struct nlattr *tb[IFLA_MAX + 1];
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_attrs *l = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IF_NAMESIZE)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	}
	l->tb[type] = a;
	return MNL_CB_OK;
}

static void set_addr(int *family, union vx_addr *dst, const struct nlattr *a, int af)
{
	memcpy(dst, mnl_attr_get_payload(a), af == AF_INET ? 4 : 16);
	*family = af;
}

static bool addr_is_any(int family, const union vx_addr *a)
{
	static const union vx_addr zero;

	return !memcmp(a, &zero, family == AF_INET ? 4 : 16);
}

/* libmnl's attribute walk stops quietly at the first attribute that
 * does not fit; a message cut short would then read as one without its
 * last attributes. Demand that the attributes fill the payload exactly. */
bool vx_nl_attrs_fill(const void *start, int len)
{
	const struct nlattr *a = start;

	while (mnl_attr_ok(a, len)) {
		len -= (int)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return len == 0;
}

/* The ifinfomsg header and the link attributes of @nlh, checked whole. */
static int link_msg(const struct nlmsghdr *nlh, const struct ifinfomsg **ifi, struct link_attrs *la)
{
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(**ifi)))
		return -EINVAL;
	*ifi = mnl_nlmsg_get_payload(nlh);
	if (!vx_nl_attrs_fill(mnl_nlmsg_get_payload_offset(nlh, sizeof(**ifi)),
			      (int)(nlh->nlmsg_len - mnl_nlmsg_size(sizeof(**ifi)))))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(**ifi), link_attr_cb, la) < 0)
		return -EINVAL;
	return 0;
}

int vx_inventory_parse_link(const struct nlmsghdr *nlh, struct vx_vxlan_dev *d)
{
	struct link_attrs la = {};
	struct vxlan_attrs va = {};
	struct linkinfo li = {};
	const struct ifinfomsg *ifi;

	if (link_msg(nlh, &ifi, &la))
		return -EINVAL;
	if (!la.tb[IFLA_LINKINFO])
		return 0;
	if (mnl_attr_parse_nested(la.tb[IFLA_LINKINFO], linkinfo_cb, &li) < 0)
		return -EINVAL;
	if (!li.kind || strcmp(mnl_attr_get_str(li.kind), "vxlan"))
		return 0;
	/* A vxlan link without its data cannot be described: malformed. */
	if (!li.data || !la.tb[IFLA_IFNAME])
		return -EINVAL;
	if (mnl_attr_parse_nested(li.data, vxlan_attr_cb, &va) < 0)
		return -EINVAL;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", mnl_attr_get_str(la.tb[IFLA_IFNAME]));
	d->ifindex = ifi->ifi_index;
	d->up = ifi->ifi_flags & IFF_UP;
	if (la.tb[IFLA_MTU])
		d->mtu = mnl_attr_get_u32(la.tb[IFLA_MTU]);
	if (la.tb[IFLA_MASTER])
		d->master_ifindex = (int)mnl_attr_get_u32(la.tb[IFLA_MASTER]);
	if (va.tb[IFLA_VXLAN_ID])
		d->vni = mnl_attr_get_u32(va.tb[IFLA_VXLAN_ID]) & 0xffffff;
	/* The kernel reports the unicast remote and the multicast group in
	 * the same attribute; the address itself says which one it is. */
	if (va.tb[IFLA_VXLAN_GROUP])
		set_addr(&d->remote_family, &d->remote, va.tb[IFLA_VXLAN_GROUP], AF_INET);
	else if (va.tb[IFLA_VXLAN_GROUP6])
		set_addr(&d->remote_family, &d->remote, va.tb[IFLA_VXLAN_GROUP6], AF_INET6);
	if (d->remote_family && addr_is_any(d->remote_family, &d->remote))
		d->remote_family = 0;
	if (d->remote_family == AF_INET)
		d->remote_is_group = IN_MULTICAST(ntohl(d->remote.v4.s_addr));
	else if (d->remote_family == AF_INET6)
		d->remote_is_group = IN6_IS_ADDR_MULTICAST(&d->remote.v6);
	if (va.tb[IFLA_VXLAN_LOCAL])
		set_addr(&d->local_family, &d->local, va.tb[IFLA_VXLAN_LOCAL], AF_INET);
	else if (va.tb[IFLA_VXLAN_LOCAL6])
		set_addr(&d->local_family, &d->local, va.tb[IFLA_VXLAN_LOCAL6], AF_INET6);
	if (d->local_family && addr_is_any(d->local_family, &d->local))
		d->local_family = 0;
	/* Linux's default when no port is given is the IANA one. */
	d->dstport =
		va.tb[IFLA_VXLAN_PORT] ? ntohs(mnl_attr_get_u16(va.tb[IFLA_VXLAN_PORT])) : 4789;
	d->learning = va.tb[IFLA_VXLAN_LEARNING] && mnl_attr_get_u8(va.tb[IFLA_VXLAN_LEARNING]);
	/* An external device's VNI is each packet's (the kernel reports 0). */
	d->external = va.tb[IFLA_VXLAN_COLLECT_METADATA] &&
		      mnl_attr_get_u8(va.tb[IFLA_VXLAN_COLLECT_METADATA]);
	d->vnifilter = d->external && va.tb[IFLA_VXLAN_VNIFILTER] &&
		       mnl_attr_get_u8(va.tb[IFLA_VXLAN_VNIFILTER]);
	if (d->external)
		d->vni = 0;
	if (va.tb[IFLA_VXLAN_LINK])
		d->underlay_ifindex = (int)mnl_attr_get_u32(va.tb[IFLA_VXLAN_LINK]);
	return 1;
}

int vx_link_parse(const struct nlmsghdr *nlh, struct vx_link_msg *out)
{
	struct link_attrs la = {};
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -EINVAL;
	if (link_msg(nlh, &ifi, &la))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	out->deleted = nlh->nlmsg_type == RTM_DELLINK;
	if (la.tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(la.tb[IFLA_MTU]);
	if (la.tb[IFLA_IFNAME])
		snprintf(out->name, sizeof(out->name), "%s", mnl_attr_get_str(la.tb[IFLA_IFNAME]));
	return 0;
}

/* One request-reply (or dump) exchange on an rtnetlink socket. */
static int rtnl_talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	req->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -errno : 0;
	}
	return n < 0 ? -errno : 0;
}

struct dump_ctx {
	struct vx_inventory *inv;
	const char *netns;
	uint32_t inum;
	int err;
};

static int grow(struct vx_inventory *inv)
{
	struct vx_vxlan_dev *p;
	int cap = inv->cap ? inv->cap * 2 : 8;

	p = realloc(inv->devs, (size_t)cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	inv->devs = p;
	inv->cap = cap;
	return 0;
}

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	struct vx_vxlan_dev d;
	int ret = vx_inventory_parse_link(nlh, &d);

	if (ret <= 0) {
		if (ret < 0)
			c->err = ret;
		return MNL_CB_OK; /* one malformed link must not hide the rest */
	}
	if (c->inv->n == c->inv->cap && grow(c->inv)) {
		c->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	snprintf(d.netns, sizeof(d.netns), "%s", c->netns ? c->netns : "");
	d.netns_inum = c->inum;
	c->inv->devs[c->inv->n++] = d;
	return MNL_CB_OK;
}

/* Send the request built in @buf and read its one reply back into @buf:
 * 0 with the reply there, or the kernel's negative errno. */
static int rtnl_request_one(struct mnl_socket *nl, char *buf, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, len);
	if (n < 0)
		return -errno;
	if (!mnl_nlmsg_ok(nlh, (int)n))
		return -EINVAL;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		return e->error ? e->error : -ENOENT;
	}
	return 0;
}

/* RTM_GETLINK for one ifindex: name and MTU. */
static int send_getlink(struct mnl_socket *nl, int ifindex, char *name, uint32_t *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct link_attrs la = {};
	int ret;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	ret = rtnl_request_one(nl, buf, sizeof(buf));
	if (ret)
		return ret;
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) ||
	    mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, &la) < 0)
		return -EINVAL;
	if (la.tb[IFLA_IFNAME])
		snprintf(name, IF_NAMESIZE, "%s", mnl_attr_get_str(la.tb[IFLA_IFNAME]));
	if (la.tb[IFLA_MTU])
		*mtu = mnl_attr_get_u32(la.tb[IFLA_MTU]);
	return 0;
}

struct route_ans {
	int oif;
	int src_family; /* RTA_PREFSRC's, 0 without one */
	union vx_addr src;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_ans *r = data;

	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		r->oif = (int)mnl_attr_get_u32(a);
	if (mnl_attr_get_type(a) == RTA_PREFSRC && r->src_family &&
	    mnl_attr_get_payload_len(a) == (r->src_family == AF_INET ? 4 : 16))
		memcpy(&r->src, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	return MNL_CB_OK;
}

/* RTM_GETROUTE for @addr: the device the kernel would send the outer
 * packet through, i.e. the underlay when the VXLAN has no `dev`, and the
 * source address it would give it (@r->src_family set when there is one). */
static int route_get(struct mnl_socket *nl, int family, const void *addr, struct route_ans *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int ret;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, addr);
	ret = rtnl_request_one(nl, buf, sizeof(buf));
	if (ret)
		return ret;
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->src_family = family;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, r);
	if (addr_is_any(family, &r->src))
		r->src_family = 0;
	return r->oif ? 0 : -ENOENT;
}

/* Where the devices found in this namespace (inv->devs[first..]) send:
 * their all-zero FDB entries, the lwtunnel routes leaving through the
 * external ones, the VNI filters. One dump each for the namespace. A
 * kernel that refuses a dump (RTM_GETTUNNEL before 5.18) leaves that part
 * out: it cannot have what the dump would list. */
struct peers_ctx {
	struct vx_inventory *inv;
	int first;
	struct vx_vxlan_dev *d; /* the VNI filter dump's device */
};

static struct vx_vxlan_dev *dev_of(const struct peers_ctx *c, int ifindex)
{
	for (int i = c->first; i < c->inv->n; i++)
		if (c->inv->devs[i].ifindex == ifindex)
			return &c->inv->devs[i];
	return NULL;
}

static int fdb_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peers_ctx *c = data;
	struct vx_vxlan_dev *d;
	struct vx_remote r;
	int ifindex;

	if (vx_inventory_parse_fdb(nlh, &ifindex, &r) == 1 && (d = dev_of(c, ifindex)))
		vx_inventory_add_remote(d, &r);
	return MNL_CB_OK;
}

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peers_ctx *c = data;
	struct vx_vxlan_dev *d;
	struct vx_remote r;
	int oif;

	if (vx_inventory_parse_route(nlh, &oif, &r) == 1 && (d = dev_of(c, oif)) && d->external)
		vx_inventory_add_remote(d, &r);
	return MNL_CB_OK;
}

static int vni_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct peers_ctx *c = data;

	vx_inventory_parse_vnifilter(nlh, c->d);
	return MNL_CB_OK;
}

/* RTM_GETNEIGH, AF_BRIDGE: every FDB entry of the namespace. */
static void send_getneigh_fdb(struct mnl_socket *nl, struct peers_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_BRIDGE;
	rtnl_talk(nl, nlh, fdb_dump_cb, c);
}

/* RTM_GETROUTE dump of @family: every table's routes. */
static void send_getroute_dump(struct mnl_socket *nl, int family, struct peers_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtnl_talk(nl, nlh, route_dump_cb, c);
}

/* RTM_GETTUNNEL, AF_BRIDGE, for one device: its VNI filter (`bridge vni`). */
static void send_gettunnel(struct mnl_socket *nl, struct peers_ctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tunnel_msg *t;

	nlh->nlmsg_type = RTM_GETTUNNEL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->family = AF_BRIDGE;
	t->ifindex = (uint32_t)c->d->ifindex;
	c->d->n_vnis = 0;
	rtnl_talk(nl, nlh, vni_dump_cb, c);
}

static void find_peers(struct mnl_socket *nl, struct vx_inventory *inv, int first)
{
	struct peers_ctx c = { .inv = inv, .first = first };
	bool external = false;

	if (first == inv->n)
		return;
	send_getneigh_fdb(nl, &c);
	for (int i = first; i < inv->n; i++)
		external |= inv->devs[i].external;
	if (external) {
		send_getroute_dump(nl, AF_INET, &c);
		send_getroute_dump(nl, AF_INET6, &c);
	}
	for (int i = first; i < inv->n; i++) {
		if (!inv->devs[i].vnifilter)
			continue;
		c.d = &inv->devs[i];
		send_gettunnel(nl, &c);
	}
}

/* The device that holds @addr (RTM_GETADDR): for a VXLAN whose only clue
 * is its local address. A route lookup would name loopback, the route to a
 * local address. */
struct addr_ctx {
	int family;
	const union vx_addr *addr;
	int ifindex;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	struct addr_ctx *c = data;
	size_t n = c->family == AF_INET ? 4 : 16;

	if ((mnl_attr_get_type(a) == IFA_LOCAL || mnl_attr_get_type(a) == IFA_ADDRESS) &&
	    mnl_attr_get_payload_len(a) == n && !memcmp(mnl_attr_get_payload(a), c->addr, n))
		c->ifindex = -1; /* matched: the message's index is taken below */
	return MNL_CB_OK;
}

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (c->ifindex > 0 || nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) || ifa->ifa_family != c->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, c);
	if (c->ifindex < 0)
		c->ifindex = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

static int addr_dev(struct mnl_socket *nl, int family, const union vx_addr *addr, int *oif)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct addr_ctx c = { .family = family, .addr = addr };
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ret = rtnl_talk(nl, nlh, addr_dump_cb, &c);
	if (ret || c.ifindex <= 0)
		return ret ? ret : -ENOENT;
	*oif = c.ifindex;
	return 0;
}

/* The route the outer packets take: to the remote, or without one to the
 * first unicast FDB or lwtunnel route destination; for a group or neither,
 * the device holding the local address is the one the tunnel lives on.
 * Without `dev` its device is the underlay; without `local` its preferred
 * source is the outer packets' source. */
static void find_underlay(struct mnl_socket *nl, struct vx_vxlan_dev *d)
{
	struct route_ans r = {};
	union vx_addr dst;
	int fam = vx_inventory_first_remote(d, &dst);

	if (fam && (!d->underlay_ifindex || !d->local_family))
		route_get(nl, fam, &dst, &r);
	if (!d->local_family && r.src_family) {
		d->route_src_family = r.src_family;
		d->route_src = r.src;
	}
	if (d->master_ifindex) {
		uint32_t mtu;

		if (send_getlink(nl, d->master_ifindex, d->master, &mtu))
			d->master[0] = '\0';
	}
	if (!d->underlay_ifindex) {
		if (!r.oif && d->local_family)
			addr_dev(nl, d->local_family, &d->local, &r.oif);
		if (!r.oif || r.oif == d->ifindex)
			return;
		d->underlay_ifindex = r.oif;
		d->underlay_from_route = true;
	}
	if (send_getlink(nl, d->underlay_ifindex, d->underlay, &d->underlay_mtu))
		d->underlay[0] = '\0';
}

int vx_inventory_collect(struct vx_inventory *inv, const char *netns)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump_ctx ctx = { .inv = inv, .netns = netns };
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	int saved, ret, first = inv->n;

	ctx.inum = vx_netns_inum(netns);
	ret = vx_netns_enter(netns, &saved);
	if (ret)
		return ret;
	/* EINTR: links changed during the dump (NLM_F_DUMP_INTR), so what it
	 * returned may be inconsistent; dump again, a few times, on a fresh
	 * socket (the rest of the interrupted dump is still queued on the
	 * old one). */
	for (int tries = 0; tries < 4; tries++) {
		if (nl)
			mnl_socket_close(nl);
		inv->n = first;
		ctx.err = 0;
		nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			ret = -errno;
			goto out;
		}
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
		rt->rtgen_family = AF_UNSPEC;
		ret = rtnl_talk(nl, nlh, link_dump_cb, &ctx);
		if (ret != -EINTR)
			break;
	}
	if (!ret && ctx.err == -ENOMEM)
		ret = -ENOMEM;
	if (!ret)
		find_peers(nl, inv, first);
	for (int i = first; !ret && i < inv->n; i++)
		find_underlay(nl, &inv->devs[i]);
out:
	if (nl)
		mnl_socket_close(nl);
	vx_netns_leave(saved);
	return ret;
}

int vx_route_oif(const char *netns, int family, const void *addr, int *oif)
{
	struct mnl_socket *nl;
	int saved, ret;

	ret = vx_netns_enter(netns, &saved);
	if (ret)
		return ret;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		ret = -errno;
	else {
		struct route_ans r = {};

		ret = route_get(nl, family, addr, &r);
		*oif = r.oif;
	}
	if (nl)
		mnl_socket_close(nl);
	vx_netns_leave(saved);
	return ret;
}

void vx_inventory_free(struct vx_inventory *inv)
{
	free(inv->devs);
	memset(inv, 0, sizeof(*inv));
}

int vx_vxlan_overhead(int outer_family)
{
	return outer_family == AF_INET6 ? 70 : 50;
}

/* The outer family: the remote's, else the local address's. */
static int outer_family(const struct vx_vxlan_dev *d)
{
	union vx_addr a;
	int family = vx_inventory_first_remote(d, &a);

	if (!family)
		family = d->remote_family ? d->remote_family : d->local_family;
	return family;
}

bool vx_mtu_problem(const struct vx_vxlan_dev *d, char *msg, size_t len)
{
	int family = outer_family(d);
	int overhead = vx_vxlan_overhead(family);
	long fit;

	if (!d->underlay_mtu || !d->mtu)
		return false;
	fit = (long)d->underlay_mtu - overhead;
	if ((long)d->mtu <= fit)
		return false;
	snprintf(msg, len,
		 "%s%s%s: overlay MTU %u does not fit underlay %s MTU %u (VXLAN over %s adds %d "
		 "bytes, so the overlay can carry at most %ld): set the overlay MTU to %ld or "
		 "raise the underlay MTU to %u",
		 d->name, d->netns[0] ? " in " : "", d->netns, d->mtu, d->underlay, d->underlay_mtu,
		 family == AF_INET6 ? "IPv6" : "IPv4", overhead, fit > 0 ? fit : 0,
		 fit > 0 ? fit : 0, d->mtu + (unsigned)overhead);
	return true;
}
