// SPDX-License-Identifier: GPL-2.0-only
/* The underlay path's findings (loader/diagnose/pathjudge.c) on
 * hand-built evidence, through vx_findings_judge: a hop that drops the
 * tunnel (unwatched: "lost between"; watched: named, with its rule), a
 * PMTU black hole from the probe's size sweep (and what is not one), bad
 * outer UDP checksums; each the only finding for its symptom. The lab's
 * routed topology: vxa -- vxr (a router, no VXLAN device) -- vxb. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evlab.h"
#include "findings.h"

static void watch(const char *ns)
{
	snprintf(ev.watched[ev.n_watched++], VX_NETNS_NAME_MAX, "%s", ns);
}

/* Two ends over a routed underlay, healthy traffic; @router: vxr is
 * diagnosed too. */
static void lab(bool router)
{
	ev_lab(true, 6);
	watch("vxa");
	if (router)
		watch("vxr");
	watch("vxb");
}

static struct vx_ev_drop *drop(const char *ns, const char *reason, uint64_t n, bool outer,
			       const char *rule)
{
	struct vx_ev_drop *d = &ev.drops[ev.n_drops++];

	snprintf(d->netns, sizeof(d->netns), "%s", ns);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	snprintf(d->location, sizeof(d->location), "nft_do_chain+0x46f");
	snprintf(d->device, sizeof(d->device), "und-a");
	snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
	d->outer = outer;
	d->count = n;
	return d;
}

/* The probe from vxa (tunnel 0) to vxb's overlay address, and back. */
static struct vx_ev_probe *probe(int tun)
{
	struct vx_ev_probe *p = &ev.probes[ev.n_probes++];

	snprintf(p->from, sizeof(p->from), "%s", tun ? "vxb" : "vxa");
	snprintf(p->to, sizeof(p->to), "172.16.0.%d", tun ? 1 : 2);
	p->tun = tun;
	p->sent = p->received = 20;
	p->big_sent = p->big_received = 3;
	p->sweep_sent = 40;
	p->sweep_clean = true;
	p->route_mtu = 1450;
	p->tcp_sent = p->tcp_received = 262144;
	return p;
}

/* What scenario 8 leaves: the path carries 1400-byte packets, DF pings of
 * 1350 bytes answered, from 1360 lost, no ICMP back. */
static struct vx_ev_probe *black_hole(int tun)
{
	struct vx_ev_probe *p = probe(tun);

	p->big_received = 0;
	p->sweep_ok = 1350;
	p->sweep_lost = 1360;
	p->tcp_received = 0;
	p->tcp_sent = 65536;
	return p;
}

static void test_healthy_routed(void **state)
{
	lab(true);
	probe(0);
	probe(1);
	drop("vxr", "NOT_SPECIFIED", 1, false, NULL); /* IPv6 multicast noise */
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Scenario 7, the router not diagnosed: A encapsulates, B's underlay never
 * sees the packets (a stray packet or two arrives anyway), both ways. */
static void test_lost_between(void **state)
{
	lab(false);
	ev.tun[0].encap = 18;
	ev.tun[1].encap = 17;
	ev.tun[0].decap = ev.tun[1].decap = 0;
	ev.tun[0].underlay_rx = 0;
	ev.tun[1].underlay_rx = 1;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNDERLAY_PATH);
	assert_string_equal(vx_verdict_id(out[0].verdict), "underlay_path_loss");
	assert_string_equal(out[0].netns, "");
	assert_non_null(strstr(out[0].sentence, "lost between vxa and vxb in the underlay"));
	assert_non_null(strstr(out[0].sentence, "vxa encapsulated 18 (UDP/4789 to 10.0.2.2)"));
	assert_non_null(strstr(out[0].sentence, "vxb's underlay und0 received 1 packets"));
	assert_non_null(strstr(out[0].sentence, "the same from vxb to vxa (17 encapsulated, 0"));
	assert_non_null(strstr(out[0].next, "--netns"));
}

/* The router diagnosed but dropping nothing: said so. */
static void test_lost_between_watched_hop_silent(void **state)
{
	lab(true);
	ev.tun[1].decap = 0;
	ev.tun[1].underlay_rx = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNDERLAY_PATH);
	assert_true(has_ev(&out[0], "watched on the way: vxr, which dropped none of them"));
}

/* Scenario 7, the router diagnosed: its FORWARD rule is the hop, named with
 * the rule; no netfilter or one-sided finding beside it. */
static void test_hop_named(void **state)
{
	const char *rule = "-A FORWARD -p udp -m udp --dport 4789 -j DROP";

	lab(true);
	ev.tun[0].decap = ev.tun[1].decap = 0;
	ev.tun[0].underlay_rx = ev.tun[1].underlay_rx = 0;
	/* As dropev.c leaves them: the rule's counter (both directions) on
	 * one device's entry, the other device's entry as the probe saw it. */
	drop("vxr", "NETFILTER_DROP", 20, true, NULL);
	drop("vxr", "NETFILTER_DROP", 39, true, rule)->device[0] = '\0';
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNDERLAY_PATH);
	assert_string_equal(out[0].netns, "vxr");
	assert_non_null(strstr(out[0].sentence, "dropped at vxr, a hop on the underlay"));
	assert_non_null(strstr(out[0].sentence, "(UDP/4789, 10.0.1.1 -> 10.0.2.2; 39 packets)"));
	assert_non_null(strstr(out[0].sentence, rule));
	assert_non_null(strstr(out[0].sentence, "in both directions"));
	assert_true(has_ev(&out[0], "20 drops in vxr: reason NETFILTER_DROP"));
	assert_non_null(strstr(out[0].next, "Allow UDP/4789 between 10.0.1.1 and 10.0.2.2 in vxr"));
}

static void test_hop_other_reason(void **state)
{
	lab(true);
	ev.tun[1].decap = 0;
	ev.tun[1].underlay_rx = 0;
	snprintf(drop("vxr", "IP_OUTNOROUTES", 40, true, NULL)->location, 64, "ip_forward+0x1");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNDERLAY_PATH);
	assert_non_null(strstr(out[0].sentence, "40 packets, IP_OUTNOROUTES at ip_forward+0x1"));
	assert_null(strstr(out[0].sentence, "both directions"));
}

/* Not the path: the packets reach B's underlay (a drop there, or they
 * vanish), or B's own rule drops them (scenario 1). */
static void test_not_the_path(void **state)
{
	lab(true);
	ev.tun[1].decap = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);

	lab(true);
	ev.tun[1].decap = 0;
	ev.tun[1].underlay_rx = 0;
	drop("vxb", "NETFILTER_DROP", 40, true, "-A INPUT -p udp --dport 4789 -j DROP");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_string_equal(out[0].netns, "vxb");

	/* The sender's own underlay neighbour never answers: its encap
	 * failure, not the path. */
	lab(true);
	ev.tun[1].decap = 0;
	ev.tun[1].underlay_rx = 0;
	drop("vxa", "NEIGH_FAILED", 40, true, NULL)->device[0] = '\0';
	for (int i = judge(); i-- > 0;)
		assert_int_not_equal(out[i].verdict, VX_V_UNDERLAY_PATH);
}

/* Scenario 8, the router not diagnosed. */
static void test_pmtu_black_hole(void **state)
{
	lab(false);
	ev.tun[0].rt_full = 5;
	black_hole(0);
	probe(1);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_PMTU_BLACKHOLE);
	assert_string_equal(vx_verdict_id(out[0].verdict), "pmtu_black_hole");
	assert_non_null(strstr(out[0].sentence, "PMTU black hole between vxa and vxb"));
	assert_non_null(strstr(out[0].sentence, "up to 1350 bytes cross, 1360 bytes and more"));
	assert_non_null(strstr(out[0].sentence, "carries 1400-1409-byte packets"));
	assert_non_null(strstr(out[0].sentence, "overlay MTU 1450 needs 1500"));
	assert_true(has_ev(&out[0], "0 of 3 full-size (1450 bytes, DF)"));
	assert_true(has_ev(&out[0], "TCP vxa -> 172.16.0.2: 0 of 65536 bytes arrived"));
	assert_true(has_ev(&out[0], "5 full-size, 0 small"));
	assert_non_null(strstr(out[0].next, "mtu 1350"));
}

/* Scenario 8, the router diagnosed: its PKT_TOO_BIG and the rule eating
 * its ICMP are the hop's part of the finding, not a netfilter finding. */
static void test_pmtu_hop_named(void **state)
{
	const char *rule = "-A OUTPUT -p icmp -m icmp --icmp-type 3/4 -j DROP";

	lab(true);
	black_hole(0);
	black_hole(1);
	drop("vxr", "PKT_TOO_BIG", 12, true, NULL);
	drop("vxr", "NETFILTER_DROP", 12, false, rule);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_PMTU_BLACKHOLE);
	assert_string_equal(out[0].netns, "vxr");
	assert_non_null(strstr(out[0].sentence,
			       "vxr drops them as too big for its next link "
			       "(PKT_TOO_BIG, 12 packets) and its firewall drops"));
	assert_true(has_ev(&out[0], "probe vxb -> 172.16.0.1"));
	assert_true(has_ev(&out[0], rule));
	assert_non_null(strstr(out[0].next, "out of vxr"));
	assert_non_null(strstr(out[0].next, rule));
}

/* Before forwarding's drops had reasons (6.1), the place names them; and
 * a rule eating the ICMP is the hop's part even without its drops seen. */
static void test_pmtu_hop_older_kernel(void **state)
{
	const char *rule = "ip6 filter output: icmpv6 type packet-too-big counter packets 9 drop";

	lab(true);
	black_hole(0);
	snprintf(drop("vxr", "NOT_SPECIFIED", 9, true, NULL)->location, 64, "ip_forward+0x2c0");
	drop("vxr", "NETFILTER_DROP", 9, false, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_PMTU_BLACKHOLE);
	assert_non_null(strstr(out[0].sentence,
			       "vxr drops them as too big for its next link "
			       "(NOT_SPECIFIED at ip_forward+0x2c0, 9 packets) and its "
			       "firewall drops"));

	lab(true);
	black_hole(0);
	drop("vxr", "NETFILTER_DROP", 9, false, rule);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_PMTU_BLACKHOLE);
	assert_string_equal(out[0].netns, "vxr");
	assert_non_null(strstr(out[0].sentence, "; vxr's firewall drops the ICMP"));
	assert_non_null(strstr(out[0].next, rule));
}

/* Not a black hole: PMTU discovery works (an ICMP came back, or the
 * route learned the smaller MTU), the edge is not clean, small pings fail
 * too, or an end's own MTU is wrong (the MTU finding's). */
static void test_not_a_black_hole(void **state)
{
	lab(false);
	black_hole(0)->too_big = 2;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab(false);
	black_hole(0)->route_mtu = 1350;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab(false);
	black_hole(0)->sweep_clean = false;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	lab(false);
	black_hole(0)->received = 2;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNREACHABLE);

	lab(false);
	black_hole(0);
	ev.tun[1].mtu_bad = true;
	ev.tun[1].underlay_mtu = 1400;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_MTU);
}

/* Scenario 9: UDP_CSUM drops on B's underlay. */
static void test_outer_csum(void **state)
{
	struct vx_ev_drop *d;

	lab(false);
	ev.tun[1].decap = 0;
	ev.tun[1].udp_csum_errors = 43;
	d = drop("vxb", "UDP_CSUM", 32, true, NULL);
	snprintf(d->location, sizeof(d->location), "udp_queue_rcv_one_skb+0x153");
	snprintf(d->device, sizeof(d->device), "und0");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_OUTER_CSUM);
	assert_string_equal(vx_verdict_id(out[0].verdict), "outer_udp_checksum");
	assert_string_equal(out[0].netns, "vxb");
	assert_string_equal(out[0].device, "und0");
	assert_non_null(strstr(out[0].sentence,
			       "VXLAN packets from vxa arrive at vxb with bad outer "
			       "UDP checksums (UDP/4789, 10.0.1.1 -> 10.0.2.2)"));
	assert_non_null(strstr(out[0].sentence, "(UDP_CSUM: 32 packets; Udp InCsumErrors +43)"));
	assert_true(has_ev(&out[0], "32 drops in vxb: reason UDP_CSUM at udp_queue_rcv_one_skb"));
	assert_true(has_ev(&out[0], "encapsulated 40 packets toward vxb, which decapsulated 0"));
	assert_non_null(strstr(out[0].next, "ethtool -K"));
}

/* Without the drop probe: the counter, with the loss it explains; the
 * counter alone (another UDP application's bad datagrams) is nothing. */
static void test_outer_csum_counter(void **state)
{
	lab(false);
	ev.tun[1].decap = 0;
	ev.tun[1].udp_csum_errors = 40;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_OUTER_CSUM);

	lab(false);
	ev.tun[1].udp_csum_errors = 40;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_routed),
		cmocka_unit_test(test_lost_between),
		cmocka_unit_test(test_lost_between_watched_hop_silent),
		cmocka_unit_test(test_hop_named),
		cmocka_unit_test(test_hop_other_reason),
		cmocka_unit_test(test_not_the_path),
		cmocka_unit_test(test_pmtu_black_hole),
		cmocka_unit_test(test_pmtu_hop_named),
		cmocka_unit_test(test_pmtu_hop_older_kernel),
		cmocka_unit_test(test_not_a_black_hole),
		cmocka_unit_test(test_outer_csum),
		cmocka_unit_test(test_outer_csum_counter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
