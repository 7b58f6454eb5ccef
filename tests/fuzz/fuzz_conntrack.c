// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the ctnetlink decoders of loader/engines/ctnl.c (per-CPU
 * statistics, table statistics, events) on arbitrary messages, in a heap
 * buffer of exactly the message's size so ASan sees any read past it. A
 * decoder that refuses a message must leave its outputs alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>

#include "fuzz.h"
#include "ctnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_ct_cpu_stats sum, before;
	uint32_t count = 0xdeadbeef, max = 0xfeedf00d;
	struct nlmsghdr *nlh;
	uint8_t proto = 0xee;
	struct vxd_ip t;
	int ret;

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	nlh = malloc(size);
	if (!nlh)
		abort();
	memcpy(nlh, data, size);
	nlh->nlmsg_len = (uint32_t)size;

	memset(&sum, 0x5a, sizeof(sum));
	before = sum;
	if (vx_ct_parse_stats_cpu(nlh, size, &sum) < 0)
		CHECK(!memcmp(&sum, &before, sizeof(sum)));
	if (vx_ct_parse_stats(nlh, size, &count, &max) < 0)
		CHECK(count == 0xdeadbeef && max == 0xfeedf00d);
	ret = vx_ct_parse_event(nlh, size, &proto);
	if (ret < 0)
		CHECK(proto == 0xee);
	else
		CHECK(ret == VX_CT_EV_OTHER || ret == VX_CT_EV_NEW || ret == VX_CT_EV_DESTROY);
	/* The tuple decoder answers the same, and leaves @t alone on error. */
	memset(&t, 0xee, sizeof(t));
	CHECK(vx_ct_parse_event_tuple(nlh, size, &t) == ret);
	if (ret < 0)
		CHECK(t.family == 0xee && t.sport == 0xeeee);
	else
		CHECK(t.proto == proto && (t.family == 0 || t.family == 4 || t.family == 6));
	free(nlh);
	return 0;
}
