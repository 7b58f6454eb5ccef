// SPDX-License-Identifier: GPL-2.0-only
/* The --probe client's bookkeeping, without sending anything: its report
 * parsed into per-target counts, the burst marks heard on whole lines as
 * they arrive through the pipe, the round trips turned into evidence
 * against the window's first third, and the --target lookups. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe.h"

static struct vx_probe pr;
static struct vx_evidence ev;

static void report(const char *text)
{
	pr.len = strlen(text);
	memcpy(pr.buf, text, pr.len);
}

static void target(int i, const char *src_ns, const char *addr, int tun)
{
	struct vx_probe_target *g = &pr.tg[i];

	snprintf(g->src_ns, sizeof(g->src_ns), "%s", src_ns);
	g->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(g->family, addr, g->dst), 1);
	g->tun = tun;
	if (pr.n_tg <= i)
		pr.n_tg = i + 1;
}

static int setup(void **state)
{
	memset(&pr, 0, sizeof(pr));
	memset(&ev, 0, sizeof(ev));
	return 0;
}

static void test_parse(void **state)
{
	const struct vx_probe_target *g = &pr.tg[0];

	target(0, "vxa", "10.10.0.2", 0);
	target(1, "vxb", "10.10.0.1", 1);
	report("S 0\nS 0\nS 1\nM 0\nB 0\n"
	       "R 0 12.500 250.0 64\n"
	       "R 0 210.000 300.5 92\n"
	       "R 0 400.000 900.0 1430\n" /* a full-size answer: no RTT sample */
	       "T 0 262144 262144\n"
	       "M 1\n"
	       "S 7\nR 9 1.0 1.0 64\n" /* no such target */
	       "garbage\nR\nR 0 nonsense\n");
	vx_probe_parse(&pr);
	assert_int_equal(g->sent, 2);
	assert_int_equal(g->big_sent, 1);
	assert_int_equal(g->received, 2);
	assert_int_equal(g->big_received, 1);
	assert_int_equal(g->n_rtt, 2);
	assert_true(g->rtt_us[0] == 250.0 && g->rtt_us[1] == 300.5);
	assert_true(g->rtt_ms_at[0] == 12.5 && g->rtt_ms_at[1] == 210.0);
	assert_true(g->tcp_done);
	assert_int_equal(g->tcp_sent, 262144);
	assert_int_equal(g->tcp_received, 262144);
	assert_int_equal(pr.tg[1].sent, 1);
	assert_int_equal(pr.tg[1].received, 0);
	assert_false(pr.tg[1].tcp_done);
}

/* The remote VTEP's pings over the underlay: reported under index
 * VX_PROBE_UL + idx, kept apart from the overlay's; evidence carries both
 * medians. */
static void test_parse_underlay(void **state)
{
	const struct vx_probe_target *g = &pr.tg[0];

	target(0, "vxa", "10.10.0.2", 0);
	pr.tg[0].ul_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", pr.tg[0].ul_dst);
	report("S 0\nS 1000\nS 0\nS 1000\n"
	       "R 0 1.000 900.0 64\nR 0 201.000 1100.0 64\n"
	       "R 1000 1.000 40.0 64\n"
	       "S 1001\nR 1001 1.0 1.0 64\n"); /* no such target */
	vx_probe_parse(&pr);
	assert_int_equal(g->sent, 2);
	assert_int_equal(g->received, 2);
	assert_int_equal(g->ul_sent, 2);
	assert_int_equal(g->ul_received, 1);
	assert_int_equal(g->n_ul_rtt, 1);
	assert_true(g->ul_rtt_us[0] == 40.0);
	assert_int_equal(g->n_rtt, 2);

	snprintf(ev.tun[0].netns, sizeof(ev.tun[0].netns), "vxa");
	ev.n_tun = 1;
	vx_probe_fill_probes(&pr, &ev);
	assert_string_equal(ev.probes[0].ul_to, "10.0.0.2");
	assert_int_equal(ev.probes[0].ul_samples, 1);
	assert_true(ev.probes[0].ul_rtt_p50_us == 40.0);
	assert_int_equal(ev.probes[0].rtt_samples, 2);
	assert_true(ev.probes[0].rtt_p50_us == 900.0);
}

static int marks[8], n_marks;

static void on_mark(void *ctx, enum vx_probe_mark m)
{
	assert_ptr_equal(ctx, &pr);
	if (n_marks < 8)
		marks[n_marks++] = m;
}

static void test_read_marks(void **state)
{
	int pfd[2];

	assert_int_equal(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
	pr.fd = pfd[0];
	assert_int_equal(vx_probe_fd(&pr), pfd[0]);
	n_marks = 0;
	/* A mark counts once its line is whole. */
	assert_int_equal(write(pfd[1], "S 0\nM 0", 7), 7);
	assert_int_equal(vx_probe_read(&pr, on_mark, &pr), 0);
	assert_int_equal(n_marks, 0);
	assert_int_equal(write(pfd[1], "\nS 0\nM 1\nM 2\n", 13), 13);
	assert_int_equal(vx_probe_read(&pr, on_mark, &pr), 0);
	assert_int_equal(n_marks, 2);
	assert_int_equal(marks[0], VX_PROBE_BURST_BEGIN);
	assert_int_equal(marks[1], VX_PROBE_BURST_END);
	/* Nothing waiting: nothing heard again, and no callback needed. */
	assert_int_equal(vx_probe_read(&pr, on_mark, &pr), 0);
	assert_int_equal(n_marks, 2);
	assert_int_equal(write(pfd[1], "M 0\n", 4), 4);
	assert_int_equal(vx_probe_read(&pr, NULL, NULL), 0);
	assert_int_equal(pr.len, 24);
	close(pfd[0]);
	close(pfd[1]);
	/* The report reads on after the marks. */
	pr.n_tg = 1;
	vx_probe_parse(&pr);
	assert_int_equal(pr.tg[0].sent, 2);
}

static void test_stop_without_child(void **state)
{
	/* Never started: nothing to wait for, nothing parsed. */
	vx_probe_stop(&pr);
	assert_int_equal(pr.pid, 0);
}

static void test_fill(void **state)
{
	struct vx_probe_target *g;
	char a[INET6_ADDRSTRLEN];

	snprintf(ev.tun[0].netns, sizeof(ev.tun[0].netns), "vxa");
	snprintf(ev.tun[0].device, sizeof(ev.tun[0].device), "vxlan100");
	ev.n_tun = 1;
	target(0, "vxa", "10.10.0.2", 0);
	target(1, "lab", "2001:db8::2", -1);
	target(2, "lab", "203.0.113.9", -1); /* no answers: no latency entry */
	/* 12 round trips: the first third (4) is the baseline. */
	g = &pr.tg[0];
	for (int i = 0; i < 12; i++)
		g->rtt_us[g->n_rtt++] = i < 4 ? 100 + i : 1000 + i;
	g->sent = 15;
	g->received = 12;
	/* Too few for a baseline of its own. */
	g = &pr.tg[1];
	for (int i = 0; i < 5; i++)
		g->rtt_us[g->n_rtt++] = 40;
	g->sent = 5;
	g->received = 5;

	assert_string_equal(vx_probe_target_addr(&pr.tg[1], a, sizeof(a)), "2001:db8::2");
	vx_probe_fill_probes(&pr, &ev);
	assert_int_equal(ev.n_probes, 3);
	assert_string_equal(ev.probes[0].from, "vxa");
	assert_string_equal(ev.probes[0].to, "10.10.0.2");
	assert_int_equal(ev.probes[0].sent, 15);
	assert_int_equal(ev.probes[0].received, 12);
	assert_string_equal(ev.probes[2].to, "203.0.113.9");

	vx_probe_fill_latency(&pr, &ev, NULL, NULL);
	assert_int_equal(ev.n_lat, 2);
	assert_string_equal(ev.lat[0].netns, "vxa");
	assert_string_equal(ev.lat[0].device, "vxlan100");
	assert_string_equal(ev.lat[0].stage, "rtt");
	assert_true(ev.lat[0].has_base);
	assert_string_equal(ev.lat[0].base_from, "the window's first third");
	assert_true(ev.lat[0].base_p50_us == 101 && ev.lat[0].base_p90_us == 103);
	assert_int_equal(ev.lat[0].samples, 8);
	assert_true(ev.lat[0].p50_us == 1007 && ev.lat[0].p90_us == 1011);
	/* A target outside every tunnel is named by where it goes. */
	assert_string_equal(ev.lat[1].netns, "lab");
	assert_string_equal(ev.lat[1].device, "to 2001:db8::2");
	assert_false(ev.lat[1].has_base);
	assert_int_equal(ev.lat[1].samples, 5);
	assert_true(ev.lat[1].p50_us == 40);
}

/* The size sweep ("Z" sent, "R" answers of those sizes), ICMP too-big
 * errors ("F") and the route MTU after the burst ("P"), as the evidence
 * the PMTU check reads: inner packet sizes, the edge between answered and
 * lost, and whether it is clean. */
static void test_sweep(void **state)
{
	const struct vx_ev_probe *p = &ev.probes[0], *q = &ev.probes[1];

	target(0, "vxa", "10.10.0.2", 0);
	target(1, "vxb", "fd10::1", 1);
	pr.tg[0].mtu = pr.tg[1].mtu = 1450;
	report("B 0\nB 0\nB 0\n"
	       "Z 0 1420\nZ 0 1410\nZ 0 1330\nZ 0 1320\n"
	       "R 0 1.0 90.0 1330\nR 0 1.0 90.0 1320\n"
	       "R 0 1.0 90.0 1430\n" /* a full-size answer, not a swept size */
	       "P 0 1450\n"
	       /* target 1: an answer above a loss, and too-big errors */
	       "Z 1 1400\nZ 1 1390\nZ 1 1380\n"
	       "R 1 1.0 90.0 1400\nR 1 1.0 90.0 1380\n"
	       "F 1 1280\nF 1 1300\nP 1 1300\n");
	vx_probe_parse(&pr);
	assert_int_equal(pr.tg[0].n_sw, 4);
	assert_int_equal(pr.tg[0].big_sent, 3);
	assert_int_equal(pr.tg[0].big_received, 1);
	vx_probe_fill_probes(&pr, &ev);
	assert_int_equal(p->tun, 0);
	assert_int_equal(p->big_sent, 3);
	assert_int_equal(p->big_received, 1);
	assert_int_equal(p->sweep_sent, 4);
	/* IPv4: 20 bytes of header on each payload size. */
	assert_int_equal(p->sweep_ok, 1350);
	assert_int_equal(p->sweep_lost, 1430);
	assert_true(p->sweep_clean);
	assert_int_equal(p->too_big, 0);
	assert_int_equal(p->route_mtu, 1450);
	/* IPv6: 40 bytes; 1390 lost between two answered sizes. */
	assert_int_equal(q->sweep_sent, 3);
	assert_int_equal(q->sweep_ok, 1440);
	assert_int_equal(q->sweep_lost, 1430);
	assert_false(q->sweep_clean);
	assert_int_equal(q->too_big, 2);
	assert_int_equal(q->too_big_mtu, 1300);
	assert_int_equal(q->route_mtu, 1300);
}

static void test_user_targets(void **state)
{
	struct vx_target_spec s[2] = {};
	char names[1][VX_NETNS_NAME_MAX] = { "" };

	snprintf(ev.tun[0].netns, sizeof(ev.tun[0].netns), "%s", "");
	ev.tun[0].mtu = 1450;
	ev.n_tun = 1;
	/* From vxray's own namespace to an address no namespace holds. */
	s[0].family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.213", s[0].addr), 1);
	assert_int_equal(
		vx_probe_user_targets(&pr, s, 1, &ev, (const char(*)[VX_NETNS_NAME_MAX])names, 1),
		0);
	assert_int_equal(pr.n_tg, 1);
	assert_int_equal(pr.tg[0].tun, 0);
	assert_int_equal(pr.tg[0].mtu, 1450);
	assert_int_equal(pr.tg[0].family, AF_INET);
	assert_false(pr.tg[0].dst_known);
	/* A source namespace that does not exist is the user's mistake. */
	snprintf(s[1].netns, sizeof(s[1].netns), "vxray-no-such-netns-%d", (int)getpid());
	s[1].family = AF_INET;
	assert_int_equal(vx_probe_user_targets(&pr, s + 1, 1, &ev,
					       (const char(*)[VX_NETNS_NAME_MAX])names, 1),
			 -ENOENT);
}

/* test_user_targets looks through the host's named namespaces. Other
 * suites create and delete theirs meanwhile, and a cleanup that kills every
 * process inside one kills this test too while it visits: CI saw it exit
 * 143 when the lab's heal did (`ip netns pids`, since narrowed to the
 * lab's own). It sees an empty /run/netns of its own instead, where it can
 * (root); elsewhere it cannot enter namespaces anyway. */
static void private_netns_dir(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return;
	mount("vxray-test", "/run/netns", "tmpfs", 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_parse, setup),
		cmocka_unit_test_setup(test_parse_underlay, setup),
		cmocka_unit_test_setup(test_read_marks, setup),
		cmocka_unit_test_setup(test_stop_without_child, setup),
		cmocka_unit_test_setup(test_fill, setup),
		cmocka_unit_test_setup(test_sweep, setup),
		cmocka_unit_test_setup(test_user_targets, setup),
	};

	private_netns_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
