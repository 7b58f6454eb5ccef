// SPDX-License-Identifier: GPL-2.0-only
/* The agent's rolling latency baseline (loader/diagnose/basestate.c): the
 * lower quartile of the windows, windows made from the cumulative
 * histograms the agent reads each tick (several VNIs of one stage added,
 * a reloaded datapath counting from zero), the file written atomically
 * and read back by `--baseline`'s reader and by the next agent, bounded
 * history, a file that is no baseline set aside, a directory that cannot
 * be written refused with one sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "baseline.h"
#include "basestate.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vxbs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, VX_BASESTATE_FILE);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* @h gains @n samples of @us microseconds. */
static void add(struct vx_lat_hist *h, uint64_t n, uint64_t us)
{
	uint64_t ns = us * 1000;

	h->count += n;
	h->sum_ns += n * ns;
	h->slot[vx_hist_slot(ns)] += n;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static void test_quartile(void **state)
{
	double w[8][2] = { { 40, 80 },	 { 10, 20 }, { 30, 60 }, { 20, 40 },
			   { 900, 990 }, { 15, 30 }, { 25, 50 }, { 35, 70 } };
	double p50, p90;

	(void)state;
	assert_false(vx_basestate_quartile((const double(*)[2])w, 2, &p50, &p90));
	assert_true(vx_basestate_quartile((const double(*)[2])w, 4, &p50, &p90));
	assert_true(p50 == 10 && p90 == 20);
	/* A fault's windows (900 us) do not move it. */
	assert_true(vx_basestate_quartile((const double(*)[2])w, 8, &p50, &p90));
	assert_true(p50 == 15 && p90 == 30);
}

/* Window after window of a healthy wire, then read as --baseline is. */
static void test_windows_to_file(void **state)
{
	struct vx_lat_hist cum = { 0 }, vni2 = { 0 };
	struct vx_basestate *b;
	struct vx_baseline *base;
	char err[256];
	double p50 = 0, p90 = 0;
	uint64_t t = 1000;

	(void)state;
	b = vx_basestate_open(dir, 100, err, sizeof(err));
	assert_non_null(b);
	/* The first tick only starts the first window. */
	vx_basestate_see(b, "vxa", "und0", "wire", &cum);
	assert_int_equal(vx_basestate_tick(b, t), 0);
	for (int w = 0; w < 3; w++) {
		add(&cum, 50, 40);
		add(&vni2, 10, 40); /* a second VNI of the same stage */
		vx_basestate_see(b, "vxa", "und0", "wire", &cum);
		vx_basestate_see(b, "vxa", "und0", "wire", &vni2);
		assert_int_equal(vx_basestate_tick(b, t += 50), 0);
		assert_int_equal(vx_basestate_tick(b, t += 60), 0);
		assert_int_equal(access(path, F_OK), 0);
	}
	assert_int_equal(access(path, F_OK), 0);
	base = vx_baseline_load(path, err, sizeof(err));
	assert_non_null(base);
	assert_true(vx_baseline_lookup(base, "vxa", "und0", "wire", &p50, &p90));
	assert_true(p50 >= 30 && p50 <= 50);
	assert_false(vx_baseline_lookup(base, "vxa", "und0", "encap", &p50, &p90));
	vx_baseline_free(base);
	vx_basestate_close(b);
	/* No temporary file left beside it. */
	snprintf(err, sizeof(err), "%s.tmp", path);
	assert_int_equal(access(err, F_OK), -1);
}

/* The next agent keeps the history; a reloaded datapath (a histogram that
 * shrank) counts from zero instead of going negative. */
static void test_restart_and_reload(void **state)
{
	struct vx_lat_hist cum = { 0 };
	struct vx_basestate *b;
	struct vx_baseline *base;
	char err[256];
	double p50 = 0, p90 = 0;
	uint64_t t = 1000;

	(void)state;
	b = vx_basestate_open(dir, 100, err, sizeof(err));
	assert_non_null(b);
	vx_basestate_see(b, "vxa", "und0", "wire", &cum);
	vx_basestate_tick(b, t);
	for (int w = 0; w < 2; w++) {
		add(&cum, 50, 40);
		vx_basestate_see(b, "vxa", "und0", "wire", &cum);
		vx_basestate_tick(b, t += 110);
	}
	vx_basestate_close(b);
	/* Two windows: not enough for a baseline yet. */
	base = vx_baseline_load(path, err, sizeof(err));
	assert_non_null(base);
	assert_false(vx_baseline_lookup(base, "vxa", "und0", "wire", &p50, &p90));
	vx_baseline_free(base);

	b = vx_basestate_open(dir, 100, err, sizeof(err));
	assert_non_null(b);
	vx_basestate_see(b, "vxa", "und0", "wire", &cum);
	vx_basestate_tick(b, t);
	/* Reloaded: 40 samples since, fewer than the 100 read before. */
	memset(&cum, 0, sizeof(cum));
	add(&cum, 40, 60);
	vx_basestate_see(b, "vxa", "und0", "wire", &cum);
	vx_basestate_tick(b, t += 110);
	vx_basestate_close(b);
	base = vx_baseline_load(path, err, sizeof(err));
	assert_non_null(base);
	assert_true(vx_baseline_lookup(base, "vxa", "und0", "wire", &p50, &p90));
	vx_baseline_free(base);
}

static void test_bad_file_and_dir(void **state)
{
	struct vx_basestate *b;
	char err[256], bad[160];
	FILE *f;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"type\":\"diagnosis\",\"latency\":[]}", f);
	fclose(f);
	b = vx_basestate_open(dir, 100, err, sizeof(err));
	assert_non_null(b);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	vx_basestate_close(b);

	/* A directory that cannot be (under a file): one sentence. */
	snprintf(bad, sizeof(bad), "%s/sub", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	b = vx_basestate_open(bad, 100, err, sizeof(err));
	assert_null(b);
	assert_non_null(strstr(err, "cannot write to the state directory"));
}

/* More stages than it keeps: the rest left out and counted. */
static void test_bounded(void **state)
{
	struct vx_lat_hist h = { 0 };
	struct vx_basestate *b;
	char err[256], dev[16];

	(void)state;
	b = vx_basestate_open(dir, 100, err, sizeof(err));
	assert_non_null(b);
	add(&h, 10, 40);
	for (int i = 0; i < VX_BASESTATE_KEYS + 5; i++) {
		snprintf(dev, sizeof(dev), "d%d", i);
		vx_basestate_see(b, "vxa", dev, "wire", &h);
	}
	assert_int_equal(vx_basestate_dropped(b), 5);
	vx_basestate_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quartile),
		cmocka_unit_test_setup_teardown(test_windows_to_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_and_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
