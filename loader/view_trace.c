// SPDX-License-Identifier: GPL-2.0-only
/* `vxray trace`: one timeline of what the datapath programs saw (the inner
 * packet at the VXLAN devices, the outer one on the underlays) and of the
 * kernel's drops, ordered by kernel timestamp, each line tagged with the
 * hook that saw it. A packet is followed by its identity (struct
 * vx_pkt_id: the same one the latency join uses): its first sighting gets
 * a number, and every later hook prints that number and the time since. A
 * drop carries no IP ID or sequence number, so it is joined to the latest
 * packet of its flow (addresses, protocol, ports) seen in the last second.
 *
 * Ordering: each ring buffer is read in the order its events were
 * reserved, but two ring buffers are read in whatever order epoll reports
 * them, and vxray itself may be descheduled for a while on a busy
 * machine. Events are held for TRACE_WINDOW_NS (200 ms: ten times a
 * scheduler tick plus a loaded two-core machine's wakeup delay) and then
 * printed in timestamp order; one that still arrives after a later event
 * was printed is printed anyway, marked late, and counted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cmd.h"
#include "datapath.h"
#include "dropsrc.h"
#include "hist.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "netns.h"
#include "sysinfo.h"
#include "vxray.h"

#define TRACE_WINDOW_NS 200000000ull
#define TRACE_FLUSH_NS 50000000ull
#define TRACE_PKTS 4096		/* packets followed at once (a ring) */
#define DROP_JOIN_NS 1000000000ull

enum { T_DP = 1, T_DROP };

struct tev {
	uint64_t ts;
	int type;
	struct vx_cap *cap;	/* --pcap: a copy of the tail, freed once written */
	union {
		struct vx_event dp;
		struct {
			struct vxd_event ev;
			char reason[64];
			char location[96];
		} drop;
	};
};

/* A packet being followed. */
struct pkt {
	struct vx_pkt_id id;
	struct vxd_ip flow;	/* for joining drops */
	uint64_t first_ts, last_ts;
	uint32_t netns;		/* of the last sighting */
	uint32_t num;
	char first_hook[24];
};

struct trace {
	struct vx_opts *o;
	struct vx_dp dp;
	struct vx_dropsrc *drops;
	struct ring_buffer *rb;
	struct vx_capture *capture;	/* --pcap, else NULL */
	struct tev *pend;
	size_t n_pend, cap_pend;
	struct pkt pkts[TRACE_PKTS];
	uint32_t next_num;
	uint64_t last_out_ts;
	uint64_t mono_to_real;
	uint64_t printed, late, dp_lost_seen, drop_lost_seen;
	int tfd;
	bool ran;		/* the loop ran: the capture is real */
};

static const char *hook_name(uint8_t at)
{
	switch (at) {
	case VX_AT_XDP_UL_IN: return "xdp/underlay-in";
	case VX_AT_TC_UL_IN: return "tc/underlay-in";
	case VX_AT_TC_UL_OUT: return "tc/underlay-out";
	case VX_AT_TC_VX_IN: return "tc/vxlan-in";
	case VX_AT_TC_VX_OUT: return "tc/vxlan-out";
	}
	return "?";
}

static const char *what(uint8_t at)
{
	switch (at) {
	case VX_AT_TC_VX_OUT: return "ENCAP";		/* inner, about to be encapsulated */
	case VX_AT_TC_UL_OUT: return "WIRE-OUT";	/* outer, leaving */
	case VX_AT_XDP_UL_IN:
	case VX_AT_TC_UL_IN: return "WIRE-IN";		/* outer, arriving */
	case VX_AT_TC_VX_IN: return "DECAP";		/* inner, decapsulated */
	}
	return "?";
}

/* The tail waits with its event in the reorder window, so the file
 * follows the printed timeline. */
static struct vx_cap *cap_copy(const struct vx_cap *c)
{
	struct vx_cap *copy;

	if (!c)
		return NULL;
	copy = malloc(sizeof(*c) + c->caplen);
	if (copy)
		memcpy(copy, c, sizeof(*c) + c->caplen);
	return copy;
}

static int push(struct trace *t, const struct tev *e)
{
	if (t->n_pend == t->cap_pend) {
		size_t cap = t->cap_pend ? t->cap_pend * 2 : 1024;
		struct tev *p = realloc(t->pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->pend = p;
		t->cap_pend = cap;
	}
	t->pend[t->n_pend++] = *e;
	return 0;
}

static int on_dp_event(void *ctx, void *data, size_t len)
{
	struct trace *t = ctx;
	struct tev e = { .type = T_DP };

	if (len < sizeof(e.dp))
		return 0;
	memcpy(&e.dp, data, sizeof(e.dp));
	e.ts = e.dp.ts_ns;
	e.cap = cap_copy(vx_cap_of(data, sizeof(e.dp), len, vx_capture_snaplen(t->capture)));
	if (push(t, &e)) {
		free(e.cap);
		return -ENOMEM;
	}
	return 0;
}

static void on_drop(void *ctx, const struct vx_drop *d)
{
	struct trace *t = ctx;
	struct tev e = { .type = T_DROP };

	e.drop.ev = *d->ev;
	snprintf(e.drop.reason, sizeof(e.drop.reason), "%s", d->reason ? d->reason : "?");
	snprintf(e.drop.location, sizeof(e.drop.location), "%s", d->location ? d->location : "-");
	e.ts = d->ev->ts_ns;
	e.cap = cap_copy(d->cap);
	if (push(t, &e)) {
		free(e.cap);
		pr_warn("trace: out of memory; a drop was not shown");
	}
}

/* ---- following packets ----------------------------------------------- */

static uint32_t id_hash(const struct vx_pkt_id *id)
{
	const uint32_t *w = (const uint32_t *)id;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*id) / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

/* The packet with this identity, a new one replacing whatever held its
 * slot when it is not known (or was last seen a second ago). */
static struct pkt *follow(struct trace *t, const struct vx_event *e, bool *is_new)
{
	struct pkt *p = &t->pkts[id_hash(&e->pkt.id) % TRACE_PKTS];

	*is_new = memcmp(&p->id, &e->pkt.id, sizeof(p->id)) || !p->num ||
		  e->ts_ns - p->last_ts > DROP_JOIN_NS;
	if (*is_new) {
		memset(p, 0, sizeof(*p));
		p->id = e->pkt.id;
		p->first_ts = e->ts_ns;
		p->num = ++t->next_num;
		snprintf(p->first_hook, sizeof(p->first_hook), "%s", what(e->at));
		p->flow.family = e->pkt.inner_family;
		p->flow.proto = e->pkt.inner_proto;
		memcpy(p->flow.saddr, e->pkt.inner_src, 16);
		memcpy(p->flow.daddr, e->pkt.inner_dst, 16);
		/* As the drop probe records them: ICMP type and code in
		 * the port fields. */
		if (e->pkt.inner_proto == IPPROTO_ICMP || e->pkt.inner_proto == IPPROTO_ICMPV6) {
			p->flow.sport = e->pkt.icmp_type;
			p->flow.dport = e->pkt.icmp_code;
		} else {
			p->flow.sport = e->pkt.inner_sport;
			p->flow.dport = e->pkt.inner_dport;
		}
	}
	p->last_ts = e->ts_ns;
	p->netns = e->netns;
	return p;
}

static bool same_flow(const struct vxd_ip *a, const struct vxd_ip *b)
{
	size_t n = a->family == 4 ? 4 : 16;

	return a->family && a->family == b->family && a->proto == b->proto &&
	       !memcmp(a->saddr, b->saddr, n) && !memcmp(a->daddr, b->daddr, n) &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* The latest followed packet of the dropped skb's flow: the inner headers
 * when it was still a tunnel packet, else its own. */
static struct pkt *join_drop(struct trace *t, const struct vxd_event *d)
{
	const struct vxd_ip *f = d->inner.family ? &d->inner : &d->outer;
	struct pkt *best = NULL;

	for (int i = 0; i < TRACE_PKTS; i++) {
		struct pkt *p = &t->pkts[i];

		if (!p->num || p->last_ts > d->ts_ns || d->ts_ns - p->last_ts > DROP_JOIN_NS ||
		    !same_flow(&p->flow, f))
			continue;
		if (!best || p->last_ts > best->last_ts)
			best = p;
	}
	return best;
}

/* ---- output ------------------------------------------------------------ */

static const char *addr(int family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6)
		return "-";
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) ? buf : "?";
}

static void fmt_inner(const struct vx_pkt *p, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	char pb[16];
	const char *proto = vx_drop_proto_name(p->inner_proto, pb, sizeof(pb));

	if (!p->inner_family) {
		snprintf(out, len, "not IP (ARP, ...)");
		return;
	}
	addr(p->inner_family, p->inner_src, s, sizeof(s));
	addr(p->inner_family, p->inner_dst, d, sizeof(d));
	if (p->inner_proto == IPPROTO_TCP || p->inner_proto == IPPROTO_UDP)
		snprintf(out, len, "%s %s:%u -> %s:%u", proto, s, p->inner_sport, d, p->inner_dport);
	else if (p->inner_proto == IPPROTO_ICMP || p->inner_proto == IPPROTO_ICMPV6)
		snprintf(out, len, "%s %s -> %s type %u id %u seq %u", proto, s, d, p->icmp_type,
			 p->icmp_id, p->icmp_seq);
	else
		snprintf(out, len, "%s %s -> %s", proto, s, d);
}

static void print_dp(struct trace *t, const struct vx_event *e, const struct vx_cap *cap,
		     bool late)
{
	const struct vx_dp_watched *w = vx_dp_lookup(&t->dp, e->netns, e->ifindex);
	const char *ns = vx_netns_name_by_inum(e->netns), *dev = w ? w->name : "?";
	char ts[32], in[160], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN], since[24] = "", num[16];
	static struct pkt none;
	bool is_new = true;
	/* Without an IP header there is no identity to follow. */
	struct pkt *p = e->pkt.inner_family ? follow(t, e, &is_new) : &none;

	vx_capture_dp(t->capture, e, cap, ns, dev, t->mono_to_real);
	vx_fmt_wallclock(e->ts_ns + t->mono_to_real, 6, ts, sizeof(ts));
	fmt_inner(&e->pkt, in, sizeof(in));
	addr(e->pkt.outer_family, e->pkt.outer_src, os, sizeof(os));
	addr(e->pkt.outer_family, e->pkt.outer_dst, od, sizeof(od));
	if (!is_new)
		vx_fmt_ns(e->ts_ns - p->first_ts, since, sizeof(since));
	if (t->o->json) {
		struct jw j;

		jw_init(&j, stdout);
		jw_obj_open(&j, NULL);
		jw_str(&j, "type", "trace");
		jw_str(&j, "time", ts);
		jw_uint(&j, "ts_ns", e->ts_ns);
		jw_str(&j, "hook", hook_name(e->at));
		jw_str(&j, "event", what(e->at));
		if (p->num) {
			jw_uint(&j, "pkt", p->num);
			jw_uint(&j, "since_first_ns", e->ts_ns - p->first_ts);
		} else {
			jw_null(&j, "pkt");
		}
		jw_str(&j, "netns", ns);
		jw_str(&j, "device", dev);
		jw_uint(&j, "vni", e->pkt.vni);
		jw_str(&j, "inner", in);
		if (e->pkt.outer_family) {
			jw_str(&j, "outer_src", os);
			jw_str(&j, "outer_dst", od);
			jw_uint(&j, "outer_sport", e->pkt.outer_sport);
			jw_uint(&j, "outer_dport", e->pkt.outer_dport);
		}
		jw_uint(&j, "len", e->len);
		jw_bool(&j, "late", late);
		jw_obj_close(&j);
		jw_end_line(&j);
		return;
	}
	if (p->num)
		snprintf(num, sizeof(num), "pkt#%u", p->num);
	else
		snprintf(num, sizeof(num), "-");
	printf("%s %-10s %-9s %-16s %-8s %s %s vni %u  %s", ts, num, is_new ? "" : since, hook_name(e->at), what(e->at), ns, dev, e->pkt.vni, in);
	if (e->pkt.outer_family)
		printf("  outer udp %s:%u -> %s:%u", os, e->pkt.outer_sport, od, e->pkt.outer_dport);
	printf("%s\n", late ? "  (late)" : "");
}

static void print_drop(struct trace *t, const struct tev *e, bool late)
{
	const struct vxd_event *d = &e->drop.ev;
	struct pkt *p = join_drop(t, d);
	char ts[32], nsb[64], flow[192], since[24] = "";
	const char *ns = vx_drop_ns_name(d->netns, nsb, sizeof(nsb));
	const char *dev = d->ifindex ? vx_drop_dev_name(d->netns, d->ifindex) : "-";

	if (t->capture) {
		struct vx_drop dr = { .ev = d, .reason = e->drop.reason,
				      .location = e->drop.location, .cap = e->cap };

		vx_capture_drop(t->capture, &dr, ns, dev, vx_dropsrc_hook(t->drops),
				t->mono_to_real);
	}
	vx_fmt_wallclock(d->ts_ns + t->mono_to_real, 6, ts, sizeof(ts));
	vx_drop_fmt_ip(d->inner.family ? &d->inner : &d->outer, flow, sizeof(flow));
	if (p)
		vx_fmt_ns(d->ts_ns - p->first_ts, since, sizeof(since));
	if (t->o->json) {
		struct jw j;

		jw_init(&j, stdout);
		jw_obj_open(&j, NULL);
		jw_str(&j, "type", "trace");
		jw_str(&j, "time", ts);
		jw_uint(&j, "ts_ns", d->ts_ns);
		jw_str(&j, "hook", vx_dropsrc_backend(t->drops));
		jw_str(&j, "event", "DROP");
		if (p) {
			jw_uint(&j, "pkt", p->num);
			jw_uint(&j, "since_first_ns", d->ts_ns - p->first_ts);
			jw_str(&j, "pkt_first_seen", p->first_hook);
		} else {
			jw_null(&j, "pkt");
		}
		jw_str(&j, "netns", ns);
		jw_str(&j, "device", dev ? dev : "?");
		if (d->vni)
			jw_uint(&j, "vni", d->vni);
		jw_str(&j, "reason", e->drop.reason);
		jw_str(&j, "location", e->drop.location);
		jw_str(&j, "packet", flow);
		jw_bool(&j, "late", late);
		jw_obj_close(&j);
		jw_end_line(&j);
		return;
	}
	if (p) {
		char num[16];

		snprintf(num, sizeof(num), "pkt#%u", p->num);
		printf("%s %-10s %-9s %-16s %-8s %s %s  %s at %s  %s%s\n", ts, num, since,
		       vx_dropsrc_backend(t->drops), "DROP", ns, dev ? dev : "?", e->drop.reason,
		       e->drop.location, flow, late ? "  (late)" : "");
	} else {
		printf("%s %-20s %-16s %-8s %s %s  %s at %s  %s (no traced packet of this flow)%s\n",
		       ts, "-", vx_dropsrc_backend(t->drops), "DROP", ns, dev ? dev : "?",
		       e->drop.reason, e->drop.location, flow, late ? "  (late)" : "");
	}
}

static int cmp_tev(const void *a, const void *b)
{
	uint64_t x = ((const struct tev *)a)->ts, y = ((const struct tev *)b)->ts;

	return x < y ? -1 : x > y;
}

/* Print, in timestamp order, what is older than the window (everything
 * when @all). */
static void flush(struct trace *t, bool all)
{
	uint64_t horizon = vx_now_ns() - TRACE_WINDOW_NS;
	size_t n = 0;

	qsort(t->pend, t->n_pend, sizeof(*t->pend), cmp_tev);
	while (n < t->n_pend && (all || t->pend[n].ts <= horizon)) {
		const struct tev *e = &t->pend[n++];
		bool late = e->ts < t->last_out_ts;

		t->late += late;
		if (!late)
			t->last_out_ts = e->ts;
		if (e->type == T_DP)
			print_dp(t, &e->dp, e->cap, late);
		else
			print_drop(t, e, late);
		free(e->cap);
		t->printed++;
	}
	memmove(t->pend, t->pend + n, (t->n_pend - n) * sizeof(*t->pend));
	t->n_pend -= n;
	if (n)
		fflush(stdout);
}

static int on_timer(void *ctx)
{
	struct trace *t = ctx;
	uint64_t exp;

	if (read(t->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	flush(t, false);
	return 0;
}

static uint64_t dp_lost(const struct trace *t)
{
	uint64_t cnt[VX_C__MAX];

	vx_dp_counters(&t->dp, cnt);
	return cnt[VX_C_LOST];
}

/* Losses are said as soon as they are seen: a timeline with holes must
 * not look whole. */
static void on_tick(void *ctx, uint64_t now)
{
	struct trace *t = ctx;
	uint64_t dl = dp_lost(t), xl = vx_dropsrc_lost(t->drops);

	if (dl > t->dp_lost_seen)
		pr_warn("trace: %llu datapath events lost (ring buffer full): the timeline has holes",
			(unsigned long long)(dl - t->dp_lost_seen));
	if (xl > t->drop_lost_seen)
		pr_warn("trace: %llu drop events lost (ring buffer full): the timeline has holes",
			(unsigned long long)(xl - t->drop_lost_seen));
	t->dp_lost_seen = dl;
	t->drop_lost_seen = xl;
	vx_capture_flush(t->capture);
}

static int exit_code(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -EINVAL ? VX_EXIT_USAGE : VX_EXIT_FAIL;
}

int cmd_trace(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vx_dropsrc_cfg dcfg = { .backend = o->backend, .scope = scope };
	struct vx_dp_opts po = { .o = o, .events = true, .xdp = o->xdp };
	struct trace *t = calloc(1, sizeof(*t));
	struct itimerspec its = { .it_interval = { 0, TRACE_FLUSH_NS },
				  .it_value = { 0, TRACE_FLUSH_NS } };
	struct vx_sysinfo si;
	struct vx_loop loop;
	const char *priv;
	int ret;

	if (!t) {
		pr_err("trace: out of memory");
		return VX_EXIT_FAIL;
	}
	t->o = o;
	t->tfd = -1;
	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		free(t);
		return VX_EXIT_FAIL;
	}
	/* Before anything is attached: an unwritable file is a usage error. */
	if (vx_capture_open(&t->capture, o)) {
		free(t);
		return VX_EXIT_USAGE;
	}
	po.snaplen = dcfg.snaplen = vx_capture_snaplen(t->capture);
	vx_dp_init(&t->dp, &po);
	if ((ret = vx_dp_pick(&t->dp)) || (ret = vx_dp_load(&t->dp)) ||
	    (ret = vx_dp_attach(&t->dp))) {
		ret = exit_code(ret);
		goto out;
	}
	if (vx_drop_scope_build(o, scope, &dcfg.n_scope, &dcfg.vxlan_port) ||
	    vx_dropsrc_open(&t->drops, &dcfg, on_drop, t)) {
		ret = VX_EXIT_FAIL;
		goto out;
	}
	t->rb = ring_buffer__new(vx_dp_rb_fd(&t->dp), on_dp_event, t, NULL);
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!t->rb || t->tfd < 0 || timerfd_settime(t->tfd, 0, &its, NULL)) {
		pr_err("trace: cannot set up the ring buffer and flush timer: %s", strerror(errno));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	t->mono_to_real = vx_mono_to_real();
	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, t);
	if (!ret)
		ret = vx_loop_add_ringbuf(&loop, t->rb);
	if (!ret)
		ret = vx_dropsrc_add_to_loop(t->drops, &loop);
	if (!ret)
		ret = vx_loop_add_fd(&loop, t->tfd, on_timer, t);
	if (!ret)
		ret = vx_dp_follow(&t->dp, &loop);
	if (!ret) {
		int n = vx_dp_n_active(&t->dp);

		pr_info("tracing %d interface%s in %d namespace%s with %s, drops by %s%s%s; "
			"lines are ordered within a %llu ms window; Ctrl-C to stop",
			n, n == 1 ? "" : "s", t->dp.n_inst, t->dp.n_inst == 1 ? "" : "s",
			vx_dp_tc_mode_name(t->dp.tc_mode), vx_dropsrc_backend(t->drops),
			t->capture ? ", capturing to " : "", t->capture ? o->pcap : "",
			TRACE_WINDOW_NS / 1000000);
		t->ran = true;
		ret = vx_loop_run(&loop);
		if (ret)
			pr_err("trace: event loop failed: %s", strerror(-ret));
	}
	vx_loop_close(&loop);
	/* What is already in the ring buffers belongs to the timeline too. */
	if (t->rb)
		ring_buffer__consume(t->rb);
	if (t->drops)
		vx_dropsrc_drain(t->drops);
	flush(t, true);
	on_tick(t, 0);
	if (t->late)
		pr_warn("trace: %llu of %llu events arrived after the %llu ms reorder window and are "
			"marked late", (unsigned long long)t->late, (unsigned long long)t->printed,
			TRACE_WINDOW_NS / 1000000);
	ret = ret ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	if (t->ran)
		vx_capture_close(t->capture, t->dp_lost_seen + t->drop_lost_seen);
	else
		vx_capture_discard(t->capture);
	for (size_t i = 0; i < t->n_pend; i++)
		free(t->pend[i].cap);
	if (t->tfd >= 0)
		close(t->tfd);
	ring_buffer__free(t->rb);
	vx_dropsrc_close(t->drops);
	vx_dp_close(&t->dp);
	free(t->pend);
	free(t);
	return ret;
}
