// SPDX-License-Identifier: GPL-2.0-only
/* Decoding RTM_NEWLINK for VXLAN devices, and the messages that say where
 * a device sends (FDB entries, lwtunnel routes, VNI filters), on crafted
 * messages, and the MTU check at its boundaries. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/lwtunnel.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "inventory.h"

static char buf[4096];

struct spec {
	const char *kind;
	uint32_t vni;
	int family;
	const char *local, *remote;
	int port;     /* -1: none */
	int learning; /* -1: none */
	uint32_t link;
	bool no_data;
	bool bad_vni_len;
	int external;  /* IFLA_VXLAN_COLLECT_METADATA; 0: none */
	int vnifilter; /* IFLA_VXLAN_VNIFILTER; 0: none */
};

static struct nlmsghdr *build(const struct spec *s)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *li, *data;
	unsigned char a[16];

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 7;
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "vxlan100");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1450);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, s->kind);
	if (!s->no_data) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		if (s->bad_vni_len)
			mnl_attr_put_u16(nlh, IFLA_VXLAN_ID, 1);
		else
			mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, s->vni);
		if (s->local && inet_pton(s->family, s->local, a) == 1)
			mnl_attr_put(nlh,
				     s->family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
				     s->family == AF_INET ? 4 : 16, a);
		if (s->remote && inet_pton(s->family, s->remote, a) == 1)
			mnl_attr_put(nlh,
				     s->family == AF_INET ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6,
				     s->family == AF_INET ? 4 : 16, a);
		if (s->port >= 0)
			mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons((uint16_t)s->port));
		if (s->learning >= 0)
			mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, (uint8_t)s->learning);
		if (s->link)
			mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, s->link);
		if (s->external)
			mnl_attr_put_u8(nlh, IFLA_VXLAN_COLLECT_METADATA,
					(uint8_t)(s->external > 0));
		if (s->vnifilter)
			mnl_attr_put_u8(nlh, IFLA_VXLAN_VNIFILTER, (uint8_t)(s->vnifilter > 0));
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, li);
	return nlh;
}

static void test_ipv4_remote(void **state)
{
	struct spec s = { "vxlan", 100, AF_INET, "10.0.0.1", "10.0.0.2", 4789, 1, 3 };
	struct vx_vxlan_dev d;
	char a[64];

	assert_int_equal(vx_inventory_parse_link(build(&s), &d), 1);
	assert_string_equal(d.name, "vxlan100");
	assert_int_equal(d.ifindex, 7);
	assert_int_equal(d.vni, 100);
	assert_int_equal(d.mtu, 1450);
	assert_true(d.up);
	assert_int_equal(d.remote_family, AF_INET);
	assert_false(d.remote_is_group);
	assert_string_equal(inet_ntop(AF_INET, &d.remote, a, sizeof(a)), "10.0.0.2");
	assert_string_equal(inet_ntop(AF_INET, &d.local, a, sizeof(a)), "10.0.0.1");
	assert_int_equal(d.dstport, 4789);
	assert_true(d.learning);
	assert_int_equal(d.underlay_ifindex, 3);
}

static void test_ipv6_and_group(void **state)
{
	struct spec s6 = { "vxlan", 600, AF_INET6, "fd00::1", "fd00::2", 8472, 0, 0 };
	struct spec g = { "vxlan", 5, AF_INET, NULL, "239.1.1.1", -1, -1, 0 };
	struct vx_vxlan_dev d;

	assert_int_equal(vx_inventory_parse_link(build(&s6), &d), 1);
	assert_int_equal(d.remote_family, AF_INET6);
	assert_int_equal(d.dstport, 8472);
	assert_false(d.learning);
	assert_int_equal(d.underlay_ifindex, 0);
	assert_int_equal(vx_inventory_parse_link(build(&g), &d), 1);
	assert_true(d.remote_is_group);
	assert_int_equal(d.local_family, 0);
	/* No port attribute: the kernel's default. */
	assert_int_equal(d.dstport, 4789);
}

static void test_other_links_ignored(void **state)
{
	struct spec s = { "veth", 0, AF_INET, NULL, NULL, -1, -1, 0, true };
	struct vx_vxlan_dev d;

	assert_int_equal(vx_inventory_parse_link(build(&s), &d), 0);
}

static void test_malformed(void **state)
{
	struct spec nodata = { "vxlan", 0, AF_INET, NULL, NULL, -1, -1, 0, true };
	struct spec badvni = { "vxlan", 0, AF_INET, NULL, NULL, -1, -1, 0, false, true };
	struct spec ok = { "vxlan", 100, AF_INET, "10.0.0.1", "10.0.0.2", 4789, 1, 0 };
	struct vx_vxlan_dev d;
	struct nlmsghdr *nlh;
	uint32_t full;

	assert_int_equal(vx_inventory_parse_link(build(&nodata), &d), -EINVAL);
	assert_int_equal(vx_inventory_parse_link(build(&badvni), &d), -EINVAL);
	/* Cut the message at every length: never a crash, never a read past
	 * nlmsg_len (ASan build), and never a VXLAN device: a cut inside an
	 * attribute is malformed, a cut between top-level attributes is a
	 * link without link info. (A cut within the final padding is not a
	 * cut: netlink lengths are rounded up to 4.) */
	nlh = build(&ok);
	full = nlh->nlmsg_len;
	for (uint32_t len = 0; len < full - 3; len++) {
		int ret;

		nlh->nlmsg_len = len;
		ret = vx_inventory_parse_link(nlh, &d);
		assert_true(ret == 0 || ret == -EINVAL);
		if (len % 4)
			assert_int_equal(ret, -EINVAL);
	}
	nlh->nlmsg_len = full;
	assert_int_equal(vx_inventory_parse_link(nlh, &d), 1);
}

/* Link changes: any kind of link, its flags, MTU and name; a deletion; and
 * what is not a link message or is cut short. */
static void test_link_changes(void **state)
{
	struct spec veth = { .kind = "veth", .port = -1, .learning = -1, .no_data = true };
	struct vx_link_msg m;
	struct nlmsghdr *nlh = build(&veth);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = IFF_UP | IFF_LOWER_UP;
	assert_int_equal(vx_link_parse(nlh, &m), 0);
	assert_int_equal(m.ifindex, 7);
	assert_int_equal(m.flags, IFF_UP | IFF_LOWER_UP);
	assert_int_equal(m.mtu, 1450);
	assert_string_equal(m.name, "vxlan100");
	assert_false(m.deleted);

	nlh->nlmsg_type = RTM_DELLINK;
	ifi->ifi_flags = 0;
	assert_int_equal(vx_link_parse(nlh, &m), 0);
	assert_true(m.deleted);
	assert_int_equal(m.flags, 0);

	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(vx_link_parse(nlh, &m), -EINVAL);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_len -= 3; /* the last attribute cut */
	assert_int_equal(vx_link_parse(nlh, &m), -EINVAL);
	nlh->nlmsg_len = mnl_nlmsg_size(sizeof(*ifi)) - 1;
	assert_int_equal(vx_link_parse(nlh, &m), -EINVAL);
}

/* `ip link add vx type vxlan external [vnifilter]`: the kernel reports
 * VNI 0, which is no VNI of the device's; vnifilter only with external. */
static void test_external_and_vnifilter(void **state)
{
	struct spec ext = { "vxlan", 0, AF_INET, NULL, NULL, 4789, 0, 0 };
	struct vx_vxlan_dev d;

	ext.external = 1;
	assert_int_equal(vx_inventory_parse_link(build(&ext), &d), 1);
	assert_true(d.external);
	assert_false(d.vnifilter);
	ext.vnifilter = 1;
	assert_int_equal(vx_inventory_parse_link(build(&ext), &d), 1);
	assert_true(d.external && d.vnifilter);
	/* Attributes present but off (-1 puts 0), or absent: classic. */
	ext.external = -1;
	assert_int_equal(vx_inventory_parse_link(build(&ext), &d), 1);
	assert_false(d.external || d.vnifilter);
	ext.external = 0;
	ext.vnifilter = 0;
	ext.vni = 42;
	assert_int_equal(vx_inventory_parse_link(build(&ext), &d), 1);
	assert_false(d.external);
	assert_int_equal(d.vni, 42);
}

/* An AF_BRIDGE neighbour: MAC, destination and VNI as given. */
static struct nlmsghdr *fdb_msg(int family, int ifindex, const uint8_t *mac, const char *dst,
				int64_t vni)
{
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	unsigned char a[16];
	int af = dst && strchr(dst, ':') ? AF_INET6 : AF_INET;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	if (dst && inet_pton(af, dst, a) == 1)
		mnl_attr_put(nlh, NDA_DST, af == AF_INET ? 4 : 16, a);
	if (vni >= 0)
		mnl_attr_put_u32(nlh, NDA_VNI, (uint32_t)vni);
	return nlh;
}

static void test_fdb_remotes(void **state)
{
	static const uint8_t zero[6], mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct vx_remote r;
	struct nlmsghdr *nlh;
	char a[64];
	int ifindex = 0;

	assert_int_equal(
		vx_inventory_parse_fdb(fdb_msg(AF_BRIDGE, 7, zero, "10.0.0.2", -1), &ifindex, &r),
		1);
	assert_int_equal(ifindex, 7);
	assert_int_equal(r.family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &r.addr, a, sizeof(a)), "10.0.0.2");
	assert_int_equal(r.vni, VX_VNI_UNKNOWN);
	assert_int_equal(r.from, VX_REMOTE_FDB);
	assert_int_equal(
		vx_inventory_parse_fdb(fdb_msg(AF_BRIDGE, 7, zero, "fd00::2", 300), &ifindex, &r),
		1);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.vni, 300);
	/* A learned MAC's entry, a bridge port's without a destination, an
	 * IP neighbour: not a remote. */
	assert_int_equal(
		vx_inventory_parse_fdb(fdb_msg(AF_BRIDGE, 7, mac, "10.0.0.2", -1), &ifindex, &r),
		0);
	assert_int_equal(
		vx_inventory_parse_fdb(fdb_msg(AF_BRIDGE, 7, zero, NULL, -1), &ifindex, &r), 0);
	assert_int_equal(
		vx_inventory_parse_fdb(fdb_msg(AF_INET, 7, zero, "10.0.0.2", -1), &ifindex, &r), 0);
	/* Cut anywhere: never a crash, never a read past nlmsg_len; cut
	 * inside an attribute, malformed; cut before its VNI, an entry
	 * without one. */
	nlh = fdb_msg(AF_BRIDGE, 7, zero, "10.0.0.2", 5);
	for (uint32_t len = 0, full = nlh->nlmsg_len; len < full; len++) {
		int ret;

		nlh->nlmsg_len = len;
		ret = vx_inventory_parse_fdb(nlh, &ifindex, &r);
		assert_true(ret == 0 || ret == -EINVAL || (ret == 1 && r.vni == VX_VNI_UNKNOWN));
		if (len % 4)
			assert_int_equal(ret, -EINVAL);
	}
}

/* `ip route add P encap ip id N dst R dev vx`, as the kernel reports it. */
static struct nlmsghdr *route_msg(uint16_t encap_type, uint32_t oif, const char *dst, int64_t id)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nlattr *e;
	unsigned char a[16];
	bool v6 = encap_type == LWTUNNEL_ENCAP_IP6;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	mnl_attr_put_u16(nlh, RTA_ENCAP_TYPE, encap_type);
	e = mnl_attr_nest_start(nlh, RTA_ENCAP);
	if (id >= 0)
		mnl_attr_put_u64(nlh, v6 ? LWTUNNEL_IP6_ID : LWTUNNEL_IP_ID, htobe64((uint64_t)id));
	if (dst && inet_pton(v6 ? AF_INET6 : AF_INET, dst, a) == 1)
		mnl_attr_put(nlh, v6 ? LWTUNNEL_IP6_DST : LWTUNNEL_IP_DST, v6 ? 16 : 4, a);
	mnl_attr_put_u8(nlh, v6 ? LWTUNNEL_IP6_HOPLIMIT : LWTUNNEL_IP_TTL, 64);
	mnl_attr_nest_end(nlh, e);
	return nlh;
}

static void test_route_remotes(void **state)
{
	struct vx_remote r;
	struct nlmsghdr *nlh;
	char a[64];
	int oif = 0;

	assert_int_equal(vx_inventory_parse_route(route_msg(LWTUNNEL_ENCAP_IP, 9, "10.0.0.2", 100),
						  &oif, &r),
			 1);
	assert_int_equal(oif, 9);
	assert_int_equal(r.family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &r.addr, a, sizeof(a)), "10.0.0.2");
	assert_int_equal(r.vni, 100);
	assert_int_equal(r.from, VX_REMOTE_ROUTE);
	assert_int_equal(vx_inventory_parse_route(
				 route_msg(LWTUNNEL_ENCAP_IP6, 9, "fd00::2", 0x1000064), &oif, &r),
			 1);
	assert_int_equal(r.family, AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, &r.addr, a, sizeof(a)), "fd00::2");
	assert_int_equal(r.vni, 100); /* 24 bits */
	/* Without an id: the VNI is unknown. Another encapsulation, or none
	 * to go to: not a remote. */
	assert_int_equal(
		vx_inventory_parse_route(route_msg(LWTUNNEL_ENCAP_IP, 9, "10.0.0.2", -1), &oif, &r),
		1);
	assert_int_equal(r.vni, VX_VNI_UNKNOWN);
	assert_int_equal(vx_inventory_parse_route(route_msg(LWTUNNEL_ENCAP_MPLS, 9, "10.0.0.2", 1),
						  &oif, &r),
			 0);
	assert_int_equal(
		vx_inventory_parse_route(route_msg(LWTUNNEL_ENCAP_IP, 9, NULL, 1), &oif, &r), 0);
	nlh = route_msg(LWTUNNEL_ENCAP_IP, 9, "10.0.0.2", 100);
	for (uint32_t len = 0, full = nlh->nlmsg_len; len < full; len++) {
		int ret;

		nlh->nlmsg_len = len;
		ret = vx_inventory_parse_route(nlh, &oif, &r);
		assert_true(ret == 0 || ret == -EINVAL);
	}
}

struct vni_spec {
	uint32_t start, end; /* end 0: none */
	const char *group;
};

/* RTM_NEWTUNNEL as `bridge vni show` reads it. */
static struct nlmsghdr *vni_msg(int ifindex, const struct vni_spec *v, int n)
{
	struct nlmsghdr *nlh;
	struct tunnel_msg *t;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWTUNNEL;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->family = AF_BRIDGE;
	t->ifindex = (uint32_t)ifindex;
	for (int i = 0; i < n; i++) {
		struct nlattr *e = mnl_attr_nest_start(nlh, VXLAN_VNIFILTER_ENTRY | NLA_F_NESTED);
		unsigned char a[16];

		mnl_attr_put_u32(nlh, VXLAN_VNIFILTER_ENTRY_START, v[i].start);
		if (v[i].end)
			mnl_attr_put_u32(nlh, VXLAN_VNIFILTER_ENTRY_END, v[i].end);
		if (v[i].group && inet_pton(AF_INET, v[i].group, a) == 1)
			mnl_attr_put(nlh, VXLAN_VNIFILTER_ENTRY_GROUP, 4, a);
		else if (v[i].group && inet_pton(AF_INET6, v[i].group, a) == 1)
			mnl_attr_put(nlh, VXLAN_VNIFILTER_ENTRY_GROUP6, 16, a);
		mnl_attr_nest_end(nlh, e);
	}
	return nlh;
}

static void test_vni_filter(void **state)
{
	static const struct vni_spec v[] = { { 100, 0, "239.1.1.1" },
					     { 200, 210, NULL },
					     { 300, 0, "ff05::1" } };
	struct vni_spec many[VX_INV_MAX_VNIS + 3];
	struct vx_vxlan_dev d = { .ifindex = 7 };
	struct nlmsghdr *nlh;
	char a[64];

	assert_int_equal(vx_inventory_parse_vnifilter(vni_msg(7, v, 3), &d), 1);
	assert_int_equal(d.n_vnis, 3);
	assert_int_equal(d.vnis[0].start, 100);
	assert_int_equal(d.vnis[0].end, 100);
	assert_int_equal(d.vnis[0].group_family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &d.vnis[0].group, a, sizeof(a)), "239.1.1.1");
	assert_int_equal(d.vnis[1].start, 200);
	assert_int_equal(d.vnis[1].end, 210);
	assert_int_equal(d.vnis[1].group_family, 0);
	assert_int_equal(d.vnis[2].group_family, AF_INET6);
	/* Another device's filter is not this one's. */
	d.n_vnis = 0;
	assert_int_equal(vx_inventory_parse_vnifilter(vni_msg(8, v, 3), &d), 0);
	assert_int_equal(d.n_vnis, 0);
	/* More ranges than kept: all counted, the first ones kept. */
	for (int i = 0; i < VX_INV_MAX_VNIS + 3; i++)
		many[i] = (struct vni_spec){ (uint32_t)(1000 + i), 0, NULL };
	assert_int_equal(vx_inventory_parse_vnifilter(vni_msg(7, many, VX_INV_MAX_VNIS + 3), &d),
			 1);
	assert_int_equal(d.n_vnis, VX_INV_MAX_VNIS + 3);
	assert_int_equal(d.vnis[VX_INV_MAX_VNIS - 1].start, 1000 + VX_INV_MAX_VNIS - 1);
	nlh = vni_msg(7, v, 3);
	for (uint32_t len = 0, full = nlh->nlmsg_len; len < full; len++) {
		int ret;

		d.n_vnis = 0;
		nlh->nlmsg_len = len;
		ret = vx_inventory_parse_vnifilter(nlh, &d);
		assert_true(ret == 0 || ret == 1 || ret == -EINVAL);
		assert_true(d.n_vnis <= 3);
	}
}

/* Remotes are kept once each; the first unicast one is where the device's
 * packets go, for its underlay and MTU. */
static void test_remotes_and_first(void **state)
{
	struct vx_vxlan_dev d = { .ifindex = 7 };
	struct vx_remote g = { .family = AF_INET, .vni = VX_VNI_UNKNOWN, .from = VX_REMOTE_FDB },
			 u = g, u6 = { .family = AF_INET6, .vni = 5, .from = VX_REMOTE_ROUTE };
	union vx_addr out;
	char a[64];

	inet_pton(AF_INET, "239.1.1.1", &g.addr);
	inet_pton(AF_INET, "10.0.0.2", &u.addr);
	inet_pton(AF_INET6, "fd00::2", &u6.addr);
	assert_int_equal(vx_inventory_first_remote(&d, &out), 0);
	assert_int_equal(vx_inventory_add_remote(&d, &g), 1);
	assert_int_equal(vx_inventory_first_remote(&d, &out), 0); /* a group is no path */
	assert_int_equal(vx_inventory_add_remote(&d, &u6), 1);
	assert_int_equal(vx_inventory_add_remote(&d, &u), 1);
	assert_int_equal(vx_inventory_add_remote(&d, &u), 0);
	assert_int_equal(d.n_remotes, 3);
	assert_int_equal(vx_inventory_first_remote(&d, &out), AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, &out, a, sizeof(a)), "fd00::2");
	/* Its own remote comes first. */
	d.remote_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.9", &d.remote);
	assert_int_equal(vx_inventory_first_remote(&d, &out), AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &out, a, sizeof(a)), "10.0.0.9");
	/* Past the kept ones: counted, not stored. */
	for (int i = 0; i < VX_INV_MAX_REMOTES + 2; i++) {
		u.vni = (uint32_t)i;
		vx_inventory_add_remote(&d, &u);
	}
	assert_int_equal(d.n_remotes, 3 + VX_INV_MAX_REMOTES + 2);
}

static void test_mtu_check(void **state)
{
	struct vx_vxlan_dev d = { .name = "vxlan100",
				  .underlay = "und0",
				  .underlay_mtu = 1500,
				  .remote_family = AF_INET };
	char msg[512];

	d.mtu = 1450;
	assert_false(vx_mtu_problem(&d, msg, sizeof(msg)));
	d.mtu = 1451;
	assert_true(vx_mtu_problem(&d, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "overlay MTU 1451"));
	assert_non_null(strstr(msg, "und0 MTU 1500"));
	d.remote_family = AF_INET6;
	d.mtu = 1430;
	assert_false(vx_mtu_problem(&d, msg, sizeof(msg)));
	d.mtu = 1431;
	assert_true(vx_mtu_problem(&d, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "IPv6 adds 70"));
	d.underlay_mtu = 0; /* unknown underlay: cannot tell */
	assert_false(vx_mtu_problem(&d, msg, sizeof(msg)));
	/* No remote of its own: the overhead of the family its FDB or route
	 * remotes use. */
	d.underlay_mtu = 1500;
	d.remote_family = 0;
	d.n_remotes = 1;
	d.remotes[0] = (struct vx_remote){ .family = AF_INET6, .from = VX_REMOTE_ROUTE };
	inet_pton(AF_INET6, "fd00::2", &d.remotes[0].addr);
	d.mtu = 1431;
	assert_true(vx_mtu_problem(&d, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "IPv6 adds 70"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_remote),
		cmocka_unit_test(test_ipv6_and_group),
		cmocka_unit_test(test_other_links_ignored),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_link_changes),
		cmocka_unit_test(test_mtu_check),
		cmocka_unit_test(test_external_and_vnifilter),
		cmocka_unit_test(test_fdb_remotes),
		cmocka_unit_test(test_route_remotes),
		cmocka_unit_test(test_vni_filter),
		cmocka_unit_test(test_remotes_and_first),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
