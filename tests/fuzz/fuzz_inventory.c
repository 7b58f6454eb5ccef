// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: vx_inventory_parse_link() on arbitrary RTM_NEWLINK
 * messages. The message sits in a heap buffer of exactly nlmsg_len bytes,
 * as libmnl hands it over after checking the header, so ASan sees any read
 * past it. A decoded device must be self-consistent. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "fuzz.h"
#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_vxlan_dev d;
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
		CHECK(d.local_family == 0 || d.local_family == AF_INET || d.local_family == AF_INET6);
		CHECK(d.remote_family == 0 || d.remote_family == AF_INET ||
		      d.remote_family == AF_INET6);
		CHECK(!d.remote_is_group || d.remote_family);
	}
	free(nlh);
	return 0;
}
