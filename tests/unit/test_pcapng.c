// SPDX-License-Identifier: GPL-2.0-only
/* The pcapng writer: each block written to a real file and compared byte
 * for byte with the layout the pcapng draft gives (host byte order, as the
 * byte-order magic declares); untrusted lengths clamp instead of reading
 * past the caller's buffer; errors are errnos, never crashes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcapng.h"

/* ---- expected bytes, built by hand ----------------------------------------- */

struct bytes {
	uint8_t b[1 << 17];
	size_t n;
};

static void b_put(struct bytes *x, const void *p, size_t n)
{
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

static void b_u16(struct bytes *x, uint16_t v)
{
	b_put(x, &v, 2);
}
static void b_u32(struct bytes *x, uint32_t v)
{
	b_put(x, &v, 4);
}

static void b_str_padded(struct bytes *x, const char *s, size_t n)
{
	static const uint8_t zero[4];

	b_put(x, s, n);
	b_put(x, zero, (4 - n % 4) % 4);
}

static const char APPL[] = "vxray test"; /* 10 bytes: 2 of padding */

static void expect_shb(struct bytes *x)
{
	b_u32(x, 0x0A0D0D0A);
	b_u32(x, 48); /* 24 + option 4 + 12 + end 4 + 4 */
	b_u32(x, 0x1A2B3C4D);
	b_u16(x, 1);
	b_u16(x, 0);
	b_u32(x, 0xffffffff); /* section length -1 */
	b_u32(x, 0xffffffff);
	b_u16(x, 4); /* shb_userappl */
	b_u16(x, 10);
	b_str_padded(x, APPL, 10);
	b_u32(x, 0); /* opt_endofopt */
	b_u32(x, 48);
}

static void expect_idb(struct bytes *x, const char *name, uint16_t link, uint32_t snap)
{
	size_t n = strlen(name), pn = (n + 3) & ~(size_t)3;
	uint32_t total = (uint32_t)(16 + 4 + pn + 8 + 4 + 4);

	b_u32(x, 1);
	b_u32(x, total);
	b_u16(x, link);
	b_u16(x, 0);
	b_u32(x, snap);
	b_u16(x, 2); /* if_name */
	b_u16(x, (uint16_t)n);
	b_str_padded(x, name, n);
	b_u16(x, 9); /* if_tsresol */
	b_u16(x, 1);
	b_put(x, "\x09\0\0\0", 4); /* 10^-9, 3 bytes of padding */
	b_u32(x, 0);
	b_u32(x, total);
}

static void expect_epb(struct bytes *x, uint32_t id, uint64_t ts, const void *data, uint32_t caplen,
		       uint32_t origlen, const char *comment)
{
	size_t cn = comment ? strlen(comment) : 0;
	size_t pd = (caplen + 3) & ~(size_t)3, pc = (cn + 3) & ~(size_t)3;
	uint32_t total = (uint32_t)(28 + pd + (cn ? 4 + pc + 4 : 0) + 4);

	b_u32(x, 6);
	b_u32(x, total);
	b_u32(x, id);
	b_u32(x, (uint32_t)(ts >> 32));
	b_u32(x, (uint32_t)ts);
	b_u32(x, caplen);
	b_u32(x, origlen);
	b_str_padded(x, data, caplen);
	if (cn) {
		b_u16(x, 1); /* opt_comment */
		b_u16(x, (uint16_t)cn);
		b_str_padded(x, comment, cn);
		b_u32(x, 0);
	}
	b_u32(x, total);
}

/* ---- the file under test ---------------------------------------------------- */

static char path[64];

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/vxray-pcapng-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static struct vx_pcapng *create(void)
{
	struct vx_pcapng *w;
	char err[256];

	assert_int_equal(vx_pcapng_create(&w, path, APPL, err, sizeof(err)), 0);
	return w;
}

static void assert_file_is(const struct bytes *want)
{
	static uint8_t got[1 << 17];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, want->n);
	assert_memory_equal(got, want->b, n);
}

static struct bytes want;

static void test_section_header(void **state)
{
	struct vx_pcapng *w = create();

	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	assert_file_is(&want);
}

static void test_interface_and_packet(void **state)
{
	static const char name[] = "vxlab-a/vxlan100/tc-egress"; /* 26 bytes */
	static const uint8_t frame[5] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };
	const char *comment = "ENCAP vni=100"; /* 13 bytes */
	uint64_t ts = 0x0000000100000002ull;
	struct vx_pcapng *w = create();

	assert_int_equal(vx_pcapng_iface(w, name, VX_PCAPNG_LINK_ETHERNET, 256), 0);
	assert_int_equal(vx_pcapng_packet(w, 0, ts, frame, 5, 98, comment), 0);
	assert_int_equal(vx_pcapng_packet(w, 0, ts + 1, frame, 4, 4, NULL), 0);
	assert_int_equal(vx_pcapng_packets(w), 2);
	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	expect_idb(&want, name, 1, 256);
	expect_epb(&want, 0, ts, frame, 5, 98, comment);
	expect_epb(&want, 0, ts + 1, frame, 4, 4, NULL);
	assert_file_is(&want);
}

/* One block per (name, link type): asked again, the same id and no bytes. */
static void test_interface_ids(void **state)
{
	struct vx_pcapng *w = create();

	assert_int_equal(vx_pcapng_iface(w, "a/und0/tc-ingress", VX_PCAPNG_LINK_ETHERNET, 64), 0);
	assert_int_equal(vx_pcapng_iface(w, "b/und0/tc-ingress", VX_PCAPNG_LINK_ETHERNET, 64), 1);
	assert_int_equal(vx_pcapng_iface(w, "a/und0/tc-ingress", VX_PCAPNG_LINK_ETHERNET, 64), 0);
	assert_int_equal(vx_pcapng_iface(w, "a/und0/tc-ingress", VX_PCAPNG_LINK_RAW, 64), 2);
	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	expect_idb(&want, "a/und0/tc-ingress", 1, 64);
	expect_idb(&want, "b/und0/tc-ingress", 1, 64);
	expect_idb(&want, "a/und0/tc-ingress", 101, 64);
	assert_file_is(&want);
}

/* A captured length past the snap length is cut to it before the data is
 * read (the buffer here is only the snap length long), and an original
 * length below the captured one is raised to it. */
static void test_lengths_clamped(void **state)
{
	static const uint8_t frame[16] = "0123456789abcdef";
	struct vx_pcapng *w = create();

	assert_int_equal(vx_pcapng_iface(w, "x/y/kfree_skb", VX_PCAPNG_LINK_RAW, 16), 0);
	assert_int_equal(vx_pcapng_packet(w, 0, 7, frame, UINT32_MAX, 100, "c"), 0);
	assert_int_equal(vx_pcapng_packet(w, 0, 8, frame, 12, 3, NULL), 0);
	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	expect_idb(&want, "x/y/kfree_skb", 101, 16);
	expect_epb(&want, 0, 7, frame, 16, 100, "c");
	expect_epb(&want, 0, 8, frame, 12, 12, NULL);
	assert_file_is(&want);
}

/* A snap length of 0 or past the maximum is the maximum. */
static void test_snaplen_bounds(void **state)
{
	struct vx_pcapng *w = create();

	assert_int_equal(vx_pcapng_iface(w, "zero", VX_PCAPNG_LINK_ETHERNET, 0), 0);
	assert_int_equal(vx_pcapng_iface(w, "huge", VX_PCAPNG_LINK_ETHERNET, UINT32_MAX), 1);
	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	expect_idb(&want, "zero", 1, VX_PCAPNG_MAX_SNAPLEN);
	expect_idb(&want, "huge", 1, VX_PCAPNG_MAX_SNAPLEN);
	assert_file_is(&want);
}

/* Wrong calls are errors that write nothing. */
static void test_bad_calls(void **state)
{
	struct vx_pcapng *w = create();
	char err[256];

	assert_int_equal(vx_pcapng_packet(w, 0, 1, "x", 1, 1, NULL), -EINVAL);
	assert_int_equal(vx_pcapng_iface(w, NULL, 1, 64), -EINVAL);
	assert_int_equal(vx_pcapng_iface(w, "n", 1, 64), 0);
	assert_int_equal(vx_pcapng_packet(w, 1, 1, "x", 1, 1, NULL), -EINVAL);
	assert_int_equal(vx_pcapng_packet(w, 0, 1, NULL, 1, 1, NULL), -EINVAL);
	assert_int_equal(vx_pcapng_packet(w, 0, 1, NULL, 0, 60, NULL), 0); /* header only */
	assert_int_equal(vx_pcapng_packets(w), 1);
	assert_int_equal(vx_pcapng_close(w), 0);
	want.n = 0;
	expect_shb(&want);
	expect_idb(&want, "n", 1, 64);
	expect_epb(&want, 0, 1, "", 0, 60, NULL);
	assert_file_is(&want);

	assert_int_equal(vx_pcapng_create(&w, "/nonexistent-dir/x.pcapng", APPL, err, sizeof(err)),
			 -ENOENT);
	assert_null(w);
	assert_string_equal(err,
			    "cannot write the capture file '/nonexistent-dir/x.pcapng': No "
			    "such file or directory; give --pcap a path in a directory vxray can "
			    "write to");
	assert_int_equal(vx_pcapng_open(&w, NULL, APPL), -EINVAL);
	assert_int_equal(vx_pcapng_close(NULL), 0);
}

/* Interfaces beyond the cap are refused, not grown without bound. */
static void test_interface_cap(void **state)
{
	struct vx_pcapng *w = create();
	char name[32];

	for (int i = 0; i < VX_PCAPNG_MAX_IFACES; i++) {
		snprintf(name, sizeof(name), "if%d", i);
		assert_int_equal(vx_pcapng_iface(w, name, 1, 64), i);
	}
	assert_int_equal(vx_pcapng_iface(w, "one-more", 1, 64), -ENOSPC);
	assert_int_equal(vx_pcapng_iface(w, "if7", 1, 64), 7);
	assert_int_equal(vx_pcapng_close(w), 0);
}

/* A comment longer than an option holds is cut at a UTF-8 boundary and the
 * block stays well-formed: both total lengths agree with the file. */
static void test_long_comment(void **state)
{
	size_t n = 70000;
	char *c = malloc(n + 1);
	static uint8_t got[1 << 17];
	uint32_t t1, t2, olen;
	struct vx_pcapng *w;
	FILE *f;
	size_t got_n, epb;

	assert_non_null(c);
	/* "é" is 2 bytes: VX_PCAPNG_MAX_OPT (even) falls between characters
	 * only with a leading 'x'. */
	c[0] = 'x';
	for (size_t i = 1; i + 1 < n; i += 2)
		memcpy(c + i, "\xc3\xa9", 2);
	c[n - 1] = '\0';
	w = create();
	assert_int_equal(vx_pcapng_iface(w, "n", 1, 64), 0);
	assert_int_equal(vx_pcapng_packet(w, 0, 1, "abcd", 4, 4, c), 0);
	assert_int_equal(vx_pcapng_close(w), 0);
	free(c);

	f = fopen(path, "rb");
	assert_non_null(f);
	got_n = fread(got, 1, sizeof(got), f);
	fclose(f);
	epb = 48 + 40; /* after the SHB and the IDB of "n" */
	memcpy(&t1, got + epb + 4, 4);
	memcpy(&t2, got + got_n - 4, 4);
	assert_int_equal(t1, t2);
	assert_int_equal(epb + t1, got_n);
	olen = 0;
	memcpy(&olen, got + epb + 28 + 4 + 2, 2); /* after the data: code, length */
	assert_true(olen <= VX_PCAPNG_MAX_OPT);
	assert_int_equal(olen % 2, 1); /* 'x' and whole "é"s */
	assert_int_equal(got[epb + 28 + 4 + 4 + olen - 1], 0xa9);
}

/* A full disk is an errno, kept: later calls write nothing and say so. */
static void test_write_errors(void **state)
{
	struct vx_pcapng *w;
	FILE *f = fopen("/dev/full", "wb");

	if (!f)
		skip();
	/* Buffered: the section header fits the buffer, the flush fails. */
	assert_int_equal(vx_pcapng_open(&w, f, APPL), 0);
	assert_int_equal(vx_pcapng_iface(w, "n", 1, 64), 0);
	assert_int_equal(vx_pcapng_flush(w), -ENOSPC);
	assert_int_equal(vx_pcapng_packet(w, 0, 1, "abcd", 4, 4, "c"), -ENOSPC);
	assert_int_equal(vx_pcapng_iface(w, "m", 1, 64), -ENOSPC);
	assert_int_equal(vx_pcapng_packets(w), 0);
	assert_int_equal(vx_pcapng_close(w), -ENOSPC);
	/* Unbuffered: the section header itself fails, and nothing is kept. */
	f = fopen("/dev/full", "wb");
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(vx_pcapng_open(&w, f, APPL), -ENOSPC);
	assert_null(w);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_section_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_and_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snaplen_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interface_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_comment, setup, teardown),
		cmocka_unit_test(test_write_errors),
	};

	return cmocka_run_group_tests_name("pcapng", tests, NULL, NULL);
}
