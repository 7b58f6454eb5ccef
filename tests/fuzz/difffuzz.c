// SPDX-License-Identifier: GPL-2.0-only
/* Differential fuzzer: the same frames go to the reference decoder
 * (refparse.c) and, through BPF_PROG_TEST_RUN, to the datapath programs
 * (vx_xdp_ul_in, vx_tc_ul_in/out, vx_tc_vx_in/out). The result counter the
 * program incremented and every field of the event it emitted must equal
 * what the reference decoded. Random frames and mutations of valid VXLAN
 * frames: truncation at every offset, flipped bits in lengths, flags and
 * versions, VLAN stacks, IPv6 extension chains.
 *
 *   difffuzz [-n FRAMES] [-s SEED] [-v] [-P] [-x HEX]
 *
 * -x HEX replays one frame (as printed in a mismatch report) through every
 * program: underlay programs on the whole frame, VXLAN device programs on
 * it as an inner frame.
 *
 * -P plants a bug in the reference (every VNI off by one) to prove that the
 * comparison catches one.
 * Prints TAP (three tests) and a summary line; a mismatch prints the
 * program, the field, expected and got, the seed and the frame in hex.
 * The same seed replays the same frames. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "maputil.h"
#include "refparse.h"
#include "vxray.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

#define MAX_FRAME 1024
#define MAX_SHOWN 10
#define TC_UNSPEC ((uint32_t)-1)

static const uint16_t cfg_ports[] = { 8472 };

/* ---- deterministic PRNG (splitmix64): same seed, same frames anywhere -- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

static bool chance(unsigned pct)
{
	return below(100) < pct;
}

/* ---- frame builder: valid frames, remembering the interesting bytes ---- */

struct frame {
	uint8_t b[MAX_FRAME];
	size_t n;
	size_t inner;	/* offset of the inner Ethernet header */
	size_t hot[64]; /* lengths, versions, flags, types: mutation targets */
	int n_hot;
};

static void hot(struct frame *f, size_t off)
{
	if (f->n_hot < (int)(sizeof(f->hot) / sizeof(f->hot[0])))
		f->hot[f->n_hot++] = off;
}

static void put8(struct frame *f, uint8_t v)
{
	if (f->n < MAX_FRAME)
		f->b[f->n++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void putrnd(struct frame *f, size_t n)
{
	while (n--)
		put8(f, (uint8_t)rnd());
}

static void set16(struct frame *f, size_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* Ethernet and 0..3 tags (3 is one past what is walked). */
static void build_eth(struct frame *f, uint16_t type)
{
	unsigned tags = chance(60) ? 0 : below(4);

	putrnd(f, 12);
	for (unsigned i = 0; i < tags; i++) {
		hot(f, f->n);
		put16(f, chance(50) ? 0x8100 : 0x88a8);
		put16(f, (uint16_t)rnd());
	}
	hot(f, f->n);
	put16(f, type);
}

static const uint8_t ext_types[] = { 0, 43, 44, 51, 60 };

/* IPv6 header and an extension chain ending in @proto. */
static void build_ip6(struct frame *f, uint8_t proto)
{
	unsigned n_ext = chance(50) ? 0 : below(VX_IPV6_EXT_MAX + 2);
	size_t start = f->n, next_at;

	hot(f, f->n);
	put8(f, (uint8_t)(0x60 | below(16)));
	putrnd(f, 3);
	hot(f, f->n);
	put16(f, (uint16_t)below(1500));
	next_at = f->n;
	hot(f, f->n);
	put8(f, 0);
	put8(f, 64);
	putrnd(f, 32);
	for (unsigned i = 0; i < n_ext; i++) {
		uint8_t t = ext_types[below(sizeof(ext_types))];
		size_t len;

		f->b[next_at] = t;
		next_at = f->n;
		hot(f, f->n);
		put8(f, 0);
		hot(f, f->n);
		if (t == 44) {
			put8(f, 0);
			hot(f, f->n);
			/* Mostly first fragments (offset 0), sometimes later ones. */
			put16(f, chance(70) ? (uint16_t)(below(2)) : (uint16_t)(below(8192) << 3));
			putrnd(f, 4);
			continue;
		}
		if (t == 51) {
			uint8_t hl = (uint8_t)below(4) + 1; /* 12..24 bytes */

			put8(f, hl);
			len = ((size_t)hl + 2) * 4;
		} else {
			uint8_t hl = (uint8_t)below(3);

			put8(f, hl);
			len = ((size_t)hl + 1) * 8;
		}
		putrnd(f, len - 2);
	}
	f->b[next_at] = proto;
	(void)start;
}

static void build_ip4(struct frame *f, uint8_t proto)
{
	unsigned opt = chance(70) ? 0 : below(11);
	size_t start = f->n;

	hot(f, f->n);
	put8(f, (uint8_t)(0x40 | (5 + opt)));
	put8(f, 0);
	hot(f, f->n);
	put16(f, (uint16_t)below(1500));
	put16(f, (uint16_t)rnd());
	hot(f, f->n);
	/* Mostly unfragmented or first fragments; some later ones. */
	put16(f, chance(85) ? (uint16_t)(chance(50) ? 0x4000 : 0x2000) :
			      (uint16_t)(1 + below(0x1fff)));
	put8(f, 64);
	hot(f, f->n);
	put8(f, proto);
	put16(f, 0);
	putrnd(f, 8);
	for (unsigned i = 0; i < opt * 4; i++)
		put8(f, 1);
	(void)start;
}

static void build_l4(struct frame *f, uint8_t proto)
{
	if (proto == 6) {
		unsigned opt = chance(70) ? 0 : below(11);

		putrnd(f, 12);
		hot(f, f->n);
		put8(f, (uint8_t)((5 + opt) << 4));
		hot(f, f->n);
		put8(f, (uint8_t)rnd());
		putrnd(f, 6 + opt * 4);
	} else if (proto == 17) {
		putrnd(f, 4);
		hot(f, f->n);
		put16(f, 8);
		put16(f, 0);
	} else if (proto == 1 || proto == 58) {
		putrnd(f, 8);
	}
	putrnd(f, below(24));
}

static uint8_t pick_inner_proto(void)
{
	static const uint8_t p[] = { 6, 17, 1, 58, 6, 17, 47, 132 };

	return p[below(sizeof(p))];
}

/* An overlay (inner) frame: Ethernet + IPv4/IPv6/ARP + L4. */
static void build_inner(struct frame *f)
{
	unsigned k = below(10);
	uint8_t proto = pick_inner_proto();

	f->inner = f->n;
	if (k < 5) {
		build_eth(f, 0x0800);
		build_ip4(f, proto);
	} else if (k < 9) {
		build_eth(f, 0x86dd);
		build_ip6(f, proto);
	} else {
		build_eth(f, 0x0806);
		putrnd(f, 28);
		return;
	}
	build_l4(f, proto);
}

/* A whole underlay frame, mostly VXLAN. */
static void build_underlay(struct frame *f)
{
	bool v6 = chance(40);
	unsigned k = below(20);
	uint16_t dport = k < 12 ? 4789 : k < 17 ? 8472 : (uint16_t)rnd();

	memset(f, 0, sizeof(*f));
	if (chance(3)) {
		build_eth(f, 0x0806);
		putrnd(f, 28);
		return;
	}
	build_eth(f, v6 ? 0x86dd : 0x0800);
	if (v6)
		build_ip6(f, chance(95) ? 17 : 6);
	else
		build_ip4(f, chance(95) ? 17 : 6);
	putrnd(f, 2);
	hot(f, f->n);
	put16(f, dport);
	hot(f, f->n);
	put16(f, 0);
	put16(f, 0);
	hot(f, f->n);
	put8(f, chance(90) ? 0x08 : (uint8_t)rnd());
	putrnd(f, 3);
	put8(f, (uint8_t)rnd());
	put8(f, (uint8_t)rnd());
	put8(f, (uint8_t)rnd());
	put8(f, 0);
	build_inner(f);
}

/* One mutation of a valid frame. */
static void mutate(struct frame *f)
{
	switch (below(6)) {
	case 0: /* flip bits in a length, version, flag or type */
		for (unsigned i = 0, n = 1 + below(3); i < n && f->n_hot; i++) {
			size_t o = f->hot[below((unsigned)f->n_hot)];

			if (o < f->n)
				f->b[o] ^= (uint8_t)(1u << below(8));
		}
		break;
	case 1: /* overwrite one of those bytes */
		if (f->n_hot) {
			size_t o = f->hot[below((unsigned)f->n_hot)];

			if (o < f->n)
				f->b[o] = (uint8_t)rnd();
		}
		break;
	case 2: /* flip random bits anywhere */
		for (unsigned i = 0, n = 1 + below(4); i < n && f->n; i++)
			f->b[below((unsigned)f->n)] ^= (uint8_t)(1u << below(8));
		break;
	case 3: /* cut anywhere */ f->n = below((unsigned)f->n + 1); break;
	case 4: /* an ethertype turned into a VLAN tag */
		if (f->n_hot) {
			size_t o = f->hot[below((unsigned)f->n_hot)];

			if (o + 1 < f->n)
				set16(f, o, chance(50) ? 0x8100 : 0x88a8);
		}
		break;
	default: /* left valid */ break;
	}
}

/* ---- the programs under test ------------------------------------------- */

struct prog {
	const char *name;
	int fd;
	bool overlay; /* VXLAN device hook: inner frames */
	bool tc;
	uint64_t runs, refused;
};

struct harness {
	struct vx_tc *tc;
	struct vx_xdp *xdp;
	struct ring_buffer *rb;
	int cnt_fd, ncpu;
	uint64_t model[VX_C__MAX]; /* what every counter should read */
	struct vx_event ev;
	int n_ev;
	uint64_t frames, runs, mismatches, errors, shown;
	uint64_t by_result[VX_R__MAX];
	uint64_t seed;
	bool verbose;
	bool planted;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct harness *h = ctx;

	if (len == sizeof(h->ev))
		memcpy(&h->ev, data, sizeof(h->ev));
	h->n_ev++;
	return 0;
}

static uint64_t read_counter(struct harness *h, uint32_t idx)
{
	struct vx_cnt *all = vx_cnt_read(h->cnt_fd, &h->ncpu);
	uint64_t sum = 0;

	if (!all || idx >= VX_CNT_SLOTS) {
		free(all);
		return UINT64_MAX;
	}
	for (int i = 0; i < h->ncpu; i++)
		sum += all[i].c[idx];
	free(all);
	return sum;
}

static int harness_open(struct harness *h)
{
	struct vx_dp_config cfg = { .events = 1, .netns = 1, .n_vxlan_ports = 1 };
	int err;

	cfg.vxlan_ports[0] = cfg_ports[0];
	h->ncpu = libbpf_num_possible_cpus();
	if (h->ncpu <= 0 || h->ncpu > 512) {
		fprintf(stderr, "difffuzz: cannot size per-CPU values for %d CPUs\n", h->ncpu);
		return -EINVAL;
	}
	h->tc = vx_tc__open();
	h->xdp = vx_xdp__open();
	if (!h->tc || !h->xdp)
		return -errno;
	memcpy((void *)&h->tc->rodata->cfg, &cfg, sizeof(cfg));
	memcpy((void *)&h->xdp->rodata->cfg, &cfg, sizeof(cfg));
	err = vx_tc__load(h->tc);
	if (err)
		return err;
	/* One ring buffer and one counter array, as the loader shares them. */
	err = bpf_map__reuse_fd(h->xdp->maps.vxp_rb, bpf_map__fd(h->tc->maps.vxp_rb));
	err = err ?: bpf_map__reuse_fd(h->xdp->maps.vxp_cnt, bpf_map__fd(h->tc->maps.vxp_cnt));
	err = err ?: vx_xdp__load(h->xdp);
	if (err)
		return err;
	h->rb = ring_buffer__new(bpf_map__fd(h->tc->maps.vxp_rb), on_event, h, NULL);
	if (!h->rb)
		return -errno;
	h->cnt_fd = bpf_map__fd(h->tc->maps.vxp_cnt);
	for (uint32_t i = 0; i < VX_C__MAX; i++)
		h->model[i] = read_counter(h, i);
	return 0;
}

static void harness_close(struct harness *h)
{
	ring_buffer__free(h->rb);
	vx_xdp__destroy(h->xdp);
	vx_tc__destroy(h->tc);
}

/* ---- comparison ---------------------------------------------------------- */

static void hexdump(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		printf("#   %04zx:", i);
		for (size_t j = i; j < i + 16 && j < n; j++)
			printf(" %02x", b[j]);
		printf("\n");
	}
}

struct diff {
	char what[1024];
	size_t len;
};

static void note(struct diff *d, const char *fmt, ...)
{
	va_list ap;

	if (d->len >= sizeof(d->what) - 1)
		return;
	va_start(ap, fmt);
	d->len += (size_t)vsnprintf(d->what + d->len, sizeof(d->what) - d->len, fmt, ap);
	va_end(ap);
	if (d->len > sizeof(d->what) - 1)
		d->len = sizeof(d->what) - 1;
}

#define CMP(field, want, got)                                                                      \
	do {                                                                                       \
		if ((uint64_t)(want) != (uint64_t)(got))                                           \
			note(d, "#   %s: expected %" PRIu64 ", got %" PRIu64 "\n", field,          \
			     (uint64_t)(want), (uint64_t)(got));                                   \
	} while (0)

static void cmp_addr(struct diff *d, const char *field, int family, const uint8_t *want,
		     const uint8_t *got)
{
	size_t n = family == 4 ? 4 : family == 6 ? 16 : 0;
	uint8_t zero[16] = {};

	if (memcmp(want, got, n) || memcmp(zero, got + n, 16 - n)) {
		note(d, "#   %s: expected", field);
		for (size_t i = 0; i < n; i++)
			note(d, " %02x", want[i]);
		note(d, ", got");
		for (size_t i = 0; i < 16; i++)
			note(d, " %02x", got[i]);
		note(d, "\n");
	}
}

/* The event against the reference, field by field. */
static void cmp_event(struct diff *d, const struct ref_pkt *r, const struct vx_event *e, size_t len,
		      const struct prog *p)
{
	const struct vx_pkt *k = &e->pkt;
	uint32_t s4[4], d4[4];

	CMP("event.result", r->result, e->result);
	CMP("event.len", len, e->len);
	CMP("event.netns", 1, e->netns);
	CMP("event.pad", 0, e->pad);
	CMP("outer_family", r->outer_family, k->outer_family);
	CMP("n_vlan", r->n_vlan, k->n_vlan);
	for (int i = 0; i < VX_VLAN_MAX; i++)
		CMP("vlan[]", r->vlan[i], k->vlan[i]);
	cmp_addr(d, "outer_src", r->outer_family, r->outer_src, k->outer_src);
	cmp_addr(d, "outer_dst", r->outer_family, r->outer_dst, k->outer_dst);
	CMP("outer_sport", r->outer_sport, k->outer_sport);
	CMP("outer_dport", r->outer_dport, k->outer_dport);
	if (!p->overlay)
		CMP("vni", r->vni, k->vni);
	CMP("inner_family", r->inner_family, k->inner_family);
	CMP("inner_ethertype", r->inner_ethertype, k->inner_ethertype);
	cmp_addr(d, "inner_src", r->inner_family, r->inner_src, k->inner_src);
	cmp_addr(d, "inner_dst", r->inner_family, r->inner_dst, k->inner_dst);
	CMP("inner_len", r->inner_len, k->inner_len);
	CMP("ip_id", r->ip_id, k->ip_id);
	CMP("inner_proto", r->inner_proto, k->inner_proto);
	CMP("inner_sport", r->inner_sport, k->inner_sport);
	CMP("inner_dport", r->inner_dport, k->inner_dport);
	CMP("tcp_seq", r->tcp_seq, k->tcp_seq);
	CMP("tcp_flags", r->tcp_flags, k->tcp_flags);
	CMP("icmp_type", r->icmp_type, k->icmp_type);
	CMP("icmp_code", r->icmp_code, k->icmp_code);
	CMP("icmp_id", r->icmp_id, k->icmp_id);
	CMP("icmp_seq", r->icmp_seq, k->icmp_seq);
	for (size_t i = 0; i < sizeof(k->pad); i++)
		CMP("pad[]", 0, k->pad[i]);
	/* The latency identity, derived from the reference's fields. */
	CMP("id.family", r->inner_family, k->id.family);
	CMP("id.proto", r->inner_proto, k->id.proto);
	memcpy(s4, r->inner_src, 16);
	memcpy(d4, r->inner_dst, 16);
	if (r->inner_family == 4) {
		CMP("id.saddr", s4[0], k->id.saddr);
		CMP("id.daddr", d4[0], k->id.daddr);
		CMP("id.ip_id", r->ip_id, k->id.ip_id);
	} else {
		CMP("id.saddr", s4[0] ^ s4[1] ^ s4[2] ^ s4[3], k->id.saddr);
		CMP("id.daddr", d4[0] ^ d4[1] ^ d4[2] ^ d4[3], k->id.daddr);
		CMP("id.ip_id", 0, k->id.ip_id);
	}
	if (r->inner_proto == 6 || r->inner_proto == 17) {
		CMP("id.sport", r->inner_sport, k->id.sport);
		CMP("id.dport", r->inner_dport, k->id.dport);
		CMP("id.seq", r->tcp_seq, k->id.seq);
	} else {
		CMP("id.sport", 0, k->id.sport);
		CMP("id.dport", 0, k->id.dport);
		CMP("id.seq", (uint32_t)r->icmp_id << 16 | r->icmp_seq, k->id.seq);
	}
	CMP("id.pad", 0, k->id.pad);
}

static void report(struct harness *h, const struct prog *p, const uint8_t *b, size_t n,
		   const struct diff *d)
{
	h->mismatches++;
	if (h->shown++ >= MAX_SHOWN)
		return;
	printf("# MISMATCH in %s, frame %" PRIu64 " (seed %" PRIu64 "), %zu bytes:\n%s", p->name,
	       h->frames, h->seed, n, d->what);
	hexdump(b, n);
}

/* Run one program on one frame and hold it to the reference. */
static void check(struct harness *h, struct prog *p, const uint8_t *b, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = (uint32_t)n, .repeat = 1);
	struct diff dd = {}, *d = &dd;
	struct ref_pkt r;
	uint64_t got;

	if (p->overlay)
		ref_parse_overlay(b, n, &r);
	else
		ref_parse_underlay(b, n, cfg_ports, 1, &r);
	if (h->planted)
		r.vni++;
	h->n_ev = 0;
	if (bpf_prog_test_run_opts(p->fd, &o)) {
		/* The kernel's test harness wants an Ethernet header, and for
		 * skbs with an IPv4 ethertype a whole IPv4 header: those are
		 * refused before the program runs, not program errors. */
		if (errno == EINVAL && (n < 14 || p->tc)) {
			p->refused++;
			return;
		}
		h->errors++;
		printf("# ERROR: test run of %s on %zu bytes: %s\n", p->name, n, strerror(errno));
		hexdump(b, n);
		return;
	}
	p->runs++;
	h->runs++;
	if (o.retval != (p->tc ? TC_UNSPEC : (uint32_t)XDP_PASS)) {
		h->errors++;
		printf("# ERROR: %s returned %u, not pass\n", p->name, o.retval);
		hexdump(b, n);
	}
	ring_buffer__consume(h->rb);
	h->by_result[r.result]++;

	/* Exactly the reference's result counter moved, by one. */
	got = read_counter(h, (uint32_t)r.result);
	if (got != h->model[r.result] + 1) {
		note(d, "#   counter: expected +1 on result %d, it moved by %" PRId64 "\n",
		     r.result, (int64_t)(got - h->model[r.result]));
		for (uint32_t i = 0; i < VX_R__MAX; i++) {
			uint64_t v = read_counter(h, i);

			if (v != h->model[i] + (i == (uint32_t)r.result))
				note(d, "#   counter %u moved by %" PRId64 "\n", i,
				     (int64_t)(v - h->model[i]));
			h->model[i] = v;
		}
	} else {
		h->model[r.result] = got;
	}
	if (r.result == VX_R_VXLAN || r.result == VX_R_INNER) {
		h->model[VX_C_EVENTS]++;
		if (h->n_ev != 1)
			note(d, "#   events: expected 1, got %d\n", h->n_ev);
		else
			cmp_event(d, &r, &h->ev, n, p);
	} else if (h->n_ev) {
		note(d, "#   events: expected none for result %d, got %d (result %u)\n", r.result,
		     h->n_ev, h->ev.result);
	}
	if (d->len)
		report(h, p, b, n, d);
}

/* Counters nobody should have touched, and the event total. Tunnel
 * evictions and cache misses depend on the LRU's room and the cache's
 * history, not on the frames: no model. */
static void check_totals(struct harness *h)
{
	for (uint32_t i = VX_C_EVENTS; i < VX_C__MAX; i++) {
		if (i == VX_C_TUN_EVICTED || i == VX_C_TUN_MISS)
			continue;
		uint64_t v = read_counter(h, i);

		if (v != h->model[i]) {
			h->mismatches++;
			printf("# MISMATCH: counter %u is %" PRIu64 ", expected %" PRIu64 "\n", i,
			       v, h->model[i]);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: difffuzz [-n FRAMES] [-s SEED] [-v] [-P] [-x HEX]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct harness h = { .seed = 1 };
	uint64_t want = 10000, sweeps = 0;
	struct prog progs[5];
	struct frame f, m;
	const char *replay = NULL;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:s:vPx:")) != -1) {
		char *end;

		switch (opt) {
		case 'n':
			want = strtoull(optarg, &end, 0);
			if (*end || !want)
				usage();
			break;
		case 's':
			h.seed = strtoull(optarg, &end, 0);
			if (*end)
				usage();
			break;
		case 'v': h.verbose = true; break;
		case 'P': h.planted = true; break;
		case 'x': replay = optarg; break;
		default: usage();
		}
	}
	if (geteuid()) {
		printf("1..0 # SKIP needs root to load BPF programs\n");
		return 0;
	}
	libbpf_set_print(NULL);
	err = harness_open(&h);
	if (err) {
		printf("Bail out! cannot load the datapath programs: %s\n", strerror(-err));
		return 1;
	}
	progs[0] = (struct prog){ "vx_xdp_ul_in", bpf_program__fd(h.xdp->progs.vx_xdp_ul_in) };
	progs[1] = (struct prog){ "vx_tc_ul_in", bpf_program__fd(h.tc->progs.vx_tc_ul_in), false,
				  true };
	progs[2] = (struct prog){ "vx_tc_ul_out", bpf_program__fd(h.tc->progs.vx_tc_ul_out), false,
				  true };
	progs[3] = (struct prog){ "vx_tc_vx_in", bpf_program__fd(h.tc->progs.vx_tc_vx_in), true,
				  true };
	progs[4] = (struct prog){ "vx_tc_vx_out", bpf_program__fd(h.tc->progs.vx_tc_vx_out), true,
				  true };
	rng_state = h.seed;
	if (replay) {
		size_t n = 0;

		for (const char *c = replay; *c; c++) {
			unsigned v;

			if (!isxdigit((unsigned char)*c))
				continue;
			if (!isxdigit((unsigned char)c[1]) || n >= sizeof(f.b))
				usage();
			sscanf(c, "%2x", &v);
			f.b[n++] = (uint8_t)v;
			c++;
		}
		for (int i = 0; i < 5; i++)
			check(&h, &progs[i], f.b, n);
		printf("# replayed %zu bytes through 5 programs: %" PRIu64 " mismatches, %" PRIu64
		       " program errors\n",
		       n, h.mismatches, h.errors);
		harness_close(&h);
		return h.mismatches || h.errors ? 1 : 0;
	}

	while (h.frames < want) {
		build_underlay(&f);
		if (h.frames % 64 == 0) {
			/* Truncation at every offset of one valid frame. */
			sweeps++;
			for (size_t len = 0; len <= f.n && h.frames < want; len++, h.frames++) {
				check(&h, &progs[0], f.b, len);
				check(&h, &progs[1 + len % 2], f.b, len);
				if (f.inner <= len)
					check(&h, &progs[3 + len % 2], f.b + f.inner,
					      len - f.inner);
			}
			continue;
		}
		m = f;
		if (chance(8)) {
			/* Pure noise, sometimes behind a plausible ethertype. */
			m.n = 14 + below(200);
			for (size_t i = 0; i < m.n; i++)
				m.b[i] = (uint8_t)rnd();
			if (chance(50))
				set16(&m, 12, chance(50) ? 0x0800 : 0x86dd);
			m.inner = 14;
		} else {
			for (unsigned i = 0, k = 1 + below(2); i < k; i++)
				mutate(&m);
		}
		check(&h, &progs[0], m.b, m.n);
		check(&h, &progs[1 + h.frames % 2], m.b, m.n);
		if (m.inner <= m.n)
			check(&h, &progs[3 + h.frames % 2], m.b + m.inner, m.n - m.inner);
		h.frames++;
		if (h.verbose && h.frames % 100000 == 0)
			fprintf(stderr, "difffuzz: %" PRIu64 " frames, %" PRIu64 " mismatches\n",
				h.frames, h.mismatches);
	}
	check_totals(&h);

	printf("1..3\n");
	printf("%s 1 - every field and counter agrees with the reference (%" PRIu64
	       " frames, %" PRIu64 " runs, seed %" PRIu64 ")\n",
	       h.mismatches ? "not ok" : "ok", h.frames, h.runs, h.seed);
	printf("%s 2 - no program errors, every verdict is pass\n", h.errors ? "not ok" : "ok");
	/* A fuzzer that never reaches the deep results proves little. */
	printf("%s 3 - the frames reach every depth (vxlan %" PRIu64 ", inner %" PRIu64
	       ", bad l4 %" PRIu64 ", bad ip6 ext %" PRIu64 ", bad vlan %" PRIu64 ")\n",
	       h.by_result[VX_R_VXLAN] && h.by_result[VX_R_INNER] && h.by_result[VX_R_BAD_L4] &&
			       h.by_result[VX_R_BAD_IP6_EXT] && h.by_result[VX_R_BAD_VLAN] &&
			       h.by_result[VX_R_BAD_VXLAN_FLAGS] && h.by_result[VX_R_BAD_IHL] ?
		       "ok" :
		       "not ok",
	       h.by_result[VX_R_VXLAN], h.by_result[VX_R_INNER], h.by_result[VX_R_BAD_L4],
	       h.by_result[VX_R_BAD_IP6_EXT], h.by_result[VX_R_BAD_VLAN]);
	for (int i = 0; i < 5; i++)
		printf("# %-13s %" PRIu64 " runs, %" PRIu64 " refused by the test harness\n",
		       progs[i].name, progs[i].runs, progs[i].refused);
	printf("# %" PRIu64 " frames (%" PRIu64 " truncation sweeps), %" PRIu64 " runs, %" PRIu64
	       " mismatches, %" PRIu64 " program errors, seed %" PRIu64 "\n",
	       h.frames, sweeps, h.runs, h.mismatches, h.errors, h.seed);
	harness_close(&h);
	return h.mismatches || h.errors ? 1 : 0;
}
