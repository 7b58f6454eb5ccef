// SPDX-License-Identifier: GPL-2.0-only
/* The diagnosis' drop evidence on hand-built drops and rule counts: drops
 * of one kind merged, the outer/inner side decided by the tunnels, and the
 * netfilter rules put on the NETFILTER_DROP drops -- the only rule of its
 * kind naming the kernel's drops, several rules splitting them, a rule
 * with no kernel drop beside it becoming an entry of its own. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dropev.h"
#include "dropsrc.h"

static struct vx_evidence ev;
static struct vx_dropev w;

static int setup(void **state)
{
	memset(&ev, 0, sizeof(ev));
	memset(&w, 0, sizeof(w));
	w.ev = &ev;
	snprintf(ev.tun[0].netns, sizeof(ev.tun[0].netns), "vxb");
	snprintf(ev.tun[0].device, sizeof(ev.tun[0].device), "vxlan100");
	snprintf(ev.tun[0].underlay, sizeof(ev.tun[0].underlay), "und0");
	ev.tun[0].dstport = 4789;
	ev.n_tun = 1;
	return 0;
}

static void rule(const char *netns, const char *text, uint64_t after)
{
	struct vx_dropev_rule *r = &w.rules[w.n_rules++];

	snprintf(r->netns, sizeof(r->netns), "%s", netns);
	snprintf(r->rule, sizeof(r->rule), "%s", text);
	r->after = after;
	r->seen_before = true;
}

static struct vx_ev_drop *kdrop(const char *netns, bool outer, uint64_t count)
{
	struct vx_ev_drop *d = &ev.drops[ev.n_drops++];

	snprintf(d->netns, sizeof(d->netns), "%s", netns);
	snprintf(d->reason, sizeof(d->reason), "NETFILTER_DROP");
	snprintf(d->location, sizeof(d->location), "nf_hook_slow+0x8f");
	snprintf(d->device, sizeof(d->device), "und0");
	d->outer = outer;
	d->count = count;
	return d;
}

static void test_on_drop_merges(void **state)
{
	/* inum 1 is no namespace: named "netns:1", never "host". */
	struct vxd_event e = { .netns = 1, .flags = VXD_F_OUTER };
	struct vx_drop x = { .ev = &e,
			     .reason = "SKB_DROP_REASON_NETFILTER_DROP",
			     .location = "nf_hook_slow+0x8f" };

	e.outer.proto = IPPROTO_UDP;
	e.outer.dport = 4789; /* a tunnel's port: underlay traffic */
	vx_dropev_on_drop(&w, &x);
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 1);
	assert_int_equal(ev.drops[0].count, 2);
	assert_string_equal(ev.drops[0].reason, "NETFILTER_DROP");
	assert_string_equal(ev.drops[0].netns, "netns:1");
	assert_string_equal(ev.drops[0].device, "");
	assert_true(ev.drops[0].outer);
	assert_false(ev.drops[0].has_vni);

	/* The same after decapsulation is the inner packet's. */
	e.flags |= VXD_F_DECAP;
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 2);
	assert_false(ev.drops[1].outer);

	/* UDP to a port no tunnel uses, not parsed as VXLAN: inner too. */
	e.flags = VXD_F_OUTER;
	e.outer.dport = 53;
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 2);
	assert_int_equal(ev.drops[1].count, 2);

	/* A VXLAN packet: outer, with its VNI apart from the others. */
	e.flags = VXD_F_OUTER | VXD_F_TUNNEL;
	e.vni = 100;
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 3);
	assert_true(ev.drops[2].outer && ev.drops[2].has_vni);
	assert_int_equal(ev.drops[2].vni, 100);

	/* An unknown location is kept empty. */
	e.flags = 0;
	x.location = "-";
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 4);
	assert_string_equal(ev.drops[3].location, "");
	assert_false(ev.drops[3].outer);
	/* ... and the next one like it counts on the same row. */
	vx_dropev_on_drop(&w, &x);
	assert_int_equal(ev.n_drops, 4);
	assert_int_equal(ev.drops[3].count, 2);
}

static void test_only_rule_names_drops(void **state)
{
	kdrop("vxb", true, 5);
	rule("vxb", "-A INPUT -i und0 -p udp -m udp --dport 4789 -j DROP", 7);
	/* An inner rule with no kernel drop of its side beside it. */
	rule("vxb", "-A FORWARD -s 10.9.0.1/32 -j DROP", 3);
	/* A rule whose counter did not rise says nothing. */
	rule("vxb", "-A FORWARD -s 10.9.0.2/32 -j DROP", 0);
	vx_dropev_attach_rules(&w);
	assert_int_equal(ev.n_drops, 2);
	/* The counters are read a moment apart: the larger count wins. */
	assert_string_equal(ev.drops[0].rule, w.rules[0].rule);
	assert_int_equal(ev.drops[0].count, 7);
	assert_true(ev.drops[0].outer);
	assert_string_equal(ev.drops[1].rule, w.rules[1].rule);
	assert_string_equal(ev.drops[1].reason, "NETFILTER_DROP");
	assert_int_equal(ev.drops[1].count, 3);
	assert_false(ev.drops[1].outer);
	assert_string_equal(ev.drops[1].location, "");
}

static void test_rules_split_drops(void **state)
{
	kdrop("vxb", true, 10);
	/* nft spellings of the outer rules. */
	rule("vxb", "ip filter input: udp dport 4789 counter packets 4 drop", 4);
	rule("vxb", "ip filter input: iifname \"und0\" counter packets 6 drop", 6);
	/* Another namespace's rule takes nothing from vxb's drops. */
	rule("vxa", "ip filter input: udp dport 4789 counter packets 2 drop", 2);
	vx_dropev_attach_rules(&w);
	/* The kernel's entry is used up by the two rules and goes. */
	assert_int_equal(ev.n_drops, 3);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(ev.drops[i].netns, "vxb");
		assert_string_equal(ev.drops[i].rule, w.rules[i].rule);
		assert_string_equal(ev.drops[i].location, "nf_hook_slow+0x8f");
		assert_string_equal(ev.drops[i].device, "und0");
		assert_true(ev.drops[i].outer);
	}
	assert_int_equal(ev.drops[0].count, 4);
	assert_int_equal(ev.drops[1].count, 6);
	/* vxa has no tunnel here: a hop on the underlay path (a router),
	 * whose rule on the tunnel's port drops outer packets it forwards. */
	assert_string_equal(ev.drops[2].netns, "vxa");
	assert_true(ev.drops[2].outer);
	assert_int_equal(ev.drops[2].count, 2);
}

static void test_rules_leave_the_rest(void **state)
{
	/* Conntrack's own drops: more than the one rule accounts for. */
	kdrop("vxb", false, 9);
	rule("vxb", "-A FORWARD -s 10.9.0.1/32 -j DROP", 4);
	rule("vxb", "-A FORWARD -s 10.9.0.3/32 -j REJECT", 2);
	vx_dropev_attach_rules(&w);
	assert_int_equal(ev.n_drops, 3);
	assert_string_equal(ev.drops[0].rule, "");
	assert_int_equal(ev.drops[0].count, 3);
	assert_int_equal(ev.drops[1].count, 4);
	assert_int_equal(ev.drops[2].count, 2);
	vx_dropev_free(&w);
}

static void ip4(struct vxd_ip *ip, const char *s, const char *d, uint8_t proto)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = 4;
	inet_pton(AF_INET, s, ip->saddr);
	inet_pton(AF_INET, d, ip->daddr);
	ip->proto = proto;
}

static void ip6(struct vxd_ip *ip, const char *s, const char *d, uint8_t proto)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = 6;
	inet_pton(AF_INET6, s, ip->saddr);
	inet_pton(AF_INET6, d, ip->daddr);
	ip->proto = proto;
}

static struct vx_ev_drop *last; /* the row the last drop counted on */

/* One drop of @e as TUNNEL_TXINFO on device 0; whether the row it was
 * counted on is of unrelated traffic. */
static bool unrelated(struct vxd_event *e)
{
	struct vx_drop x = { .ev = e, .reason = "SKB_DROP_REASON_TUNNEL_TXINFO", .location = "-" };
	uint64_t before[VX_EV_MAX_DROPS] = { 0 };

	for (int i = 0; i < ev.n_drops; i++)
		before[i] = ev.drops[i].count;
	vx_dropev_on_drop(&w, &x);
	for (int i = 0; i < ev.n_drops; i++)
		if (ev.drops[i].count != before[i])
			last = &ev.drops[i];
	return last->unrelated;
}

/* Without a probe, only the host's own link-local control traffic is noise:
 * router solicitations, MLD reports, IGMP, duplicate address detection. */
static void test_noise_without_probe(void **state)
{
	struct vxd_event e = { .netns = 1, .flags = VXD_F_OUTER };

	ip6(&e.outer, "fe80::1", "ff02::2", IPPROTO_ICMPV6);
	assert_true(unrelated(&e));
	assert_string_equal(ev.drops[0].packet, "fe80::1→ff02::2 icmpv6 type 0 code 0");
	assert_string_equal(ev.drops[0].reason, "TUNNEL_TXINFO");
	ip6(&e.outer, "::", "ff02::1:ff00:2", IPPROTO_ICMPV6);
	assert_true(unrelated(&e));
	ip6(&e.outer, "2001:db8::1", "ff02::16", IPPROTO_ICMPV6);
	assert_true(unrelated(&e));
	ip4(&e.outer, "172.16.0.1", "224.0.0.22", 2);
	assert_true(unrelated(&e));
	/* Everything else matters: unicast, global multicast, non-IP. */
	ip4(&e.outer, "172.16.0.1", "172.16.0.2", IPPROTO_ICMP);
	assert_false(unrelated(&e));
	ip6(&e.outer, "2001:db8::1", "ff0e::1", IPPROTO_UDP);
	assert_false(unrelated(&e));
	e.flags = 0;
	e.protocol = 0x0806;
	assert_false(unrelated(&e));
	/* One row for the noise, one for what matters (its first packet the
	 * sample); an ARP frame first is that row's sample. */
	assert_int_equal(ev.drops[0].count, 4);
	assert_int_equal(ev.drops[1].count, 3);
	assert_string_equal(ev.drops[1].packet, "172.16.0.1→172.16.0.2 icmp type 0 code 0");
	memset(&ev.drops, 0, sizeof(ev.drops));
	ev.n_drops = 0;
	assert_false(unrelated(&e));
	assert_string_equal(last->packet, "arp frame");
}

/* With a probe, its packets are what matters: to or from its targets. */
static void test_noise_with_probe(void **state)
{
	struct vxd_event e = { .netns = 1, .flags = VXD_F_OUTER };
	uint8_t a[16];

	inet_pton(AF_INET, "172.16.0.2", a);
	vx_dropev_interest(&w, AF_INET, a);
	inet_pton(AF_INET6, "fd10::2", a);
	vx_dropev_interest(&w, AF_INET6, a);
	ip4(&e.outer, "172.16.0.1", "172.16.0.2", IPPROTO_ICMP);
	assert_false(unrelated(&e));
	ip4(&e.outer, "172.16.0.2", "172.16.0.1", IPPROTO_ICMP); /* the reply */
	assert_false(unrelated(&e));
	ip4(&e.outer, "172.16.0.1", "172.16.0.9", IPPROTO_TCP);
	assert_true(unrelated(&e));
	/* Resolving the probe's own IPv6 target matters; other ND does not. */
	ip6(&e.outer, "fd10::1", "ff02::1:ff00:2", IPPROTO_ICMPV6);
	assert_false(unrelated(&e));
	ip6(&e.outer, "fd10::1", "ff02::1:ff00:9", IPPROTO_ICMPV6);
	assert_true(unrelated(&e));

	/* A VXLAN packet: its inner headers decide ... */
	e.flags = VXD_F_OUTER | VXD_F_TUNNEL | VXD_F_INNER;
	ip4(&e.outer, "10.0.0.1", "10.0.0.2", IPPROTO_UDP);
	e.outer.dport = 4789;
	ip4(&e.inner, "172.16.0.1", "172.16.0.9", IPPROTO_ICMP);
	assert_true(unrelated(&e));
	ip4(&e.inner, "172.16.0.1", "172.16.0.2", IPPROTO_ICMP);
	assert_false(unrelated(&e));
	/* ... and the outer packet's VTEPs and port are kept. */
	assert_string_equal(last->outer_src, "10.0.0.1");
	assert_string_equal(last->outer_dst, "10.0.0.2");
	assert_int_equal(last->outer_dport, 4789);
	/* ... and without them (UDP to a tunnel's port, not parsed), it
	 * may be the probe's: it matters. */
	e.flags = VXD_F_OUTER;
	assert_false(unrelated(&e));
	assert_true(last->outer);
	assert_int_equal(last->outer_dport, 4789);
}

/* The tunnel's own underlay traffic matters with a probe too: a hop's ICMP
 * "fragmentation needed" toward a VTEP is the path's answer to the probe's
 * packets (a PMTU black hole when a firewall drops it). */
static void test_vtep_traffic_matters(void **state)
{
	struct vxd_event e = { .netns = 2, .flags = VXD_F_OUTER };
	uint8_t a[16];

	snprintf(ev.tun[0].local, sizeof(ev.tun[0].local), "10.0.2.2");
	snprintf(ev.tun[0].remote, sizeof(ev.tun[0].remote), "10.0.1.1");
	inet_pton(AF_INET, "172.16.0.2", a);
	vx_dropev_interest(&w, AF_INET, a);
	ip4(&e.outer, "10.0.1.254", "10.0.1.1", IPPROTO_ICMP);
	assert_false(unrelated(&e));
	ip4(&e.outer, "10.0.1.254", "10.0.9.9", IPPROTO_ICMP);
	assert_true(unrelated(&e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_on_drop_merges, setup),
		cmocka_unit_test_setup(test_only_rule_names_drops, setup),
		cmocka_unit_test_setup(test_rules_split_drops, setup),
		cmocka_unit_test_setup(test_rules_leave_the_rest, setup),
		cmocka_unit_test_setup(test_noise_without_probe, setup),
		cmocka_unit_test_setup(test_noise_with_probe, setup),
		cmocka_unit_test_setup(test_vtep_traffic_matters, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
