// SPDX-License-Identifier: GPL-2.0-only
/* The host filters on drop events (vx_drop_event_wanted): --host matches
 * either header, --inner-host the inner (or only) one, --outer-host the
 * outer header of a tunnel packet only. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dropsrc.h"
#include "opts.h"

static void ip4(struct vxd_ip *ip, const char *s, const char *d)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	ip->proto = 1;
	inet_pton(AF_INET, s, ip->saddr);
	inet_pton(AF_INET, d, ip->daddr);
}

static bool wanted(const char *host, uint8_t side, const struct vxd_event *e)
{
	struct vx_opts o = { .proto = -1, .host_side = side };

	snprintf(o.host, sizeof(o.host), "%s", host);
	return vx_drop_event_wanted(&o, e);
}

static void test_host_sides(void **state)
{
	struct vxd_event tun = { .flags = VXD_F_OUTER | VXD_F_TUNNEL | VXD_F_INNER };
	struct vxd_event plain = { .flags = VXD_F_OUTER };

	(void)state;
	ip4(&tun.outer, "10.0.0.1", "10.0.0.2");
	ip4(&tun.inner, "172.16.0.1", "172.16.0.2");
	ip4(&plain.outer, "172.16.0.1", "172.16.0.2");

	assert_true(wanted("10.0.0.2", VX_HOST_EITHER, &tun));
	assert_true(wanted("172.16.0.2", VX_HOST_EITHER, &tun));
	assert_false(wanted("172.16.0.9", VX_HOST_EITHER, &tun));

	assert_true(wanted("172.16.0.2", VX_HOST_INNER, &tun));
	assert_false(wanted("10.0.0.2", VX_HOST_INNER, &tun));
	assert_true(wanted("10.0.0.2", VX_HOST_OUTER, &tun));
	assert_false(wanted("172.16.0.2", VX_HOST_OUTER, &tun));

	/* A packet that is not encapsulated has one header: the inner side. */
	assert_true(wanted("172.16.0.2", VX_HOST_EITHER, &plain));
	assert_true(wanted("172.16.0.2", VX_HOST_INNER, &plain));
	assert_false(wanted("172.16.0.2", VX_HOST_OUTER, &plain));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_sides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
