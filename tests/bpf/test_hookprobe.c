// SPDX-License-Identifier: GPL-2.0-only
/* The hook prober's trial programs (bpf/xdp/vx_trial_xdp.bpf.c,
 * bpf/tc/vx_trial_tc.bpf.c), run through BPF_PROG_TEST_RUN: they must
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

#include "vx_trial_tc.skel.h"
#include "vx_trial_xdp.skel.h"

static unsigned char frame[128] = { [12] = 0x08, [13] = 0x00, [14] = 0x45 };

/* Load @obj, opened from a skeleton, with only @prog_name enabled. */
static int load_only(struct bpf_object *obj, const char *prog_name)
{
	struct bpf_program *p;

	bpf_object__for_each_program (p, obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog_name));
	return bpf_object__load(obj);
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
	struct vx_trial_xdp *skel;
	struct ring_buffer *rb;
	__u32 retval;
	int n = 0;

	if (geteuid())
		skip();
	skel = vx_trial_xdp__open();
	assert_non_null(skel);
	assert_int_equal(load_only(skel->obj, "hp_ringbuf"), 0);
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
	vx_trial_xdp__destroy(skel);
}

static void test_verdicts_unchanged(void **state)
{
	struct vx_trial_xdp *xdp;
	struct vx_trial_tc *tc;
	__u32 retval;

	if (geteuid())
		skip();
	xdp = vx_trial_xdp__open();
	assert_non_null(xdp);
	assert_int_equal(load_only(xdp->obj, "hp_xdp"), 0);
	assert_int_equal(run(xdp->progs.hp_xdp, 1, &retval), 0);
	assert_int_equal(retval, XDP_PASS);
	vx_trial_xdp__destroy(xdp);

	tc = vx_trial_tc__open();
	assert_non_null(tc);
	assert_int_equal(load_only(tc->obj, "hp_tc"), 0);
	assert_int_equal(run(tc->progs.hp_tc, 1, &retval), 0);
	/* TC_ACT_UNSPEC: the next program in the chain still runs. */
	assert_int_equal((int)retval, -1);
	vx_trial_tc__destroy(tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ringbuf_record),
		cmocka_unit_test(test_verdicts_unchanged),
	};

	return cmocka_run_group_tests_name("hookprobe", tests, NULL, NULL);
}
