// SPDX-License-Identifier: GPL-2.0-only
/* The lab's fault injector for scenario 9 (bpf/tc/vx_lab_csum.bpf.c), run
 * through BPF_PROG_TEST_RUN: an IPv4 VXLAN frame leaves with a non-zero
 * outer UDP checksum that a receiver's check rejects (the pseudo-header
 * sum a broken offload leaves); every other frame leaves untouched; the
 * verdict is always TC_ACT_UNSPEC. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "vx_lab_csum.skel.h"

#define TC_UNSPEC 0xffffffffu
#define ETH_LEN 14
#define IP_LEN 20

struct frame {
	unsigned char b[256];
	size_t n;
};

/* Ethernet + IPv4 (@frag_off) + UDP to @dport with checksum 0 + 8 bytes of
 * VXLAN + a 20-byte inner payload. */
static void build(struct frame *f, uint16_t dport, uint16_t frag_off)
{
	static const unsigned char eth[ETH_LEN] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
	uint16_t udp_len = 8 + 8 + 20;
	unsigned char *ip = f->b + ETH_LEN, *udp = ip + IP_LEN;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, eth, ETH_LEN);
	ip[0] = 0x45;
	ip[2] = (unsigned char)((IP_LEN + udp_len) >> 8);
	ip[3] = (unsigned char)(IP_LEN + udp_len);
	ip[6] = (unsigned char)(frag_off >> 8);
	ip[7] = (unsigned char)frag_off;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "10.0.1.1", ip + 12);
	inet_pton(AF_INET, "10.0.2.2", ip + 16);
	udp[0] = 0xc0;
	udp[1] = 0x01;
	udp[2] = (unsigned char)(dport >> 8);
	udp[3] = (unsigned char)dport;
	udp[4] = (unsigned char)(udp_len >> 8);
	udp[5] = (unsigned char)udp_len;
	udp[8] = 0x08; /* VXLAN I flag, VNI 100 */
	udp[14] = 100;
	for (int i = 0; i < 20; i++)
		udp[16 + i] = (unsigned char)(0x40 + i);
	f->n = ETH_LEN + IP_LEN + udp_len;
}

/* The receiver's check (RFC 768): the one's complement sum of the
 * pseudo-header and the datagram, checksum field included, is 0xffff. */
static uint16_t udp_verify_sum(const unsigned char *frame)
{
	const unsigned char *ip = frame + ETH_LEN, *udp = ip + IP_LEN;
	uint16_t len = (uint16_t)(udp[4] << 8 | udp[5]);
	uint32_t s = 0;

	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	s += 17 + len;
	for (int i = 0; i < len; i += 2)
		s += (uint32_t)(udp[i] << 8 | (i + 1 < len ? udp[i + 1] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t run(struct vx_lab_csum *skel, const struct frame *in, struct frame *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = (uint32_t)in->n,
		    .data_out = out->b, .data_size_out = sizeof(out->b));

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.vx_lab_csum), &o))
		fail_msg("test run on %zu bytes: %s", in->n, strerror(errno));
	out->n = o.data_size_out;
	return o.retval;
}

static int setup(void **state)
{
	if (geteuid())
		return 0;
	*state = vx_lab_csum__open_and_load();
	if (!*state)
		fail_msg("cannot load vx_lab_csum: %s", strerror(errno));
	return 0;
}

static int teardown(void **state)
{
	vx_lab_csum__destroy(*state);
	return 0;
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (!*state)                                                                       \
			skip();                                                                    \
	} while (0)

static void test_vxlan_checksum_broken(void **state)
{
	static const uint16_t ports[] = { 4789, 8472 };
	struct frame in, out;

	NEED_ROOT();
	for (size_t i = 0; i < sizeof(ports) / sizeof(*ports); i++) {
		const unsigned char *udp = out.b + ETH_LEN + IP_LEN;
		uint16_t check;

		build(&in, ports[i], 0x4000 /* DF */);
		assert_int_equal(run(*state, &in, &out), TC_UNSPEC);
		assert_int_equal(out.n, in.n);
		check = (uint16_t)(udp[6] << 8 | udp[7]);
		assert_int_not_equal(check, 0);
		/* The receiver's check fails... */
		assert_int_not_equal(udp_verify_sum(out.b), 0xffff);
		/* ... where the right checksum would pass it. */
		{
			struct frame good = out;
			uint16_t c;

			good.b[ETH_LEN + IP_LEN + 6] = good.b[ETH_LEN + IP_LEN + 7] = 0;
			c = (uint16_t)~udp_verify_sum(good.b);
			good.b[ETH_LEN + IP_LEN + 6] = (unsigned char)(c >> 8);
			good.b[ETH_LEN + IP_LEN + 7] = (unsigned char)c;
			assert_int_equal(udp_verify_sum(good.b), 0xffff);
			assert_int_not_equal(c, check);
		}
		/* Nothing else changed. */
		assert_memory_equal(out.b, in.b, ETH_LEN + IP_LEN + 6);
		assert_memory_equal(out.b + ETH_LEN + IP_LEN + 8, in.b + ETH_LEN + IP_LEN + 8,
				    in.n - ETH_LEN - IP_LEN - 8);
	}
}

static void test_other_frames_untouched(void **state)
{
	struct frame in, out;

	NEED_ROOT();
	/* UDP to another port. */
	build(&in, 53, 0);
	assert_int_equal(run(*state, &in, &out), TC_UNSPEC);
	assert_memory_equal(out.b, in.b, in.n);
	/* A fragment of a VXLAN packet: its UDP header is in the first one. */
	build(&in, 4789, 0x2000 /* MF */);
	assert_int_equal(run(*state, &in, &out), TC_UNSPEC);
	assert_memory_equal(out.b, in.b, in.n);
	/* Not IPv4. */
	build(&in, 4789, 0);
	in.b[12] = 0x86;
	in.b[13] = 0xdd;
	assert_int_equal(run(*state, &in, &out), TC_UNSPEC);
	assert_memory_equal(out.b, in.b, in.n);
	/* Cut inside the UDP header. */
	build(&in, 4789, 0);
	in.n = ETH_LEN + IP_LEN + 6;
	assert_int_equal(run(*state, &in, &out), TC_UNSPEC);
	assert_memory_equal(out.b, in.b, in.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vxlan_checksum_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_frames_untouched, setup, teardown),
	};

	return cmocka_run_group_tests_name("labcsum", tests, NULL, NULL);
}
