// SPDX-License-Identifier: GPL-2.0-only
/* Percentiles and the bimodality flag read from log-linear buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

static void add(struct vx_lat_hist *h, uint64_t v, uint64_t n)
{
	h->slot[vx_hist_slot(v)] += n;
	h->count += n;
	h->sum_ns += v * n;
	if (v > h->max_ns)
		h->max_ns = v;
}

/* Within the 25% a slot spans. */
static void assert_near(uint64_t got, uint64_t want)
{
	if (got < want - want / 4 || got > want + want / 4)
		fail_msg("%llu is not within 25%% of %llu", (unsigned long long)got,
			 (unsigned long long)want);
}

static void test_quantiles_uniform(void **state)
{
	struct vx_lat_hist h = {};

	(void)state;
	for (uint64_t v = 1000; v <= 100000; v += 1000)
		add(&h, v, 1);
	assert_near(vx_hist_quantile(&h, 0.5), 50000);
	assert_near(vx_hist_quantile(&h, 0.9), 90000);
	assert_near(vx_hist_quantile(&h, 0.99), 99000);
	assert_true(vx_hist_quantile(&h, 1.0) <= 100000);
	assert_true(vx_hist_quantile(&h, 0.5) <= vx_hist_quantile(&h, 0.9));
	assert_true(vx_hist_quantile(&h, 0.9) <= vx_hist_quantile(&h, 0.999));
}

static void test_quantiles_single_value(void **state)
{
	struct vx_lat_hist h = {};

	(void)state;
	add(&h, 12345, 500);
	assert_near(vx_hist_quantile(&h, 0.5), 12345);
	assert_true(vx_hist_quantile(&h, 0.999) <= 12345);
	assert_int_equal(vx_hist_quantile(&(struct vx_lat_hist){ 0 }, 0.5), 0);
}

/* p99.9 sees a rare tail that the median does not. */
static void test_tail(void **state)
{
	struct vx_lat_hist h = {};

	(void)state;
	add(&h, 5000, 9990);
	add(&h, 8000000, 10);
	assert_near(vx_hist_quantile(&h, 0.5), 5000);
	assert_near(vx_hist_quantile(&h, 0.99), 5000);
	assert_near(vx_hist_quantile(&h, 0.9995), 8000000);
	assert_false(vx_hist_bimodal(&h, NULL, NULL)); /* 0.1%: a tail, not a mode */
}

static void test_bimodal(void **state)
{
	struct vx_lat_hist h = {};
	uint64_t lo = 0, hi = 0;

	(void)state;
	for (uint64_t v = 8000; v < 12000; v += 100)
		add(&h, v, 10);
	assert_false(vx_hist_bimodal(&h, NULL, NULL));
	for (uint64_t v = 1000000; v < 1500000; v += 10000)
		add(&h, v, 6);
	assert_true(vx_hist_bimodal(&h, &lo, &hi));
	assert_true(lo <= 12000 && lo * 2 > 4000);
	assert_true(hi <= 1500000 && hi * 2 > 1000000);
}

/* One broad hump spread over several octaves has no trough. */
static void test_broad_not_bimodal(void **state)
{
	struct vx_lat_hist h = {};

	(void)state;
	for (uint64_t v = 1000; v < 1000000; v = v * 11 / 10)
		add(&h, v, 100);
	assert_false(vx_hist_bimodal(&h, NULL, NULL));
	/* Too few samples to say. */
	memset(&h, 0, sizeof(h));
	add(&h, 1000, 5);
	add(&h, 1000000, 5);
	assert_false(vx_hist_bimodal(&h, NULL, NULL));
}

static void test_merge_and_format(void **state)
{
	struct vx_lat_hist a = {}, b = {};
	char buf[32];

	(void)state;
	add(&a, 100, 2);
	add(&b, 900, 3);
	vx_hist_merge(&a, &b);
	assert_int_equal(a.count, 5);
	assert_int_equal(a.max_ns, 900);
	assert_int_equal(a.sum_ns, 200 + 2700);
	vx_fmt_ns(850, buf, sizeof(buf));
	assert_string_equal(buf, "850ns");
	vx_fmt_ns(12345, buf, sizeof(buf));
	assert_string_equal(buf, "12.3us");
	vx_fmt_ns(4100000, buf, sizeof(buf));
	assert_string_equal(buf, "4.10ms");
}

/* Found by tests/fuzz/fuzz_lathist.c: the top slot's upper bound is
 * UINT64_MAX, and lo + (hi - lo) wrapped to 0; slots past the top one
 * (never written by the kernel) had bounds that wrapped too. */
static void test_top_slot(void **state)
{
	struct vx_lat_hist h = {}, sum;

	(void)state;
	h.slot[VX_HIST_TOP] = 3;
	assert_true(vx_hist_quantile(&h, 1.0) >= vx_hist_lower(VX_HIST_TOP));
	assert_true(vx_hist_quantile(&h, 0.5) >= vx_hist_lower(VX_HIST_TOP));
	h.max_ns = vx_hist_lower(VX_HIST_TOP) + 5;
	assert_int_equal(vx_hist_quantile(&h, 1.0), h.max_ns);
	memset(&h, 0, sizeof(h));
	h.slot[VX_HIST_SLOTS - 1] = 1;
	h.slot[10] = 1;
	vx_hist_sum(&sum, &h, 1);
	assert_int_equal(sum.slot[VX_HIST_TOP], 1);
	assert_int_equal(sum.slot[VX_HIST_SLOTS - 1], 0);
	assert_true(vx_hist_quantile(&sum, 1.0) >= vx_hist_lower(VX_HIST_TOP));
}

/* Totals past 2^64 (the fuzzer's, not a real kernel's) keep percentiles
 * in order. */
static void test_huge_counts_in_order(void **state)
{
	struct vx_lat_hist h = {};
	uint64_t prev = 0;

	(void)state;
	h.slot[40] = UINT64_MAX;
	h.slot[60] = UINT64_MAX;
	h.slot[80] = 2;
	for (double q = 0; q <= 1.0; q += 0.125) {
		uint64_t v = vx_hist_quantile(&h, q);

		assert_true(v >= prev);
		prev = v;
	}
	assert_true(prev >= vx_hist_lower(60));
}

/* The agent's buckets: every slot in one bucket, exact at slot bounds. */
static void test_buckets(void **state)
{
	const uint64_t bounds[2] = { 1024, 4096 };
	struct vx_lat_hist h = {};
	uint64_t c[3];

	(void)state;
	add(&h, 1000, 2); /* at or below 1024 */
	add(&h, 1024, 1); /* slot [1024, 1280): above the first bound */
	add(&h, 4000, 4);
	add(&h, 1 << 20, 5);
	h.slot[VX_HIST_SLOTS - 1] = 1; /* past the top: +Inf */
	vx_hist_buckets(&h, bounds, 2, c);
	assert_int_equal(c[0], 2);
	assert_int_equal(c[1], 5);
	assert_int_equal(c[2], 6);
	assert_string_equal(vx_lat_stage_name(VX_ST_RCV), "rcv");
	assert_null(vx_lat_stage_name(VX_ST__MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantiles_uniform),
		cmocka_unit_test(test_quantiles_single_value),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_broad_not_bimodal),
		cmocka_unit_test(test_merge_and_format),
		cmocka_unit_test(test_top_slot),
		cmocka_unit_test(test_huge_counts_in_order),
		cmocka_unit_test(test_buckets),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
