// SPDX-License-Identifier: GPL-2.0-only
/* vx_agg_add() (bpf/include/vx_agg.bpf.h) keeps an aggregate exact when
 * two CPUs create the same key at once. Two threads, pinned to two CPUs,
 * run tests/bpf/progs/vx_test_agg.bpf.c there at the same moment over the
 * same series of fresh keys, round after round; every key must end at 2
 * and the sum at the number of adds. With an insert that gives up on
 * -EEXIST, counts go missing within a few rounds. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "vx_test_agg.skel.h"

/* ROUNDS * KEYS keys in all: within the map's 1 << 17 entries. */
#define ROUNDS 200
#define KEYS 512

struct racer {
	pthread_t tid;
	int cpu;
	int prog_fd;
	int err;	      /* first failed run, negative errno */
	atomic_uint *arrived; /* the start line, shared */
};

/* Both threads leave the line together: each round's runs overlap on the
 * two CPUs instead of following one another. A spin, not a futex, so
 * that the second does not start a wakeup later. */
static void start_line(atomic_uint *arrived, unsigned int round)
{
	atomic_fetch_add(arrived, 1);
	while (atomic_load(arrived) < 2 * (round + 1))
		;
}

static void *race(void *arg)
{
	struct racer *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		r->err = -EINVAL;
	for (unsigned int round = 0; round < ROUNDS; round++) {
		__u64 args[2] = { (__u64)round * KEYS, KEYS };
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = r->cpu);
		int err;

		start_line(r->arrived, round);
		err = bpf_prog_test_run_opts(r->prog_fd, &o);
		if (err && !r->err)
			r->err = err;
	}
	return NULL;
}

/* The first two CPUs this process may run on, or -1. */
static int two_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	return n == 2 ? 0 : -1;
}

static void test_two_cpus_one_new_key(void **state)
{
	struct racer r[2] = {};
	atomic_uint arrived = 0;
	struct vx_test_agg *skel;
	int cpu[2], fd, short_keys = 0;
	__u64 sum = 0;

	if (geteuid())
		skip();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || two_cpus(cpu)) {
		print_message("# fewer than 2 CPUs online or allowed: no race to test\n");
		skip();
	}
	skel = vx_test_agg__open_and_load();
	assert_non_null(skel);
	for (int i = 0; i < 2; i++) {
		r[i].cpu = cpu[i];
		r[i].prog_fd = bpf_program__fd(skel->progs.vxt_agg_series);
		r[i].arrived = &arrived;
		assert_int_equal(pthread_create(&r[i].tid, NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(r[i].tid, NULL);
	assert_int_equal(r[0].err, 0);
	assert_int_equal(r[1].err, 0);

	fd = bpf_map__fd(skel->maps.vxt_agg);
	for (__u64 k = 0; k < (__u64)ROUNDS * KEYS; k++) {
		__u64 v = 0;

		assert_int_equal(bpf_map_lookup_elem(fd, &k, &v), 0);
		short_keys += v != 2;
		sum += v;
	}
	if (sum != 2ULL * ROUNDS * KEYS)
		print_message("# CPUs %d and %d: %llu of %llu adds lost, on %d keys\n", cpu[0],
			      cpu[1], 2ULL * ROUNDS * KEYS - sum, 2ULL * ROUNDS * KEYS, short_keys);
	assert_int_equal(skel->bss->vxt_refused, 0);
	assert_int_equal(short_keys, 0);
	assert_int_equal(sum, 2ULL * ROUNDS * KEYS);
	vx_test_agg__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_cpus_one_new_key),
	};

	return cmocka_run_group_tests_name("agg", tests, NULL, NULL);
}
