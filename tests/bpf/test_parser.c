// SPDX-License-Identifier: GPL-2.0-only
/* The datapath parser, run in the kernel through BPF_PROG_TEST_RUN on
 * crafted frames: what the programs recorded (ring-buffer event, result
 * counters) and what they returned (always XDP_PASS / TC_ACT_UNSPEC). */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "datapath.h"
#include "maputil.h"
#include "vxray.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

#define TC_UNSPEC 0xffffffffu

/* ---- frame builder ----------------------------------------------------- */

struct frame {
	unsigned char b[512];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void eth(struct frame *f, uint16_t type)
{
	static const unsigned char macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	put(f, macs, 12);
	put16(f, type);
}

static void vlan(struct frame *f, uint16_t tpid, uint16_t id)
{
	/* Called after eth(): rewrite the previous ethertype into the TPID. */
	uint16_t inner;

	memcpy(&inner, f->b + f->n - 2, 2);
	f->n -= 2;
	put16(f, tpid);
	put16(f, id);
	put(f, &inner, 2);
}

static void ip4(struct frame *f, uint8_t proto, const char *src, const char *dst, uint16_t id,
		int opt_words, uint16_t payload)
{
	unsigned char h[60] = {};
	int hl = 20 + opt_words * 4;

	h[0] = (unsigned char)(0x40 | (hl / 4));
	h[2] = (unsigned char)((hl + payload) >> 8);
	h[3] = (unsigned char)(hl + payload);
	h[4] = (unsigned char)(id >> 8);
	h[5] = (unsigned char)id;
	h[8] = 64;
	h[9] = proto;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	for (int i = 20; i < hl; i++)
		h[i] = 1; /* NOP options */
	put(f, h, (size_t)hl);
}

static void ip6(struct frame *f, uint8_t next, const char *src, const char *dst, uint16_t payload)
{
	unsigned char h[40] = { 0x60 };

	h[4] = (unsigned char)(payload >> 8);
	h[5] = (unsigned char)payload;
	h[6] = next;
	h[7] = 64;
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	put(f, h, 40);
}

static void ip6ext(struct frame *f, uint8_t next)
{
	unsigned char h[8] = { next, 0 };

	put(f, h, 8);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8);
	put16(f, 0);
}

static void vxlan(struct frame *f, uint8_t flags, uint32_t vni)
{
	unsigned char h[8] = { flags,
			       0,
			       0,
			       0,
			       (unsigned char)(vni >> 16),
			       (unsigned char)(vni >> 8),
			       (unsigned char)vni,
			       0 };

	put(f, h, 8);
}

static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
		int opt_words)
{
	unsigned char h[60] = {};
	int hl = 20 + opt_words * 4;

	h[0] = (unsigned char)(sport >> 8);
	h[1] = (unsigned char)sport;
	h[2] = (unsigned char)(dport >> 8);
	h[3] = (unsigned char)dport;
	h[4] = (unsigned char)(seq >> 24);
	h[5] = (unsigned char)(seq >> 16);
	h[6] = (unsigned char)(seq >> 8);
	h[7] = (unsigned char)seq;
	h[12] = (unsigned char)((hl / 4) << 4);
	h[13] = flags;
	put(f, h, (size_t)hl);
}

static void icmp(struct frame *f, uint8_t type, uint16_t id, uint16_t seq)
{
	unsigned char h[8] = { type,
			       0,
			       0,
			       0,
			       (unsigned char)(id >> 8),
			       (unsigned char)id,
			       (unsigned char)(seq >> 8),
			       (unsigned char)seq };

	put(f, h, 8);
}

/* Outer IPv4 10.0.0.1 -> @remote, VXLAN VNI 100 on @port, inner IPv4
 * 172.16.0.1 -> 172.16.0.2 TCP 40000 -> 5001 seq 12345 SYN. 104 bytes. */
static struct frame v4_v4_tcp_to(uint16_t port, const char *remote)
{
	struct frame f = {};

	eth(&f, 0x0800);
	ip4(&f, 17, "10.0.0.1", remote, 7, 0, 8 + 8 + 14 + 20 + 20);
	udp(&f, 51000, port);
	vxlan(&f, 0x08, 100);
	eth(&f, 0x0800);
	ip4(&f, 6, "172.16.0.1", "172.16.0.2", 4242, 0, 20);
	tcp(&f, 40000, 5001, 12345, 0x02, 0);
	return f;
}

/* The same to 10.0.0.2. */
static struct frame v4_v4_tcp(uint16_t port)
{
	return v4_v4_tcp_to(port, "10.0.0.2");
}

/* The outer headers of those frames: Ethernet, IPv4, UDP, VXLAN. The
 * tunnel statistics count the inner frame's bytes at every hook. */
#define V4_OUTER (14 + 20 + 8 + 8)

/* ---- harness ------------------------------------------------------------ */

struct env {
	struct vx_tc *tc;
	struct vx_xdp *xdp;
	struct ring_buffer *rb;
	struct vx_event last;
	int n_events;
	uint16_t snaplen;  /* cfg.snaplen: records carry a tail */
	uint8_t rec[4096]; /* the last record, tail and all */
	size_t rec_len;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct env *e = ctx;

	/* Without capture the record is the bare event, not a byte more:
	 * capture off costs nothing on the ring. */
	if (!e->snaplen)
		assert_int_equal(len, sizeof(struct vx_event));
	assert_true(len <= sizeof(e->rec));
	memcpy(&e->last, data, sizeof(e->last));
	memcpy(e->rec, data, len);
	e->rec_len = len;
	e->n_events++;
	return 0;
}

static void set_cfg(struct vx_dp_config *c, const struct vx_dp_config *want)
{
	memcpy(c, want, sizeof(*c));
}

/* @kern_ctx: how the tc programs read a packet's namespace (vx_kern_ctx). */
static struct env *env_new_k(const struct vx_dp_config *cfg, bool kern_ctx)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->snaplen = cfg->snaplen;
	e->tc = vx_tc__open();
	e->xdp = vx_xdp__open();
	assert_non_null(e->tc);
	assert_non_null(e->xdp);
	set_cfg((struct vx_dp_config *)&e->tc->rodata->cfg, cfg);
	set_cfg((struct vx_dp_config *)&e->xdp->rodata->cfg, cfg);
	e->tc->rodata->vx_kern_ctx = kern_ctx;
	assert_int_equal(vx_tc__load(e->tc), 0);
	/* One ring buffer and one set of counters for both objects, as the
	 * loader shares them. */
	assert_int_equal(bpf_map__reuse_fd(e->xdp->maps.vxp_rb, bpf_map__fd(e->tc->maps.vxp_rb)),
			 0);
	assert_int_equal(bpf_map__reuse_fd(e->xdp->maps.vxp_cnt, bpf_map__fd(e->tc->maps.vxp_cnt)),
			 0);
	assert_int_equal(vx_xdp__load(e->xdp), 0);
	e->rb = ring_buffer__new(bpf_map__fd(e->tc->maps.vxp_rb), on_event, e, NULL);
	assert_non_null(e->rb);
	return e;
}

/* As vxray loads them. */
static struct env *env_new(const struct vx_dp_config *cfg)
{
	return env_new_k(cfg, vx_dp_kern_ctx());
}

static void env_free(struct env *e)
{
	ring_buffer__free(e->rb);
	vx_xdp__destroy(e->xdp);
	vx_tc__destroy(e->tc);
	free(e);
}

static uint64_t counter(struct env *e, uint32_t idx)
{
	uint64_t all[VX_C__MAX];

	assert_true(idx < VX_C__MAX);
	vx_cnt_sum(bpf_map__fd(e->tc->maps.vxp_cnt), all, VX_C__MAX);
	return all[idx];
}

/* Run @prog on @f; returns the program's verdict. Events are consumed. */
static uint32_t run(struct env *e, struct bpf_program *prog, const struct frame *f, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		fail_msg("test run of %s on %zu bytes: %s", bpf_program__name(prog), f->n,
			 strerror(errno));
	ring_buffer__consume(e->rb);
	return o.retval;
}

static const struct vx_dp_config base_cfg = {
	.netns = 4026531840u,
	.events = 1,
	.n_vxlan_ports = 1,
	.vxlan_ports = { 8472 },
};

/* This process's namespace inode: that of a test run's packets. */
static uint32_t netns_inode(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

static int setup(void **state)
{
	if (geteuid())
		return 0;
	*state = env_new(&base_cfg);
	return 0;
}

static int teardown(void **state)
{
	if (*state)
		env_free(*state);
	return 0;
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (!*state)                                                                       \
			skip();                                                                    \
	} while (0)

static const char *a4(const uint8_t *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(AF_INET, a, buf[i], sizeof(buf[i]));
}

static const char *a6(const uint8_t *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(AF_INET6, a, buf[i], sizeof(buf[i]));
}

/* ---- tests -------------------------------------------------------------- */

static void test_v4_v4_tcp(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = v4_v4_tcp(4789);
	const struct vx_pkt *p = &e->last.pkt;

	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(e->last.result, VX_R_VXLAN);
	assert_int_equal(e->last.at, VX_AT_TC_UL_IN);
	assert_int_equal(e->last.kind, VX_K_DECAP);
	assert_int_equal(e->last.netns, base_cfg.netns);
	assert_int_equal(e->last.len, f.n);
	assert_true(e->last.ts_ns > 0);
	assert_int_equal(p->vni, 100);
	assert_int_equal(p->outer_family, 4);
	assert_string_equal(a4(p->outer_src), "10.0.0.1");
	assert_string_equal(a4(p->outer_dst), "10.0.0.2");
	assert_int_equal(p->outer_sport, 51000);
	assert_int_equal(p->outer_dport, 4789);
	assert_int_equal(p->inner_family, 4);
	assert_string_equal(a4(p->inner_src), "172.16.0.1");
	assert_string_equal(a4(p->inner_dst), "172.16.0.2");
	assert_int_equal(p->inner_proto, 6);
	assert_int_equal(p->inner_sport, 40000);
	assert_int_equal(p->inner_dport, 5001);
	assert_int_equal(p->tcp_seq, 12345);
	assert_int_equal(p->tcp_flags, 0x02);
	assert_int_equal(p->ip_id, 4242);
	assert_int_equal(p->inner_len, 40);
	/* The identity the latency join uses. */
	assert_int_equal(p->id.family, 4);
	assert_int_equal(p->id.proto, 6);
	assert_int_equal(p->id.sport, 40000);
	assert_int_equal(p->id.seq, 12345);
	assert_int_equal(p->id.ip_id, 4242);
	assert_memory_equal(&p->id.saddr, p->inner_src, 4);

	/* The same frame leaving: ENCAP. Through XDP: XDP_PASS. */
	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_out, &f, 1), TC_UNSPEC);
	assert_int_equal(e->last.kind, VX_K_ENCAP);
	assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &f, 1), XDP_PASS);
	assert_int_equal(e->last.at, VX_AT_XDP_UL_IN);
	assert_int_equal(e->last.pkt.vni, 100);
	assert_int_equal(e->n_events, 3);
}

static void test_v6_outer_v4_inner_icmp(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};

	eth(&f, 0x86DD);
	ip6(&f, 17, "fd00::1", "fd00::2", 8 + 8 + 14 + 20 + 8);
	udp(&f, 50000, 4789);
	vxlan(&f, 0x08, 0xabcdef);
	eth(&f, 0x0800);
	ip4(&f, 1, "172.16.0.1", "172.16.0.2", 99, 0, 8);
	icmp(&f, 8, 0x1234, 7);
	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
	assert_int_equal(e->last.result, VX_R_VXLAN);
	assert_int_equal(e->last.pkt.outer_family, 6);
	assert_string_equal(a6(e->last.pkt.outer_src), "fd00::1");
	assert_string_equal(a6(e->last.pkt.outer_dst), "fd00::2");
	assert_int_equal(e->last.pkt.vni, 0xabcdef);
	assert_int_equal(e->last.pkt.inner_proto, 1);
	assert_int_equal(e->last.pkt.icmp_type, 8);
	assert_int_equal(e->last.pkt.icmp_id, 0x1234);
	assert_int_equal(e->last.pkt.icmp_seq, 7);
	assert_int_equal(e->last.pkt.id.seq, 0x12340007);
}

static void test_v4_outer_v6_inner_udp_icmp6(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};

	eth(&f, 0x0800);
	ip4(&f, 17, "10.0.0.1", "10.0.0.2", 1, 0, 8 + 8 + 14 + 40 + 8);
	udp(&f, 50000, 4789);
	vxlan(&f, 0x08, 100);
	eth(&f, 0x86DD);
	ip6(&f, 17, "fd10::1", "fd10::2", 8);
	udp(&f, 5353, 53);
	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
	assert_int_equal(e->last.result, VX_R_VXLAN);
	assert_int_equal(e->last.pkt.inner_family, 6);
	assert_string_equal(a6(e->last.pkt.inner_src), "fd10::1");
	assert_int_equal(e->last.pkt.inner_proto, 17);
	assert_int_equal(e->last.pkt.inner_sport, 5353);
	assert_int_equal(e->last.pkt.inner_dport, 53);
	assert_int_equal(e->last.pkt.id.family, 6);

	f = (struct frame){};
	eth(&f, 0x0800);
	ip4(&f, 17, "10.0.0.1", "10.0.0.2", 1, 0, 8 + 8 + 14 + 40 + 8);
	udp(&f, 50000, 4789);
	vxlan(&f, 0x08, 100);
	eth(&f, 0x86DD);
	ip6(&f, 58, "fd10::1", "fd10::2", 8);
	icmp(&f, 128, 9, 10);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->last.pkt.inner_proto, 58);
	assert_int_equal(e->last.pkt.icmp_type, 128);
	assert_int_equal(e->last.pkt.icmp_seq, 10);
}

static void test_vlan_tags(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	uint64_t bad = counter(e, VX_R_BAD_VLAN);

	for (int tags = 1; tags <= 3; tags++) {
		struct frame f = {};

		eth(&f, 0x0800);
		vlan(&f, 0x88A8, 300);
		if (tags >= 2)
			vlan(&f, 0x8100, 20);
		if (tags >= 3)
			vlan(&f, 0x8100, 30);
		ip4(&f, 17, "10.0.0.1", "10.0.0.2", 1, 0, 8 + 8 + 14 + 20 + 8);
		udp(&f, 50000, 4789);
		vxlan(&f, 0x08, 100);
		eth(&f, 0x0800);
		ip4(&f, 17, "172.16.0.1", "172.16.0.2", 1, 0, 8);
		udp(&f, 1, 2);
		e->n_events = 0;
		assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
		if (tags <= 2) {
			assert_int_equal(e->n_events, 1);
			assert_int_equal(e->last.pkt.n_vlan, tags);
			assert_int_equal(e->last.pkt.vlan[0], 300);
			if (tags == 2)
				assert_int_equal(e->last.pkt.vlan[1], 20);
			assert_int_equal(e->last.pkt.vni, 100);
		} else {
			/* More tags than walked: counted, never misparsed. */
			assert_int_equal(e->n_events, 0);
			assert_int_equal(counter(e, VX_R_BAD_VLAN), bad + 1);
		}
	}
}

static void test_ports_and_plain_traffic(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = v4_v4_tcp(8472), g = v4_v4_tcp(9999), arp = {}, tcp4 = {};
	uint64_t plain = counter(e, VX_R_PLAIN_IP), nonip = counter(e, VX_R_NON_IP);

	e->n_events = 0;
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(e->last.pkt.outer_dport, 8472);
	run(e, e->tc->progs.vx_tc_ul_in, &g, 1);
	eth(&tcp4, 0x0800);
	ip4(&tcp4, 6, "10.0.0.1", "10.0.0.2", 1, 0, 20);
	tcp(&tcp4, 1, 22, 1, 0x10, 0);
	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_out, &tcp4, 1), TC_UNSPEC);
	eth(&arp, 0x0806);
	memset(arp.b + arp.n, 0, 28);
	arp.n += 28;
	assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &arp, 1), XDP_PASS);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(counter(e, VX_R_PLAIN_IP), plain + 2);
	assert_int_equal(counter(e, VX_R_NON_IP), nonip + 1);
}

static void test_ip_options(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};

	eth(&f, 0x0800);
	ip4(&f, 17, "10.0.0.1", "10.0.0.2", 1, 2, 8 + 8 + 14 + 24 + 24);
	udp(&f, 50000, 4789);
	vxlan(&f, 0x08, 5);
	eth(&f, 0x0800);
	ip4(&f, 6, "172.16.0.1", "172.16.0.2", 77, 1, 24);
	tcp(&f, 1000, 2000, 42, 0x18, 1);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->last.result, VX_R_VXLAN);
	assert_int_equal(e->last.pkt.vni, 5);
	assert_int_equal(e->last.pkt.ip_id, 77);
	assert_int_equal(e->last.pkt.inner_sport, 1000);
	assert_int_equal(e->last.pkt.tcp_seq, 42);
}

/* Cut a valid frame at every length: each cut lands in the malformed kind
 * of the header it broke, the verdict never changes, nothing is emitted. */
static void test_truncation_everywhere(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame full = v4_v4_tcp(4789);
	struct {
		size_t upto;
		int result;
	} bounds[] = {
		{ 14 + 20, VX_R_BAD_IP4 },	     { 14 + 20 + 8, VX_R_BAD_UDP },
		{ 14 + 20 + 8 + 8, VX_R_BAD_VXLAN }, { 50 + 14, VX_R_BAD_INNER_ETH },
		{ 64 + 20, VX_R_BAD_INNER_IP },	     { 84 + 20, VX_R_BAD_L4 },
	};

	/* BPF_PROG_TEST_RUN needs at least an Ethernet header. */
	for (size_t len = 14; len < full.n; len++) {
		struct frame f = full;
		int want = -1;
		uint64_t before;

		f.n = len;
		for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
			if (len < bounds[i].upto) {
				want = bounds[i].result;
				break;
			}
		}
		assert_true(want >= 0);
		before = counter(e, (uint32_t)want);
		e->n_events = 0;
		assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &f, 1), XDP_PASS);
		assert_int_equal(counter(e, (uint32_t)want), before + 1);
		/* The kernel's skb test harness refuses an IPv4 ethertype without
		 * a whole IPv4 header behind it; XDP above covers those cuts. */
		if (len >= 14 + 20) {
			assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
			assert_int_equal(counter(e, (uint32_t)want), before + 2);
		}
		assert_int_equal(e->n_events, 0);
	}
}

static void test_malformed_headers(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f;
	uint64_t before;

	/* IPv4 ihl < 5. */
	f = v4_v4_tcp(4789);
	f.b[14] = 0x44;
	before = counter(e, VX_R_BAD_IHL);
	assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
	assert_int_equal(counter(e, VX_R_BAD_IHL), before + 1);
	/* Version 6 under an IPv4 ethertype. */
	f = v4_v4_tcp(4789);
	f.b[14] = 0x65;
	before = counter(e, VX_R_BAD_IPVER);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(counter(e, VX_R_BAD_IPVER), before + 1);
	/* VXLAN without the I flag. */
	f = v4_v4_tcp(4789);
	f.b[42] = 0x00;
	before = counter(e, VX_R_BAD_VXLAN_FLAGS);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(counter(e, VX_R_BAD_VXLAN_FLAGS), before + 1);
	/* Inner TCP data offset past the end. */
	f = v4_v4_tcp(4789);
	f.b[84 + 12] = 0xf0;
	before = counter(e, VX_R_BAD_L4);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(counter(e, VX_R_BAD_L4), before + 1);
}

static void test_ipv6_extension_chain(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	uint64_t before = counter(e, VX_R_BAD_IP6_EXT);

	for (int n = 2; n <= 7; n += 5) {
		struct frame f = {};

		eth(&f, 0x86DD);
		ip6(&f, 0, "fd00::1", "fd00::2", (uint16_t)(8 * n + 8 + 8 + 14 + 20 + 8));
		for (int i = 0; i < n; i++)
			ip6ext(&f, i == n - 1 ? 17 : 60);
		udp(&f, 50000, 4789);
		vxlan(&f, 0x08, 100);
		eth(&f, 0x0800);
		ip4(&f, 17, "172.16.0.1", "172.16.0.2", 1, 0, 8);
		udp(&f, 1, 2);
		e->n_events = 0;
		assert_int_equal(run(e, e->tc->progs.vx_tc_ul_in, &f, 1), TC_UNSPEC);
		if (n == 2) {
			assert_int_equal(e->n_events, 1);
			assert_int_equal(e->last.pkt.vni, 100);
		} else {
			/* 7 extension headers: one past the bound of 6. */
			assert_int_equal(e->n_events, 0);
			assert_int_equal(counter(e, VX_R_BAD_IP6_EXT), before + 1);
		}
	}
}

/* Found by the differential fuzzer (tests/fuzz/difffuzz): a non-first
 * fragment header cut short was taken for a whole one. Outer IPv6 with a
 * fragment header (offset 8) of which only 4 of 8 bytes arrived. */
static void test_cut_fragment_header(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};
	unsigned char frag[4] = { 17, 0, 0, 0x40 }; /* next UDP, offset 8 */
	uint64_t before = counter(e, VX_R_BAD_IP6_EXT);
	uint64_t plain = counter(e, VX_R_PLAIN_IP);

	eth(&f, 0x86DD);
	ip6(&f, 44, "fd00::1", "fd00::2", 8);
	put(&f, frag, sizeof(frag));
	assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &f, 1), XDP_PASS);
	assert_int_equal(counter(e, VX_R_BAD_IP6_EXT), before + 1);
	assert_int_equal(counter(e, VX_R_PLAIN_IP), plain);
}

/* Found by the differential fuzzer: protocol 1 inside IPv6 (and 58 inside
 * IPv4) was read as an ICMP header; an IPv6 packet ending there counted as
 * a truncated ICMP header instead of an overlay frame. */
static void test_icmp_of_the_other_family(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};

	eth(&f, 0x0800);
	ip4(&f, 17, "10.0.0.1", "10.0.0.2", 1, 0, 8 + 8 + 14 + 40 + 8);
	udp(&f, 50000, 4789);
	vxlan(&f, 0x08, 100);
	eth(&f, 0x86DD);
	ip6(&f, 1, "fd10::1", "fd10::2", 8);
	icmp(&f, 8, 9, 10);
	e->n_events = 0;
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(e->last.result, VX_R_VXLAN);
	assert_int_equal(e->last.pkt.inner_proto, 1);
	assert_int_equal(e->last.pkt.icmp_type, 0);
	assert_int_equal(e->last.pkt.icmp_id, 0);
	/* Cut right after the IPv6 header: nothing of L4 to read. */
	f.n -= 8;
	e->n_events = 0;
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(e->last.result, VX_R_VXLAN);
}

static void test_vxlan_device_hooks(void **state)
{
	NEED_ROOT();
	struct env *e = *state;
	struct frame f = {};
	uint32_t vni = 100;
	/* BPF_PROG_TEST_RUN runs on loopback's ifindex (1). */
	struct vx_dev_key lo = { .netns = base_cfg.netns, .ifindex = 1 };

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo, &vni, 0), 0);
	eth(&f, 0x0800);
	ip4(&f, 1, "172.16.0.1", "172.16.0.2", 3, 0, 8);
	icmp(&f, 8, 1, 2);
	assert_int_equal(run(e, e->tc->progs.vx_tc_vx_out, &f, 1), TC_UNSPEC);
	assert_int_equal(e->last.result, VX_R_INNER);
	assert_int_equal(e->last.kind, VX_K_ENCAP);
	assert_int_equal(e->last.at, VX_AT_TC_VX_OUT);
	assert_int_equal(e->last.pkt.vni, 100);
	assert_int_equal(e->last.pkt.outer_family, 0);
	assert_string_equal(a4(e->last.pkt.inner_dst), "172.16.0.2");
	assert_int_equal(e->last.pkt.inner_ethertype, 0x0800);
	run(e, e->tc->progs.vx_tc_vx_in, &f, 1);
	assert_int_equal(e->last.kind, VX_K_DECAP);

	/* The direct-mapped table first: its entry for loopback wins, and an
	 * entry of another device in the slot -- another ifindex, or the
	 * same ifindex in another namespace -- sends the lookup to vxp_dev. */
	{
		uint32_t slot = vx_devc_slot(lo.netns, 1);
		struct vx_devc mine = { .netns = lo.netns, .ifindex = 1, .val = 200 },
			       other = { .netns = lo.netns,
					 .ifindex = 1 + VX_DEV_SLOTS,
					 .val = 300 },
			       elsewhere = { .netns = lo.netns + 1, .ifindex = 1, .val = 400 };
		int fd = bpf_map__fd(e->tc->maps.vxp_devc);

		assert_int_equal(bpf_map_update_elem(fd, &slot, &mine, 0), 0);
		run(e, e->tc->progs.vx_tc_vx_out, &f, 1);
		assert_int_equal(e->last.pkt.vni, 200);
		assert_int_equal(bpf_map_update_elem(fd, &slot, &other, 0), 0);
		run(e, e->tc->progs.vx_tc_vx_in, &f, 1);
		assert_int_equal(e->last.pkt.vni, 100);
		assert_int_equal(bpf_map_update_elem(fd, &slot, &elsewhere, 0), 0);
		run(e, e->tc->progs.vx_tc_vx_in, &f, 1);
		assert_int_equal(e->last.pkt.vni, 100);
	}

	/* A device the loader did not describe: the VNI is unknown, not 0. */
	{
		uint32_t slot = vx_devc_slot(lo.netns, 1), ext = VX_DEV_F_EXTERNAL | 7;
		struct vx_devc none = { 0 };

		assert_int_equal(
			bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_devc), &slot, &none, 0), 0);
		assert_int_equal(bpf_map_delete_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo), 0);
		run(e, e->tc->progs.vx_tc_vx_out, &f, 1);
		assert_int_equal(e->last.pkt.vni, VX_VNI_UNKNOWN);
		/* External: the VNI is the tunnel key's, and a test run's skb
		 * has none (as the kernel's own neighbour discovery on such a
		 * device has none): unknown, never the table's bits. */
		assert_int_equal(
			bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo, &ext, 0), 0);
		run(e, e->tc->progs.vx_tc_vx_out, &f, 1);
		assert_int_equal(e->last.result, VX_R_INNER);
		assert_int_equal(e->last.pkt.vni, VX_VNI_UNKNOWN);
		run(e, e->tc->progs.vx_tc_vx_in, &f, 1);
		assert_int_equal(e->last.pkt.vni, VX_VNI_UNKNOWN);
	}

	/* ARP resolving the overlay peer: a tunnel frame, not IP. */
	f = (struct frame){};
	eth(&f, 0x0806);
	memset(f.b + f.n, 0, 28);
	f.n += 28;
	assert_int_equal(run(e, e->tc->progs.vx_tc_vx_out, &f, 1), TC_UNSPEC);
	assert_int_equal(e->last.result, VX_R_INNER);
	assert_int_equal(e->last.pkt.inner_family, 0);
	assert_int_equal(e->last.pkt.inner_ethertype, 0x0806);
}

/* One copy of the programs for every namespace (cfg.netns 0): a packet
 * carries the namespace the loader named while there is one
 * (vx_one_netns), and with several its device's, read from the kernel --
 * the test run's loopback is in this process's namespace -- by plain
 * loads (@kern_ctx, where the kernel has bpf_cast_to_kern_ctx) or by
 * bpf_probe_read_kernel. The VXLAN device table is keyed by it. */
static void namespace_of_each_packet(bool kern_ctx)
{
	struct vx_dp_config c = base_cfg;
	struct frame f = v4_v4_tcp(4789), in = {};
	uint32_t own = netns_inode(), vni = 300;
	struct vx_dev_key lo = { .netns = own, .ifindex = 1 };
	struct env *e;

	assert_true(own != 0);
	c.netns = 0;
	e = env_new_k(&c, kern_ctx);
	e->tc->bss->vx_one_netns = 12345;
	e->xdp->bss->vx_one_netns = 12345;
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->last.netns, 12345);
	e->tc->bss->vx_one_netns = 0;
	e->xdp->bss->vx_one_netns = 0;
	run(e, e->tc->progs.vx_tc_ul_out, &f, 1);
	assert_int_equal(e->last.netns, own);
	assert_int_equal(e->last.pkt.vni, 100);
	e->last.netns = 0;
	assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &f, 1), XDP_PASS);
	assert_int_equal(e->last.at, VX_AT_XDP_UL_IN);
	assert_int_equal(e->last.netns, own);

	/* The VXLAN device's VNI, found by (namespace, ifindex). */
	eth(&in, 0x0800);
	ip4(&in, 1, "172.16.0.1", "172.16.0.2", 3, 0, 8);
	icmp(&in, 8, 1, 2);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo, &vni, 0), 0);
	run(e, e->tc->progs.vx_tc_vx_in, &in, 1);
	assert_int_equal(e->last.netns, own);
	assert_int_equal(e->last.pkt.vni, 300);
	lo.netns = own + 1;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo, &vni, 0), 0);
	lo.netns = own;
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo), 0);
	run(e, e->tc->progs.vx_tc_vx_out, &in, 1);
	assert_int_equal(e->last.pkt.vni, VX_VNI_UNKNOWN);
	env_free(e);
}

static void test_namespace_of_each_packet(void **state)
{
	NEED_ROOT();
	namespace_of_each_packet(false);
	if (vx_dp_kern_ctx())
		namespace_of_each_packet(true);
}

static void test_filters_in_kernel(void **state)
{
	NEED_ROOT();
	struct vx_dp_config c = base_cfg;
	struct frame f = v4_v4_tcp(4789);
	struct env *e;

	c.has_vni = 1;
	c.vni = 200;
	e = env_new(&c);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 0);
	assert_int_equal(counter(e, VX_C_FILTERED), 1);
	assert_int_equal(counter(e, VX_R_VXLAN), 1); /* still counted */
	env_free(e);

	c = base_cfg;
	c.has_host = 4;
	inet_pton(AF_INET, "172.16.0.2", c.host);
	c.proto = 6;
	c.has_port = 1;
	c.port = 5001;
	e = env_new(&c);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 1);
	f.b[84 + 3] = 0x99; /* another destination port */
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	assert_int_equal(e->n_events, 1);
	assert_int_equal(counter(e, VX_C_FILTERED), 1);
	env_free(e);

	c = base_cfg;
	c.events = 0; /* counters only: nothing on the ring buffer */
	e = env_new(&c);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 5);
	assert_int_equal(e->n_events, 0);
	assert_int_equal(counter(e, VX_R_VXLAN), 5);
	env_free(e);
}

static void test_rate_limit(void **state)
{
	NEED_ROOT();
	struct vx_dp_config c = base_cfg;
	struct frame f = v4_v4_tcp(4789);
	struct env *e;

	c.rate = 5;
	e = env_new(&c);
	run(e, e->tc->progs.vx_tc_ul_in, &f, 20);
	assert_int_equal(e->n_events, 5);
	assert_int_equal(counter(e, VX_C_EVENTS), 5);
	assert_int_equal(counter(e, VX_C_RATE_LIMITED), 15);
	assert_int_equal(counter(e, VX_R_VXLAN), 20);
	env_free(e);

	/* The cap is over all CPUs: the same load spread over two CPUs still
	 * gets 5 events in the window, not 5 per CPU. */
	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	e = env_new(&c);
	for (int cpu = 0; cpu < 2; cpu++) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
		run(e, e->tc->progs.vx_tc_ul_in, &f, 10);
	}
	assert_int_equal(e->n_events, 5);
	assert_int_equal(counter(e, VX_C_RATE_LIMITED), 15);
	env_free(e);
	{
		cpu_set_t all;

		CPU_ZERO(&all);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			CPU_SET(cpu, &all);
		sched_setaffinity(0, sizeof(all), &all);
	}
}

struct tun_seen {
	struct vx_tun_key k[8];
	struct vx_tun_val v[8];
	int n;
};

static void tun_seen(const struct vx_tun_key *k, const struct vx_tun_val *tot, void *ctx)
{
	struct tun_seen *t = ctx;

	if (t->n < 8) {
		t->k[t->n] = *k;
		t->v[t->n++] = *tot;
	}
}

/* The totals of the tunnel to @remote (IPv4) as vx_tun_foreach reads them. */
static struct vx_tun_val tun_total(struct env *e, const char *remote, int *n_tunnels)
{
	struct tun_seen t = {};
	struct vx_tun_val v = {};

	assert_int_equal(vx_tun_foreach(bpf_map__fd(e->tc->maps.vxp_tun),
					bpf_map__fd(e->tc->maps.vxp_cnt), tun_seen, &t),
			 0);
	for (int i = 0; i < t.n; i++)
		if (!strcmp(a4(t.k[i].remote), remote)) {
			v.packets += t.v[i].packets;
			v.bytes += t.v[i].bytes;
		}
	if (n_tunnels)
		*n_tunnels = t.n;
	return v;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &set);
	else
		CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void test_tunnel_stats(void **state)
{
	NEED_ROOT();
	struct vx_dp_config c = base_cfg;
	struct frame f = v4_v4_tcp(4789);
	struct vx_tun_key k = {}, next;
	struct tun_seen t = {};
	struct env *e;
	int n = 0;

	c.events = 0;
	e = env_new(&c);
	run(e, e->tc->progs.vx_tc_ul_out, &f, 3);
	assert_int_equal(vx_tun_foreach(bpf_map__fd(e->tc->maps.vxp_tun),
					bpf_map__fd(e->tc->maps.vxp_cnt), tun_seen, &t),
			 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.k[0].vni, 100);
	assert_int_equal(t.k[0].at, VX_AT_TC_UL_OUT);
	assert_string_equal(a4(t.k[0].remote), "10.0.0.2"); /* leaving: the destination */
	assert_int_equal(t.v[0].packets, 3);
	assert_int_equal(t.v[0].bytes, 3 * (f.n - V4_OUTER));
	/* The key is in vxp_tun from its first packet on, so that a reader
	 * walking the map finds it while its counts are still in a slot. */
	while (!bpf_map_get_next_key(bpf_map__fd(e->tc->maps.vxp_tun), n ? &k : NULL, &next)) {
		k = next;
		n++;
	}
	assert_int_equal(n, 1);
	assert_int_equal(memcmp(&k, &t.k[0], sizeof(k)), 0);
	env_free(e);
}

/* The remote of a packet decapsulated by a classic device is the outer
 * source its underlay ingress saw for that very packet (struct vx_hop), on
 * the same CPU; a packet the underlay did not see has none. Leaving, the
 * device cannot know the remote yet: none. */
static void test_tunnel_remote_hop(void **state)
{
	NEED_ROOT();
	struct vx_dp_config c = base_cfg;
	struct frame f = v4_v4_tcp(4789), inner = {}, other, arp = {}, arp_inner = {};
	struct tun_seen t = {};
	uint32_t vni = 100;
	struct vx_dev_key lo = { .netns = base_cfg.netns, .ifindex = 1 };
	struct env *e;
	bool vx_in = false, vx_out = false, arp_in = false;

	c.events = 0;
	e = env_new(&c);
	pin_cpu(0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(e->tc->maps.vxp_dev), &lo, &vni, 0), 0);

	memcpy(inner.b, f.b + V4_OUTER, f.n - V4_OUTER);
	inner.n = f.n - V4_OUTER;
	other = inner;
	other.b[14 + 4] ^= 1; /* another IPv4 ID: another packet */
	/* ARP inside, then alone: joined by its first bytes. */
	eth(&arp, 0x0800);
	ip4(&arp, 17, "10.0.0.3", "10.0.0.1", 9, 0, 8 + 8 + 14 + 28);
	udp(&arp, 51000, 4789);
	vxlan(&arp, 0x08, 100);
	eth(&arp_inner, 0x0806);
	memset(arp_inner.b + arp_inner.n, 0x11, 28);
	arp_inner.n += 28;
	put(&arp, arp_inner.b, arp_inner.n);

	/* Only while the loader says a classic device is attached here does
	 * underlay ingress leave remotes: before, none is found. */
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	run(e, e->tc->progs.vx_tc_vx_in, &inner, 1);
	e->tc->bss->vx_hop_wanted = 1;
	run(e, e->tc->progs.vx_tc_ul_in, &f, 1);
	run(e, e->tc->progs.vx_tc_vx_in, &inner, 1);
	run(e, e->tc->progs.vx_tc_vx_in, &other, 1);
	run(e, e->tc->progs.vx_tc_vx_out, &inner, 1);
	run(e, e->tc->progs.vx_tc_ul_in, &arp, 1);
	run(e, e->tc->progs.vx_tc_vx_in, &arp_inner, 1);
	pin_cpu(-1);
	assert_int_equal(vx_tun_foreach(bpf_map__fd(e->tc->maps.vxp_tun),
					bpf_map__fd(e->tc->maps.vxp_cnt), tun_seen, &t),
			 0);
	for (int i = 0; i < t.n; i++) {
		const struct vx_tun_key *k = &t.k[i];

		if (k->at == VX_AT_TC_VX_IN && k->family == 4 &&
		    !strcmp(a4(k->remote), "10.0.0.1")) {
			vx_in = true;
			assert_int_equal(t.v[i].packets, 1); /* the other packet: none */
			assert_int_equal(t.v[i].bytes, inner.n);
			assert_int_equal(k->vni, 100);
		} else if (k->at == VX_AT_TC_VX_IN && k->family == 4) {
			arp_in = true;
			assert_string_equal(a4(k->remote), "10.0.0.3");
		} else if (k->at == VX_AT_TC_VX_IN) {
			assert_int_equal(k->family, 0);
			assert_int_equal(t.v[i].packets, 2); /* before the loader's word, other */
		} else if (k->at == VX_AT_TC_VX_OUT) {
			vx_out = true;
			assert_int_equal(k->family, 0);
		}
	}
	assert_true(vx_in);
	assert_true(arp_in);
	assert_true(vx_out);
	env_free(e);
}

/* Two tunnels whose keys share a set on one CPU both keep a slot: packets
 * that alternate between them cost no lookup after each one's first. A
 * third takes the slot filled longest ago; each one's counts move to
 * vxp_tun and back without a packet lost, and no read is lower than the
 * one before it. A key the LRU took while its slot counted is put back,
 * and counted as evicted. */
static void test_tunnel_slot_handover(void **state)
{
	NEED_ROOT();
	struct vx_dp_config c = base_cfg;
	struct vx_tun_key ka = { .netns = base_cfg.netns,
				 .ifindex = 1,
				 .vni = 100,
				 .at = VX_AT_TC_UL_OUT,
				 .family = 4 },
			  kx;
	char r[3][16] = { "10.0.0.2" };
	struct frame f[3];
	struct vx_tun_val prev[3] = {};
	int sent[3] = {}, nr = 1, n;
	struct env *e;

	/* Two more remotes whose keys fall in the first one's set. */
	inet_pton(AF_INET, r[0], ka.remote);
	kx = ka;
	for (int x = 3; x < 65536 && nr < 3; x++) {
		snprintf(r[nr], sizeof(r[nr]), "10.%d.%d.2", x >> 8, x & 255);
		inet_pton(AF_INET, r[nr], kx.remote);
		if (vx_tun_set_of(&kx) == vx_tun_set_of(&ka))
			nr++;
	}
	assert_int_equal(nr, 3);
	for (int i = 0; i < 3; i++)
		f[i] = v4_v4_tcp_to(4789, r[i]);

	c.events = 0;
	e = env_new(&c);
	pin_cpu(0);
	/* The first two alternate: a miss each, then none. Then all three
	 * in turn: each packet takes the slot of the one before last. */
	for (int step = 0; step < 12; step++) {
		int t = step < 6 ? step % 2 : (step - 4) % 3;

		run(e, e->tc->progs.vx_tc_ul_out, &f[t], 1);
		sent[t]++;
		for (int i = 0; i < 3; i++) {
			struct vx_tun_val v = tun_total(e, r[i], i ? NULL : &n);

			assert_int_equal(v.packets, sent[i]);
			assert_int_equal(v.bytes, sent[i] * (f[i].n - V4_OUTER));
			assert_true(v.packets >= prev[i].packets);
			prev[i] = v;
		}
		assert_int_equal(n, step < 2 ? step + 1 : step < 6 ? 2 : 3);
		assert_int_equal(counter(e, VX_C_TUN_MISS),
				 step < 6 ? (step < 2 ? step + 1 : 2) : step - 3);
	}
	/* Now r[0] and r[1] hold the set, r[0] filled first. A key whose
	 * vxp_tun entry is gone (LRU eviction) while its counts are in a
	 * slot is still read, from the slot. */
	assert_int_equal(counter(e, VX_C_TUN_EVICTED), 0);
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(e->tc->maps.vxp_tun), &ka), 0);
	assert_int_equal(tun_total(e, r[0], &n).packets, sent[0]);
	assert_int_equal(n, 3);
	/* The next miss replaces it and finds it gone: counted, and its
	 * totals put back. */
	run(e, e->tc->progs.vx_tc_ul_out, &f[2], 1);
	assert_int_equal(counter(e, VX_C_TUN_EVICTED), 1);
	assert_int_equal(tun_total(e, r[0], &n).packets, sent[0]);
	assert_int_equal(tun_total(e, r[2], NULL).packets, sent[2] + 1);
	assert_int_equal(n, 3);
	pin_cpu(-1);
	env_free(e);
}

/* --pcap: with cfg.snaplen the record is the event, a struct vx_cap and
 * VX_CAP_ROOM(snaplen) bytes: the frame's first bytes (all of it when it
 * is shorter), its real length, and zeros after it. tc (bpf_skb_load_bytes)
 * and XDP (bpf_xdp_load_bytes) alike. */
static void check_tail(struct env *e, const struct frame *f, uint16_t snaplen)
{
	const struct vx_cap *c = (const struct vx_cap *)(e->rec + sizeof(struct vx_event));
	size_t want = f->n < snaplen ? f->n : snaplen;

	assert_int_equal(e->rec_len,
			 sizeof(struct vx_event) + sizeof(struct vx_cap) + VX_CAP_ROOM(snaplen));
	assert_int_equal(c->orig_len, f->n);
	assert_int_equal(c->caplen, want);
	assert_int_equal(c->link, VX_CAP_ETH);
	assert_memory_equal(c + 1, f->b, want);
	for (size_t i = want; i < VX_CAP_ROOM(snaplen); i++)
		assert_int_equal(((const uint8_t *)(c + 1))[i], 0);
}

static void test_capture_tail(void **state)
{
	static const uint16_t snaps[] = { 64, 17, 256 };
	struct frame f = v4_v4_tcp(4789);

	if (geteuid())
		skip();
	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		struct vx_dp_config cfg = base_cfg;
		struct env *e;

		cfg.snaplen = snaps[i];
		e = env_new(&cfg);
		assert_int_equal(run(e, e->tc->progs.vx_tc_ul_out, &f, 1), TC_UNSPEC);
		assert_int_equal(e->n_events, 1);
		assert_int_equal(e->last.result, VX_R_VXLAN);
		check_tail(e, &f, snaps[i]);
		assert_int_equal(run(e, e->xdp->progs.vx_xdp_ul_in, &f, 1), XDP_PASS);
		assert_int_equal(e->n_events, 2);
		assert_int_equal(e->last.at, VX_AT_XDP_UL_IN);
		check_tail(e, &f, snaps[i]);
		env_free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v4_v4_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_outer_v4_inner_icmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v4_outer_v6_inner_udp_icmp6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_and_plain_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_extension_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_fragment_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_of_the_other_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vxlan_device_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace_of_each_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_in_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_slot_handover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_remote_hop, setup, teardown),
		cmocka_unit_test(test_capture_tail),
	};

	return cmocka_run_group_tests_name("parser", tests, NULL, NULL);
}
