// SPDX-License-Identifier: GPL-2.0-only
/* The underlay latency finding without an earlier run
 * (loader/diagnose/latjudge.c) on hand-built evidence, through
 * vx_findings_judge: the wire stage of one tunnel A->B against B->A, and
 * against what a wire on one host takes; what is no fault (jitter under
 * load, one direction unmeasured); and a baseline's finding taking the
 * wire's evidence rather than a second finding. Two ends on one host:
 * vxa and vxb, each with vxlan100 over und0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "findings.h"

static struct vx_evidence ev;
static struct vx_finding out[VX_MAX_FINDINGS];

static void lab(void)
{
	memset(&ev, 0, sizeof(ev));
	ev.window_s = 6;
	ev.probed = true;
	for (int i = 0; i < 2; i++) {
		struct vx_ev_tunnel *t = &ev.tun[i];

		snprintf(t->netns, sizeof(t->netns), "%s", i ? "vxb" : "vxa");
		snprintf(t->device, sizeof(t->device), "vxlan100");
		snprintf(t->underlay, sizeof(t->underlay), "und0");
		t->vni = 100;
		snprintf(t->local, sizeof(t->local), "10.0.0.%d", i + 1);
		snprintf(t->remote, sizeof(t->remote), "10.0.0.%d", 2 - i);
		t->mtu = 1450;
		t->underlay_mtu = 1500;
		t->peer = !i;
		t->encap = t->decap = t->underlay_rx = 300;
	}
	ev.n_tun = 2;
}

/* The wire stage measured at @ns's underlay ingress: what its peer sent. */
static struct vx_ev_lat *wire(const char *ns, double p50, double p90)
{
	struct vx_ev_lat *l = &ev.lat[ev.n_lat++];

	memset(l, 0, sizeof(*l));
	snprintf(l->netns, sizeof(l->netns), "%s", ns);
	snprintf(l->device, sizeof(l->device), "und0");
	snprintf(l->stage, sizeof(l->stage), "wire");
	l->p50_us = p50;
	l->p90_us = p90;
	l->samples = 200;
	return l;
}

static int judge(void)
{
	return vx_findings_judge(&ev, out, VX_MAX_FINDINGS);
}

static bool has_ev(const struct vx_finding *f, const char *s)
{
	for (int i = 0; i < f->n_evidence; i++)
		if (strstr(f->evidence[i], s))
			return true;
	return false;
}

/* The case: 1 ms on vxa's underlay egress, no baseline. */
static void test_one_direction(void **state)
{
	(void)state;
	lab();
	wire("vxb", 1180, 1300); /* vxa -> vxb */
	wire("vxa", 90, 130);	 /* vxb -> vxa */
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_string_equal(out[0].netns, "vxa");
	assert_string_equal(out[0].device, "und0");
	assert_non_null(strstr(out[0].sentence, "in one direction: the wire from vxa to vxb takes "
						"1.18 ms at the median, 0.09 ms the other way "
						"(13x, +1.09 ms)"));
	assert_true(has_ev(&out[0], "wire vxa -> vxb (vxa's und0 to vxb's und0): p50 1180 us, "
				    "p90 1300 us over 200 samples"));
	assert_true(has_ev(&out[0], "wire vxb -> vxa (vxb's und0 to vxa's und0): p50 90 us"));
	assert_true(has_ev(&out[0], "no baseline needed"));
	assert_true(has_ev(&out[0], "3x the other and +0.50 ms"));
	assert_non_null(strstr(out[0].next, "`tc -s qdisc show dev und0` in vxa"));

	/* The same the other way round: the slow side is named. */
	lab();
	wire("vxb", 90, 130);
	wire("vxa", 1180, 1300);
	assert_int_equal(judge(), 1);
	assert_string_equal(out[0].netns, "vxb");
	assert_non_null(strstr(out[0].sentence, "from vxb to vxa"));
}

/* Delay on both sides: no asymmetry, but no wire on one host is that slow. */
static void test_both_directions(void **state)
{
	(void)state;
	lab();
	wire("vxb", 1100, 1200);
	wire("vxa", 1050, 1150);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_non_null(strstr(out[0].sentence, "the wire between"));
	assert_non_null(strstr(out[0].sentence, "tens of microseconds"));
	assert_true(has_ev(&out[0], "both ends are on this host"));
}

/* What is not a fault: a healthy wire, jitter under load (6x but only
 * +0.34 ms), a direction not measured, too few samples. */
static void test_no_fault(void **state)
{
	(void)state;
	lab();
	wire("vxb", 40, 60);
	wire("vxa", 35, 55);
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab();
	wire("vxb", 400, 700);
	wire("vxa", 60, 90);
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab();
	wire("vxb", 3000, 4000);
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab();
	wire("vxb", 3000, 4000)->samples = 0;
	wire("vxa", 40, 60);
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* A baseline's finding and the wire's: one finding, both evidences. */
static void test_with_baseline(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxb", 1180, 1300);
	l->has_base = true;
	l->base_p50_us = 80;
	snprintf(l->base_from, sizeof(l->base_from), "--baseline healthy.json");
	wire("vxa", 90, 130);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_non_null(strstr(out[0].sentence, "rose from 80 us to 1180 us"));
	assert_true(has_ev(&out[0], "baseline (--baseline healthy.json)"));
	assert_true(has_ev(&out[0], "wire vxa -> vxb"));
	assert_true(has_ev(&out[0], "no baseline needed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_direction),
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_no_fault),
		cmocka_unit_test(test_with_baseline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
