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
 * carry no time and are stamped on receipt with the same clock. */
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
#include "dropsrc.h"
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
#include "vxray.h"
#include "../bpf/kprobe/vx_xmit.h"

#define TRACE_WINDOW_NS 200000000ull
#define TRACE_FLUSH_NS 50000000ull
#define TRACE_PKTS 4096		/* packets followed at once (a ring) */
#define DROP_JOIN_NS 1000000000ull
#define NF_NS_MAX 16		/* namespaces whose rules are read */
#define NF_CREDITS 32		/* rules with counter rises not yet shown */
#define NF_HITS 64

enum tev_type { T_DP = 1, T_DROP, T_NF, T_CT, T_CT_ALERT, T_LINK, T_RETRANS, T_HOOK };

struct tev {
	uint64_t ts;
	int type;
	bool on_receipt;	/* netlink: stamped when vxray read it */
	struct vx_cap *cap;	/* --pcap: a copy of the packet, freed once written */
	union {
		struct vx_event dp;
		struct {		/* T_DROP, T_NF */
			struct vxd_event ev;
			char reason[64];
			char location[96];
			enum vx_nf_hook hook;	/* netfilter drops only */
			int family;
		} drop;
		struct {
			int type;
			uint32_t inum;
			char hook[48];
			struct vxd_ip t;
		} ct;
		struct {
			uint32_t inum;
			uint32_t count, max;
			bool have_count;
			char why[192];
		} alert;
		struct {
			const struct vx_dp_watched *w;
			enum vx_link_change change;
			unsigned int flags;
			uint32_t mtu;
		} link;
		struct {
			struct vxr_event ev;
			int dev;
			bool full;
		} rt;
		struct vx_hook_event hk;
	};
};

/* A packet being followed. */
struct pkt {
	struct vx_pkt_id id;
	struct vxd_ip flow;	/* for joining drops without an identity */
	uint64_t first_ts, last_ts;
	uint32_t num;
	char first_hook[24];
};

enum join { JOIN_NONE = 0, JOIN_ID, JOIN_FLOW };

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
	uint64_t read_in_flush;	/* flush number of the last read */
};

struct trace {
	struct vx_opts *o;
	struct vx_dp dp;
	struct vx_lathooks hooks;
	struct vx_dropsrc *drops;
	struct vx_nfsrc *nf;		/* NULL: netfilter drops come from drops */
	struct vx_ct *ct;
	struct vx_retranssrc *rt;
	struct vx_capture *capture;	/* --pcap, else NULL */
	bool ran;			/* the loop ran: the capture is real */
	struct tev *pend;
	size_t n_pend, cap_pend;
	struct pkt pkts[TRACE_PKTS];
	uint32_t next_num;
	uint64_t last_out_ts;
	uint64_t mono_to_real;
	uint64_t printed, late, flushes;
	/* Lost events per source, as last reported. */
	uint64_t lost_dp, lost_drops, lost_nf, lost_rt, lost_hooks, lost_ct;
	struct nf_ns nfns[NF_NS_MAX];
	int n_nfns;
	int tfd;
};

/* ---- collecting ---------------------------------------------------------- */

/* The packet waits with its event in the reorder window, so the file
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

static void push_or_warn(struct trace *t, const struct tev *e, const char *what)
{
	if (push(t, e)) {
		free(e->cap);
		pr_warn("trace: out of memory; a %s was not shown", what);
	}
}

static void on_dp_event(void *ctx, const struct vx_event *dp, const struct vx_cap *cap)
{
	struct trace *t = ctx;
	struct tev e = { .type = T_DP, .dp = *dp, .ts = dp->ts_ns };

	e.cap = cap_copy(cap);
	if (push(t, &e))
		free(e.cap);
}

static bool is_netfilter_drop(const char *reason)
{
	return reason && strstr(reason, "NETFILTER_DROP");
}

static void copy_drop(struct tev *e, const struct vx_drop *d)
{
	e->drop.ev = *d->ev;
	snprintf(e->drop.reason, sizeof(e->drop.reason), "%s", d->reason ? d->reason : "?");
	snprintf(e->drop.location, sizeof(e->drop.location), "%s", d->location ? d->location : "-");
	e->ts = d->ev->ts_ns;
}

static void on_drop(void *ctx, const struct vx_drop *d)
{
	struct trace *t = ctx;
	struct tev e = { .type = T_DROP };

	copy_drop(&e, d);
	/* Without nf_hook_slow this drop is the netfilter line: its hook is
	 * on the stack, which is gone after this call. */
	if (!t->nf && is_netfilter_drop(d->reason))
		e.drop.hook = vx_nf_hook_of_drop(d, &e.drop.family);
	e.cap = cap_copy(d->cap);
	push_or_warn(t, &e, "drop");
}

static void on_nf(void *ctx, const struct vx_drop *d, enum vx_nf_hook hook, int family)
{
	struct tev e = { .type = T_NF };

	copy_drop(&e, d);
	e.drop.hook = hook;
	e.drop.family = family;
	push_or_warn(ctx, &e, "netfilter verdict");
}

static void on_ct(void *ctx, const struct vx_ct_event *c)
{
	struct tev e = { .type = T_CT, .ts = c->ts_ns, .on_receipt = c->on_receipt };

	e.ct.type = c->type;
	e.ct.inum = c->inum;
	e.ct.t = c->t;
	snprintf(e.ct.hook, sizeof(e.ct.hook), "%s", c->hook);
	push_or_warn(ctx, &e, "conntrack event");
}

static void on_link(void *ctx, const struct vx_dp_link *l)
{
	struct tev e = { .type = T_LINK, .ts = l->ts_ns, .on_receipt = true };

	e.link.w = l->w;
	e.link.change = l->change;
	e.link.flags = l->flags;
	e.link.mtu = l->mtu;
	push_or_warn(ctx, &e, "link change");
}

static void on_retrans(void *ctx, const struct vxr_event *r, int dev, bool full)
{
	struct tev e = { .type = T_RETRANS, .ts = r->ts_ns };

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
	if (o->host[0] && id->family == 4 && inet_pton(AF_INET, o->host, &a) == 1 &&
	    id->saddr != a.s_addr && id->daddr != a.s_addr)
		return false;
	return !o->host[0] || id->family != 4 || inet_pton(AF_INET, o->host, &a) == 1;
}

static void on_hook_event(void *ctx, const struct vx_hook_event *hk)
{
	struct trace *t = ctx;
	struct tev e = { .type = T_HOOK, .hk = *hk };

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
		snprintf(p->first_hook, sizeof(p->first_hook), "%s", vx_at_what(e->at));
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
	return p;
}

/* The followed packet with exactly this identity, seen within a second
 * of @ts; NULL when there is none. */
static struct pkt *find_pkt(struct trace *t, const struct vx_pkt_id *id, uint64_t ts)
{
	struct pkt *p = &t->pkts[id_hash(id) % TRACE_PKTS];
	uint64_t gap = ts > p->last_ts ? ts - p->last_ts : p->last_ts - ts;

	if (!id->family || !p->num || memcmp(&p->id, id, sizeof(p->id)) || gap > DROP_JOIN_NS)
		return NULL;
	return p;
}

static bool same_flow(const struct vxd_ip *a, const struct vxd_ip *b)
{
	size_t n = a->family == 4 ? 4 : 16;

	return a->family && a->family == b->family && a->proto == b->proto &&
	       !memcmp(a->saddr, b->saddr, n) && !memcmp(a->daddr, b->daddr, n) &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* The followed packet a drop belongs to. The drop record carries the
 * identity the datapath gives the packet (vx_read_id in the kernel, the
 * inner headers when the skb was still or already a tunnel packet): the
 * packet with exactly that identity, seen within a second. Only when the
 * dropped skb's headers give no identity (not IP, unreadable) does the
 * latest packet of its flow stand in, and the line says so. */
static struct pkt *join_drop(struct trace *t, const struct vxd_event *d, enum join *how)
{
	const struct vxd_ip *f = d->inner.family ? &d->inner : &d->outer;
	struct pkt *best = NULL;

	*how = JOIN_NONE;
	if (d->id.family) {
		best = find_pkt(t, &d->id, d->ts_ns);
		*how = best ? JOIN_ID : JOIN_NONE;
		return best;
	}
	for (int i = 0; i < TRACE_PKTS; i++) {
		struct pkt *p = &t->pkts[i];

		if (!p->num || p->last_ts > d->ts_ns || d->ts_ns - p->last_ts > DROP_JOIN_NS ||
		    !same_flow(&p->flow, f))
			continue;
		if (!best || p->last_ts > best->last_ts)
			best = p;
	}
	if (best)
		*how = JOIN_FLOW;
	return best;
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
				"not name their rule", vx_ns_label(n->inum), vx_strerror(ret));
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
	if (!left && n->read_in_flush != t->flushes) {
		int h = vx_nf_watch_read(&n->w, hits, NF_HITS);

		n->read_in_flush = t->flushes;
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

/* What every line has: when, which packet, the hook that saw it, what it
 * was, where. */
struct line {
	uint64_t ts;
	bool late, on_receipt;
	const char *hook, *event, *ns, *dev;
	const struct pkt *p;	/* NULL: no followed packet */
	bool first;		/* @p's first sighting */
	bool joined;		/* a line joined to a packet seen elsewhere */
	enum join how;
	const struct vx_pkt_id *id;	/* NULL or family 0: no identity */
};

static void line_open(struct trace *t, struct jw *j, const struct line *l)
{
	char ts[32], num[16], since[24] = "";

	vx_fmt_wallclock(l->ts + t->mono_to_real, 6, ts, sizeof(ts));
	if (t->o->json) {
		jw_init(j, stdout);
		jw_obj_open(j, NULL);
		jw_str(j, "type", "trace");
		jw_str(j, "time", ts);
		jw_uint(j, "ts_ns", l->ts);
		jw_str(j, "ts_from", l->on_receipt ? "receipt" : "kernel");
		jw_str(j, "hook", l->hook);
		jw_str(j, "event", l->event);
		if (l->p) {
			jw_uint(j, "pkt", l->p->num);
			jw_uint(j, "since_first_ns", l->ts - l->p->first_ts);
		} else {
			jw_null(j, "pkt");
		}
		if (l->joined && l->how != JOIN_NONE)
			jw_str(j, "join", l->how == JOIN_ID ? "identity" : "flow");
		else if (l->joined)
			jw_null(j, "join");
		if (l->id && l->id->family) {
			jw_uint(j, "ip_id", l->id->ip_id);
			jw_uint(j, "id_seq", l->id->seq);
		}
		jw_str(j, "netns", l->ns);
		jw_str(j, "device", l->dev ? l->dev : "-");
		return;
	}
	if (l->p)
		snprintf(num, sizeof(num), "pkt#%u", l->p->num);
	else
		snprintf(num, sizeof(num), "-");
	if (l->p && !l->first)
		vx_fmt_ns(l->ts - l->p->first_ts, since, sizeof(since));
	printf("%s %-10s %-9s %-16s %-8s %s %s ", ts, num, since, l->hook, l->event, l->ns,
	       l->dev ? l->dev : "-");
}

static void line_close(struct trace *t, struct jw *j, const struct line *l)
{
	if (t->o->json) {
		jw_bool(j, "late", l->late);
		jw_obj_close(j);
		jw_end_line(j);
		return;
	}
	printf("%s%s\n", l->how == JOIN_FLOW ? "  (joined by flow)" : "", l->late ? "  (late)" : "");
}

static void print_dp(struct trace *t, const struct vx_event *e, const struct vx_cap *cap,
		     bool late)
{
	const struct vx_dp_watched *w = vx_dp_lookup(&t->dp, e->netns, e->ifindex);
	char in[160], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN];
	bool is_new = true;
	/* Without an IP header there is no identity to follow. */
	struct pkt *p = e->pkt.inner_family ? follow(t, e, &is_new) : NULL;
	struct line l = { .ts = e->ts_ns, .late = late, .hook = vx_at_path(e->at),
			  .event = vx_at_what(e->at), .ns = vx_ns_label(e->netns),
			  .dev = w ? w->name : "?", .p = p, .first = is_new,
			  .id = p ? &e->pkt.id : NULL };
	struct jw j;

	vx_capture_dp(t->capture, e, cap, l.ns, l.dev, t->mono_to_real);
	vx_dp_fmt_inner(&e->pkt, in, sizeof(in));
	vx_addr_str(e->pkt.outer_family, e->pkt.outer_src, os, sizeof(os));
	vx_addr_str(e->pkt.outer_family, e->pkt.outer_dst, od, sizeof(od));
	line_open(t, &j, &l);
	if (t->o->json) {
		jw_uint(&j, "vni", e->pkt.vni);
		jw_str(&j, "inner", in);
		if (e->pkt.outer_family) {
			jw_str(&j, "outer_src", os);
			jw_str(&j, "outer_dst", od);
			jw_uint(&j, "outer_sport", e->pkt.outer_sport);
			jw_uint(&j, "outer_dport", e->pkt.outer_dport);
		}
		jw_uint(&j, "len", e->len);
	} else {
		printf("vni %u  %s", e->pkt.vni, in);
		if (e->pkt.outer_family)
			printf("  outer udp %s:%u -> %s:%u", os, e->pkt.outer_sport, od,
			       e->pkt.outer_dport);
	}
	line_close(t, &j, &l);
}

/* The rule part of a netfilter line. */
static void print_rule(struct trace *t, struct jw *j, uint32_t inum)
{
	const char *why = NULL;
	int others;
	const struct vx_nf_rule *r = nf_rule_of(t, inum, &why, &others);

	if (t->o->json) {
		if (!r) {
			jw_null(j, "rule");
			jw_str(j, "rule_why", why);
			return;
		}
		jw_obj_open(j, "rule");
		vx_nf_rule_json(j, r);
		jw_obj_close(j);
		if (others)
			jw_int(j, "rule_others", others);
		return;
	}
	if (!r) {
		printf("  rule ? (%s)", why);
		return;
	}
	if (r->policy)
		printf("  rule %s %s/%s policy %s", r->family, r->table, r->chain, r->text);
	else
		printf("  rule %s %s/%s #%d: %s", r->family, r->table, r->chain, r->position,
		       r->text);
	if (others)
		printf(" (or one of %d other rules that dropped since)", others);
}

static const char *family_name(int family)
{
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "?";
}

/* A drop (T_DROP) or a netfilter verdict (T_NF). */
static void print_drop(struct trace *t, const struct tev *e, bool late)
{
	const struct vxd_event *d = &e->drop.ev;
	bool nf_line = e->type == T_NF || (!t->nf && is_netfilter_drop(e->drop.reason));
	char flow[192];
	struct line l = { .ts = d->ts_ns, .late = late, .id = &d->id, .joined = true,
			  .ns = vx_ns_label(d->netns),
			  .dev = d->ifindex ? vx_dev_label(d->netns, d->ifindex) : "-" };
	struct pkt *p = join_drop(t, d, &l.how);
	struct jw j;

	if (t->capture && e->type == T_DROP) {
		struct vx_drop dr = { .ev = d, .reason = e->drop.reason,
				      .location = e->drop.location, .cap = e->cap };

		vx_capture_drop(t->capture, &dr, l.ns, l.dev, vx_dropsrc_hook(t->drops),
				t->mono_to_real);
	}
	l.p = p;
	l.hook = e->type == T_NF ? vx_nfsrc_backend(t->nf) : vx_dropsrc_backend(t->drops);
	l.event = e->type == T_NF ? "NF-DROP" : "DROP";
	vx_ip_fmt(d->inner.family ? &d->inner : &d->outer, flow, sizeof(flow));
	line_open(t, &j, &l);
	if (t->o->json) {
		if (p)
			jw_str(&j, "pkt_first_seen", p->first_hook);
		if (d->vni)
			jw_uint(&j, "vni", d->vni);
		if (e->type == T_DROP) {
			jw_str(&j, "reason", e->drop.reason);
			jw_str(&j, "location", e->drop.location);
		}
		jw_str(&j, "packet", flow);
		if (nf_line) {
			jw_str(&j, "nf_hook", vx_nf_hook_name(e->drop.hook));
			jw_str(&j, "family", family_name(e->drop.family));
			print_rule(t, &j, d->netns);
		}
	} else {
		if (e->type == T_DROP)
			printf(" %s at %s ", e->drop.reason, e->drop.location);
		else
			printf(" hook %s %s ", vx_nf_hook_name(e->drop.hook),
			       family_name(e->drop.family));
		printf(" %s", flow);
		if (!p)
			printf(" (no traced packet %s)",
			       d->id.family ? "with this identity" : "of this flow");
		if (e->type == T_DROP && nf_line)
			printf("  hook %s", vx_nf_hook_name(e->drop.hook));
		if (nf_line)
			print_rule(t, NULL, d->netns);
	}
	line_close(t, &j, &l);
}

static const char *ct_event_name(int type)
{
	switch (type) {
	case VX_CT_EV_NEW: return "CT-NEW";
	case VX_CT_EV_DESTROY: return "CT-DESTROY";
	case VX_CT_EV_ALLOC_FAILED: return "CT-ALLOC-FAIL";
	case VX_CT_EV_INSERT_FAILED: return "CT-INSERT-FAIL";
	}
	return "CT-?";
}

static void print_ct(struct trace *t, const struct tev *e, bool late)
{
	char flow[192];
	struct line l = { .ts = e->ts, .late = late, .on_receipt = e->on_receipt,
			  .hook = e->ct.hook, .event = ct_event_name(e->ct.type),
			  .ns = vx_ns_label(e->ct.inum) };
	struct jw j;

	if (e->ct.t.family)
		vx_ip_fmt(&e->ct.t, flow, sizeof(flow));
	else
		snprintf(flow, sizeof(flow), "(no tuple)");
	line_open(t, &j, &l);
	if (t->o->json)
		jw_str(&j, "tuple", flow);
	else
		printf(" %s", flow);
	line_close(t, &j, &l);
}

static void print_alert(struct trace *t, const struct tev *e, bool late)
{
	struct line l = { .ts = e->ts, .late = late, .on_receipt = true,
			  .hook = "ctnetlink stats", .event = "CT-ALERT",
			  .ns = vx_ns_label(e->alert.inum) };
	struct jw j;

	line_open(t, &j, &l);
	if (t->o->json) {
		jw_str(&j, "why", e->alert.why);
		if (e->alert.have_count) {
			jw_uint(&j, "count", e->alert.count);
			jw_uint(&j, "max", e->alert.max);
		}
	} else {
		printf(" conntrack %s", e->alert.why);
	}
	line_close(t, &j, &l);
}

static void print_link(struct trace *t, const struct tev *e, bool late)
{
	const struct vx_dp_watched *w = e->link.w;
	struct line l = { .ts = e->ts, .late = late, .on_receipt = true, .hook = "rtnetlink",
			  .event = "LINK", .ns = vx_ns_label(w->netns_inum),
			  .dev = w->name };
	bool up = e->link.flags & IFF_UP, carrier = e->link.flags & IFF_LOWER_UP;
	struct jw j;

	line_open(t, &j, &l);
	if (t->o->json) {
		jw_str(&j, "change", vx_link_change_name(e->link.change));
		jw_bool(&j, "up", up);
		jw_bool(&j, "carrier", carrier);
		if (e->link.mtu)
			jw_uint(&j, "mtu", e->link.mtu);
		jw_str(&j, "kind", w->is_vxlan ? "vxlan" : "underlay");
	} else {
		printf(" %s (%s %s, now %s, carrier %s", vx_link_change_name(e->link.change),
		       w->is_vxlan ? "vxlan" : "underlay", w->name, up ? "up" : "down",
		       carrier ? "on" : "off");
		if (e->link.mtu)
			printf(", mtu %u", e->link.mtu);
		printf(")");
	}
	line_close(t, &j, &l);
}

static void print_retrans(struct trace *t, const struct tev *e, bool late)
{
	const struct vxr_event *r = &e->rt.ev;
	const struct vx_vxlan_dev *v = e->rt.dev >= 0 ? &t->dp.inv.devs[e->rt.dev] : NULL;
	bool classic = !strncmp(vx_retranssrc_backend(t->rt), "tracepoint", 10);
	bool syn = r->kind == VXR_SYNACK;
	struct vxd_ip ip = { .family = r->family == AF_INET ? 4 : 6, .proto = IPPROTO_TCP,
			     .sport = r->sport, .dport = r->dport };
	char flow[192];
	struct line l = { .ts = e->ts, .late = late, .ns = vx_ns_label(r->netns),
			  .dev = v ? v->name : "-", .event = syn ? "SYNACK-RETRANS" : "RETRANS" };
	struct jw j;

	l.hook = classic ? (syn ? "tracepoint/tcp/tcp_retransmit_synack" :
				  "tracepoint/tcp/tcp_retransmit_skb") :
			   (syn ? "tp_btf/tcp_retransmit_synack" : "tp_btf/tcp_retransmit_skb");
	memcpy(ip.saddr, r->saddr, 16);
	memcpy(ip.daddr, r->daddr, 16);
	vx_ip_fmt(&ip, flow, sizeof(flow));
	line_open(t, &j, &l);
	if (t->o->json) {
		jw_str(&j, "packet", flow);
		jw_uint(&j, "len", r->len);
		if (!syn) {
			jw_uint(&j, "mss", r->mss);
			jw_bool(&j, "full_size", e->rt.full);
		}
		jw_bool(&j, "through_tunnel", v != NULL);
	} else {
		printf(" %s", flow);
		if (!syn)
			printf(" len %u mss %u%s", r->len, r->mss, e->rt.full ? " full-size" : "");
		if (!v)
			printf(" (not through a traced tunnel)");
	}
	line_close(t, &j, &l);
}

static const char *hook_of_stage(const struct vx_hook_event *h)
{
	bool kp = h->backend == VXX_BE_KPROBE, tp = h->backend == VXX_BE_TP_BTF;

	switch (h->stage) {
	case VX_ST_XMIT:
		return tp ? "tp_btf/net_dev_start_xmit" : kp ? "kprobe/vxlan_xmit" : "fentry/vxlan_xmit";
	case VX_ST_RCV:
		return kp ? "kprobe/vxlan_rcv" : "fentry/vxlan_rcv";
	}
	return "tp_btf/tcp_probe";
}

static void print_hook(struct trace *t, const struct tev *e, bool late)
{
	const struct vx_hook_event *h = &e->hk;
	const struct vx_dp_watched *w = vx_dp_lookup(&t->dp, h->netns, h->ifindex);
	struct pkt *p = find_pkt(t, &h->id, e->ts);
	struct line l = { .ts = e->ts, .late = late, .hook = hook_of_stage(h),
			  .ns = vx_ns_label(h->netns), .dev = w ? w->name : "?", .p = p,
			  .how = p ? JOIN_ID : JOIN_NONE, .id = &h->id, .joined = true };
	char took[24] = "";
	struct jw j;

	l.event = h->stage == VX_ST_XMIT ? "XMIT" : h->stage == VX_ST_RCV ? "RCV" : "DELIVER";
	if (h->start_ns)
		vx_fmt_ns(h->ts_ns - h->start_ns, took, sizeof(took));
	line_open(t, &j, &l);
	if (t->o->json) {
		jw_uint(&j, "vni", h->vni);
		if (h->start_ns)
			jw_uint(&j, "duration_ns", h->ts_ns - h->start_ns);
	} else {
		printf("vni %u  ", h->vni);
		if (h->stage == VX_ST_DELIVERY)
			printf("to a TCP socket");
		else
			printf("%s entry to return %s",
			       h->stage == VX_ST_XMIT ? "vxlan_xmit" : "vxlan_rcv", took);
		if (!p)
			printf(" (%s)", h->id.family ? "no traced packet with this identity" : "not IP");
	}
	line_close(t, &j, &l);
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

	t->flushes++;
	if (!t->n_pend)		/* pend is NULL until the first event */
		return;
	qsort(t->pend, t->n_pend, sizeof(*t->pend), cmp_tev);
	while (n < t->n_pend && (all || t->pend[n].ts <= horizon)) {
		const struct tev *e = &t->pend[n++];
		bool late = e->ts < t->last_out_ts;

		t->late += late;
		if (!late)
			t->last_out_ts = e->ts;
		switch (e->type) {
		case T_DP: print_dp(t, &e->dp, e->cap, late); break;
		case T_DROP:
		case T_NF: print_drop(t, e, late); break;
		case T_CT: print_ct(t, e, late); break;
		case T_CT_ALERT: print_alert(t, e, late); break;
		case T_LINK: print_link(t, e, late); break;
		case T_RETRANS: print_retrans(t, e, late); break;
		case T_HOOK: print_hook(t, e, late); break;
		}
		free(e->cap);
		t->printed++;
	}
	memmove(t->pend, t->pend + n, (t->n_pend - n) * sizeof(*t->pend));
	t->n_pend -= n;
	if (n)
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

/* Losses are said as soon as they are seen: a timeline with holes must
 * not look whole. */
static void say_lost(uint64_t now, uint64_t *seen, const char *what)
{
	if (now > *seen)
		pr_warn("trace: %llu %s lost (ring buffer full): the timeline has holes",
			(unsigned long long)(now - *seen), what);
	*seen = now;
}

/* The conntrack table's state each interval: an ALERT line per namespace
 * whose table is full or whose failure counters rose. */
static void ct_tick(struct trace *t, uint64_t now)
{
	static struct vx_ct_snapshot snap;

	if (vx_ct_snapshot(t->ct, &snap))
		return;	/* the engine said why */
	t->lost_ct += snap.lost;
	if (snap.lost)
		pr_warn("trace: %llu conntrack events or counts lost: the timeline has holes",
			(unsigned long long)snap.lost);
	for (int i = 0; i < snap.n; i++) {
		const struct vx_ct_ns *n = &snap.ns[i];
		struct tev e = { .type = T_CT_ALERT, .ts = now, .on_receipt = true };

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

	say_lost(vx_dp_lost(&t->dp), &t->lost_dp, "datapath events");
	say_lost(vx_dropsrc_lost(t->drops), &t->lost_drops, "drop events");
	if (t->nf)
		say_lost(vx_nfsrc_lost(t->nf), &t->lost_nf, "netfilter verdicts");
	if (t->rt)
		say_lost(vx_retranssrc_lost(t->rt), &t->lost_rt, "retransmit events");
	if (t->hooks.rb)
		say_lost(vx_lathooks_lost(&t->hooks), &t->lost_hooks, "vxlan_xmit/rcv/delivery events");
	if (t->ct && now)
		ct_tick(t, now);
	vx_capture_flush(t->capture);
}

static int exit_code(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -EINVAL ? VX_EXIT_USAGE : VX_EXIT_FAIL;
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
	struct vx_nfsrc_cfg nc = { .backend = t->o->backend, .scope = scope, .n_scope = n_scope,
				   .vxlan_port = port, .hooks_only = true };
	char names[VX_DP_MAX_INST][VX_NETNS_NAME_MAX], err[256];
	uint32_t inums[VX_DP_MAX_INST];
	int ret;

	if (!vx_nfsrc_open(&t->nf, &nc, on_nf, t))
		src_add(sl, true, "netfilter verdicts by %s", vx_nfsrc_backend(t->nf));
	else
		src_add(sl, true, "netfilter verdicts by the drops' NETFILTER_DROP, hook from the "
			"stack (nf_hook_slow refused: %s)", vx_nfsrc_why());

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

	ret = t->dp.n_inst <= VXR_MAX_NETNS ?
		      vx_retranssrc_open(&t->rt, &t->dp.inv, inums, t->dp.n_inst, on_retrans, t) :
		      -E2BIG;
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
	struct vx_dp_opts po = { .o = o, .events = true, .xdp = o->xdp, .on_change = on_change,
				 .on_link = on_link, .on_event = on_dp_event };
	struct trace *t = calloc(1, sizeof(*t));
	struct itimerspec its = { .it_interval = { 0, TRACE_FLUSH_NS },
				  .it_value = { 0, TRACE_FLUSH_NS } };
	struct srclist *sl = calloc(1, sizeof(*sl));
	struct vx_sysinfo si;
	struct vx_loop loop;
	const char *priv;
	int ret;

	if (!t || !sl) {
		pr_err("trace: out of memory");
		free(t);
		free(sl);
		return VX_EXIT_FAIL;
	}
	t->o = o;
	t->tfd = -1;
	po.ctx = t;
	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		free(t);
		free(sl);
		return VX_EXIT_FAIL;
	}
	/* Before anything is attached: an unwritable file is a usage error. */
	if (vx_capture_open(&t->capture, o)) {
		free(t);
		free(sl);
		return VX_EXIT_USAGE;
	}
	po.snaplen = dcfg.snaplen = vx_capture_snaplen(t->capture);
	vx_dp_init(&t->dp, &po);
	if ((ret = vx_dp_pick(&t->dp))) {
		ret = exit_code(ret);
		goto out;
	}
	/* vxlan_xmit, vxlan_rcv and delivery: a refused backend is not fatal. */
	if (vx_lathooks_open(&t->hooks, o->backend, on_hook_event, t))
		vx_lathooks_close(&t->hooks);
	if ((ret = vx_dp_load(&t->dp)) || (ret = vx_dp_attach(&t->dp))) {
		ret = exit_code(ret);
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
	t->mono_to_real = vx_mono_to_real();
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
			t->capture ? "; capturing to " : "", t->capture ? o->pcap : "");
		t->ran = true;
		ret = vx_loop_run(&loop);
		if (ret)
			pr_err("trace: event loop failed: %s", strerror(-ret));
	}
	vx_loop_close(&loop);
	drain(t);
	flush(t, true);
	on_tick(t, 0);
	if (t->late)
		pr_warn("trace: %llu of %llu events arrived after the %llu ms reorder window and are "
			"marked late", (unsigned long long)t->late, (unsigned long long)t->printed,
			TRACE_WINDOW_NS / 1000000);
	ret = ret ? VX_EXIT_FAIL : VX_EXIT_OK;
out:
	if (t->ran)
		vx_capture_close(t->capture, t->lost_dp + t->lost_drops);
	else
		vx_capture_discard(t->capture);
	for (size_t i = 0; i < t->n_pend; i++)
		free(t->pend[i].cap);
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
	free(t->pend);
	free(t);
	free(sl);
	return ret;
}
