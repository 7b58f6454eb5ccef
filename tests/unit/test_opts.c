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

#include "netns.h"
#include "opts.h"
#include "vxray.h"

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

/* --sample: auto, or a power of two from 1 to 2^VX_SAMPLE_SHIFT_MAX, and
 * back to the label the metrics carry. */
static void test_sample(void **state)
{
	static const char *const bad[] = { "0", "3", "65537", "131072", "-4", "", "x", "1/4" };
	char err[256], buf[16];
	uint8_t s = 0xff;

	(void)state;
	assert_int_equal(vx_parse_sample("auto", &s, err, sizeof(err)), 0);
	assert_int_equal(s, VX_SAMPLE_DEFAULT);
	assert_string_equal(vx_sample_str(s, buf, sizeof(buf)), "auto");
	assert_int_equal(vx_parse_sample("1", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 0);
	assert_string_equal(vx_sample_str(s, buf, sizeof(buf)), "1");
	assert_int_equal(vx_parse_sample("64", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 6);
	assert_string_equal(vx_sample_str(s, buf, sizeof(buf)), "1/64");
	assert_int_equal(vx_parse_sample("65536", &s, err, sizeof(err)), 0);
	assert_int_equal(s, VX_SAMPLE_SHIFT_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vx_parse_sample(bad[i], &s, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is not a sampling"));
	}
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

static void netns_ok(const char *s, const char *want)
{
	char out[VX_NETNS_NAME_MAX];

	err[0] = '\0';
	assert_int_equal(vx_parse_netns(s, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, want);
}

static void netns_bad(const char *s, const char *msg)
{
	char out[VX_NETNS_NAME_MAX];

	assert_int_equal(vx_parse_netns(s, out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, msg));
}

/* --netns: a name, a path, or pid:PID; named paths become names. */
static void test_netns_spec(void **state)
{
	char path[64];

	netns_ok("vxlab-a", "vxlab-a");
	netns_ok("cni-1234-abcd", "cni-1234-abcd");
	netns_ok("/run/netns/vxlab-a", "vxlab-a");
	netns_ok("/var/run/netns/cni-9", "cni-9");
	netns_ok("/proc/1234/ns/net", "/proc/1234/ns/net");
	netns_ok("/var/run/docker/netns/0123456789ab", "/var/run/docker/netns/0123456789ab");
	netns_ok("/run/netns/a/b", "/run/netns/a/b"); /* not a name: a path */
	netns_ok("pid:1234", "pid:1234");
	netns_bad("pid:", "pid: takes the id of a running process");
	netns_bad("pid:0", "pid: takes the id");
	netns_bad("pid:12x", "pid: takes the id");
	netns_bad("pid:99999999999", "pid: takes the id");
	netns_bad("a/b", "neither a name (no '/') nor an absolute path");
	netns_bad("..", "not a valid network namespace name");
	netns_bad("", "not a valid network namespace name");
	netns_bad("/var/run/docker/netns/0123456789abcdef0123456789abcdef0123456789abcdef",
		  "too long (at most 63 characters)");
	assert_int_equal(vx_netns_spec_pid("pid:42"), 42);
	assert_int_equal(vx_netns_spec_pid("vxlab-a"), 0);
	assert_true(vx_netns_is_name("vxlab-a"));
	assert_true(vx_netns_is_name(""));
	assert_false(vx_netns_is_name("pid:42"));
	assert_false(vx_netns_is_name("/proc/42/ns/net"));
	assert_int_equal(vx_netns_path("pid:42", path, sizeof(path)), 0);
	assert_string_equal(path, "/proc/42/ns/net");
	assert_int_equal(vx_netns_path("vxlab-a", path, sizeof(path)), 0);
	assert_string_equal(path, "/run/netns/vxlab-a");
	assert_int_equal(vx_netns_path("/x/y", path, sizeof(path)), 0);
	assert_string_equal(path, "/x/y");
}

/* -i NETNS:IFACE with every form of NETNS. */
static void test_iface_spec_netns(void **state)
{
	struct vx_iface_spec s;

	assert_int_equal(vx_parse_iface_spec("pid:1234:eth0", &s, err, sizeof(err)), 0);
	assert_string_equal(s.netns, "pid:1234");
	assert_string_equal(s.name, "eth0");
	assert_int_equal(vx_parse_iface_spec("/proc/1234/ns/net:vxlan0", &s, err, sizeof(err)), 0);
	assert_string_equal(s.netns, "/proc/1234/ns/net");
	assert_string_equal(s.name, "vxlan0");
	assert_int_equal(vx_parse_iface_spec("/run/netns/vxlab-a:und0", &s, err, sizeof(err)), 0);
	assert_string_equal(s.netns, "vxlab-a");
	assert_int_equal(vx_parse_iface_spec("pid:x:eth0", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pid: takes the id"));
	assert_int_equal(vx_parse_iface_spec("pid:12", &s, err, sizeof(err)), -EINVAL);
}

/* What --all-netns reads: /proc/PID/ns/net links and mountinfo lines. */
static void test_netns_scan_parsers(void **state)
{
	char path[64];
	uint32_t inum = 0;

	assert_int_equal(vx_nslink_inum("net:[4026531840]", &inum), 0);
	assert_int_equal(inum, 4026531840u);
	assert_int_equal(vx_nslink_inum("mnt:[4026531840]", &inum), -EINVAL);
	assert_int_equal(vx_nslink_inum("net:[4026531840", &inum), -EINVAL);
	assert_int_equal(vx_nslink_inum("net:[]", &inum), -EINVAL);
	assert_int_equal(vx_nslink_inum("net:[99999999999]", &inum), -EINVAL);
	assert_int_equal(
		vx_mountinfo_netns(
			"45 44 0:4 net:[4026532173] /run/netns/vxlab-a rw shared:2 - nsfs nsfs rw\n",
			&inum, path, sizeof(path)),
		1);
	assert_int_equal(inum, 4026532173u);
	assert_string_equal(path, "/run/netns/vxlab-a");
	/* No optional fields, an escaped space in the mount point. */
	assert_int_equal(
		vx_mountinfo_netns("7 1 0:4 net:[4026532300] /var/run/docker/netns/a\\040b rw - "
				   "nsfs nsfs rw",
				   &inum, path, sizeof(path)),
		1);
	assert_string_equal(path, "/var/run/docker/netns/a b");
	assert_int_equal(inum, 4026532300u);
	/* Not a network namespace, not nsfs, cut short, too long a path. */
	assert_int_equal(vx_mountinfo_netns("8 1 0:4 mnt:[4026531841] /x rw - nsfs nsfs rw", &inum,
					    path, sizeof(path)),
			 0);
	assert_int_equal(vx_mountinfo_netns("9 1 0:22 / /run rw shared:5 - tmpfs tmpfs rw", &inum,
					    path, sizeof(path)),
			 0);
	assert_int_equal(vx_mountinfo_netns("9 1 0:22", &inum, path, sizeof(path)), 0);
	assert_int_equal(vx_mountinfo_netns("7 1 0:4 net:[4026532300] /a/very/long/path rw - nsfs "
					    "nsfs rw",
					    &inum, path, 8),
			 0);
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
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_iface_spec),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_netns_spec),
		cmocka_unit_test(test_iface_spec_netns),
		cmocka_unit_test(test_netns_scan_parsers),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
