// SPDX-License-Identifier: GPL-2.0-only
/* The diagnose reasoning on hand-built evidence: every verdict, the
 * healthy case, the overlaps that must give one verdict only, and two
 * faults at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "baseline.h"
#include "dropreason.h"
#include "evlab.h"
#include "findings.h"

/* Two lab ends, A (vxa) and B (vxb), each other's peer, healthy traffic. */
static void lab(void)
{
	ev_lab(false, 10);
}

static struct vx_ev_drop *drop(const char *ns, const char *reason, uint64_t n, bool outer,
			       const char *rule)
{
	struct vx_ev_drop *d = &ev.drops[ev.n_drops++];

	snprintf(d->netns, sizeof(d->netns), "%s", ns);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	snprintf(d->location, sizeof(d->location), "nf_hook_slow+0x8f");
	snprintf(d->rule, sizeof(d->rule), "%s", rule ? rule : "");
	d->outer = outer;
	d->count = n;
	return d;
}

static void test_healthy(void **state)
{
	lab();
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	assert_string_equal(vx_verdict_id(out[0].verdict), "healthy");
	assert_non_null(strstr(out[0].sentence, "No fault found"));
	assert_true(has_ev(&out[0], "40 encapsulated, 40 decapsulated"));
}

static void test_healthy_quiet(void **state)
{
	lab();
	ev.tun[0].encap = ev.tun[0].decap = ev.tun[1].encap = ev.tun[1].decap = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	assert_non_null(strstr(out[0].sentence, "no overlay traffic"));
}

/* Silence below the threshold proves nothing. */
static void test_too_few_packets(void **state)
{
	lab();
	ev.tun[0].encap = VX_ONE_SIDED_MIN - 1;
	ev.tun[1].decap = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* The packets reach B's underlay and vanish there without a drop seen.
 * (Lost before B's underlay is pathjudge.c's: tests/unit/test_pathjudge.c.) */
static void test_one_sided_underlay_loss(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_string_equal(out[0].netns, "vxb");
	assert_non_null(strstr(out[0].sentence, "arrive on its underlay and vanish"));
	assert_true(has_ev(&out[0], "encapsulated 40 packets"));
}

/* Scenario 1: the outer UDP/4789 dropped by a rule on the receiver is the
 * cause of the one-sided tunnel, not a second finding. */
static void test_one_sided_by_netfilter(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	drop("vxb", "NETFILTER_DROP", 12, true, "-A INPUT -p udp --dport 4789 -j DROP");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_non_null(strstr(out[0].sentence, "netfilter in vxb drops the outer"));
	assert_non_null(strstr(out[0].sentence, "UDP/4789"));
	assert_non_null(strstr(out[0].next, "--dport 4789"));
	assert_true(has_ev(&out[0], "12 drops in vxb"));
}

static void test_one_sided_other_drop(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	drop("vxb", "PKT_TOO_SMALL", 7, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_non_null(strstr(out[0].sentence, "PKT_TOO_SMALL"));
}

/* Bad outer UDP checksums (a broken transmit offload at the sender): the
 * receiver refuses the packets before decapsulation; UDP_CSUM is a decap
 * reason of the table, but its own verdict (pathjudge.c) takes it first,
 * once, with the kernel's words. */
static void test_bad_outer_checksum(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	drop("vxb", "UDP_CSUM", 7, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_OUTER_CSUM);
	assert_non_null(strstr(out[0].sentence, "bad outer UDP checksums"));
	assert_non_null(strstr(out[0].sentence, "(UDP_CSUM: 7 packets"));
	/* UDP_CSUM of an inner datagram is no tunnel's fault. */
	lab();
	drop("vxb", "UDP_CSUM", 7, false, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Scenarios 2 and 5: decapsulated traffic dropped by rules. */
static void test_netfilter_overlay(void **state)
{
	lab();
	drop("vxb", "NETFILTER_DROP", 5, false, "-A INPUT -i vxlan100 -p icmp -j DROP");
	drop("vxb", "NETFILTER_DROP", 3, false, "-A INPUT -i vxlan100 -p tcp --dport 8080 -j DROP");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_NETFILTER_OVERLAY);
	assert_string_equal(vx_verdict_id(out[0].verdict), "netfilter_overlay");
	assert_non_null(strstr(out[0].sentence, "8 packets"));
	assert_non_null(strstr(out[0].sentence, "-p icmp"));
	assert_non_null(strstr(out[0].sentence, "--dport 8080"));
}

/* From metrics (promev.c): a rule naming neither the VXLAN port nor a
 * VXLAN device drops traffic vxray cannot place: said, not guessed. */
static void test_netfilter_side_unknown(void **state)
{
	lab();
	drop("vxb", "NETFILTER_DROP", 6, false, "-A INPUT -s 192.0.2.7 -j DROP")->side_unknown =
		true;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_NETFILTER);
	assert_string_equal(vx_verdict_id(out[0].verdict), "netfilter_drop");
	assert_non_null(strstr(out[0].sentence, "drops some traffic (6 packets)"));
	assert_null(strstr(out[0].sentence, "overlay"));
}

/* Both ends fit their underlays, with different overlay MTUs. */
static void test_mtu_ends_differ(void **state)
{
	lab();
	ev.tun[1].mtu = 1400;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_MTU);
	assert_string_equal(out[0].netns, "vxb");
	assert_non_null(strstr(out[0].sentence, "vxa's overlay MTU is 1450, vxb's 1400"));
	assert_non_null(strstr(out[0].next, "mtu 1400"));
}

/* A silent peer listening on another port: both ports said. And read from
 * metrics (no underlay receive counts), no claim where the packets went. */
static void test_one_sided_port_and_metrics(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	ev.tun[1].dstport = 4790;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_non_null(strstr(out[0].sentence, "sends to UDP 4789, but vxb's"));
	assert_non_null(strstr(out[0].sentence, "listens on UDP 4790"));
	lab();
	ev.tun[1].decap = 0;
	ev.no_underlay_rx = true;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_non_null(strstr(out[0].sentence, "no drop counted at vxb names the packets"));
	assert_null(strstr(out[0].sentence, "underlay"));
}

/* Outer drops while the peer still decapsulates some: an underlay rule. */
static void test_netfilter_underlay(void **state)
{
	lab();
	drop("vxb", "NETFILTER_DROP", 4, true, "-A INPUT -s 10.0.0.9 -p udp -j DROP");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_NETFILTER_UNDERLAY);
	assert_non_null(strstr(out[0].sentence, "underlay"));
}

/* Scenario 3: a full table explains the rule-less drops and the silent
 * peer: one verdict. */
static void test_conntrack(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	snprintf(ev.ct[0].netns, sizeof(ev.ct[0].netns), "vxb");
	ev.ct[0].count = 10;
	ev.ct[0].max = 10;
	ev.ct[0].drop = 9;
	ev.n_ct = 1;
	drop("vxb", "NETFILTER_DROP", 9, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_CONNTRACK);
	assert_non_null(strstr(out[0].sentence, "10 of 10"));
	assert_true(has_ev(&out[0], "drop 9"));
	assert_true(has_ev(&out[0], "decapsulated 0"));
}

static void test_conntrack_not_full(void **state)
{
	lab();
	snprintf(ev.ct[0].netns, sizeof(ev.ct[0].netns), "vxb");
	ev.ct[0].count = 20;
	ev.ct[0].max = 262144;
	ev.ct[0].insert_failed = 1; /* a clash, not exhaustion */
	ev.n_ct = 1;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Scenario 4: the MTUs, the path and the retransmit fingerprint. */
static void test_mtu(void **state)
{
	lab();
	ev.tun[0].mtu = ev.tun[1].mtu = 1500;
	ev.tun[1].underlay_mtu = 1400;
	ev.tun[1].mtu_bad = true;
	snprintf(ev.tun[1].mtu_msg, sizeof(ev.tun[1].mtu_msg),
		 "overlay MTU 1500 needs 1550 but und0 has 1400");
	ev.tun[0].rt_full = 6;
	ev.tun[0].rt_max_len = 1448;
	ev.tun[1].decap = 30;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_MTU);
	assert_string_equal(out[0].netns, "vxb");

	/* Both ends misfit: the smaller underlay is named. */
	ev.tun[0].mtu_bad = true;
	assert_int_equal(judge(), 1);
	assert_string_equal(out[0].netns, "vxb");
	assert_non_null(strstr(out[0].sentence, "1500"));
	assert_non_null(strstr(out[0].sentence, "1400"));
	assert_true(has_ev(&out[0], "path: vxa vxlan100 (MTU 1500) over und0 (MTU 1500)"));
	assert_true(has_ev(&out[0], "MTU fingerprint"));
	assert_true(has_ev(&out[0], "1448 bytes"));
}

/* Scenario 6: the stage that moved, by how much, against the baseline. */
static void test_latency(void **state)
{
	struct vx_ev_lat *l = &ev.lat[0];

	lab();
	snprintf(l->netns, sizeof(l->netns), "vxa");
	snprintf(l->device, sizeof(l->device), "vxlan100");
	snprintf(l->stage, sizeof(l->stage), "rtt");
	snprintf(l->base_from, sizeof(l->base_from), "baseline healthy.json");
	l->has_base = true;
	l->base_p50_us = 80;
	l->base_p90_us = 120;
	l->p50_us = 9000;
	l->p90_us = 9500;
	l->samples = 20;
	ev.n_lat = 1;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_LATENCY);
	assert_non_null(strstr(out[0].sentence, "from 80 us to 9000 us"));
	assert_true(has_ev(&out[0], "baseline healthy.json"));

	/* The other direction over the same underlay: the same finding. */
	ev.lat[1] = *l;
	snprintf(ev.lat[1].netns, sizeof(ev.lat[1].netns), "vxb");
	ev.n_lat = 2;
	assert_int_equal(judge(), 1);
	assert_true(has_ev(&out[0], "rtt through vxlan100 in vxb: p50 80 us -> 9000 us"));
}

/* Jitter on a busy machine is no degradation: both bars must be passed. */
static void test_latency_noise(void **state)
{
	struct vx_ev_lat *l = &ev.lat[0];

	lab();
	snprintf(l->stage, sizeof(l->stage), "rtt");
	l->has_base = true;
	l->base_p50_us = 60;
	l->p50_us = 400; /* 6x, but only +0.34 ms */
	l->samples = 20;
	ev.n_lat = 1;
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	l->base_p50_us = 2000;
	l->p50_us = 4000; /* +2 ms, but only 2x */
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	l->has_base = false;
	l->p50_us = 90000; /* no baseline: nothing to compare */
	judge();
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

static void test_decap_failure(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	drop("vxb", "VXLAN_VNI_NOT_FOUND", 11, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_DECAP);
	assert_non_null(strstr(out[0].sentence, "VNI"));
	assert_true(has_ev(&out[0], "decapsulated none"));

	lab();
	ev.tun[1].decap = 0;
	drop("vxb", "NO_SOCKET", 11, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_DECAP);
	assert_non_null(strstr(out[0].sentence, "wrong destination port"));

	/* Inner traffic to a closed port is ordinary, not a decap failure. */
	lab();
	drop("vxb", "NO_SOCKET", 11, false, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Kernels before 6.10 give vxlan_rcv's drops no reason: the place and the
 * VNI the packets carried, against the receiver's devices, still tell. */
/* ... and the transmit side's: the device's own configuration says why. */
static void test_encap_failure_unannotated(void **state)
{
	struct vx_ev_drop *d;

	lab();
	ev.tun[1].encap = 0;
	ev.tun[1].remote[0] = '\0';
	d = drop("vxb", "NOT_SPECIFIED", 25, false, NULL);
	snprintf(d->location, sizeof(d->location), "vxlan_xmit_one+0x4a2");
	snprintf(d->device, sizeof(d->device), "vxlan100");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_non_null(strstr(out[0].sentence, "no remote or FDB entry for the destination "
						"(NOT_SPECIFIED in vxlan_xmit_one+0x4a2)"));

	snprintf(ev.tun[1].remote, sizeof(ev.tun[1].remote), "10.0.0.1");
	ev.tun[1].underlay[0] = '\0';
	assert_int_equal(judge(), 1);
	assert_non_null(strstr(out[0].sentence,
			       "there is no route to the remote VTEP 10.0.0.1 (NOT_SPECIFIED"));

	snprintf(ev.tun[1].underlay, sizeof(ev.tun[1].underlay), "und0");
	assert_int_equal(judge(), 1);
	assert_non_null(strstr(out[0].sentence, "the VXLAN driver drops it on transmit"));
}

static void test_decap_failure_unannotated(void **state)
{
	struct vx_ev_drop *d;

	lab();
	ev.tun[1].decap = 0;
	ev.tun[1].vni = 200;
	d = drop("vxb", "NOT_SPECIFIED", 19, true, NULL);
	snprintf(d->location, sizeof(d->location), "vxlan_rcv+0xb1");
	d->has_vni = true;
	d->vni = 100;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_DECAP);
	assert_non_null(strstr(out[0].sentence,
			       "the VNI it carries has no VXLAN device here "
			       "(NOT_SPECIFIED in vxlan_rcv+0xb1); it carries VNI 100"));

	/* The VNI is served: the driver dropped it for another reason. */
	ev.tun[1].vni = 100;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_DECAP);
	assert_non_null(strstr(out[0].sentence, "the VXLAN driver drops it"));

	/* NOT_SPECIFIED elsewhere is nobody's verdict. */
	lab();
	d = drop("vxb", "NOT_SPECIFIED", 19, true, NULL);
	d->has_vni = true;
	d->vni = 100;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

static void test_encap_failure(void **state)
{
	lab();
	drop("vxa", "VXLAN_NO_REMOTE", 3, false, NULL);
	drop("vxa", "NEIGH_FAILED", 2, true, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_string_equal(vx_verdict_id(out[0].verdict), "encap_failure");
	assert_true(has_ev(&out[0], "VXLAN_NO_REMOTE"));
	assert_true(has_ev(&out[0], "NEIGH_FAILED"));

	lab();
	drop("vxa", "IP_OUTNOROUTES", 3, true, NULL);
	judge();
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_non_null(strstr(out[0].sentence, "no route to the remote VTEP"));

	/* 6.18's name for it; the overlay ARP failing behind it is evidence,
	 * and the sentence follows the most telling reason. */
	lab();
	snprintf(drop("vxa", "NEIGH_FAILED", 12, false, NULL)->device, 16, "vxlan100");
	snprintf(drop("vxa", "NO_TX_TARGET", 9, false, NULL)->device, 16, "vxlan100");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_non_null(strstr(out[0].sentence, "no remote or FDB entry"));
	assert_true(has_ev(&out[0], "12 drops in vxa: reason NEIGH_FAILED"));

	/* Overlay ARP unanswered on its own is a symptom, not this verdict. */
	lab();
	snprintf(drop("vxa", "NEIGH_FAILED", 12, false, NULL)->device, 16, "vxlan100");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Drops of reasons no verdict covers (a queue overflowing under load) do
 * not invent a fault. */
static void test_unrelated_drops(void **state)
{
	lab();
	drop("vxa", "QDISC_DROP", 500, true, NULL);
	drop("vxa", "NOT_SPECIFIED", 3, false, NULL);
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
}

/* Scenario 2 plus scenario 4: both named, nothing else. */
/* Found item 8: a mismatch diagnose read both ends of is said with both
 * values, from the packets where they carry it. */
static void test_values_in_verdicts(void **state)
{
	struct vx_ev_drop *d;

	/* B listens on 4790; A's packets go to 4789. */
	lab();
	ev.tun[1].decap = 0;
	ev.tun[1].dstport = 4790;
	d = drop("vxb", "NO_SOCKET", 11, true, NULL);
	snprintf(d->outer_src, sizeof(d->outer_src), "10.0.0.1");
	snprintf(d->outer_dst, sizeof(d->outer_dst), "10.0.0.2");
	d->outer_dport = 4789;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_DECAP);
	assert_non_null(strstr(out[0].sentence,
			       "(wrong destination port) (NO_SOCKET); vxa sends to "
			       "UDP 4789; vxb's vxlan100 listens on 4790."));
	/* Without the packets' port: the sender's own setting. */
	ev.tun[0].dstport = 8472;
	d->outer_dport = 0;
	d->outer_src[0] = '\0';
	judge();
	assert_non_null(
		strstr(out[0].sentence, "vxa sends to UDP 8472; vxb's vxlan100 listens on 4790"));

	/* A sends VNI 100; B's device has 200. */
	lab();
	ev.tun[1].decap = 0;
	ev.tun[1].vni = 200;
	ev.tun[0].peer = ev.tun[1].peer = -1;
	d = drop("vxb", "VXLAN_VNI_NOT_FOUND", 11, true, NULL);
	d->has_vni = true;
	d->vni = 100;
	assert_int_equal(judge(), 1);
	assert_non_null(strstr(out[0].sentence,
			       "it carries VNI 100, which no VXLAN device in vxb has "
			       "(vxb's vxlan100 has VNI 200)."));

	/* The MTU to set, computed. */
	lab();
	ev.tun[1].underlay_mtu = 1400;
	ev.tun[1].mtu = 1450;
	ev.tun[1].mtu_bad = true;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_MTU);
	assert_non_null(strstr(out[0].sentence,
			       "overlay MTU 1450 does not fit its underlay und0 (MTU 1400)"));
	assert_non_null(strstr(out[0].next,
			       "Set the overlay MTU to 1350 (the smallest underlay MTU, "
			       "1400, minus 50) on both ends (`ip link set vxlan100 mtu 1350`)"));

	/* A's remote is nobody's; B (VNI 100) is at 10.0.0.2. */
	lab();
	snprintf(ev.tun[0].remote, sizeof(ev.tun[0].remote), "10.0.0.3");
	ev.tun[0].peer = -1;
	ev.tun[1].decap = 0;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ONE_SIDED);
	assert_string_equal(out[0].netns, "vxa");
	assert_non_null(strstr(out[0].sentence,
			       "vxa's vxlan100 sends to 10.0.0.3, but vxb's vxlan100 "
			       "(VNI 100) is at 10.0.0.2."));
	assert_non_null(strstr(out[0].next, "remote 10.0.0.2"));
	/* ... and where its neighbour fails, the encap failure says both. */
	d = drop("vxa", "NEIGH_FAILED", 4, true, NULL);
	snprintf(d->device, sizeof(d->device), "und0");
	snprintf(d->outer_dst, sizeof(d->outer_dst), "10.0.0.3");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_non_null(
		strstr(out[0].sentence,
		       "the underlay neighbour (ARP/ND) of the remote VTEP 10.0.0.3 cannot be "
		       "resolved (NEIGH_FAILED); vxa's vxlan100 sends to 10.0.0.3, but vxb's "
		       "vxlan100 (VNI 100) is at 10.0.0.2."));

	/* The remote of a neighbour failure from the tunnel over that underlay. */
	lab();
	d = drop("vxa", "NEIGH_FAILED", 4, true, NULL);
	snprintf(d->device, sizeof(d->device), "und0");
	judge();
	assert_non_null(strstr(out[0].sentence, "of the remote VTEP 10.0.0.2 cannot be resolved"));
}

/* Found item 2: a metadata-mode device's own IPv6 router solicitations,
 * dropped for want of tunnel information, touch none of the traffic that
 * matters: a note that says what the kernel means, no finding. The same
 * reason on the traffic that matters is a finding in the same words. */
static void test_noise_is_a_note(void **state)
{
	char notes[4][VX_NOTE_LEN];
	struct vx_ev_drop *d;

	lab();
	d = drop("vxa", "TUNNEL_TXINFO", 2, false, NULL);
	snprintf(d->device, sizeof(d->device), "vx");
	snprintf(d->packet, sizeof(d->packet), "fe80::1→ff02::2 icmpv6 type 133 code 0");
	d->unrelated = true;
	d = drop("vxb", "NETFILTER_DROP", 3, false, "-A INPUT -p udp --dport 53 -j DROP");
	d->unrelated = true;
	drop("vxb", "NOT_SPECIFIED", 5, false, NULL)->unrelated = true;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);
	assert_int_equal(vx_findings_notes(&ev, notes, 4), 2);
	assert_non_null(strstr(notes[0],
			       "2 drops in vxa on vx of other traffic than the probe's "
			       "(e.g. fe80::1→ff02::2 icmpv6 type 133 code 0), not a "
			       "finding: TUNNEL_TXINFO, a packet was sent on a metadata-mode "
			       "(external) tunnel device without tunnel information"));
	assert_null(strstr(notes[0], "neighbour (ARP/ND) of the remote VTEP"));
	assert_non_null(strstr(notes[1], "3 drops in vxb of other traffic"));
	ev.probed = false;
	assert_int_equal(vx_findings_notes(&ev, notes, 1), 1);
	assert_non_null(strstr(notes[0], "of the host's own link-local control traffic"));

	/* On the traffic that matters: a finding, in the kernel's meaning. */
	lab();
	snprintf(drop("vxa", "TUNNEL_TXINFO", 2, false, NULL)->device, 16, "vx");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_ENCAP);
	assert_non_null(strstr(out[0].sentence, "metadata-mode (external) tunnel device without "
						"tunnel information"));
	assert_null(strstr(out[0].sentence, "neighbour (ARP/ND)"));
	assert_int_equal(vx_findings_notes(&ev, notes, 4), 0);
}

/* Every decap and encap reason of the table gives its verdict, worded
 * with the reason: the table and the reasoning cannot drift apart. */
static void test_every_table_reason(void **state)
{
	const struct vx_drop_reason_info *t;
	int n;

	t = vx_drop_reason_table(&n);
	for (int i = 0; i < n; i++) {
		struct vx_ev_drop *d;
		enum vx_verdict want;
		bool decap = t[i].flags & VX_DR_DECAP, encap = t[i].flags & VX_DR_ENCAP;

		if (!decap && !encap)
			continue;
		lab();
		ev.tun[decap ? 1 : 0].decap = decap ? 0 : 40;
		d = drop(decap ? "vxb" : "vxa", t[i].name, 3, decap || (t[i].flags & VX_DR_NEIGH),
			 NULL);
		snprintf(d->device, sizeof(d->device), "und0");
		judge();
		/* Bad outer checksums have a verdict of their own. */
		want = !strcmp(t[i].name, "UDP_CSUM") ? VX_V_OUTER_CSUM :
		       decap			      ? VX_V_DECAP :
							VX_V_ENCAP;
		if (out[0].verdict != want || !strstr(out[0].sentence, t[i].name))
			fail_msg("%s gives '%s': %s", t[i].name, vx_verdict_id(out[0].verdict),
				 out[0].sentence);
	}
}

static void test_two_faults(void **state)
{
	lab();
	ev.tun[0].mtu = ev.tun[1].mtu = 1500;
	ev.tun[1].underlay_mtu = 1400;
	ev.tun[1].mtu_bad = true;
	drop("vxb", "NETFILTER_DROP", 5, false, "-A INPUT -i vxlan100 -p icmp -j DROP");
	assert_int_equal(judge(), 2);
	assert_int_equal(out[0].verdict, VX_V_NETFILTER_OVERLAY);
	assert_int_equal(out[1].verdict, VX_V_MTU);
}

/* A target that does not answer, with nothing else wrong: its own
 * finding. With another fault beside it, that fault is the explanation. */
static void test_probe_unanswered(void **state)
{
	lab();
	ev.probes[0] = (struct vx_ev_probe){ .from = "vxa", .to = "10.9.9.9", .sent = 20 };
	ev.probes[1] = (struct vx_ev_probe){
		.from = "vxa", .to = "172.16.0.2", .sent = 20, .received = 20
	};
	ev.n_probes = 2;
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_UNREACHABLE);
	assert_string_equal(vx_verdict_id(out[0].verdict), "probe_unanswered");
	assert_non_null(strstr(out[0].sentence, "vxa cannot reach 10.9.9.9: 0 of 20 probe pings"));
	assert_true(has_ev(&out[0], "20 sent, 0 answered"));

	ev.probes[0].received = 12; /* more than half: answering */
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	ev.probes[0].received = 0;
	ev.probes[0].sent = VX_PROBE_MIN_SENT - 1; /* too few to say */
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_HEALTHY);

	ev.probes[0].sent = 20;
	drop("vxb", "NETFILTER_DROP", 20, false, "-A INPUT -p icmp -j DROP");
	assert_int_equal(judge(), 1);
	assert_int_equal(out[0].verdict, VX_V_NETFILTER_OVERLAY);
}

static void test_out_of_room(void **state)
{
	lab();
	ev.tun[1].decap = 0;
	ev.tun[0].mtu_bad = true;
	assert_int_equal(vx_findings_judge(&ev, out, 1), 1);
	assert_int_equal(vx_findings_judge(&ev, out, 0), 0);
	assert_string_equal(vx_verdict_id(VX_V__MAX), "unknown");
}

/* --baseline: names compared after unescaping, p50_us a member rather than
 * the tail of a longer key, numbers only, p50 above 0, p90 not below. */
static void test_baseline_lookup(void **state)
{
	const char *text =
		"{\"type\":\"diagnosis\",\"latency\":["
		"{\"netns\":\"a\\\"b\",\"device\":\"vxlan100\",\"stage\":\"rtt\",\"p50_us\":200,"
		"\"p90_us\":300,\"samples\":30},"
		"{\"base_p50_us\":9,\"netns\":\"x\",\"device\":\"v\",\"stage\":\"rtt\",\"p90_us\":7},"
		"{\"netns\":\"y\",\"device\":\"v\",\"stage\":\"rtt\",\"p50_us\":\"200\",\"p90_us\":1},"
		"{\"netns\":\"z\",\"device\":\"v\",\"stage\":\"rtt\",\"p50_us\":5,\"p90_us\":-1},"
		"{\"netns\":\"w\",\"device\":\"v\",\"stage\":\"rtt\",\"p50_us\":0,\"p90_us\":1}]}";
	char err[256];
	struct vx_baseline *b = vx_baseline_parse(text, strlen(text), "t.json", err, sizeof(err));
	double p50 = -1, p90 = -1;

	(void)state;
	assert_non_null(b);
	assert_true(vx_baseline_lookup(b, "a\"b", "vxlan100", "rtt", &p50, &p90));
	assert_true(p50 == 200 && p90 == 300);
	p50 = p90 = -1;
	assert_false(vx_baseline_lookup(b, "x", "v", "rtt", &p50, &p90));
	assert_false(vx_baseline_lookup(b, "y", "v", "rtt", &p50, &p90));
	assert_false(vx_baseline_lookup(b, "z", "v", "rtt", &p50, &p90));
	assert_false(vx_baseline_lookup(b, "w", "v", "rtt", &p50, &p90));
	assert_false(vx_baseline_lookup(b, "a\"b", "vxlan100", "encap", &p50, &p90));
	assert_true(p50 == -1 && p90 == -1);
	vx_baseline_free(b);
}

/* The same document pretty-printed (jq . does this to a saved run) is the
 * same baseline, and so is -j's output with its log lines; text that is
 * not a diagnosis is one sentence saying why, and where. */
static void test_baseline_pretty_and_errors(void **state)
{
	const char *pretty = "{\n  \"type\": \"diagnosis\",\n  \"latency\": [\n    {\n"
			     "      \"netns\": \"vxlab-a\",\n      \"device\": \"vxlan100\",\n"
			     "      \"stage\": \"rtt\",\n      \"p50_us\": 61.5,\n"
			     "      \"p90_us\": 80\n    }\n  ]\n}\n";
	const char *stream =
		"{\"level\":\"info\",\"message\":\"diagnosing\"}\n"
		"{\"type\":\"diagnosis\",\"latency\":[{\"netns\":\"n\",\"device\":\"v\","
		"\"stage\":\"rtt\",\"p50_us\":1,\"p90_us\":1}]}\n"
		"{\"type\":\"diagnosis\",\"latency\":[{\"netns\":\"n\",\"device\":\"v\","
		"\"stage\":\"rtt\",\"p50_us\":2,\"p90_us\":3}]}\n";
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "not json", "not JSON (line 1, column " },
		{ "{\"type\":\"summary\",\"latency\":[]}", "no \"type\":\"diagnosis\"" },
		{ "{\"type\":\"diagnosis\"}", "no latency to compare against" },
		{ " \n ", "no \"type\":\"diagnosis\" document" },
		{ "", "not JSON (line 1, column 0: " },
		{ "{\"level\":\"info\"}\n{\"type\":\"diagnosis\",\n \"latency\": [}",
		  "not JSON (line 3, column 14: " },
		{ "{\"type\":\"diagnosis\",\"latency\":{}}", "no latency to compare against" },
		{ "{\"type\":\"diagnosis\",\"type\":\"diagnosis\",\"latency\":[]}", "not JSON" },
		/* jansson refuses an overflowing number: no infinity gets in. */
		{ "{\"type\":\"diagnosis\",\"latency\":[{\"p50_us\":1e999}]}", "not JSON" },
	};
	char err[256];
	struct vx_baseline *b =
		vx_baseline_parse(pretty, strlen(pretty), "p.json", err, sizeof(err));
	double p50 = 0, p90 = 0;

	(void)state;
	assert_non_null(b);
	assert_true(vx_baseline_lookup(b, "vxlab-a", "vxlan100", "rtt", &p50, &p90));
	assert_true(p50 == 61.5 && p90 == 80);
	vx_baseline_free(b);
	/* -j's log lines beside the diagnosis (2>&1): the last diagnosis. */
	b = vx_baseline_parse(stream, strlen(stream), "s.json", err, sizeof(err));
	assert_non_null(b);
	assert_true(vx_baseline_lookup(b, "n", "v", "rtt", &p50, &p90));
	assert_true(p50 == 2 && p90 == 3);
	vx_baseline_free(b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(vx_baseline_parse(bad[i].text, strlen(bad[i].text), "b.json", err,
					      sizeof(err)));
		assert_non_null(strstr(err, "'b.json' is not the output of `vxray diagnose -j`: "));
		assert_non_null(strstr(err, bad[i].why));
	}
	assert_null(vx_baseline_load("/nonexistent/vxray-baseline.json", err, sizeof(err)));
	assert_non_null(
		strstr(err, "cannot read the baseline '/nonexistent/vxray-baseline.json': "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_healthy_quiet),
		cmocka_unit_test(test_too_few_packets),
		cmocka_unit_test(test_one_sided_underlay_loss),
		cmocka_unit_test(test_one_sided_by_netfilter),
		cmocka_unit_test(test_one_sided_other_drop),
		cmocka_unit_test(test_bad_outer_checksum),
		cmocka_unit_test(test_netfilter_overlay),
		cmocka_unit_test(test_netfilter_underlay),
		cmocka_unit_test(test_netfilter_side_unknown),
		cmocka_unit_test(test_mtu_ends_differ),
		cmocka_unit_test(test_one_sided_port_and_metrics),
		cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_conntrack_not_full),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_latency_noise),
		cmocka_unit_test(test_decap_failure),
		cmocka_unit_test(test_decap_failure_unannotated),
		cmocka_unit_test(test_encap_failure_unannotated),
		cmocka_unit_test(test_encap_failure),
		cmocka_unit_test(test_unrelated_drops),
		cmocka_unit_test(test_values_in_verdicts),
		cmocka_unit_test(test_noise_is_a_note),
		cmocka_unit_test(test_every_table_reason),
		cmocka_unit_test(test_two_faults),
		cmocka_unit_test(test_probe_unanswered),
		cmocka_unit_test(test_out_of_room),
		cmocka_unit_test(test_baseline_lookup),
		cmocka_unit_test(test_baseline_pretty_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
