// SPDX-License-Identifier: GPL-2.0-only
/* trace's merge (timeline.c): events handed over in timestamp order once
 * older than the window, late arrivals marked and counted, the packet
 * copies handed over with their events and freed after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timeline.h"

#define MS 1000000ull

static uint64_t got[16];
static bool got_late[16];
static int n_got;

static void emit(void *ctx, const struct vx_tev *e, bool late)
{
	(void)ctx;
	assert_true(n_got < 16);
	got[n_got] = e->ts;
	got_late[n_got++] = late;
}

static void push_ts(struct vx_timeline *tl, uint64_t ts)
{
	struct vx_tev e = { .type = VX_TEV_CT, .ts = ts };

	assert_int_equal(vx_timeline_push(tl, &e), 0);
}

static void test_order_and_window(void **state)
{
	struct vx_timeline tl;

	(void)state;
	n_got = 0;
	vx_timeline_init(&tl, 200 * MS);
	/* Nothing yet: a flush is still counted (the rule reads key on it). */
	assert_int_equal(vx_timeline_flush(&tl, 1000 * MS, false, emit, NULL), 0);
	assert_int_equal(tl.flushes, 1);
	push_ts(&tl, 700 * MS);
	push_ts(&tl, 500 * MS);
	push_ts(&tl, 900 * MS);
	push_ts(&tl, 600 * MS);
	/* Horizon 800 ms: the three older ones, in order; 900 waits. */
	assert_int_equal(vx_timeline_flush(&tl, 1000 * MS, false, emit, NULL), 3);
	assert_int_equal(n_got, 3);
	assert_int_equal(got[0], 500 * MS);
	assert_int_equal(got[1], 600 * MS);
	assert_int_equal(got[2], 700 * MS);
	assert_false(got_late[0] || got_late[1] || got_late[2]);
	assert_int_equal(tl.n_pend, 1);
	/* An event older than what was printed still comes out, marked. */
	push_ts(&tl, 650 * MS);
	assert_int_equal(vx_timeline_flush(&tl, 1200 * MS, false, emit, NULL), 2);
	assert_int_equal(got[3], 650 * MS);
	assert_true(got_late[3]);
	assert_int_equal(got[4], 900 * MS);
	assert_false(got_late[4]);
	assert_int_equal(tl.late, 1);
	assert_int_equal(tl.printed, 5);
	assert_int_equal(tl.flushes, 3);
	assert_int_equal(tl.n_pend, 0);
	vx_timeline_free(&tl);
}

static void test_flush_all(void **state)
{
	struct vx_timeline tl;

	(void)state;
	n_got = 0;
	vx_timeline_init(&tl, 200 * MS);
	push_ts(&tl, 990 * MS);
	push_ts(&tl, 980 * MS);
	assert_int_equal(vx_timeline_flush(&tl, 1000 * MS, false, emit, NULL), 0);
	assert_int_equal(vx_timeline_flush(&tl, 1000 * MS, true, emit, NULL), 2);
	assert_int_equal(got[0], 980 * MS);
	assert_int_equal(got[1], 990 * MS);
	assert_int_equal(tl.late, 0);
	vx_timeline_free(&tl);
}

static void count_in_order(void *ctx, const struct vx_tev *e, bool late)
{
	uint64_t *last = ctx;

	assert_false(late);
	assert_true(e->ts > *last);
	*last = e->ts;
}

/* Past the first allocation: nothing is lost when the buffer grows. */
static void test_grows(void **state)
{
	uint64_t last = 0;
	struct vx_timeline tl;
	size_t n;

	(void)state;
	vx_timeline_init(&tl, 200 * MS);
	for (uint64_t i = 0; i < 3000; i++)
		push_ts(&tl, (3000 - i) * MS);
	assert_int_equal(tl.n_pend, 3000);
	n = vx_timeline_flush(&tl, 3200 * MS - 5 * MS, false, count_in_order, &last);
	/* Horizon 2995 ms: 1..2995 out, 2996..3000 left. */
	assert_int_equal(n, 2995);
	assert_int_equal(last, 2995 * MS);
	assert_int_equal(tl.n_pend, 5);
	assert_int_equal(tl.pend[0].ts, 2996 * MS);
	vx_timeline_free(&tl);
	assert_null(tl.pend);
	assert_int_equal(tl.n_pend, 0);
}

static void check_cap(void *ctx, const struct vx_tev *e, bool late)
{
	(void)late;
	assert_non_null(e->cap);
	assert_int_equal(e->cap->caplen, 4);
	assert_memory_equal((const uint8_t *)(e->cap + 1), "abcd", 4);
	(*(int *)ctx)++;
}

/* The packet's bytes travel with a copy: the ring's record may be gone. */
static void test_cap_copy(void **state)
{
	struct {
		struct vx_cap c;
		char data[4];
	} src = { .c = { .caplen = 4, .orig_len = 60 } };
	struct vx_timeline tl;
	struct vx_tev e = { .type = VX_TEV_DP, .ts = 1 };
	int seen = 0;

	(void)state;
	assert_null(vx_timeline_cap_copy(NULL));
	memcpy(src.data, "abcd", 4);
	vx_timeline_init(&tl, 200 * MS);
	e.cap = vx_timeline_cap_copy(&src.c);
	memset(src.data, 0, 4);
	vx_timeline_push_or_warn(&tl, &e, "test event");
	assert_int_equal(vx_timeline_flush(&tl, 1000 * MS, false, check_cap, &seen), 1);
	assert_int_equal(seen, 1);
	/* One more waiting at the end is freed with the timeline. */
	e.cap = vx_timeline_cap_copy(&src.c);
	vx_timeline_push_or_warn(&tl, &e, "test event");
	vx_timeline_free(&tl);
}

static void test_lost(void **state)
{
	uint64_t seen = 0;

	(void)state;
	vx_timeline_say_lost(0, &seen, "test events");
	assert_int_equal(seen, 0);
	vx_timeline_say_lost(7, &seen, "test events");
	assert_int_equal(seen, 7);
	vx_timeline_say_lost(7, &seen, "test events");
	assert_int_equal(seen, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_window),
		cmocka_unit_test(test_flush_all),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_cap_copy),
		cmocka_unit_test(test_lost),
	};

	return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
