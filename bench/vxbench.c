// SPDX-License-Identifier: GPL-2.0-only
/* vxbench: the measuring half of `make bench`; bench/run drives it and
 * writes docs/BENCHMARKS.md. Every subcommand prints machine-readable
 * lines ("key=value ...") or a ready-made Markdown table; nothing here
 * judges a figure, bench/run compares with the targets.
 *
 *   prog  [-n REPEAT] [-r ROUNDS]     per-program cost, BPF_PROG_TEST_RUN
 *   sizes                             xlated instructions and JITed bytes
 *   attach [-e 0|1] [-E|-P] DEV...    hold vx_tc (-E: empty programs, -P: the
 *                                     parse floor) on DEVs (TCX) until
 *                                     signalled
 *   rate  -p PID [-s SECS] [-m MAXRATE]
 *                                     drive PID's vx_tc_ul_in at paced rates
 *   spawn -m MARKER [-t SECS] -- CMD...
 *                                     exec to marker, then peak RSS
 *   hooks [-s SECS] [-p PID]...       per-call cost on kernel hooks, beside
 *                                     empty programs (BPF_ENABLE_STATS)
 *   tcx DEV                           the programs on DEV's TCX ingress and
 *                                     egress (bpftool 7.1 does not list TCX):
 *                                     "ingress N NAME..." and "egress ..."
 *   lines ID...                       where each source line of the loaded
 *                                     programs begins in kernel memory
 *                                     (Debian's bpftool cannot disassemble):
 *                                     "ADDRESS FILE:LINE SOURCE" a line, to
 *                                     put perf's samples on source lines
 *   misses [MAP_ID...]                tunnel-cache misses so far over the
 *                                     vxray datapaths whose maps are given
 *                                     (all loaded ones without): "tun_miss=N"
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "maputil.h"
#include "vxray.h"
#include "vx_bench_hooks.skel.h"
#include "vx_bench_tc.skel.h"
#include "vx_bench_xdp.skel.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

/* libbpf 1.1's UAPI copy predates TCX (6.6); the kernel's numbers. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
		;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* As vxray sets vx_kern_ctx (vx_dp_kern_ctx): a packet's namespace read
 * with plain loads where the kernel has bpf_cast_to_kern_ctx. The kernel's
 * BTF is parsed once, not once per datapath the benchmark loads. */
static bool kern_ctx(void)
{
	static int has = -1;
	struct btf *btf;

	if (has < 0) {
		btf = btf__load_vmlinux_btf();
		has = btf && btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
		btf__free(btf);
	}
	return has;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "vxbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* ---- frames --------------------------------------------------------------- */

struct frame {
	const char *name;
	unsigned char b[256];
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

static void ip4(struct frame *f, uint8_t proto, const char *src, const char *dst, uint16_t len)
{
	unsigned char h[20] = { 0x45 };

	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	h[4] = 0x12;
	h[5] = 0x34;
	h[8] = 64;
	h[9] = proto;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	put(f, h, 20);
}

/* TCP with the timestamp option (32-byte header, as Linux sends) and
 * @payload bytes: a mid-stream segment. */
static void tcp(struct frame *f, size_t payload)
{
	unsigned char h[32] = { 0x9c, 0x40, 0x13, 0x89, 0, 1, 0xe2, 0x40 };

	h[12] = 8 << 4;
	h[13] = 0x18; /* PSH|ACK */
	h[20] = 1;
	h[21] = 1;
	h[22] = 8;
	h[23] = 10;
	put(f, h, 32);
	f->n += payload; /* zero bytes: the frame was zeroed */
}

static void icmp_echo(struct frame *f)
{
	unsigned char h[8] = { 8, 0, 0, 0, 0x12, 0x34, 0, 7 };

	put(f, h, 8);
	f->n += 56; /* ping's default payload */
}

static void vxlan_outer(struct frame *f, uint16_t inner_len)
{
	unsigned char vx[8] = { 0x08, 0, 0, 0, 0, 0, 100, 0 };

	eth(f, 0x0800);
	ip4(f, 17, "10.0.0.1", "10.0.0.2", (uint16_t)(20 + 8 + 8 + inner_len));
	put16(f, 51000);
	put16(f, 4789);
	put16(f, (uint16_t)(8 + 8 + inner_len));
	put16(f, 0);
	put(f, vx, 8);
}

enum { F_VX_TCP, F_VX_ICMP, F_TCP, F_NONIP, F_IN_TCP, F_IN_ICMP, F__N };

static void build_frames(struct frame *fr)
{
	const size_t tcp_pay = 64;
	const uint16_t in_tcp = (uint16_t)(14 + 20 + 32 + tcp_pay), in_icmp = 14 + 20 + 64;
	static const unsigned char arp[28] = { 0,  1, 8, 0, 6, 4, 0, 1, 2, 0, 0,  0, 0, 1,
					       10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2 };

	memset(fr, 0, sizeof(*fr) * F__N);
	fr[F_VX_TCP].name = "VXLAN, inner TCP";
	vxlan_outer(&fr[F_VX_TCP], in_tcp);
	eth(&fr[F_VX_TCP], 0x0800);
	ip4(&fr[F_VX_TCP], 6, "172.16.0.1", "172.16.0.2", (uint16_t)(20 + 32 + tcp_pay));
	tcp(&fr[F_VX_TCP], tcp_pay);

	fr[F_VX_ICMP].name = "VXLAN, inner ICMP";
	vxlan_outer(&fr[F_VX_ICMP], in_icmp);
	eth(&fr[F_VX_ICMP], 0x0800);
	ip4(&fr[F_VX_ICMP], 1, "172.16.0.1", "172.16.0.2", 20 + 64);
	icmp_echo(&fr[F_VX_ICMP]);

	fr[F_TCP].name = "plain TCP";
	eth(&fr[F_TCP], 0x0800);
	ip4(&fr[F_TCP], 6, "10.0.0.1", "10.0.0.2", (uint16_t)(20 + 32 + tcp_pay));
	tcp(&fr[F_TCP], tcp_pay);

	fr[F_NONIP].name = "non-IP (ARP)";
	eth(&fr[F_NONIP], 0x0806);
	put(&fr[F_NONIP], arp, sizeof(arp));
	fr[F_NONIP].n = 60; /* padded to the Ethernet minimum */

	fr[F_IN_TCP].name = "inner TCP";
	eth(&fr[F_IN_TCP], 0x0800);
	ip4(&fr[F_IN_TCP], 6, "172.16.0.1", "172.16.0.2", (uint16_t)(20 + 32 + tcp_pay));
	tcp(&fr[F_IN_TCP], tcp_pay);

	fr[F_IN_ICMP].name = "inner ICMP";
	eth(&fr[F_IN_ICMP], 0x0800);
	ip4(&fr[F_IN_ICMP], 1, "172.16.0.1", "172.16.0.2", 20 + 64);
	icmp_echo(&fr[F_IN_ICMP]);
}

/* ---- prog: per-program cost ---------------------------------------------- */

/* ns per run of @fd over @repeat runs; the kernel times the loop itself. */
static int test_run(int fd, const struct frame *f, uint32_t repeat, double *ns, uint32_t *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	if (ret)
		*ret = o.retval;
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Counter @idx of vxray's vxp_cnt @map_fd, summed over CPUs. */
static uint64_t counter_sum(int map_fd, uint32_t idx)
{
	uint64_t all[VX_C__MAX];

	vx_cnt_sum(map_fd, all, VX_C__MAX);
	return idx < VX_C__MAX ? all[idx] : 0;
}

struct dp {
	struct vx_tc *tc;
	struct vx_xdp *xdp;
	struct ring_buffer *rb;
	uint64_t seen;
};

static int count_event(void *ctx, void *data, size_t len)
{
	((struct dp *)ctx)->seen++;
	return 0;
}

/* vxray's own namespace: the one BPF_PROG_TEST_RUN's packets are in. */
static uint32_t own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

/* @latency: 0 off, 1 every packet timed, 2 timed 1 in 2^16 (the bench's
 * frame is then one that sampling passes over). @several: set up as when
 * vxray watches several namespaces, each packet's read from its device;
 * else as with one (vx_one_netns). */
/* @tunnels: vxp_tun's keys, as --max-tunnels sets them (0: the default). */
static int dp_load(struct dp *d, int events, int latency, bool several, uint32_t tunnels)
{
	struct vx_dp_config c = { .events = (uint8_t)events,
				  .n_vxlan_ports = 1,
				  .vxlan_ports = { 4789 },
				  .latency = latency != 0,
				  .sample = latency == 2 ? VX_SAMPLE_SHIFT_MAX : 0 };
	uint32_t ns = own_netns(), lo_slot = vx_devc_slot(ns, 1);
	struct vx_devc lo_vni = { .netns = ns, .ifindex = 1, .val = 100 };
	int err;

	d->tc = vx_tc__open();
	d->xdp = vx_xdp__open();
	if (!d->tc || !d->xdp)
		return -errno;
	memcpy((void *)&d->tc->rodata->cfg, &c, sizeof(c));
	d->tc->rodata->vx_kern_ctx = kern_ctx();
	memcpy((void *)&d->xdp->rodata->cfg, &c, sizeof(c));
	/* As the loader sizes it by default (--max-interfaces 4096). */
	bpf_map__set_max_entries(d->tc->maps.vxp_dev, 4096);
	bpf_map__set_map_flags(d->tc->maps.vxp_dev,
			       bpf_map__map_flags(d->tc->maps.vxp_dev) | BPF_F_NO_PREALLOC);
	if (tunnels) {
		bpf_map__set_max_entries(d->tc->maps.vxp_tun, tunnels);
		bpf_map__set_max_entries(d->xdp->maps.vxp_tun, tunnels);
	}
	if ((err = vx_tc__load(d->tc)) ||
	    (err = bpf_map__reuse_fd(d->xdp->maps.vxp_rb, bpf_map__fd(d->tc->maps.vxp_rb))) ||
	    (err = bpf_map__reuse_fd(d->xdp->maps.vxp_cnt, bpf_map__fd(d->tc->maps.vxp_cnt))) ||
	    (err = vx_xdp__load(d->xdp)))
		return err;
	d->tc->bss->vx_one_netns = several ? 0 : ns;
	d->xdp->bss->vx_one_netns = several ? 0 : ns;
	/* BPF_PROG_TEST_RUN runs on loopback (ifindex 1): name it a VXLAN
	 * device with VNI 100 in its vxp_devc slot, as the loader does. */
	if (bpf_map_update_elem(bpf_map__fd(d->tc->maps.vxp_devc), &lo_slot, &lo_vni, BPF_ANY))
		return -errno;
	/* The far end is "watched": underlay egress starts the wire stage. */
	d->tc->bss->vx_wire_wanted = 1;
	d->rb = ring_buffer__new(bpf_map__fd(d->tc->maps.vxp_rb), count_event, d, NULL);
	return d->rb ? 0 : -errno;
}

/* A big node's tables: @n_dev VXLAN devices (ifindex 2.., each in
 * vxp_dev and, where its slot is free, vxp_devc) and @n_remote remote
 * VTEPs (10.128.0.0/16...) met at every hook, in vxp_tun, sized for them
 * as --max-tunnels would (4 x @n_remote). */
static int fill_tables(struct dp *d, uint32_t n_dev, uint32_t n_remote)
{
	int ncpu = libbpf_num_possible_cpus(), dev = bpf_map__fd(d->tc->maps.vxp_dev),
	    devc = bpf_map__fd(d->tc->maps.vxp_devc), tun = bpf_map__fd(d->tc->maps.vxp_tun);
	uint32_t ns = own_netns();
	struct vx_tun_val *zero;

	if (ncpu < 1 || !(zero = calloc((size_t)ncpu, sizeof(*zero))))
		return -ENOMEM;
	for (uint32_t i = 0; i < n_dev; i++) {
		struct vx_dev_key k = { .netns = ns, .ifindex = 2 + i };
		struct vx_devc c = { .netns = ns, .ifindex = 2 + i, .val = 1000 + i };
		uint32_t slot = vx_devc_slot(ns, 2 + i), vni = 1000 + i;
		struct vx_devc cur = { 0 };

		if (bpf_map_update_elem(dev, &k, &vni, BPF_ANY))
			return free(zero), -errno;
		if (!bpf_map_lookup_elem(devc, &slot, &cur) && !cur.ifindex)
			bpf_map_update_elem(devc, &slot, &c, BPF_ANY);
	}
	for (uint32_t r = 0; r < n_remote; r++)
		for (uint8_t at = VX_AT_TC_UL_IN; at <= VX_AT_TC_VX_OUT; at++) {
			struct vx_tun_key k = { .netns = ns,
						.ifindex = 2 + r % (n_dev ? n_dev : 1),
						.vni = 1000 + r % (n_dev ? n_dev : 1),
						.at = at,
						.family = 4 };

			k.remote[0] = 10;
			k.remote[1] = (uint8_t)(128 + (r >> 16));
			k.remote[2] = (uint8_t)(r >> 8);
			k.remote[3] = (uint8_t)r;
			if (bpf_map_update_elem(tun, &k, zero, BPF_ANY))
				return free(zero), -errno;
		}
	free(zero);
	return 0;
}

static void dp_free(struct dp *d)
{
	ring_buffer__free(d->rb);
	vx_xdp__destroy(d->xdp);
	vx_tc__destroy(d->tc);
}

/* Interleave @rounds runs of the program and of its empty baseline; the
 * medians go in one Markdown row. */
static int bench_row(const char *prog, int fd, int empty_fd, const struct frame *f, uint32_t repeat,
		     int rounds, const char *note)
{
	double p[16], e[16], pm, em;
	int err;

	for (int r = 0; r < rounds; r++) {
		if ((err = test_run(empty_fd, f, repeat, &e[r], NULL)) ||
		    (err = test_run(fd, f, repeat, &p[r], NULL)))
			return err;
	}
	pm = median(p, rounds);
	em = median(e, rounds);
	printf("| %s | %s | %zu | %.1f | %.1f | %.2f | %s |\n", prog, f->name, f->n, em, pm,
	       em > 0 ? pm / em : 0, note);
	return 0;
}

/* The event path: events on, so every VXLAN frame reserves, fills and
 * submits a record. The ring buffer (4 MiB) holds ~26k records, so the
 * runs go in chunks drained in between -- outside the timed loop -- and
 * the lost counter proves that every run took the emit path. */
static int bench_events(struct dp *d, int empty_fd, const struct frame *f, uint32_t repeat,
			int rounds)
{
	const uint32_t chunk = 16384;
	int fd = bpf_program__fd(d->tc->progs.vx_tc_ul_in), cnt = bpf_map__fd(d->tc->maps.vxp_cnt);
	uint64_t ev0 = counter_sum(cnt, VX_C_EVENTS), lost0 = counter_sum(cnt, VX_C_LOST);
	double p[16], e[16], pm, em;
	int err;

	for (int r = 0; r < rounds; r++) {
		double sum = 0, ns = 0;
		uint32_t done = 0;

		if ((err = test_run(empty_fd, f, repeat, &e[r], NULL)))
			return err;
		while (done < repeat) {
			uint32_t n = repeat - done < chunk ? repeat - done : chunk;

			if ((err = test_run(fd, f, n, &ns, NULL)))
				return err;
			sum += ns * n;
			done += n;
			ring_buffer__consume(d->rb);
		}
		p[r] = sum / repeat;
	}
	pm = median(p, rounds);
	em = median(e, rounds);
	printf("| vx_tc_ul_in, events on | %s | %zu | %.1f | %.1f | %.2f | %llu events, %llu lost |\n",
	       f->name, f->n, em, pm, em > 0 ? pm / em : 0,
	       (unsigned long long)(counter_sum(cnt, VX_C_EVENTS) - ev0),
	       (unsigned long long)(counter_sum(cnt, VX_C_LOST) - lost0));
	return 0;
}

static int cmd_prog(int argc, char **argv)
{
	uint32_t repeat = 1000000;
	int rounds = 3, err = 0, etc, exdp;
	struct frame fr[F__N];
	struct dp cnt = {}, ev = {}, lat = {}, lat_unsampled = {}, multi = {}, big = {};
	struct vx_bench_tc *btc = NULL;
	struct vx_bench_xdp *bxdp = NULL;
	static const int ul_frames[] = { F_VX_TCP, F_VX_ICMP, F_TCP, F_NONIP };
	static const int vx_frames[] = { F_IN_TCP, F_IN_ICMP, F_NONIP };
	int c;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		switch (c) {
		case 'n': repeat = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': rounds = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!repeat || rounds < 1 || rounds > 16) {
		fprintf(stderr, "vxbench prog: -n wants a repeat count > 0 and -r 1..16 rounds\n");
		return 2;
	}
	build_frames(fr);
	btc = vx_bench_tc__open_and_load();
	bxdp = vx_bench_xdp__open_and_load();
	if (!btc || !bxdp) {
		err = die("loading the empty baseline programs", errno);
		goto out;
	}
	if ((err = dp_load(&cnt, 0, 0, false, 0)) || (err = dp_load(&ev, 1, 0, false, 0)) ||
	    (err = dp_load(&lat, 0, 1, false, 0)) ||
	    (err = dp_load(&lat_unsampled, 0, 2, false, 0)) ||
	    (err = dp_load(&multi, 0, 0, true, 0)) ||
	    (err = dp_load(&big, 0, 0, false, 4 * 10000)) ||
	    (err = fill_tables(&big, 1000, 10000))) {
		err = die("loading vx_tc/vx_xdp", err);
		goto out;
	}
	etc = bpf_program__fd(btc->progs.vxb_tc_empty);
	exdp = bpf_program__fd(bxdp->progs.vxb_xdp_empty);

	printf("repeat=%u rounds=%d (median of the rounds; empty and vxray program interleaved)\n\n",
	       repeat, rounds);
	printf("| program | frame | bytes | empty ns/pkt | vxray ns/pkt | ratio | note |\n");
	printf("|---|---|---|---|---|---|---|\n");
	struct {
		const char *name;
		struct bpf_program *prog;
		int empty;
		const int *frames;
		int n;
	} rows[] = {
		{ "vx_xdp_ul_in", cnt.xdp->progs.vx_xdp_ul_in, exdp, ul_frames, 4 },
		{ "vx_tc_ul_in", cnt.tc->progs.vx_tc_ul_in, etc, ul_frames, 4 },
		{ "vx_tc_ul_out", cnt.tc->progs.vx_tc_ul_out, etc, ul_frames, 4 },
		{ "vx_tc_vx_in", cnt.tc->progs.vx_tc_vx_in, etc, vx_frames, 3 },
		{ "vx_tc_vx_out", cnt.tc->progs.vx_tc_vx_out, etc, vx_frames, 3 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (int j = 0; j < rows[i].n; j++) {
			const struct frame *f = &fr[rows[i].frames[j]];
			const char *note = rows[i].frames[j] == F_VX_TCP ?
						   "counters only; target <= 2.00" :
						   "counters only";

			err = bench_row(rows[i].name, bpf_program__fd(rows[i].prog), rows[i].empty,
					f, repeat, rounds, note);
			if (err) {
				err = die("BPF_PROG_TEST_RUN", err);
				goto out;
			}
		}
	/* A big node: per-packet lookups are direct-mapped or hashed, so the
	 * size of the tables should not show. */
	if ((err = bench_row("vx_tc_ul_in, 1000 devices and 10000 remotes in the tables",
			     bpf_program__fd(big.tc->progs.vx_tc_ul_in), etc, &fr[F_VX_TCP], repeat,
			     rounds, "counters only; target <= 1.10 x the row of one device")) ||
	    (err = bench_row("vx_tc_vx_in, 1000 devices and 10000 remotes in the tables",
			     bpf_program__fd(big.tc->progs.vx_tc_vx_in), etc, &fr[F_IN_TCP], repeat,
			     rounds, "counters only; target <= 1.10 x the row of one device"))) {
		err = die("BPF_PROG_TEST_RUN (big tables)", err);
		goto out;
	}
	/* Several namespaces watched: each counted packet's namespace is
	 * read from its device (three kernel reads, four from XDP). */
	if ((err = bench_row("vx_xdp_ul_in, several namespaces",
			     bpf_program__fd(multi.xdp->progs.vx_xdp_ul_in), exdp, &fr[F_VX_TCP],
			     repeat, rounds, "counters only; namespace read from the device")) ||
	    (err = bench_row("vx_tc_ul_in, several namespaces",
			     bpf_program__fd(multi.tc->progs.vx_tc_ul_in), etc, &fr[F_VX_TCP],
			     repeat, rounds, "counters only; namespace read from the device")) ||
	    (err = bench_row("vx_tc_vx_in, several namespaces",
			     bpf_program__fd(multi.tc->progs.vx_tc_vx_in), etc, &fr[F_IN_TCP],
			     repeat, rounds, "counters only; namespace read from the device"))) {
		err = die("BPF_PROG_TEST_RUN (several namespaces)", err);
		goto out;
	}
	/* Where the floor is: the empty program plus one bpf_ktime_get_ns(). */
	if ((err = bench_row("vxb_xdp_ktime (timestamp only)",
			     bpf_program__fd(bxdp->progs.vxb_xdp_ktime), exdp, &fr[F_VX_TCP],
			     repeat, rounds, "baseline: empty + bpf_ktime_get_ns")) ||
	    (err = bench_row("vxb_tc_ktime (timestamp only)",
			     bpf_program__fd(btc->progs.vxb_tc_ktime), etc, &fr[F_VX_TCP], repeat,
			     rounds, "baseline: empty + bpf_ktime_get_ns")) ||
	    (err = bench_row("vxb_tc_coarse (coarse timestamp only)",
			     bpf_program__fd(btc->progs.vxb_tc_coarse), etc, &fr[F_VX_TCP], repeat,
			     rounds,
			     "baseline: empty + bpf_ktime_get_coarse_ns (tick resolution)")) ||
	    (err = bench_row("vxb_tc_join (timestamp + stamp lookup)",
			     bpf_program__fd(btc->progs.vxb_tc_join), etc, &fr[F_VX_TCP], repeat,
			     rounds,
			     "baseline: empty + bpf_ktime_get_ns + one vxl_stamp-like lookup"))) {
		err = die("BPF_PROG_TEST_RUN", err);
		goto out;
	}
	/* Latency on: the timestamp is taken, and the stamp join runs (the
	 * underlay egress hook stamps; ingress looks the stamp up). */
	if ((err = bench_row("vx_tc_ul_out, latency on",
			     bpf_program__fd(lat.tc->progs.vx_tc_ul_out), etc, &fr[F_VX_TCP],
			     repeat, rounds,
			     "parse + timestamp + identity + counters + stamp; target <= 2.00")) ||
	    (err = bench_row("vx_tc_ul_in, latency on", bpf_program__fd(lat.tc->progs.vx_tc_ul_in),
			     etc, &fr[F_VX_TCP], repeat, rounds,
			     "parse + timestamp + identity + counters + join")) ||
	    (err = bench_row("vx_tc_ul_out, latency on, sampled",
			     bpf_program__fd(lat.tc->progs.vx_tc_ul_out), etc, &fr[F_VX_TCP],
			     repeat, rounds, "a packet sampling times: the latency-on row")) ||
	    (err = bench_row("vx_tc_ul_out, latency on, not sampled",
			     bpf_program__fd(lat_unsampled.tc->progs.vx_tc_ul_out), etc,
			     &fr[F_VX_TCP], repeat, rounds,
			     "a packet sampling passes over: identity hash, no clock"))) {
		err = die("BPF_PROG_TEST_RUN (latency on)", err);
		goto out;
	}
	if ((err = bench_events(&ev, etc, &fr[F_VX_TCP], repeat, rounds))) {
		err = die("BPF_PROG_TEST_RUN (events on)", err);
		goto out;
	}
	printf("\nevents_seen_by_consumer=%llu\n", (unsigned long long)ev.seen);
out:
	dp_free(&big);
	dp_free(&multi);
	dp_free(&lat_unsampled);
	dp_free(&lat);
	dp_free(&ev);
	dp_free(&cnt);
	vx_bench_xdp__destroy(bxdp);
	vx_bench_tc__destroy(btc);
	return err;
}

/* ---- sizes: what the kernel made of each program ------------------------- */

static void size_row(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return;
	printf("| %s | %u | %u |\n", bpf_program__name(prog), info.xlated_prog_len / 8,
	       info.jited_prog_len);
}

static int cmd_sizes(void)
{
	struct vx_bench_tc *btc = vx_bench_tc__open_and_load();
	struct vx_bench_xdp *bxdp = vx_bench_xdp__open_and_load();
	struct dp d = {};
	int err = 0;

	if (!btc || !bxdp || (err = dp_load(&d, 1, 0, false, 0))) {
		err = die("loading the programs", err ? err : errno);
		goto out;
	}
	size_row(bxdp->progs.vxb_xdp_empty);
	size_row(btc->progs.vxb_tc_empty);
	size_row(d.xdp->progs.vx_xdp_ul_in);
	size_row(d.tc->progs.vx_tc_ul_in);
	size_row(d.tc->progs.vx_tc_ul_out);
	size_row(d.tc->progs.vx_tc_vx_in);
	size_row(d.tc->progs.vx_tc_vx_out);
out:
	dp_free(&d);
	vx_bench_xdp__destroy(bxdp);
	vx_bench_tc__destroy(btc);
	return err;
}

/* ---- attach: counters-only datapath on devices --------------------------- */

/* The baseline programs loaded for one TCX direction (the attach type is
 * fixed at load). */
static struct vx_bench_tc *baseline_tc(int attach_type)
{
	struct vx_bench_tc *b = vx_bench_tc__open();
	struct bpf_program *p;

	if (!b)
		return NULL;
	bpf_object__for_each_program (p, b->obj)
		bpf_program__set_expected_attach_type(p, (enum bpf_attach_type)attach_type);
	if (vx_bench_tc__load(b)) {
		vx_bench_tc__destroy(b);
		return NULL;
	}
	return b;
}

/* The program of @b that -E (empty) or -P (parse floor) puts on a device. */
static struct bpf_program *baseline_prog(struct vx_bench_tc *b, char mode, bool vx)
{
	if (mode == 'E')
		return b->progs.vxb_tc_empty;
	return vx ? b->progs.vxb_tc_parse_vx : b->progs.vxb_tc_parse_ul;
}

/* The real vx_tc programs, counters only (events=0), on TCX links that die
 * with this process; with -E, an empty tc program on the same hooks
 * instead: the floor of any tc instrumentation there; with -P, the parse
 * floor (vxb_tc_parse_*): the floor of exact counting. */
static int cmd_attach(int argc, char **argv)
{
	struct vx_dp_config c = { .n_vxlan_ports = 1, .vxlan_ports = { 4789 } };
	struct vx_bench_tc *base[2] = {};
	struct vx_tc *tc;
	int links[32], n = 0, err = 0, opt;
	char mode = 0;

	while ((opt = getopt(argc, argv, "e:EP")) != -1) {
		if (opt == 'E' || opt == 'P')
			mode = (char)opt;
		else if (opt == 'e')
			c.events = (uint8_t)atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || argc - optind > 16) {
		fprintf(stderr, "vxbench attach: name 1 to 16 devices (underlay or vxlan*)\n");
		return 2;
	}
	tc = vx_tc__open();
	if (!tc)
		return die("opening vx_tc", errno);
	memcpy((void *)&tc->rodata->cfg, &c, sizeof(c));
	tc->rodata->vx_kern_ctx = kern_ctx();
	bpf_program__set_expected_attach_type(tc->progs.vx_tc_ul_in,
					      (enum bpf_attach_type)BPF_TCX_INGRESS);
	bpf_program__set_expected_attach_type(tc->progs.vx_tc_vx_in,
					      (enum bpf_attach_type)BPF_TCX_INGRESS);
	bpf_program__set_expected_attach_type(tc->progs.vx_tc_ul_out,
					      (enum bpf_attach_type)BPF_TCX_EGRESS);
	bpf_program__set_expected_attach_type(tc->progs.vx_tc_vx_out,
					      (enum bpf_attach_type)BPF_TCX_EGRESS);
	if ((err = vx_tc__load(tc))) {
		vx_tc__destroy(tc);
		return die("loading vx_tc", err);
	}
	if (mode && (!(base[0] = baseline_tc(BPF_TCX_INGRESS)) ||
		     !(base[1] = baseline_tc(BPF_TCX_EGRESS)))) {
		err = die("loading the baseline tc programs", -errno);
		goto out;
	}
	for (int i = optind; i < argc && !err; i++) {
		int ifindex = (int)if_nametoindex(argv[i]);
		bool vx = !strncmp(argv[i], "vxlan", 5);
		struct bpf_program *in = vx ? tc->progs.vx_tc_vx_in : tc->progs.vx_tc_ul_in;
		struct bpf_program *out = vx ? tc->progs.vx_tc_vx_out : tc->progs.vx_tc_ul_out;

		if (!ifindex) {
			fprintf(stderr, "vxbench attach: no device '%s' in this namespace\n",
				argv[i]);
			err = 1;
			break;
		}
		for (int dir = 0; dir < 2; dir++) {
			struct bpf_program *p = mode ? baseline_prog(base[dir], mode, vx) :
						dir  ? out :
						       in;
			int fd = bpf_link_create(
				bpf_program__fd(p), ifindex,
				(enum bpf_attach_type)(dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS),
				NULL);

			if (fd < 0) {
				err = die("creating a TCX link", fd);
				break;
			}
			links[n++] = fd;
		}
	}
	if (!err) {
		fprintf(stderr, "attached %d links; %s\n", n,
			mode == 'E' ? "empty programs" :
			mode == 'P' ? "parse floor" :
				      "counters only");
		while (!stop)
			pause();
	}
	for (int i = n - 1; i >= 0; i--)
		close(links[i]);
out:
	vx_bench_tc__destroy(base[1]);
	vx_bench_tc__destroy(base[0]);
	vx_tc__destroy(tc);
	return err;
}

/* ---- rate: event rate through a running vxray ---------------------------- */

/* The BPF program ids a process holds, from /proc/PID/fdinfo. */
static int prog_ids_of(int pid, uint32_t *ids, int max)
{
	char path[64], line[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		char p[320];
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "prog_id:", 8)) {
				uint32_t id = (uint32_t)strtoul(line + 8, NULL, 10);
				bool dup = false;

				for (int i = 0; i < n; i++)
					dup |= ids[i] == id;
				if (!dup && n < max)
					ids[n++] = id;
			}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* An fd for the program named @name that process @pid holds. */
static int prog_fd_of(int pid, const char *name)
{
	uint32_t ids[256];
	int n = prog_ids_of(pid, ids, 256);

	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

static int map_fd_of_prog(int prog_fd, const char *name)
{
	uint32_t map_ids[32];
	struct bpf_prog_info info = { .nr_map_ids = 32, .map_ids = (uint64_t)(uintptr_t)map_ids };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (uint32_t i = 0; i < info.nr_map_ids && i < 32; i++) {
		struct bpf_map_info mi = {};
		uint32_t ml = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &ml) && !strcmp(mi.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* How fast the consumer empties its ring buffer: a burst that fills half
 * the ring (records of a struct vx_event and the ring's 8-byte header),
 * then the consumer position read from the ring's own pages until it
 * reaches the producer's. This is the rate the real consumer formats JSON
 * at, whatever the pacing. The burst is large, yet clear of any loss, so
 * that the consumer's wakeup (the programs wake it once the ring is an
 * eighth full, else its 20 ms timed drain does) weighs little. */
static int drain_rate(int prog_fd, int rb_fd, const struct frame *f)
{
	struct bpf_map_info mi = {};
	uint32_t ml = sizeof(mi), burst;
	long page = sysconf(_SC_PAGESIZE);
	volatile uint64_t *cons, *prod;
	double rates[3], ns;
	int err = 0;

	if (bpf_obj_get_info_by_fd(rb_fd, &mi, &ml))
		return -errno;
	burst = mi.max_entries / 2 / (uint32_t)(sizeof(struct vx_event) + 8);

	cons = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, rb_fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, rb_fd, page);
	if (prod == MAP_FAILED) {
		err = -errno;
		munmap((void *)cons, (size_t)page);
		return err;
	}
	for (int i = 0; i < 3 && !err; i++) {
		uint64_t t0, t1, target, deadline;

		for (deadline = now_ns() + 5000000000ULL; *cons != *prod && now_ns() < deadline;)
			sleep_ns(100000);
		t0 = now_ns();
		if ((err = test_run(prog_fd, f, burst, &ns, NULL)))
			break;
		target = *prod;
		for (deadline = now_ns() + 10000000000ULL; *cons < target && now_ns() < deadline;)
			sleep_ns(20000);
		t1 = now_ns();
		if (*cons < target) {
			err = -ETIMEDOUT;
			break;
		}
		rates[i] = burst * 1e9 / (double)(t1 - t0);
	}
	if (!err)
		printf("consumer_drain_events_per_s=%.0f (median of 3 bursts of %u events)\n\n",
		       median(rates, 3), burst);
	munmap((void *)prod, (size_t)page);
	munmap((void *)cons, (size_t)page);
	return err;
}

/* Offer @rate events/s for @secs to the program @fd: at each 1 ms tick,
 * one BPF_PROG_TEST_RUN batch brings the count up to what is due by the
 * end of that tick, until rate * secs are offered. Returns the nanoseconds
 * the offer took: at least the step (@secs), more when the producer could
 * not keep the pace; *@sent is how many were offered. */
static int offer(int fd, const struct frame *f, double rate, double secs, uint64_t *sent,
		 uint64_t *el)
{
	const uint64_t tick = 1000000, step = (uint64_t)(secs * 1e9);
	uint64_t total = (uint64_t)llround(rate * secs), t0 = now_ns(), t = t0;
	double ns;
	int err;

	for (*sent = 0; *sent < total && !stop; t = now_ns()) {
		/* Due by the end of the current tick; the ticks of the step add
		 * up to exactly @total. */
		uint64_t end = (t - t0) / tick * tick + tick;
		uint64_t due = end >= step ? total : (uint64_t)((double)end * rate / 1e9);

		if (due > total)
			due = total;
		if (due > *sent) {
			uint32_t n = (uint32_t)(due - *sent > 100000 ? 100000 : due - *sent);

			if ((err = test_run(fd, f, n, &ns, NULL)))
				return err;
			*sent += n;
		} else {
			sleep_ns(t0 + end - t);
		}
	}
	t = now_ns();
	if (t - t0 < step) {
		sleep_ns(t0 + step - t);
		*el = step;
	} else {
		*el = t - t0;
	}
	return 0;
}

/* Drive the vx_tc_ul_in that vxray (@pid) loaded with BPF_PROG_TEST_RUN:
 * every run emits one event into vxray's ring buffer, which vxray's own
 * loop consumes and formats. Each step offers rate * secs events within
 * @secs (offer()); the kernel's LOST counter is the loss. Stops after the
 * first step that loses. */
static int cmd_rate(int argc, char **argv)
{
	static const double steps[] = { 1e4,   2.5e4,  5e4,   1e5, 2.5e5, 5e5, 7.5e5, 1e6,
					1.1e6, 1.25e6, 1.5e6, 2e6, 3e6,	  4e6, 6e6 };
	double secs = 1, max = 6e6;
	struct frame fr[F__N];
	int pid = 0, fd, cnt, rb, c, err;
	double best = 0;

	while ((c = getopt(argc, argv, "p:s:m:")) != -1) {
		switch (c) {
		case 'p': pid = atoi(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'm': max = atof(optarg); break;
		default: return 2;
		}
	}
	if (pid <= 0 || secs <= 0) {
		fprintf(stderr,
			"vxbench rate: -p PID of a running `vxray encap` and -s SECONDS > 0\n");
		return 2;
	}
	build_frames(fr);
	fd = prog_fd_of(pid, "vx_tc_ul_in");
	if (fd < 0)
		return die("finding vx_tc_ul_in in that vxray process", fd);
	cnt = map_fd_of_prog(fd, "vxp_cnt");
	if (cnt < 0)
		return die("finding its vxp_cnt map", cnt);

	rb = map_fd_of_prog(fd, "vxp_rb");
	if (rb < 0)
		return die("finding its vxp_rb ring buffer", rb);
	if ((err = drain_rate(fd, rb, &fr[F_VX_TCP])))
		return die("measuring the consumer's drain rate", err);
	printf("| target events/s | offered events | offered events/s | events | lost | consumer kept up |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]) && steps[s] <= max && !stop; s++) {
		uint64_t ev0 = counter_sum(cnt, VX_C_EVENTS), lost0 = counter_sum(cnt, VX_C_LOST);
		uint64_t sent, el, ev, lost;
		double offered;

		if ((err = offer(fd, &fr[F_VX_TCP], steps[s], secs, &sent, &el)))
			return die("BPF_PROG_TEST_RUN on vxray's program", err);
		offered = (double)sent * 1e9 / (double)el;
		sleep_ns(300000000); /* let the consumer drain before reading */
		ev = counter_sum(cnt, VX_C_EVENTS) - ev0;
		lost = counter_sum(cnt, VX_C_LOST) - lost0;
		printf("| %.0f | %llu | %.0f | %llu | %llu | %s |\n", steps[s],
		       (unsigned long long)sent, offered, (unsigned long long)ev,
		       (unsigned long long)lost, lost ? "no" : "yes");
		fflush(stdout);
		if (lost) {
			printf("\nfirst_loss_rate=%.0f lost=%llu of %llu\n", steps[s],
			       (unsigned long long)lost, (unsigned long long)(ev + lost));
			break;
		}
		best = offered;
	}
	printf("\nmax_lossless_events_per_s=%.0f\n", best);
	close(rb);
	close(cnt);
	close(fd);
	return 0;
}

/* ---- spawn: startup time and peak RSS ------------------------------------ */

/* RssAnon/RssFile of @pid in kB, from /proc/PID/status: heap (parsed BTF,
 * symbol tables) versus mapped files (libraries). */
static void rss_split(pid_t pid, long *anon, long *file)
{
	char path[64], line[128];
	FILE *f;

	*anon = *file = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", anon);
		sscanf(line, "RssFile: %ld", file);
	}
	fclose(f);
}

/* The kernel memory of the BPF maps @pid holds, in kB: the memlock of
 * each map fd in /proc/PID/fdinfo, each map once. */
static long map_kb(pid_t pid)
{
	char path[300], line[128];
	unsigned int ids[4096];
	int n_ids = 0;
	struct dirent *d;
	long sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		unsigned long long memlock = 0;
		unsigned int id = 0;
		bool dup = false;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "map_id: %u", &id);
			sscanf(line, "memlock: %llu", &memlock);
		}
		fclose(f);
		for (int i = 0; i < n_ids && !dup; i++)
			dup = ids[i] == id;
		if (!id || dup || n_ids == (int)(sizeof(ids) / sizeof(ids[0])))
			continue;
		ids[n_ids++] = id;
		sum += (long)(memlock / 1024);
	}
	closedir(dir);
	return sum;
}

/* spawn -m MARKER -- COMMAND: start COMMAND and time it until it prints
 * MARKER; then its RSS and map memory, and SIGINT. */
static int cmd_spawn(int argc, char **argv)
{
	const char *marker = NULL;
	double timeout = 30;
	int p[2], c, status;
	char buf[4096], seen[8192] = "";
	size_t have = 0;
	struct rusage ru;
	uint64_t t0, t_mark = 0;
	long anon = -1, file = -1, maps = -1;
	pid_t pid;

	while ((c = getopt(argc, argv, "+m:t:")) != -1) {
		switch (c) {
		case 'm': marker = optarg; break;
		case 't': timeout = atof(optarg); break;
		default: return 2;
		}
	}
	if (!marker || optind >= argc) {
		fprintf(stderr, "vxbench spawn: -m MARKER [-t SECS] -- COMMAND...\n");
		return 2;
	}
	if (pipe(p))
		return die("pipe", errno);
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		return die("fork", errno);
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "vxbench spawn: cannot run %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		int left = (int)(timeout * 1000 - (double)(now_ns() - t0) / 1e6);
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, left) <= 0)
			break;
		n = read(p[0], buf, sizeof(buf) - 1);
		if (n <= 0)
			break;
		buf[n] = 0;
		if (have + (size_t)n < sizeof(seen) - 1) {
			memcpy(seen + have, buf, (size_t)n + 1);
			have += (size_t)n;
		}
		if (strstr(seen, marker)) {
			t_mark = now_ns();
			rss_split(pid, &anon, &file);
			maps = map_kb(pid);
			break;
		}
	}
	kill(pid, SIGINT);
	/* Drain so that a chatty child never blocks on a full pipe. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 500; i++) {
		pid_t w = wait4(pid, &status, WNOHANG, &ru);

		if (w == pid)
			goto reaped;
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	wait4(pid, &status, 0, &ru);
reaped:
	close(p[0]);
	if (!t_mark) {
		fprintf(stderr, "vxbench spawn: '%s' never printed '%s'; it said:\n%s\n",
			argv[optind], marker, seen);
		return 1;
	}
	printf("startup_ms=%.1f peak_rss_kb=%ld anon_kb=%ld file_kb=%ld map_kb=%ld\n",
	       (double)(t_mark - t0) / 1e6, ru.ru_maxrss, anon, file, maps);
	return 0;
}

/* ---- hooks: per-call cost on kernel hooks -------------------------------- */

/* The hook a program is attached to, from its BTF target: tp_btf
 * programs target "btf_trace_<tracepoint>", fentry/fexit the function. */
static const char *hook_of(const struct btf *vmlinux, const struct bpf_prog_info *info)
{
	const struct btf_type *t;
	const char *n;

	if (!vmlinux || !info->attach_btf_id)
		return "-";
	t = btf__type_by_id(vmlinux, info->attach_btf_id);
	n = t ? btf__name_by_offset(vmlinux, t->name_off) : NULL;
	if (!n || !*n)
		return "-";
	return strncmp(n, "btf_trace_", 10) ? n : n + 10;
}

static void print_stats(const struct btf *vmlinux, int fd, const char *who)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	printf("prog=%s owner=%s hook=%s run_cnt=%llu run_time_ns=%llu\n", info.name, who,
	       hook_of(vmlinux, &info), (unsigned long long)info.run_cnt,
	       (unsigned long long)info.run_time_ns);
}

/* Attach the empty baselines, enable run-time statistics for as long as
 * this process holds the fd (nothing to restore after a crash), wait, then
 * print the statistics of the baselines and of the programs @pid holds. */
static int cmd_hooks(int argc, char **argv)
{
	struct vx_bench_hooks *h;
	struct btf *vmlinux;
	double secs = 5;
	int pids[8], npid = 0, stats_fd, c;

	while ((c = getopt(argc, argv, "s:p:")) != -1) {
		switch (c) {
		case 's': secs = atof(optarg); break;
		case 'p':
			if (npid < 8)
				pids[npid++] = atoi(optarg);
			break;
		default: return 2;
		}
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		return die("enabling BPF run-time statistics", stats_fd);
	h = vx_bench_hooks__open_and_load();
	if (!h || vx_bench_hooks__attach(h)) {
		close(stats_fd);
		vx_bench_hooks__destroy(h);
		return die("attaching the empty hook programs", errno);
	}
	printf("attached\n");
	fflush(stdout);
	sleep_ns((uint64_t)(secs * 1e9));
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		vmlinux = NULL;
	print_stats(vmlinux, bpf_program__fd(h->progs.vxb_kfree_skb), "empty");
	print_stats(vmlinux, bpf_program__fd(h->progs.vxb_net_dev_xmit), "empty");
	print_stats(vmlinux, bpf_program__fd(h->progs.vxb_net_dev_start), "empty");
	print_stats(vmlinux, bpf_program__fd(h->progs.vxb_tcp_retrans), "empty");
	print_stats(vmlinux, bpf_program__fd(h->progs.vxb_tcp_probe), "empty");
	for (int i = 0; i < npid; i++) {
		uint32_t ids[64];
		int n = prog_ids_of(pids[i], ids, 64);

		for (int j = 0; j < n; j++) {
			int fd = bpf_prog_get_fd_by_id(ids[j]);

			if (fd >= 0) {
				print_stats(vmlinux, fd, "vxray");
				close(fd);
			}
		}
	}
	btf__free(vmlinux);
	vx_bench_hooks__destroy(h);
	close(stats_fd);
	return 0;
}

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

/* ---- tcx: what is attached to a device's TCX hooks ------------------------ */

static int cmd_tcx(int argc, char **argv)
{
	static const struct {
		const char *name;
		int type;
	} dir[] = { { "ingress", BPF_TCX_INGRESS }, { "egress", BPF_TCX_EGRESS } };
	unsigned int ifindex = argc > 2 ? if_nametoindex(argv[2]) : 0;

	if (!ifindex) {
		fprintf(stderr, "vxbench tcx: give a device of this namespace\n");
		return 2;
	}
	for (size_t d = 0; d < sizeof(dir) / sizeof(dir[0]); d++) {
		uint32_t ids[64];
		LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);

		if (bpf_prog_query_opts((int)ifindex, dir[d].type, &q))
			q.prog_cnt = 0; /* no TCX on this kernel: nothing attached that way */
		printf("%s %u", dir[d].name, q.prog_cnt);
		for (uint32_t i = 0; i < q.prog_cnt; i++) {
			struct bpf_prog_info info = {};
			uint32_t len = sizeof(info);
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
				printf(" %s", info.name);
			if (fd >= 0)
				close(fd);
		}
		printf("\n");
	}
	return 0;
}

/* One program's line table: the kernel address where the JITed code of
 * each line_info record begins (jited_line_info), and the record's file,
 * line and source text from the program's BTF. Subprograms are in it
 * too, at their own addresses. */
static int prog_lines(uint32_t id)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), n, nj;
	struct bpf_line_info *li = NULL;
	struct btf *btf = NULL;
	uint64_t *jli = NULL;
	int fd, err = -ENOMEM;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	n = info.nr_line_info;
	nj = info.nr_jited_line_info;
	if (!n || n != nj || !info.btf_id) {
		err = -ENODATA; /* not JITed, or loaded without BTF line info */
		goto out;
	}
	li = calloc(n, sizeof(*li));
	jli = calloc(nj, sizeof(*jli));
	if (!li || !jli)
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	memset(&info, 0, sizeof(info));
	info.nr_line_info = n;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (uintptr_t)li;
	info.nr_jited_line_info = nj;
	info.jited_line_info_rec_size = sizeof(*jli);
	info.jited_line_info = (uintptr_t)jli;
	len = sizeof(info);
	if (!btf || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *src = btf__name_by_offset(btf, li[i].line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		while (src && (*src == ' ' || *src == '\t'))
			src++;
		printf("%llx %s:%u %s\n", (unsigned long long)jli[i],
		       base ? base + 1 :
		       file ? file :
			      "?",
		       BPF_LINE_INFO_LINE_NUM(li[i].line_col), src ? src : "");
	}
	err = 0;
out:
	btf__free(btf);
	free(li);
	free(jli);
	if (fd >= 0)
		close(fd);
	return err;
}

static int cmd_lines(int argc, char **argv)
{
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "vxbench lines: give the IDs of loaded programs\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int err = prog_lines((uint32_t)strtoul(argv[i], NULL, 10));

		if (err) {
			fprintf(stderr, "vxbench lines: program %s: %s\n", argv[i], strerror(-err));
			rc = 1;
		}
	}
	return rc;
}

/* ---- misses: the tunnel cache's misses, every datapath loaded ----------- */

/* VX_C_TUN_MISS summed over the vxp_cnt maps among map IDs ARGV[2..], or
 * among every map loaded now without any: whichever views or agent hold
 * them, the same counter. */
static int cmd_misses(int argc, char **argv)
{
	uint64_t n = 0;
	uint32_t id = 0;

	for (int i = 2; argc > 2 ? i < argc : !bpf_map_get_next_id(id, &id); i++) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		int fd;

		if (argc > 2)
			id = (uint32_t)strtoul(argv[i], NULL, 10);
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "vxp_cnt") &&
		    info.value_size == sizeof(struct vx_cnt))
			n += counter_sum(fd, VX_C_TUN_MISS);
		close(fd);
	}
	printf("tun_miss=%llu\n", (unsigned long long)n);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	libbpf_set_print(silent_print);
	if (argc < 2) {
		fprintf(stderr,
			"usage: vxbench prog|sizes|attach|rate|spawn|hooks|tcx|lines|misses "
			"[OPTIONS]\n");
		return 2;
	}
	optind = 2;
	if (!strcmp(argv[1], "prog"))
		return cmd_prog(argc, argv);
	if (!strcmp(argv[1], "sizes"))
		return cmd_sizes();
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(argv[1], "rate"))
		return cmd_rate(argc, argv);
	if (!strcmp(argv[1], "spawn"))
		return cmd_spawn(argc, argv);
	if (!strcmp(argv[1], "hooks"))
		return cmd_hooks(argc, argv);
	if (!strcmp(argv[1], "tcx"))
		return cmd_tcx(argc, argv);
	if (!strcmp(argv[1], "lines"))
		return cmd_lines(argc, argv);
	if (!strcmp(argv[1], "misses"))
		return cmd_misses(argc, argv);
	fprintf(stderr, "vxbench: unknown subcommand '%s'\n", argv[1]);
	return 2;
}
