// SPDX-License-Identifier: GPL-2.0-only
/* Option parsers: every value a user can type, good and bad. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "opts.h"

static char err[256];

static uint64_t dur_ok(const char *s)
{
	uint64_t ns = 0;

	err[0] = '\0';
	assert_int_equal(vx_parse_duration(s, &ns, err, sizeof(err)), 0);
	return ns;
}

static void dur_bad(const char *s, const char *msg)
{
	uint64_t ns = 42;

	assert_int_equal(vx_parse_duration(s, &ns, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, msg));
	assert_int_equal(ns, 42);
}

static void test_duration(void **state)
{
	assert_int_equal(dur_ok("10s"), 10 * NSEC_PER_SEC);
	assert_int_equal(dur_ok("10"), 10 * NSEC_PER_SEC);
	assert_int_equal(dur_ok("500ms"), 500 * NSEC_PER_MSEC);
	assert_int_equal(dur_ok("1.5s"), 1500 * NSEC_PER_MSEC);
	assert_int_equal(dur_ok("2m"), 120 * NSEC_PER_SEC);
	assert_int_equal(dur_ok("1h"), 3600 * NSEC_PER_SEC);
	assert_int_equal(dur_ok("168h"), VX_MAX_DURATION_NS);
	dur_bad("-5s", "negative");
	dur_bad("", "empty");
	dur_bad("abc", "not a number");
	dur_bad("10x", "unknown unit 'x'");
	dur_bad("1.s", "no digits after");
	dur_bad("169h", "absurdly long");
	dur_bad("99999999999999999999", "absurdly long");
	dur_bad("500us", "too short");
	dur_bad("0", "too short");
}

static void test_iface_spec(void **state)
{
	struct vx_iface_spec s;

	assert_int_equal(vx_parse_iface_spec("eth0", &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "eth0");
	assert_string_equal(s.netns, "");
	assert_int_equal(vx_parse_iface_spec("vxlab-a:und0", &s, err, sizeof(err)), 0);
	assert_string_equal(s.netns, "vxlab-a");
	assert_string_equal(s.name, "und0");
	assert_int_equal(vx_parse_iface_spec("abcdefghijklmno", &s, err, sizeof(err)), 0);
	assert_int_equal(vx_parse_iface_spec("abcdefghijklmnop", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid"));
	assert_int_equal(vx_parse_iface_spec(":eth0", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_iface_spec("ns:", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_iface_spec("a/b:eth0", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_iface_spec("eth/0", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_iface_spec("..:eth0", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_iface_spec("a:b:c", &s, err, sizeof(err)), -EINVAL);
}

static void target_ok(const char *spec, const char *netns, int family, const char *addr)
{
	struct vx_target_spec t;
	uint8_t want[16] = { 0 };

	err[0] = '\0';
	assert_int_equal(vx_parse_target(spec, &t, err, sizeof(err)), 0);
	assert_string_equal(t.netns, netns);
	assert_int_equal(t.family, family);
	assert_int_equal(inet_pton(family, addr, want), 1);
	assert_memory_equal(t.addr, want, family == AF_INET ? 4 : 16);
}

static void target_bad(const char *spec, const char *msg)
{
	struct vx_target_spec t;

	assert_int_equal(vx_parse_target(spec, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, msg));
}

static void test_target(void **state)
{
	target_ok("172.16.0.2", "", AF_INET, "172.16.0.2");
	target_ok("fd10::2", "", AF_INET6, "fd10::2");
	target_ok("[fd10::2]", "", AF_INET6, "fd10::2");
	target_ok("vxlab-a:172.16.0.2", "vxlab-a", AF_INET, "172.16.0.2");
	target_ok("vxlab-a:[fd10::2]", "vxlab-a", AF_INET6, "fd10::2");
	target_ok("vxlab-a:fd10::2", "vxlab-a", AF_INET6, "fd10::2");
	target_bad("", "not an address");
	target_bad("host.example", "not an address");
	target_bad("vxlab-a:nope", "'nope' is not an IPv4 or IPv6 address");
	target_bad("vxlab-a:[fd10::2", "must end with ']'");
	target_bad("../x:10.0.0.1", "not a valid network namespace name");
	target_bad("[]", "must end with ']'");
	target_bad(":10.0.0.1", "not an address");
}

static void test_numbers(void **state)
{
	uint32_t vni;
	uint16_t port;
	int proto;

	assert_int_equal(vx_parse_vni("0", &vni, err, sizeof(err)), 0);
	assert_int_equal(vx_parse_vni("16777215", &vni, err, sizeof(err)), 0);
	assert_int_equal(vni, 16777215);
	assert_int_equal(vx_parse_vni("16777216", &vni, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(vx_parse_vni("-1", &vni, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_vni("10x", &vni, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_vni("", &vni, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_port("4789", &port, err, sizeof(err)), 0);
	assert_int_equal(port, 4789);
	assert_int_equal(vx_parse_port("0", &port, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_port("65536", &port, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_parse_proto("TCP", &proto, err, sizeof(err)), 0);
	assert_int_equal(proto, IPPROTO_TCP);
	assert_int_equal(vx_parse_proto("icmpv6", &proto, err, sizeof(err)), 0);
	assert_int_equal(proto, IPPROTO_ICMPV6);
	assert_int_equal(vx_parse_proto("sctp", &proto, err, sizeof(err)), -EINVAL);
}

static void test_fmt_duration(void **state)
{
	char b[32];

	assert_string_equal(vx_fmt_duration(10 * NSEC_PER_SEC, b, sizeof(b)), "10s");
	assert_string_equal(vx_fmt_duration(120 * NSEC_PER_SEC, b, sizeof(b)), "2m");
	assert_string_equal(vx_fmt_duration(250 * NSEC_PER_MSEC, b, sizeof(b)), "250ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),     cmocka_unit_test(test_iface_spec),
		cmocka_unit_test(test_target),	     cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_fmt_duration),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
