// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: vx_inventory_parse_link() on arbitrary RTM_NEWLINK
 * messages, and vx_link_parse() on them as RTM_NEWLINK or RTM_DELLINK; the
 * same bytes as an FDB neighbour, a route and a VNI filter dump message
 * (the decoders of where a device sends). The message sits in a heap
 * buffer of exactly nlmsg_len bytes, as libmnl hands it over after checking the header, so ASan
 * sees any read past it. A decoded device must be self-consistent. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_vxlan_dev d;
	struct vx_link_msg lm;
	struct nlmsghdr *nlh;
	int ret;

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	nlh = malloc(size);
	if (!nlh)
		abort();
	memcpy(nlh, data, size);
	nlh->nlmsg_len = (uint32_t)size;
	memset(&d, 0xa5, sizeof(d));
	ret = vx_inventory_parse_link(nlh, &d);
	CHECK(ret == 1 || ret == 0 || ret == -EINVAL);
	if (ret == 1) {
		CHECK(memchr(d.name, 0, sizeof(d.name)));
		CHECK(d.vni <= 0xffffff);
		CHECK(d.local_family == 0 || d.local_family == AF_INET ||
		      d.local_family == AF_INET6);
		CHECK(d.remote_family == 0 || d.remote_family == AF_INET ||
		      d.remote_family == AF_INET6);
		CHECK(!d.remote_is_group || d.remote_family);
	}
	/* The link-change decoder on the same bytes, as either message. */
	nlh->nlmsg_type = size & 1 ? RTM_DELLINK : RTM_NEWLINK;
	ret = vx_link_parse(nlh, &lm);
	CHECK(ret == 0 || ret == -EINVAL);
	if (!ret)
		CHECK(memchr(lm.name, 0, sizeof(lm.name)) && lm.deleted == (size & 1));
	/* Where a device sends: each decoder on the bytes as its message. */
	{
		struct vx_remote r;
		int ifindex;

		nlh->nlmsg_type = RTM_NEWNEIGH;
		ret = vx_inventory_parse_fdb(nlh, &ifindex, &r);
		CHECK(ret == 1 || ret == 0 || ret == -EINVAL);
		if (ret == 1)
			CHECK((r.family == AF_INET || r.family == AF_INET6) &&
			      (r.vni <= 0xffffff || r.vni == VX_VNI_UNKNOWN));
		nlh->nlmsg_type = RTM_NEWROUTE;
		ret = vx_inventory_parse_route(nlh, &ifindex, &r);
		CHECK(ret == 1 || ret == 0 || ret == -EINVAL);
		if (ret == 1)
			CHECK((r.family == AF_INET || r.family == AF_INET6) &&
			      (r.vni <= 0xffffff || r.vni == VX_VNI_UNKNOWN));
		nlh->nlmsg_type = RTM_NEWTUNNEL;
		memset(&d, 0, sizeof(d));
		d.ifindex = size > sizeof(*nlh) + 7 ? (int)((const uint32_t *)(nlh + 1))[1] : 0;
		ret = vx_inventory_parse_vnifilter(nlh, &d);
		CHECK(ret == 1 || ret == 0 || ret == -EINVAL);
		for (int i = 0; i < d.n_vnis && i < VX_INV_MAX_VNIS; i++)
			CHECK(d.vnis[i].start <= d.vnis[i].end && d.vnis[i].end <= 0xffffff);
	}
	free(nlh);
	return 0;
}
