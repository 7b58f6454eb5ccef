// SPDX-License-Identifier: GPL-2.0-only
/* The underlay latency finding without an earlier run
 * (loader/diagnose/latjudge.c) on hand-built evidence, through
 * vx_findings_judge: the wire stage of one tunnel A->B against B->A, and
 * against what a wire on one host takes; one VNI against the others of
 * its device; a stage with two humps far apart; what is no fault (jitter
 * under load, one direction unmeasured, the host's own TCP delivery); and
 * a baseline's finding taking the others' evidence rather than a second
 * finding. Two ends on one host:
 * vxa and vxb, each with vxlan100 over und0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlab.h"
#include "findings.h"

static void lab(void)
{
	ev_lab(false, 6);
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
	l->vni = 100;
	return l;
}

/* Stage @l had a median of @base_us before: an earlier run's
 * (--baseline healthy.json) or, @own, the window's first third. */
static void based(struct vx_ev_lat *l, double base_us, bool own)
{
	l->has_base = true;
	l->base_own = own;
	l->base_p50_us = base_us;
	snprintf(l->base_from, sizeof(l->base_from), "%s",
		 own ? "the window's first third" : "--baseline healthy.json");
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

/* The host's own delivery to a socket, slow against a baseline or for one
 * VNI (an application slow to read): not the tunnel's, no finding. */
static void test_delivery_not_judged(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxb", 5000, 9000);
	snprintf(l->stage, sizeof(l->stage), "delivery");
	based(l, 40, false);
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	l->has_base = false;
	l = wire("vxb", 30, 60);
	snprintf(l->stage, sizeof(l->stage), "delivery");
	l->vni = 200;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	/* The same figures on the wire stage are a finding. */
	snprintf(ev.lat[0].stage, sizeof(ev.lat[0].stage), "wire");
	snprintf(l->stage, sizeof(l->stage), "wire");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
}

/* A baseline's finding and the wire's: one finding, both evidences. */
static void test_with_baseline(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxb", 1180, 1300);
	based(l, 80, false);
	wire("vxa", 90, 130);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_non_null(strstr(out[0].sentence, "rose from 80 us to 1180 us"));
	assert_true(has_ev(&out[0], "baseline (--baseline healthy.json)"));
	assert_true(has_ev(&out[0], "wire vxa -> vxb"));
	assert_true(has_ev(&out[0], "no baseline needed"));
}

/* The window's own first third is a baseline only for a fault that began
 * during the window: a queue that fills once the probe's traffic starts
 * looks like one. The wire A->B against B->A needs no such guess and
 * names the fault; the first third stays evidence, and alone still names
 * it. */
static void test_own_baseline_after_wire(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxb", 1143, 1394);
	snprintf(l->device, sizeof(l->device), "vxlan100");
	snprintf(l->stage, sizeof(l->stage), "rtt");
	based(l, 283, true);
	wire("vxb", 1016, 1494); /* vxa -> vxb */
	wire("vxa", 4, 12);	 /* vxb -> vxa */
	assert_int_equal(judge(), 1);
	assert_string_equal(out[0].netns, "vxa");
	assert_string_equal(out[0].device, "und0");
	assert_non_null(strstr(out[0].sentence, "in one direction: the wire from vxa to vxb"));
	assert_true(has_ev(&out[0], "rtt through vxlan100 in vxb: p50 283 us -> 1143 us "
				    "(baseline: the window's first third)"));

	/* Without the wire stage, the first third names it. */
	ev.n_lat = 1;
	assert_int_equal(judge(), 1);
	assert_non_null(strstr(out[0].sentence, "the overlay round trip through vxlan100 in vxb "
						"rose from 283 us to 1143 us"));
}

/* VNI 200 on vxb's underlay far slower than VNI 100 there. */
static void test_one_vni(void **state)
{
	(void)state;
	lab();
	wire("vxb", 40, 60);
	wire("vxb", 900, 1000)->vni = 200;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_string_equal(out[0].netns, "vxb");
	assert_non_null(strstr(out[0].sentence,
			       "for one VNI: the wire stage of VNI 200 through "
			       "und0 in vxb takes 0.90 ms at the median, VNI "
			       "100's on the same device 0.04 ms (22x, +0.86 ms)"));
	assert_true(has_ev(&out[0], "wire of VNI 200 through und0 in vxb: p50 900 us"));
	assert_true(has_ev(&out[0], "wire of VNI 100 through und0 in vxb: p50 40 us"));
	assert_non_null(strstr(out[0].next, "--vni 200"));

	/* Two VNIs alike: nothing. */
	lab();
	wire("vxb", 40, 60);
	wire("vxb", 60, 90)->vni = 200;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* A third of the wire's packets wait a millisecond: two humps. */
static void test_two_humps(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxb", 12, 1100);
	l->bimodal = true;
	l->lo_us = 8;
	l->hi_us = 1048;
	l->hi_share = 0.3;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_non_null(strstr(out[0].sentence, "for part of the traffic: the wire stage through "
						"und0 in vxb has two humps, 30% of its packets "
						"from 1.05 ms up and the rest from 8 us"));
	assert_true(has_ev(&out[0], "from 8 us (70%) and from 1048 us (30%)"));

	/* Humps close together, or the host's own TCP delivery: nothing. */
	l->hi_us = 300;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	l->hi_us = 1048;
	snprintf(l->stage, sizeof(l->stage), "delivery");
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* --probe from vxa through tunnel 0: 30 overlay pings to 172.16.0.2
 * answered at @rtt_us, 30 underlay ones to its VTEP at @ul_us. */
static struct vx_ev_probe *probe(double rtt_us, double ul_us)
{
	struct vx_ev_probe *q = &ev.probes[ev.n_probes++];

	snprintf(q->from, sizeof(q->from), "vxa");
	snprintf(q->to, sizeof(q->to), "172.16.0.2");
	snprintf(q->ul_to, sizeof(q->ul_to), "10.0.0.2");
	q->tun = 0;
	q->sent = q->received = 30;
	q->rtt_p50_us = rtt_us;
	q->rtt_samples = 30;
	q->ul_rtt_p50_us = ul_us;
	q->ul_samples = 30;
	return q;
}

/* --probe: the overlay round trip far above the remote VTEP's own over
 * the underlay, from the same namespace: time spent in the tunnel ends. */
static void test_overlay_vs_underlay(void **state)
{
	struct vx_ev_probe *q;

	(void)state;
	lab();
	q = probe(1150, 50);
	snprintf(ev.lat[0].netns, sizeof(ev.lat[0].netns), "vxa");
	snprintf(ev.lat[0].device, sizeof(ev.lat[0].device), "und0");
	snprintf(ev.lat[0].stage, sizeof(ev.lat[0].stage), "encap");
	ev.lat[0].p50_us = 1040;
	ev.lat[0].samples = 100;
	ev.n_lat = 1;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_string_equal(out[0].device, "vxlan100");
	assert_non_null(strstr(out[0].sentence,
			       "in the tunnel ends: the overlay round trip from vxa to 172.16.0.2 "
			       "takes 1.15 ms at the median, the underlay's own to its VTEP "
			       "10.0.0.2 0.05 ms (23x, +1.10 ms)"));
	assert_true(
		has_ev(&out[0], "underlay pings to 10.0.0.2 from the same namespace: p50 50 us"));
	assert_true(has_ev(&out[0], "encap through und0 in vxa: p50 1040 us"));
	assert_non_null(strstr(out[0].next, "`tc -s qdisc show dev vxlan100` in vxa"));

	/* The peer is watched here, yet the ends' stages are fast: what the
	 * overlay adds is vxray's own programs (an emulated CPU), no fault. */
	ev.lat[0].p50_us = 126;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	/* A peer on another host: nothing here to confirm it with; named. */
	ev.tun[0].peer = -1;
	ev.tun[1].peer = -1;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	ev.tun[0].peer = 1;
	ev.tun[1].peer = 0;
	ev.lat[0].p50_us = 1040;

	/* Both slow alike (the underlay path itself): not this finding. */
	q->ul_rtt_p50_us = 1100;
	ev.lat[0].p50_us = 8;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	/* Too few underlay answers to compare. */
	q->ul_rtt_p50_us = 50;
	q->ul_samples = 2;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* The CI case: a queue on vxa's VXLAN device fills during the window.
 * The overlay round trip rose against the window's first third, but the
 * underlay's own, pinged at the same times, stayed fast and vxa's
 * encapsulation holds the time: the tunnel ends, not the underlay. */
static void test_rise_at_ends(void **state)
{
	struct vx_ev_probe *q;
	struct vx_ev_lat *rtt, *enc;

	(void)state;
	lab();
	rtt = wire("vxa", 3400, 3900);
	snprintf(rtt->device, sizeof(rtt->device), "vxlan100");
	snprintf(rtt->stage, sizeof(rtt->stage), "rtt");
	based(rtt, 300, true);
	enc = wire("vxa", 3284, 3500);
	snprintf(enc->stage, sizeof(enc->stage), "encap");
	q = probe(3400, 144);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_string_equal(out[0].device, "vxlan100");
	assert_non_null(strstr(out[0].sentence,
			       "Overlay latency added in the tunnel ends: the overlay round trip "
			       "through vxlan100 in vxa rose from 300 us to 3400 us"));
	assert_true(
		has_ev(&out[0], "underlay pings to 10.0.0.2 from the same namespace: p50 144 us"));
	assert_true(has_ev(&out[0], "encap through und0 in vxa (vxlan100): p50 3284 us"));
	assert_non_null(strstr(out[0].next, "`tc -s qdisc show dev vxlan100` in vxa"));

	/* The ends' stages fast: vxray's own programs under an emulated
	 * CPU, no fault. */
	enc->p50_us = 30;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	/* The underlay's round trip rose with it: the underlay. */
	q->ul_rtt_p50_us = 3300;
	assert_int_equal(judge(), 1);
	assert_non_null(
		strstr(out[0].sentence, "Underlay latency degraded: the overlay round trip"));

	/* An encap stage's rise against an earlier run: the ends. */
	ev.n_probes = 0;
	ev.n_lat = 0;
	enc = wire("vxa", 1400, 1500);
	snprintf(enc->stage, sizeof(enc->stage), "encap");
	based(enc, 20, false);
	assert_int_equal(judge(), 1);
	assert_string_equal(out[0].device, "vxlan100");
	assert_non_null(strstr(out[0].sentence, "Overlay latency added in the tunnel ends: the "
						"encap stage through und0 in vxa rose from 20 us"));
}

/* Encapsulation a millisecond slow (a queue on the VXLAN device), with
 * nothing else to compare it with: no encapsulation takes that long. */
static void test_slow_encap(void **state)
{
	struct vx_ev_lat *l;

	(void)state;
	lab();
	l = wire("vxa", 1128, 1460);
	snprintf(l->stage, sizeof(l->stage), "encap");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_string_equal(out[0].netns, "vxa");
	assert_string_equal(out[0].device, "vxlan100");
	assert_non_null(strstr(out[0].sentence, "encapsulation in vxa takes 1.13 ms at the median "
						"(from the VXLAN device's egress to the "
						"underlay's)"));
	assert_true(has_ev(&out[0], "encap through und0 in vxa (vxlan100): p50 1128 us"));
	assert_non_null(strstr(out[0].next, "`tc -s qdisc show dev vxlan100` in vxa"));

	/* An emulated CPU's encapsulation: slow, no fault. */
	l->p50_us = 126;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_direction),
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_no_fault),
		cmocka_unit_test(test_delivery_not_judged),
		cmocka_unit_test(test_with_baseline),
		cmocka_unit_test(test_own_baseline_after_wire),
		cmocka_unit_test(test_one_vni),
		cmocka_unit_test(test_two_humps),
		cmocka_unit_test(test_overlay_vs_underlay),
		cmocka_unit_test(test_rise_at_ends),
		cmocka_unit_test(test_slow_encap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
