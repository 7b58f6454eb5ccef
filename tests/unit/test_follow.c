// SPDX-License-Identifier: GPL-2.0-only
/* trace's packet following (follow.c): a packet keeps its number across
 * hooks for a second, a drop joins it by identity, and a drop without one
 * joins the latest packet of its flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "follow.h"

#define MS 1000000ull

static struct vx_follow f;

/* A datapath event of an ICMP echo from 10.0.0.1 to 10.0.0.2. */
static struct vx_event ev(uint64_t ts, uint16_t ip_id, uint8_t at)
{
	struct vx_event e = { .ts_ns = ts, .at = at };

	e.pkt.inner_family = 4;
	e.pkt.inner_proto = IPPROTO_ICMP;
	e.pkt.inner_src[0] = 10, e.pkt.inner_src[3] = 1;
	e.pkt.inner_dst[0] = 10, e.pkt.inner_dst[3] = 2;
	e.pkt.icmp_type = 8;
	e.pkt.id.family = 4;
	e.pkt.id.proto = IPPROTO_ICMP;
	e.pkt.id.saddr = htonl(0x0a000001);
	e.pkt.id.daddr = htonl(0x0a000002);
	e.pkt.id.ip_id = ip_id;
	return e;
}

static void test_numbers(void **state)
{
	struct vx_event a = ev(1000 * MS, 1, VX_AT_TC_VX_OUT),
			b = ev(1001 * MS, 2, VX_AT_TC_VX_OUT);
	struct vx_fpkt *p;
	bool is_new;

	(void)state;
	memset(&f, 0, sizeof(f));
	p = vx_follow(&f, &a, &is_new);
	assert_true(is_new);
	assert_int_equal(p->num, 1);
	assert_int_equal(p->first_ts, 1000 * MS);
	assert_string_equal(p->first_hook, vx_at_what(VX_AT_TC_VX_OUT));
	/* ICMP type and code where the drop probe puts them: the ports. */
	assert_int_equal(p->flow.sport, 8);
	assert_int_equal(p->flow.dport, 0);
	assert_int_equal(vx_follow(&f, &b, &is_new)->num, 2);
	assert_true(is_new);
	/* The same packet at the next hook keeps its number. */
	a.ts_ns = 1002 * MS;
	a.at = VX_AT_TC_UL_OUT;
	p = vx_follow(&f, &a, &is_new);
	assert_false(is_new);
	assert_int_equal(p->num, 1);
	assert_int_equal(p->first_ts, 1000 * MS);
	assert_int_equal(p->last_ts, 1002 * MS);
	/* More than a second later the identity is a new packet. */
	a.ts_ns = 2003 * MS;
	p = vx_follow(&f, &a, &is_new);
	assert_true(is_new);
	assert_int_equal(p->num, 3);
}

static void test_find(void **state)
{
	struct vx_event a = ev(1000 * MS, 7, VX_AT_TC_VX_OUT);
	struct vx_pkt_id none = {};
	bool is_new;

	(void)state;
	memset(&f, 0, sizeof(f));
	vx_follow(&f, &a, &is_new);
	assert_non_null(vx_follow_find(&f, &a.pkt.id, 1500 * MS));
	/* Either side of the last sighting. */
	assert_non_null(vx_follow_find(&f, &a.pkt.id, 900 * MS));
	assert_null(vx_follow_find(&f, &a.pkt.id, 2001 * MS));
	assert_null(vx_follow_find(&f, &none, 1000 * MS));
	a.pkt.id.ip_id = 8;
	assert_null(vx_follow_find(&f, &a.pkt.id, 1000 * MS));
}

static void test_join_drop(void **state)
{
	struct vx_event a = ev(1000 * MS, 1, VX_AT_TC_VX_OUT),
			b = ev(1010 * MS, 2, VX_AT_TC_VX_OUT);
	struct vxd_event d = { .ts_ns = 1020 * MS };
	struct vx_fpkt *p;
	enum vx_join how;
	bool is_new;

	(void)state;
	memset(&f, 0, sizeof(f));
	vx_follow(&f, &a, &is_new);
	vx_follow(&f, &b, &is_new);
	/* By identity: exactly that packet. */
	d.id = a.pkt.id;
	p = vx_follow_join_drop(&f, &d, &how);
	assert_non_null(p);
	assert_int_equal(p->num, 1);
	assert_int_equal(how, VX_JOIN_ID);
	/* An identity nobody followed joins nothing, not the flow. */
	d.id.ip_id = 99;
	assert_null(vx_follow_join_drop(&f, &d, &how));
	assert_int_equal(how, VX_JOIN_NONE);
	/* No identity: the latest packet of the flow. */
	memset(&d.id, 0, sizeof(d.id));
	d.inner.family = 4;
	d.inner.proto = IPPROTO_ICMP;
	memcpy(d.inner.saddr, a.pkt.inner_src, 4);
	memcpy(d.inner.daddr, a.pkt.inner_dst, 4);
	d.inner.sport = 8;
	p = vx_follow_join_drop(&f, &d, &how);
	assert_non_null(p);
	assert_int_equal(p->num, 2);
	assert_int_equal(how, VX_JOIN_FLOW);
	/* Not before the packet was seen, nor another flow. */
	d.ts_ns = 900 * MS;
	assert_null(vx_follow_join_drop(&f, &d, &how));
	d.ts_ns = 1020 * MS;
	d.inner.daddr[3] = 3;
	assert_null(vx_follow_join_drop(&f, &d, &how));
	assert_int_equal(how, VX_JOIN_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_join_drop),
	};

	return cmocka_run_group_tests_name("follow", tests, NULL, NULL);
}
