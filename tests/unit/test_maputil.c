// SPDX-License-Identifier: GPL-2.0-only
/* The aggregate row slot: found by key, appended zeroed, and the per-CPU
 * sum of a map that cannot be read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "maputil.h"

struct row {
	struct {
		uint32_t netns;
		uint16_t reason;
		uint16_t pad;
	} key;
	uint64_t seen;
};

static int slot(struct row **rows, int *n, uint32_t netns, uint16_t reason)
{
	struct row k = { .key = { .netns = netns, .reason = reason } };
	void *p = *rows;
	int i = vx_row_slot(&p, n, sizeof(**rows), &k.key, sizeof(k.key));

	*rows = p;
	return i;
}

static void test_found_and_appended(void **state)
{
	struct row *rows = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(slot(&rows, &n, 1, 2), 0);
	assert_int_equal(n, 1);
	rows[0].seen = 7;
	assert_int_equal(slot(&rows, &n, 1, 3), 1);
	assert_int_equal(slot(&rows, &n, 2, 2), 2);
	assert_int_equal(n, 3);
	/* An existing key is found again, its row untouched. */
	assert_int_equal(slot(&rows, &n, 1, 2), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].seen, 7);
	/* A new row comes zeroed, with its key. */
	assert_int_equal(rows[2].seen, 0);
	assert_int_equal(rows[2].key.netns, 2);
	assert_int_equal(rows[2].key.reason, 2);
	free(rows);
}

static void test_many_rows(void **state)
{
	struct row *rows = NULL;
	int n = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(slot(&rows, &n, i, 0), (int)i);
	for (uint32_t i = 0; i < 1000; i += 97)
		assert_int_equal(slot(&rows, &n, i, 0), (int)i);
	assert_int_equal(n, 1000);
	free(rows);
}

static void test_unreadable_map(void **state)
{
	(void)state;
	assert_int_equal(vx_percpu_sum(-1, 0), 0);
	assert_int_equal(vx_percpu_sum(1 << 20, 0), 0); /* no such descriptor */
}

/* The datapath's counters: unreadable reads as no counts, never as stale
 * ones, and says why. */
static void test_unreadable_counters(void **state)
{
	uint64_t out[4] = { 1, 2, 3, 4 };
	int ncpu = -1;

	(void)state;
	errno = 0;
	assert_null(vx_cnt_read(1 << 20, &ncpu));
	assert_int_equal(errno, EBADF);
	assert_true(ncpu > 0);
	vx_cnt_sum(1 << 20, out, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_and_appended),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_unreadable_map),
		cmocka_unit_test(test_unreadable_counters),
	};

	return cmocka_run_group_tests_name("maputil", tests, NULL, NULL);
}
