// SPDX-License-Identifier: GPL-2.0-only
/* The vocabulary (loader/common/names.c): one name per thing. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "names.h"
#include "netns.h"
#include "vxray.h"

static void test_protocols_and_ethertypes(void **state)
{
	char b[16];

	assert_string_equal(vx_proto_name(IPPROTO_TCP, b, sizeof(b)), "tcp");
	assert_string_equal(vx_proto_name(IPPROTO_ICMPV6, b, sizeof(b)), "icmpv6");
	assert_string_equal(vx_proto_name(47, b, sizeof(b)), "gre");
	assert_string_equal(vx_proto_name(253, b, sizeof(b)), "proto253");
	assert_string_equal(vx_ethertype_name(0x0806), "arp");
	assert_string_equal(vx_ethertype_name(0x88cc), "non-ip");
}

static void test_addresses(void **state)
{
	uint8_t v4[16] = { 10, 0, 200, 1 }, v6[16] = { 0xfd, [15] = 1 };
	char b[64];

	assert_string_equal(vx_addr_str(4, v4, b, sizeof(b)), "10.0.200.1");
	assert_string_equal(vx_addr_str(6, v6, b, sizeof(b)), "fd00::1");
	assert_string_equal(vx_addr_str(0, v4, b, sizeof(b)), "-");
}

/* A VNI the datapath could not read is "?" in text and null in JSON,
 * never a number (0 would read as a VNI). */
static void test_vni(void **state)
{
	char b[16], out[256] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct jw w;

	assert_string_equal(vx_vni_str(100, b, sizeof(b)), "100");
	assert_string_equal(vx_vni_str(0, b, sizeof(b)), "0");
	assert_string_equal(vx_vni_str(VX_VNI_UNKNOWN, b, sizeof(b)), "?");
	assert_non_null(f);
	jw_init(&w, f);
	jw_obj_open(&w, NULL);
	vx_vni_json(&w, "a", 0xffffff);
	vx_vni_json(&w, "b", VX_VNI_UNKNOWN);
	jw_obj_close(&w);
	jw_end_line(&w);
	fclose(f);
	assert_string_equal(out, "{\"a\":16777215,\"b\":null}\n");
}

static void test_five_tuple(void **state)
{
	uint8_t s[16] = { 10, 0, 0, 1 }, d[16] = { 10, 0, 0, 2 };
	struct vxd_ip ip;
	char b[160];

	vx_ip_set(&ip, 4, s, d, IPPROTO_UDP, 5000, 4789);
	vx_ip_fmt(&ip, b, sizeof(b));
	assert_string_equal(b, "udp 10.0.0.1:5000→10.0.0.2:4789");
	vx_ip_set(&ip, 4, s, d, IPPROTO_ICMP, 8, 0);
	vx_ip_fmt(&ip, b, sizeof(b));
	assert_string_equal(b, "10.0.0.1→10.0.0.2 icmp type 8 code 0");
}

static void test_hooks(void **state)
{
	assert_string_equal(vx_at_what(VX_AT_TC_VX_OUT), "ENCAP");
	assert_string_equal(vx_at_path(VX_AT_TC_UL_IN), "tc/underlay-in");
	assert_string_equal(vx_at_short(VX_AT_XDP_UL_IN), "xdp-in");
	assert_string_equal(vx_at_capture(VX_AT_TC_UL_OUT), "tc-egress");
	assert_true(vx_at_leaving(VX_AT_TC_UL_OUT));
	assert_false(vx_at_leaving(VX_AT_TC_VX_IN));
	assert_string_equal(vx_at_what(99), "?");
	/* The encap line's word: an outer packet on the underlay's ingress is
	 * received, not decapsulated; DECAP is the VXLAN device's ingress. */
	assert_string_equal(vx_at_kind(VX_AT_TC_UL_IN), "RX");
	assert_string_equal(vx_at_kind(VX_AT_XDP_UL_IN), "RX");
	assert_string_equal(vx_at_kind(VX_AT_TC_VX_IN), "DECAP");
	assert_string_equal(vx_at_kind(VX_AT_TC_VX_OUT), "ENCAP");
	assert_string_equal(vx_at_kind(VX_AT_TC_UL_OUT), "ENCAP");
	assert_string_equal(vx_at_kind(99), "?");
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(1, 2)), "INPUT");
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(0, 5)), "INGRESS");
	assert_string_equal(vx_nf_hook_name((enum vx_nf_hook)42), "?");
}

static void test_namespace_labels(void **state)
{
	const char *a, *b;

	/* The node's own namespace is "host" wherever it is asked for. */
	assert_string_equal(vx_ns_label(vx_ns_host_inum()), "host");
	if (vx_netns_inum(NULL) == vx_ns_host_inum())
		assert_string_equal(vx_ns_label_of(""), "host");
	/* An inode no namespace has: by number, and the same pointer each
	 * time (labels live as long as the process). */
	a = vx_ns_label(1);
	b = vx_ns_label(1);
	assert_string_equal(a, "netns:1");
	assert_ptr_equal(a, b);
	assert_string_equal(vx_ns_label_of("blue"), "blue");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocols_and_ethertypes),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_five_tuple),
		cmocka_unit_test(test_vni),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_namespace_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
