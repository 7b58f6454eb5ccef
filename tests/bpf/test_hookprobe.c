// SPDX-License-Identifier: GPL-2.0-only
/* The hook prober's programs, run through BPF_PROG_TEST_RUN: they must
 * never change a packet's fate, and the ring-buffer probe must deliver
 * exactly one intact record per run (doctor's "ringbuf yes" rests on it). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "hookprobe.skel.h"

static unsigned char frame[128] = { [12] = 0x08, [13] = 0x00, [14] = 0x45 };

static struct hookprobe *load_only(const char *prog_name)
{
	struct hookprobe *skel = hookprobe__open();
	struct bpf_program *p;

	if (!skel)
		return NULL;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog_name));
	if (hookprobe__load(skel)) {
		hookprobe__destroy(skel);
		return NULL;
	}
	return skel;
}

static int run(struct bpf_program *p, unsigned int repeat, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);

	*retval = o.retval;
	return err;
}

static int count_records(void *ctx, void *data, size_t len)
{
	int *n = ctx;

	assert_int_equal(len, sizeof(__u64));
	assert_int_equal(*(__u64 *)data, 0x7678726179ULL);
	(*n)++;
	return 0;
}

static void test_ringbuf_record(void **state)
{
	struct hookprobe *skel;
	struct ring_buffer *rb;
	__u32 retval;
	int n = 0;

	if (geteuid())
		skip();
	skel = load_only("hp_ringbuf");
	assert_non_null(skel);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.hp_rb), count_records, &n, NULL);
	assert_non_null(rb);
	assert_int_equal(run(skel->progs.hp_ringbuf, 1, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	assert_int_equal(ring_buffer__consume(rb), 1);
	/* Ten runs, ten records: none lost, none duplicated. */
	assert_int_equal(run(skel->progs.hp_ringbuf, 10, &retval), 0);
	assert_int_equal(ring_buffer__consume(rb), 10);
	assert_int_equal(n, 11);
	ring_buffer__free(rb);
	hookprobe__destroy(skel);
}

static void test_verdicts_unchanged(void **state)
{
	struct hookprobe *skel;
	__u32 retval;

	if (geteuid())
		skip();
	skel = load_only("hp_xdp");
	assert_non_null(skel);
	assert_int_equal(run(skel->progs.hp_xdp, 1, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	hookprobe__destroy(skel);

	skel = load_only("hp_tc");
	assert_non_null(skel);
	assert_int_equal(run(skel->progs.hp_tc, 1, &retval), 0);
	/* TC_ACT_UNSPEC: the next program in the chain still runs. */
	assert_int_equal((int)retval, -1);
	hookprobe__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ringbuf_record),
		cmocka_unit_test(test_verdicts_unchanged),
	};

	return cmocka_run_group_tests_name("hookprobe", tests, NULL, NULL);
}
