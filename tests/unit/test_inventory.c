// SPDX-License-Identifier: GPL-2.0-only
/* Decoding RTM_NEWLINK for VXLAN devices, on crafted messages, and the
 * MTU check at its boundaries. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_remote),	    cmocka_unit_test(test_ipv6_and_group),
		cmocka_unit_test(test_other_links_ignored), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_link_changes),	    cmocka_unit_test(test_mtu_check),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
