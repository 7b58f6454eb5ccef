// SPDX-License-Identifier: GPL-2.0-only
/* Per-stage latency when the datapath is not there: a start that cannot
 * attach says so and leaves nothing up, and then ticks, burst marks, the
 * fill and the stop do nothing (the view goes on with the probe's round
 * trips). The attached path needs BPF and namespaces: the diagnose
 * integration suite covers it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stagelat.h"

static struct vx_stagelat s;
static struct vx_evidence ev;
static struct vx_opts o;

static void test_not_attached_is_inert(void **state)
{
	memset(&s, 0, sizeof(s));
	memset(&ev, 0, sizeof(ev));
	vx_stagelat_tick(&s, 10 * NSEC_PER_SEC, 10 * NSEC_PER_SEC);
	vx_stagelat_burst(&s, false);
	vx_stagelat_burst(&s, true);
	assert_false(s.mid_taken);
	assert_int_equal(s.n_mid + s.n_burst0 + s.n_burst1, 0);
	vx_stagelat_fill(&s, &ev, NULL, NULL);
	assert_int_equal(ev.n_lat, 0);
	vx_stagelat_stop(&s);
	vx_stagelat_stop(&s);
	assert_false(s.up);
}

static void test_start_fails_cleanly(void **state)
{
	char names[1][VX_NETNS_NAME_MAX];

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	snprintf(names[0], sizeof(names[0]), "vxray-no-such-netns-%d", (int)getpid());
	assert_true(vx_stagelat_start(&s, &o, (const char(*)[VX_NETNS_NAME_MAX])names, 1) < 0);
	assert_false(s.up);
	/* Only the chosen namespaces, whatever the view's own options. */
	assert_int_equal(s.dpo.n_netns, 1);
	assert_string_equal(s.dpo.netns[0], names[0]);
	assert_true(s.dpo.auto_attach);
	vx_stagelat_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_attached_is_inert),
		cmocka_unit_test(test_start_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
