// SPDX-License-Identifier: GPL-2.0-only
/* Tunnel totals per namespace incarnation (loader/engines/dp_incarn.c): a
 * namespace that ends, and a new one given its inode, never share counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_incarn.h"

static struct vx_tun_key key(uint32_t netns, uint32_t ifindex, uint32_t vni)
{
	struct vx_tun_key k;

	memset(&k, 0, sizeof(k));
	k.netns = netns;
	k.ifindex = ifindex;
	k.vni = vni;
	k.at = 1;
	k.family = 4;
	k.remote[0] = 10;
	return k;
}

static struct vx_tun_val val(uint64_t p, uint64_t b)
{
	struct vx_tun_val v = { .packets = p, .bytes = b };

	return v;
}

/* Without any namespace ended, totals pass as they are. */
static void test_nothing_ended(void **state)
{
	struct vx_incarn c = {};
	struct vx_tun_key k = key(7, 2, 100);
	struct vx_tun_val v = val(5, 500);

	assert_true(vx_incarn_current(&c, &k, &v));
	assert_int_equal(v.packets, 5);
	assert_int_equal(v.bytes, 500);
}

/* A namespace ends with 3 packets on a key; the new one with its inode
 * counts 2 more on the same key: readers see 2, and the ended one's 3 once
 * as a retired row. */
static void test_reused_inode(void **state)
{
	struct vx_incarn c = {};
	struct vx_tun_key k = key(7, 2, 200), other = key(8, 2, 200);
	struct vx_tun_val v;
	struct vx_dp_retired r[4];
	const char *label = "vxlab-c";

	assert_int_equal(vx_incarn_end(&c, &k, &(struct vx_tun_val){ 3, 294 }, label, true), 0);
	v = val(3, 294);
	assert_false(vx_incarn_current(&c, &k, &v)); /* only the ended one's */
	v = val(5, 490);
	assert_true(vx_incarn_current(&c, &k, &v));
	assert_int_equal(v.packets, 2);
	assert_int_equal(v.bytes, 196);
	v = val(4, 40); /* another namespace: untouched */
	assert_true(vx_incarn_current(&c, &other, &v));
	assert_int_equal(v.packets, 4);
	assert_int_equal(vx_incarn_take(&c, r, 4), 1);
	assert_ptr_equal(r[0].netns, label);
	assert_int_equal(r[0].v.packets, 3);
	assert_int_equal(r[0].k.vni, 200);
	assert_int_equal(vx_incarn_take(&c, r, 4), 0);
	/* The second incarnation ends too: its own 2 are retired, and a
	 * third starts from zero. */
	assert_int_equal(vx_incarn_end(&c, &k, &(struct vx_tun_val){ 5, 490 }, "second", true), 0);
	assert_int_equal(vx_incarn_take(&c, r, 4), 1);
	assert_int_equal(r[0].v.packets, 2);
	assert_string_equal(r[0].netns, "second");
	v = val(6, 588);
	assert_true(vx_incarn_current(&c, &k, &v));
	assert_int_equal(v.packets, 1);
	vx_incarn_free(&c);
}

/* An LRU entry evicted and made again restarts below its baseline: all of
 * it is the current incarnation's. */
static void test_evicted(void **state)
{
	struct vx_incarn c = {};
	struct vx_tun_key k = key(7, 3, 100);
	struct vx_tun_val v = val(2, 200);

	assert_int_equal(vx_incarn_end(&c, &k, &(struct vx_tun_val){ 10, 1000 }, "x", false), 0);
	assert_true(vx_incarn_current(&c, &k, &v));
	assert_int_equal(v.packets, 2);
	assert_int_equal(c.n_ret, 0); /* not kept: nobody asked */
	vx_incarn_free(&c);
}

/* Many keys, ended in any order: each finds its own baseline. */
static void test_many_keys(void **state)
{
	struct vx_incarn c = {};
	struct vx_dp_retired r[64];
	int n = 0, got;

	for (uint32_t i = 0; i < 200; i++) {
		struct vx_tun_key k = key(7, (i * 37) % 200 + 1, 100);

		assert_int_equal(vx_incarn_end(&c, &k, &(struct vx_tun_val){ i + 1, 0 }, "y", true),
				 0);
	}
	for (uint32_t i = 0; i < 200; i++) {
		struct vx_tun_key k = key(7, (i * 37) % 200 + 1, 100);
		struct vx_tun_val v = val(i + 1 + 5, 0);

		assert_true(vx_incarn_current(&c, &k, &v));
		assert_int_equal(v.packets, 5);
	}
	while ((got = vx_incarn_take(&c, r, 64)) > 0)
		n += got;
	assert_int_equal(n, 200);
	vx_incarn_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_ended),
		cmocka_unit_test(test_reused_inode),
		cmocka_unit_test(test_evicted),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests_name("incarn", tests, NULL, NULL);
}
