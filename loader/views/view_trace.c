// SPDX-License-Identifier: GPL-2.0-only
/* `vxray trace`: one timeline of everything the other views see, ordered
 * by kernel timestamp, each line tagged with the hook that saw it:
 *
 *   datapath   the inner packet at the VXLAN devices, the outer one on the
 *              underlays (datapath.c: tc, XDP with --xdp)
 *   drops      every kernel drop with its reason (dropsrc.c)
 *   netfilter  verdicts that dropped, with hook and rule (nfsrc.c on
 *              nf_hook_slow; where the kernel refuses it, the drops'
 *              NETFILTER_DROPs with the hook from their stack), the rule
 *              from the counters policy.c reads
 *   conntrack  entries confirmed, destroyed or refused, and the table-full
 *              ALERT of each interval (conntrack.c)
 *   links      watched devices added, deleted, up, down (datapath.c)
 *   retrans    TCP retransmits, with the tunnel the flow leaves by
 *              (retranssrc.c)
 *   hooks      vxlan_xmit and vxlan_rcv entry to return, and delivery to a
 *              TCP socket (lathooks.c), where the kernel has a backend
 *
 * A source the kernel refuses is left out; the startup line says once
 * which sources run and why the others do not.
 *
 * A packet is followed by its identity (struct vx_pkt_id: the one the
 * latency join uses): its first sighting gets a number, and every later
 * line with that identity -- a datapath hook, a drop, a netfilter verdict,
 * vxlan_xmit/rcv, delivery -- prints that number and the time since. A
 * drop whose skb gives no identity is joined to the latest packet of its
 * flow and says so.
 *
 * Ordering: each ring buffer is read in the order its events were
 * reserved, but several are read in whatever order epoll reports them,
 * netlink messages arrive after the fact, and vxray itself may be
 * descheduled for a while on a busy machine. Every ring is read up to
 * now before each flush, and events are held for TRACE_WINDOW_NS (200 ms:
 * ten times a scheduler tick plus a loaded two-core machine's wakeup
 * delay) and then printed in timestamp order; one that still arrives
 * after a later event was printed is printed anyway, marked late, and
 * counted. The BPF sources stamp with
 * bpf_ktime_get_ns(), CLOCK_MONOTONIC; rtnetlink and ctnetlink messages
 * carry no time and are stamped on receipt with the same clock.
 *
 * This file is the command: its options, the engines it opens, the
 * callbacks that turn each engine's event into a timeline entry, and the
 * loop. The merge is timeline.c, following packets follow.c, naming the
 * rule of a netfilter drop below, and laying out the lines traceline.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cmd.h"
#include "conntrack.h"
#include "datapath.h"
#include "dropreason.h"
#include "dropsrc.h"
#include "follow.h"
#include "hist.h"
#include "json.h"
#include "lathooks.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "nfsrc.h"
#include "policy.h"
#include "recfmt.h"
#include "record.h"
#include "retranssrc.h"
#include "sysinfo.h"
#include "timeline.h"
#include "traceline.h"
#include "view.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_xmit.h"

#define TRACE_WINDOW_NS 200000000ull
#define TRACE_FLUSH_NS 50000000ull
#define NF_NS_MAX 16  /* namespaces whose rules are read */
#define NF_CREDITS 32 /* rules with counter rises not yet shown */
#define NF_HITS 64

/* A namespace's rules, for naming the rule of its netfilter drops: the
 * rises of DROP/REJECT counters since the last read, not yet given to a
 * drop line. */
struct nf_ns {
	uint32_t inum;
	bool readable;
	struct vx_nf_watch w;
	struct {
		struct vx_nf_rule rule;
		uint64_t left;
	} credit[NF_CREDITS];
	int n_credit;
	uint64_t read_in_flush; /* flush number of the last read */
};

struct trace {
	struct vx_opts *o;
	struct vx_dp dp;
	struct vx_lathooks hooks;
	struct vx_dropsrc *drops;
	struct vx_nfsrc *nf; /* NULL: netfilter drops come from drops */
	struct vx_ct *ct;
	struct vx_retranssrc *rt;
	struct vx_view view; /* privileges, --pcap (no --metrics) */
	bool ran;	     /* the loop ran: the capture is real */
	struct vx_timeline tl;
	struct vx_follow pkts;
	struct vx_tl_out out;
	/* Lost events per source, as last reported. */
	uint64_t lost_dp, lost_drops, lost_nf, lost_rt, lost_hooks, lost_ct;
	struct nf_ns nfns[NF_NS_MAX];
	int n_nfns;
	int tfd;
	/* Drop reasons already explained on a text line. */
#define VX_TRACE_EXPLAINED 64
	const struct vx_drop_reason_info *explained[VX_TRACE_EXPLAINED];
	int n_explained;
};

/* ---- collecting ---------------------------------------------------------- */

static int push(struct trace *t, const struct vx_tev *e)
{
	return vx_timeline_push(&t->tl, e);
}

static void push_or_warn(struct trace *t, const struct vx_tev *e, const char *what)
{
	vx_timeline_push_or_warn(&t->tl, e, what);
}

static void on_dp_event(void *ctx, const struct vx_event *dp, const struct vx_cap *cap)
{
	struct trace *t = ctx;
	struct vx_tev e = { .type = VX_TEV_DP, .dp = *dp, .ts = dp->ts_ns };

	e.cap = vx_timeline_cap_copy(cap);
	if (push(t, &e))
		free(e.cap);
}

static bool is_netfilter_drop(const char *reason)
{
	return reason && strstr(reason, "NETFILTER_DROP");
}

static void copy_drop(struct vx_tev *e, const struct vx_drop *d)
{
	e->drop.ev = *d->ev;
	snprintf(e->drop.reason, sizeof(e->drop.reason), "%s", d->reason ? d->reason : "?");
	snprintf(e->drop.location, sizeof(e->drop.location), "%s", d->location ? d->location : "-");
	e->ts = d->ev->ts_ns;
}

static void on_drop(void *ctx, const struct vx_drop *d)
{
	struct trace *t = ctx;
	struct vx_tev e = { .type = VX_TEV_DROP };

	copy_drop(&e, d);
	/* Without nf_hook_slow this drop is the netfilter line: its hook is
	 * on the stack, which is gone after this call. */
	if (!t->nf && is_netfilter_drop(d->reason))
		e.drop.hook = vx_nf_hook_of_drop(d, &e.drop.family);
	e.cap = vx_timeline_cap_copy(d->cap);
	push_or_warn(t, &e, "drop");
}

static void on_nf(void *ctx, const struct vx_drop *d, enum vx_nf_hook hook, int family)
{
	struct vx_tev e = { .type = VX_TEV_NF };

	copy_drop(&e, d);
	e.drop.hook = hook;
	e.drop.family = family;
	push_or_warn(ctx, &e, "netfilter verdict");
}

static void on_ct(void *ctx, const struct vx_ct_event *c)
{
	struct vx_tev e = { .type = VX_TEV_CT, .ts = c->ts_ns, .on_receipt = c->on_receipt };

	e.ct.type = c->type;
	e.ct.inum = c->inum;
	e.ct.t = c->t;
	snprintf(e.ct.hook, sizeof(e.ct.hook), "%s", c->hook);
	push_or_warn(ctx, &e, "conntrack event");
}

static void on_link(void *ctx, const struct vx_dp_link *l)
{
	struct vx_tev e = { .type = VX_TEV_LINK, .ts = l->ts_ns, .on_receipt = true };

	e.link.w = l->w;
	e.link.change = l->change;
	e.link.flags = l->flags;
	e.link.mtu = l->mtu;
	push_or_warn(ctx, &e, "link change");
}

static void on_retrans(void *ctx, const struct vxr_event *r, int dev, bool full)
{
	struct vx_tev e = { .type = VX_TEV_RETRANS, .ts = r->ts_ns };

	e.rt.ev = *r;
	e.rt.dev = dev;
	e.rt.full = full;
	push_or_warn(ctx, &e, "retransmit");
}

/* The filters (--vni, --proto, --port, --host) for a vxlan_xmit, vxlan_rcv
 * or delivery event: the datapath and the drop engine apply them in the
 * kernel, these events carry only the packet's identity, so here. An IPv6
 * identity holds a fold of the addresses: --host cannot tell, it passes. */
static bool hook_wanted(const struct vx_opts *o, const struct vx_hook_event *h)
{
	const struct vx_pkt_id *id = &h->id;
	struct in_addr a;

	if (o->has_vni && h->vni != o->vni)
		return false;
	if (o->proto > 0 && id->proto != o->proto)
		return false;
	if (o->has_port && id->sport != o->port && id->dport != o->port)
		return false;
	/* The identity is the inner packet's: --outer-host cannot tell. */
	if (o->host_side == VX_HOST_OUTER)
		return true;
	if (o->host[0] && id->family == 4 && inet_pton(AF_INET, o->host, &a) == 1 &&
	    id->saddr != a.s_addr && id->daddr != a.s_addr)
		return false;
	return !o->host[0] || id->family != 4 || inet_pton(AF_INET, o->host, &a) == 1;
}

static void on_hook_event(void *ctx, const struct vx_hook_event *hk)
{
	struct trace *t = ctx;
	struct vx_tev e = { .type = VX_TEV_HOOK, .hk = *hk };

	if (!hook_wanted(t->o, &e.hk))
		return;
	/* vxlan_xmit and vxlan_rcv are placed where they were entered, the
	 * time they took is on the line. */
	e.ts = e.hk.start_ns ? e.hk.start_ns : e.hk.ts_ns;
	push(ctx, &e);
}

static void on_change(void *ctx, const struct vx_dp_watched *w, bool added)
{
	struct trace *t = ctx;

	vx_lathooks_on_change(&t->hooks, w, added);
}

/* ---- naming the rule of a netfilter drop ----------------------------- */

static struct nf_ns *nf_ns_of(struct trace *t, uint32_t inum)
{
	for (int i = 0; i < t->n_nfns; i++)
		if (t->nfns[i].inum == inum)
			return &t->nfns[i];
	return NULL;
}

/* Baselines of every traced namespace's rules, read once the probes are
 * attached: a drop between the two shows as a counter rise with a line,
 * the safe side. */
static void nf_ns_init(struct trace *t)
{
	for (int i = 0; i < t->dp.n_inst && t->n_nfns < NF_NS_MAX; i++) {
		struct nf_ns *n = &t->nfns[t->n_nfns++];
		int ret;

		n->inum = t->dp.inst[i].inum;
		n->readable = true;
		n->read_in_flush = ~0ull;
		snprintf(n->w.netns, sizeof(n->w.netns), "%s", t->dp.inst[i].netns);
		ret = vx_nf_watch_read(&n->w, NULL, 0);
		if (ret < 0) {
			pr_warn("trace: cannot read the rules of %s: %s; its netfilter drops will "
				"not name their rule",
				vx_ns_label(n->inum), vx_strerror(ret));
			n->readable = false;
		}
	}
}

/* The rule that took a netfilter drop in namespace @inum, or NULL with the
 * reason in *@why. Counters rise before the skb is freed and a line is
 * printed at least the reorder window after its drop, so one read when no
 * rise is left to give explains it; a rise of several rules since then
 * cannot be told apart per packet, and *@others says how many more rules
 * are candidates. At most one read per namespace per flush. */
static const struct vx_nf_rule *nf_rule_of(struct trace *t, uint32_t inum, const char **why,
					   int *others)
{
	static struct vx_nf_hit hits[NF_HITS];
	struct nf_ns *n = nf_ns_of(t, inum);
	int best = -1, left = 0;

	*others = 0;
	if (!n) {
		*why = "not a traced namespace";
		return NULL;
	}
	if (!n->readable) {
		*why = "its rules could not be read";
		return NULL;
	}
	for (int i = 0; i < n->n_credit; i++)
		left += n->credit[i].left > 0;
	if (!left && n->read_in_flush != t->tl.flushes) {
		int h = vx_nf_watch_read(&n->w, hits, NF_HITS);

		n->read_in_flush = t->tl.flushes;
		if (h < 0) {
			*why = "its rules could not be read";
			return NULL;
		}
		for (int i = 0; i < h && i < NF_HITS; i++) {
			int c;

			for (c = 0; c < n->n_credit; c++)
				if (vx_nf_same_rule(&n->credit[c].rule, hits[i].rule))
					break;
			if (c == n->n_credit) {
				if (n->n_credit == NF_CREDITS)
					continue;
				n->n_credit++;
				n->credit[c].left = 0;
			}
			n->credit[c].rule = *hits[i].rule;
			n->credit[c].left += hits[i].packets;
		}
	}
	for (int i = 0; i < n->n_credit; i++) {
		if (!n->credit[i].left)
			continue;
		if (best >= 0)
			(*others)++;
		if (best < 0 || n->credit[i].left > n->credit[best].left)
			best = i;
	}
	if (best < 0) {
		*why = vx_nf_why_unattributed(true, &n->w.snap);
		return NULL;
	}
	n->credit[best].left--;
	return &n->credit[best].rule;
}

/* ---- output ------------------------------------------------------------ */

/* Each line's packet, device and rule are found here, where the trace's
 * state is; traceline.c lays the line out. */

static void print_dp(struct trace *t, const struct vx_event *e, const struct vx_cap *cap, bool late)
{
	const struct vx_dp_watched *w = vx_dp_lookup(&t->dp, e->netns, e->ifindex);
	bool is_new = true;
	/* Without an IP header there is no identity to follow. */
	struct vx_fpkt *p = e->pkt.inner_family ? vx_follow(&t->pkts, e, &is_new) : NULL;
	struct vx_tl_line l = { .ts = e->ts_ns,
				.late = late,
				.hook = vx_at_path(e->at),
				.event = vx_at_what(e->at),
				.ns = vx_ns_label(e->netns),
				.dev = w ? w->name : "?",
				.pkt = p ? p->num : 0,
				.first_ts = p ? p->first_ts : 0,
				.first = is_new,
				.id = p ? &e->pkt.id : NULL };

	vx_capture_dp(t->view.cap, e, cap, l.ns, l.dev, t->out.mono_to_real);
	vx_tl_dp(&t->out, &l, e);
}

/* What the kernel means by @reason (dropreason.c): on every JSON line, on
 * the first text line of each reason. */
static const char *drop_meaning(struct trace *t, const char *reason)
{
	const struct vx_drop_reason_info *r = vx_drop_reason_info(reason);

	if (!r || t->out.json)
		return r ? r->meaning : NULL;
	for (int i = 0; i < t->n_explained; i++)
		if (t->explained[i] == r)
			return NULL;
	if (t->n_explained < VX_TRACE_EXPLAINED)
		t->explained[t->n_explained++] = r;
	return r->meaning;
}

/* A drop (VX_TEV_DROP) or a netfilter verdict (VX_TEV_NF). */
static void print_drop(struct trace *t, const struct vx_tev *e, bool late)
{
	const struct vxd_event *d = &e->drop.ev;
	bool nf_line = e->type == VX_TEV_NF || (!t->nf && is_netfilter_drop(e->drop.reason));
	struct vx_tl_line l = { .ts = d->ts_ns,
				.late = late,
				.id = &d->id,
				.joined = true,
				.ns = vx_ns_label(d->netns),
				.dev = d->ifindex ? vx_dev_label(d->netns, d->ifindex) : "-" };
	struct vx_fpkt *p = vx_follow_join_drop(&t->pkts, d, &l.how);
	struct vx_tl_rule rule = {};

	if (t->view.cap && e->type == VX_TEV_DROP) {
		struct vx_drop dr = { .ev = d,
				      .reason = e->drop.reason,
				      .location = e->drop.location,
				      .cap = e->cap };

		vx_capture_drop(t->view.cap, &dr, l.ns, l.dev, vx_dropsrc_hook(t->drops),
				t->out.mono_to_real);
	}
	l.pkt = p ? p->num : 0;
	l.first_ts = p ? p->first_ts : 0;
	l.hook = e->type == VX_TEV_NF ? vx_nfsrc_backend(t->nf) : vx_dropsrc_backend(t->drops);
	l.event = e->type == VX_TEV_NF ? "NF-DROP" : "DROP";
	if (nf_line)
		rule.r = nf_rule_of(t, d->netns, &rule.why, &rule.others);
	vx_tl_drop(&t->out, &l, e, nf_line, p ? p->first_hook : NULL, &rule,
		   e->type == VX_TEV_DROP ? drop_meaning(t, e->drop.reason) : NULL);
}

static void print_retrans(struct trace *t, const struct vx_tev *e, bool late)
{
	const struct vx_vxlan_dev *v = e->rt.dev >= 0 ? &t->dp.inv.devs[e->rt.dev] : NULL;

	vx_tl_retrans(&t->out, e, late, v, vx_retranssrc_backend(t->rt));
}

static void print_hook(struct trace *t, const struct vx_tev *e, bool late)
{
	const struct vx_hook_event *h = &e->hk;
	const struct vx_dp_watched *w = vx_dp_lookup(&t->dp, h->netns, h->ifindex);
	struct vx_fpkt *p = vx_follow_find(&t->pkts, &h->id, e->ts);
	struct vx_tl_line l = { .ts = e->ts,
				.late = late,
				.ns = vx_ns_label(h->netns),
				.dev = w ? w->name : "?",
				.pkt = p ? p->num : 0,
				.first_ts = p ? p->first_ts : 0,
				.how = p ? VX_JOIN_ID : VX_JOIN_NONE,
				.id = &h->id,
				.joined = true };

	vx_tl_hook(&t->out, &l, e);
}

static void print_tev(void *ctx, const struct vx_tev *e, bool late)
{
	struct trace *t = ctx;

	switch (e->type) {
	case VX_TEV_DP: print_dp(t, &e->dp, e->cap, late); break;
	case VX_TEV_DROP:
	case VX_TEV_NF: print_drop(t, e, late); break;
	case VX_TEV_CT: vx_tl_ct(&t->out, e, late); break;
	case VX_TEV_CT_ALERT: vx_tl_alert(&t->out, e, late); break;
	case VX_TEV_LINK: vx_tl_link(&t->out, e, late); break;
	case VX_TEV_RETRANS: print_retrans(t, e, late); break;
	case VX_TEV_HOOK: print_hook(t, e, late); break;
	}
}

/* Print, in timestamp order, what is older than the window (everything
 * when @all). */
static void flush(struct trace *t, bool all)
{
	if (vx_timeline_flush(&t->tl, vx_now_ns(), all, print_tev, t))
		fflush(stdout);
}

/* Read every ring buffer up to now. Before each flush: the window then
 * counts from the moment vxray caught up with every ring, so a loop held
 * up (a rule read, a busy machine) does not push its events past it. */
static void drain(struct trace *t)
{
	vx_dp_drain(&t->dp);
	if (t->drops)
		vx_dropsrc_drain(t->drops);
	if (t->nf)
		vx_nfsrc_drain(t->nf);
	if (t->ct)
		vx_ct_drain(t->ct);
	if (t->rt)
		vx_retranssrc_drain(t->rt);
	vx_lathooks_drain(&t->hooks);
}

static int on_timer(void *ctx)
{
	struct trace *t = ctx;
	uint64_t exp;

	if (read(t->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	drain(t);
	flush(t, false);
	return 0;
}

/* The conntrack table's state each interval: an ALERT line per namespace
 * whose table is full or whose failure counters rose. */
static void ct_tick(struct trace *t, uint64_t now)
{
	static struct vx_ct_snapshot snap;

	if (vx_ct_snapshot(t->ct, &snap))
		return; /* the engine said why */
	t->lost_ct += snap.lost;
	if (snap.lost)
		pr_warn("trace: %llu conntrack events or counts lost: the timeline has holes",
			(unsigned long long)snap.lost);
	for (int i = 0; i < snap.n; i++) {
		const struct vx_ct_ns *n = &snap.ns[i];
		struct vx_tev e = { .type = VX_TEV_CT_ALERT, .ts = now, .on_receipt = true };

		if (!n->alert)
			continue;
		e.alert.inum = n->inum;
		e.alert.have_count = n->have_count;
		e.alert.count = n->count;
		e.alert.max = n->max;
		snprintf(e.alert.why, sizeof(e.alert.why), "%s", n->alert_why);
		push_or_warn(t, &e, "conntrack alert");
	}
}

static void on_tick(void *ctx, uint64_t now)
{
	struct trace *t = ctx;

	vx_timeline_say_lost(vx_dp_lost(&t->dp), &t->lost_dp, "datapath events");
	vx_timeline_say_lost(vx_dropsrc_lost(t->drops), &t->lost_drops, "drop events");
	if (t->nf)
		vx_timeline_say_lost(vx_nfsrc_lost(t->nf), &t->lost_nf, "netfilter verdicts");
	if (t->rt)
		vx_timeline_say_lost(vx_retranssrc_lost(t->rt), &t->lost_rt, "retransmit events");
	if (t->hooks.rb)
		vx_timeline_say_lost(vx_lathooks_lost(&t->hooks), &t->lost_hooks,
				     "vxlan_xmit/rcv/delivery events");
	if (t->ct && now)
		ct_tick(t, now);
	vx_capture_flush(t->view.cap);
}

/* "have" and "without" lists for the startup line. */
struct srclist {
	char have[1536], without[768];
	size_t nh, nw;
};

static void src_add(struct srclist *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void src_add(struct srclist *s, bool ok, const char *fmt, ...)
{
	char *buf = ok ? s->have : s->without;
	size_t *n = ok ? &s->nh : &s->nw, cap = ok ? sizeof(s->have) : sizeof(s->without);
	va_list ap;

	if (*n >= cap - 1)
		return;
	if (*n)
		*n += (size_t)snprintf(buf + *n, cap - *n, "; ");
	if (*n >= cap - 1)
		return;
	va_start(ap, fmt);
	*n += (size_t)vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (*n >= cap)
		*n = cap - 1;
}

/* The optional sources: each one the kernel refuses is left out, and why
 * goes on the startup line. */
static void open_sources(struct trace *t, struct srclist *sl, const struct vxd_scope_key *scope,
			 int n_scope, uint16_t port)
{
	struct vx_nfsrc_cfg nc = { .backend = t->o->backend,
				   .scope = scope,
				   .n_scope = n_scope,
				   .vxlan_port = port,
				   .hooks_only = true };
	char names[VX_DP_MAX_INST][VX_NETNS_NAME_MAX], err[256];
	uint32_t inums[VX_DP_MAX_INST];
	int ret;

	if (!vx_nfsrc_open(&t->nf, &nc, on_nf, t))
		src_add(sl, true, "netfilter verdicts by %s", vx_nfsrc_backend(t->nf));
	else
		src_add(sl, true,
			"netfilter verdicts by the drops' NETFILTER_DROP, hook from the "
			"stack (nf_hook_slow refused: %s)",
			vx_nfsrc_why());

	for (int i = 0; i < t->dp.n_inst; i++) {
		snprintf(names[i], sizeof(names[i]), "%s", t->dp.inst[i].netns);
		inums[i] = t->dp.inst[i].inum;
	}
	ret = vx_ct_open(&t->ct, names, t->dp.n_inst, err, sizeof(err));
	if (!ret) {
		vx_ct_set_event_cb(t->ct, on_ct, t);
		ret = vx_ct_attach(t->ct, t->o->backend, err, sizeof(err));
	}
	if (ret) {
		vx_ct_close(t->ct);
		t->ct = NULL;
		src_add(sl, false, "conntrack (%s)", err);
	} else {
		src_add(sl, true, "conntrack by %s", vx_ct_backend(t->ct));
	}

	src_add(sl, true, "link changes by rtnetlink");

	ret = vx_retranssrc_open(&t->rt, &(struct vx_retranssrc_cfg){ .inv = &t->dp.inv,
								      .inums = inums,
								      .n_inums = t->dp.n_inst,
								      .flow_fd = -1,
								      .cb = on_retrans,
								      .ctx = t });
	if (ret)
		src_add(sl, false, "TCP retransmits (%s)", vx_strerror(ret));
	else
		src_add(sl, true, "TCP retransmits by %s", vx_retranssrc_backend(t->rt));

	if (t->hooks.xmit_backend)
		src_add(sl, true, "vxlan_xmit by %s", t->hooks.xmit_backend);
	else
		src_add(sl, false, "vxlan_xmit (%s)", t->hooks.why[0] ? t->hooks.why : "refused");
	if (t->hooks.rcv)
		src_add(sl, true, "vxlan_rcv by %s", t->hooks.xmit_backend);
	else
		src_add(sl, false, "vxlan_rcv (needs fentry or kprobe)");
	if (t->hooks.delivery)
		src_add(sl, true, "delivery by tp_btf/tcp_probe");
	else
		src_add(sl, false, "delivery (tp_btf/tcp_probe refused)");
}

static int add_to_loop(struct trace *t, struct vx_loop *loop)
{
	int ret = vx_dropsrc_add_to_loop(t->drops, loop);

	if (!ret && t->nf)
		ret = vx_nfsrc_add_to_loop(t->nf, loop);
	if (!ret && t->ct)
		ret = vx_ct_add_to_loop(t->ct, loop);
	if (!ret && t->rt)
		ret = vx_retranssrc_add_to_loop(t->rt, loop);
	if (!ret)
		ret = vx_lathooks_add_to_loop(&t->hooks, loop);
	if (!ret)
		ret = vx_loop_add_fd(loop, t->tfd, on_timer, t);
	if (!ret)
		ret = vx_dp_add_to_loop(&t->dp, loop);
	return ret;
}

int cmd_trace(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	struct vx_dropsrc_cfg dcfg = { .backend = o->backend, .scope = scope, .stack = true };
	struct vx_dp_opts po = { .o = o,
				 .events = true,
				 .xdp = o->xdp,
				 .on_change = on_change,
				 .on_link = on_link,
				 .on_event = on_dp_event };
	struct trace *t = calloc(1, sizeof(*t));
	struct itimerspec its = { .it_interval = { 0, TRACE_FLUSH_NS },
				  .it_value = { 0, TRACE_FLUSH_NS } };
	struct srclist *sl = calloc(1, sizeof(*sl));
	struct vx_loop loop;
	int ret;

	if (!t || !sl) {
		pr_err("trace: out of memory");
		free(t);
		free(sl);
		return VX_EXIT_FAIL;
	}
	t->o = o;
	t->tfd = -1;
	vx_timeline_init(&t->tl, TRACE_WINDOW_NS);
	t->out.json = o->json;
	po.ctx = t;
	if ((ret = vx_view_open(&t->view, o, VX_VIEW_CAPTURE))) {
		free(t);
		free(sl);
		return ret;
	}
	po.snaplen = dcfg.snaplen = vx_capture_snaplen(t->view.cap);
	vx_dp_init(&t->dp, &po);
	if ((ret = vx_dp_pick(&t->dp))) {
		ret = vx_exit_code(ret);
		goto out;
	}
	/* vxlan_xmit, vxlan_rcv and delivery: a refused backend is not fatal. */
	if (vx_lathooks_open(&t->hooks, o->backend, 0, VX_LATHOOKS_XMIT, on_hook_event, t))
		vx_lathooks_close(&t->hooks);
	if ((ret = vx_dp_load(&t->dp)) || (ret = vx_dp_attach(&t->dp))) {
		ret = vx_exit_code(ret);
		goto out;
	}
	vx_lathooks_watch_dp(&t->hooks, &t->dp);
	if (vx_drop_scope_build(o, scope, &dcfg.n_scope, &dcfg.vxlan_port) ||
	    vx_dropsrc_open(&t->drops, &dcfg, on_drop, t)) {
		ret = VX_EXIT_FAIL;
		goto out;
	}
	open_sources(t, sl, scope, dcfg.n_scope, dcfg.vxlan_port);
	nf_ns_init(t);
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->tfd < 0 || timerfd_settime(t->tfd, 0, &its, NULL)) {
		pr_err("trace: cannot set up the flush timer: %s", strerror(errno));
		ret = VX_EXIT_FAIL;
		goto out;
	}
	t->out.mono_to_real = vx_mono_to_real();
	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, t);
	if (!ret)
		ret = add_to_loop(t, &loop);
	if (!ret) {
		int n = vx_dp_n_active(&t->dp);

		pr_info("tracing %d interface%s in %d namespace%s with %s; sources: datapath, "
			"drops by %s; %s%s%s; lines are ordered within a %llu ms window "
			"(netlink events are stamped on receipt)%s%s; Ctrl-C to stop",
			n, n == 1 ? "" : "s", t->dp.n_inst, t->dp.n_inst == 1 ? "" : "s",
			vx_dp_tc_mode_name(t->dp.tc_mode), vx_dropsrc_backend(t->drops), sl->have,
			sl->nw ? "; without: " : "", sl->without, TRACE_WINDOW_NS / 1000000,
			t->view.cap ? "; capturing to " : "", vx_capture_where(t->view.cap));
		t->ran = true;
		ret = vx_loop_run(&loop);
		if (ret)
			pr_err("trace: event loop failed: %s", strerror(-ret));
	}
	vx_loop_close(&loop);
	drain(t);
	flush(t, true);
	on_tick(t, 0);
	vx_timeline_say_late(&t->tl);
	ret = ret ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	vx_view_close(&t->view, t->ran, t->lost_dp + t->lost_drops);
	if (t->tfd >= 0)
		close(t->tfd);
	vx_retranssrc_close(t->rt);
	vx_ct_close(t->ct);
	vx_nfsrc_close(t->nf);
	vx_dropsrc_close(t->drops);
	vx_dp_close(&t->dp);
	vx_lathooks_close(&t->hooks);
	for (int i = 0; i < t->n_nfns; i++)
		vx_nf_watch_free(&t->nfns[i].w);
	vx_timeline_free(&t->tl);
	free(t);
	free(sl);
	return ret;
}
