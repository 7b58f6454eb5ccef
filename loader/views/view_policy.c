// SPDX-License-Identifier: GPL-2.0-only
/* `vxray policy`: netfilter drops with their hook, family, namespace and
 * headers, their kernel stacks clustered, and the rule that dropped them.
 *
 * The drops come from the netfilter verdict engine (nfsrc.c: fexit or
 * kprobe+kretprobe on nf_hook_slow, else the drop engine's NETFILTER_DROPs
 * with the hook read off the stack). The rule is
 * found without touching the ruleset: each interval, the namespaces that
 * dropped have their rules re-read (policy.c) and the DROP/REJECT rules
 * whose packet counters rose since the last read took those drops. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cmd.h"
#include "dropsrc.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "names.h"
#include "netns.h"
#include "nfsrc.h"
#include "policy.h"
#include "recfmt.h"
#include "sysinfo.h"
#include "view.h"

#define MAX_NS 64
#define MAX_HITS 256
#define MAX_CLUSTERS 256
#define SIG_FRAMES 12

/* One watched namespace and its last rule snapshot. */
struct pns {
	uint32_t inum;
	char name[VX_NETNS_NAME_MAX];  /* to enter; "" is vxray's own */
	char label[VX_NETNS_NAME_MAX]; /* to print: "host" for the node's own */
	bool readable;		       /* named, so vxray can enter it */
	struct vx_nf_watch rules;      /* the last read, the next one's baseline */
	/* Cumulative, so that a counter read just before its drop reached
	 * the kernel's tally is not blamed twice: what the rules explain
	 * in one interval offsets the drops of the next. */
	uint64_t drops_cum, hits_cum, unattributed_cum;
};

/* A DROP/REJECT rule that took drops: what it was last seen as, and its
 * counts. */
struct prule {
	uint32_t ns_inum;
	struct vx_nf_rule rule;
	uint64_t interval, total;
};

/* Drops with the same stack: one cluster. */
struct pcluster {
	uint64_t ips[SIG_FRAMES];
	int n;
	enum vx_nf_hook hook;
	uint64_t interval, total;
};

struct policy {
	struct vx_opts *o;
	struct vx_nfsrc *src;
	struct vx_view view; /* privileges, --metrics, --pcap */
	uint64_t mono_to_real;
	uint64_t last_tick, lost_seen;
	uint64_t drops_total, unattributed_total;
	struct pns ns[MAX_NS];
	int n_ns;
	struct prule *rules;
	int n_rules;
	struct pcluster clusters[MAX_CLUSTERS];
	int n_clusters;
	uint64_t clusters_overflow;
};

/* ---- namespaces ------------------------------------------------------- */

static struct pns *ns_find(struct policy *p, uint32_t inum)
{
	for (int i = 0; i < p->n_ns; i++)
		if (p->ns[i].inum == inum)
			return &p->ns[i];
	return NULL;
}

/* Watch @name (""/NULL: vxray's own); @baseline reads its rules now. */
static struct pns *ns_add(struct policy *p, const char *name, uint32_t inum, bool baseline)
{
	struct pns *n;
	int ret;

	if ((n = ns_find(p, inum)))
		return n;
	if (p->n_ns == MAX_NS)
		return NULL;
	n = &p->ns[p->n_ns++];
	memset(n, 0, sizeof(*n));
	n->inum = inum;
	n->readable = name != NULL;
	snprintf(n->name, sizeof(n->name), "%s", name ? name : "");
	snprintf(n->rules.netns, sizeof(n->rules.netns), "%s", name ? name : "");
	snprintf(n->label, sizeof(n->label), "%s", vx_ns_label(inum));
	if (!baseline || !n->readable)
		return n;
	ret = vx_nf_watch_read(&n->rules, NULL, 0);
	if (ret < 0)
		pr_warn("cannot read the rules of netns %s: %s; its drops will not be attributed",
			n->label, vx_strerror(ret));
	return n;
}

/* The name to enter namespace @inum by: "" for vxray's own, NULL when
 * it has none under /run/netns and no --netns path or pid:PID names it. */
static const char *enter_name(const struct policy *p, uint32_t inum)
{
	static char names[VX_MAX_NETNS * 4][VX_NETNS_NAME_MAX];
	int n;

	if (inum == vx_netns_inum(NULL))
		return "";
	n = vx_netns_list(names, VX_MAX_NETNS * 4);
	for (int i = 0; i < n; i++)
		if (vx_netns_inum(names[i]) == inum)
			return names[i];
	for (int i = 0; i < p->o->n_netns; i++)
		if (vx_netns_inum(p->o->netns[i]) == inum)
			return p->o->netns[i];
	return NULL;
}

/* A namespace first seen in a drop: watch it if vxray can name it. Its
 * counters all date from after vxray started only if it did not exist
 * then, which is why it has no baseline and every count is its own. */
static struct pns *ns_for_drop(struct policy *p, uint32_t inum)
{
	struct pns *n = ns_find(p, inum);
	const char *name;

	if (n)
		return n;
	name = enter_name(p, inum);
	return ns_add(p, name, inum, false);
}

static void ns_init(struct policy *p, const struct vxd_scope_key *scope, int n_scope)
{
	static char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n;

	if (n_scope) {
		for (int i = 0; i < n_scope; i++) {
			ns_add(p, enter_name(p, scope[i].netns), scope[i].netns, true);
		}
		return;
	}
	ns_add(p, "", vx_netns_inum(NULL), true);
	n = vx_netns_list(names, VX_MAX_NETNS);
	for (int i = 0; i < n; i++) {
		uint32_t inum = vx_netns_inum(names[i]);

		if (inum)
			ns_add(p, names[i], inum, true);
	}
}

/* ---- events ----------------------------------------------------------- */

static void cluster_add(struct policy *p, const struct vx_drop *d, enum vx_nf_hook hook)
{
	int n = d->n_stack < SIG_FRAMES ? d->n_stack : SIG_FRAMES;
	struct pcluster *c;

	for (int i = 0; i < p->n_clusters; i++) {
		c = &p->clusters[i];
		if (c->n == n && !memcmp(c->ips, d->stack, n * sizeof(*c->ips))) {
			c->interval++;
			c->total++;
			return;
		}
	}
	if (p->n_clusters == MAX_CLUSTERS) {
		p->clusters_overflow++;
		return;
	}
	c = &p->clusters[p->n_clusters++];
	memset(c, 0, sizeof(*c));
	memcpy(c->ips, d->stack, n * sizeof(*c->ips));
	c->n = n;
	c->hook = hook;
	c->interval = c->total = 1;
}

static void handle_drop(struct policy *p, const struct vx_drop *d, enum vx_nf_hook hook, int family)
{
	const struct vxd_event *e = d->ev;
	char syms[VXD_STACK_DEPTH][160];
	const char *stack[VXD_STACK_DEPTH];
	struct vx_nf_drop_out out = { .e = e, .hook = hook, .location = d->location };
	struct vx_rec_names n = { .mono_to_real = p->mono_to_real };
	struct pns *ns;

	cluster_add(p, d, hook);
	if (!vx_drop_event_wanted(p->o, e))
		return;
	ns = ns_for_drop(p, e->netns);
	n.netns = ns ? ns->label : "?";
	n.device = vx_dev_label(e->netns, e->ifindex);
	if (p->view.cap)
		vx_capture_drop(p->view.cap, d, n.netns, n.device,
				vx_dropsrc_hook(vx_nfsrc_dropsrc(p->src)), p->mono_to_real);
	out.family = vx_nf_family_name(family, e);
	if (p->o->stack) {
		out.n_stack = d->n_stack < VXD_STACK_DEPTH ? d->n_stack : VXD_STACK_DEPTH;
		for (int i = 0; i < out.n_stack; i++)
			stack[i] = vx_ksym_fmt(d->stack[i], syms[i], sizeof(syms[i]));
		out.stack = stack;
	}
	vx_nf_drop_print(stdout, p->o->json, &out, &n);
	fflush(stdout);
}

static void on_nf_drop(void *ctx, const struct vx_drop *d, enum vx_nf_hook hook, int family)
{
	handle_drop(ctx, d, hook, family);
}

/* Drops since the last call, per watched namespace. Exact: counted in the
 * kernel, not from events. */
struct count_ctx {
	struct policy *p;
	uint64_t *ns_drops, delta;
};

static void count_ns(void *ctx, uint32_t netns, uint64_t n)
{
	struct count_ctx *c = ctx;
	struct pns *ns = ns_for_drop(c->p, netns);

	c->delta += n;
	if (ns)
		c->ns_drops[ns - c->p->ns] += n;
}

static uint64_t src_read_drops(struct policy *p, uint64_t *ns_drops)
{
	struct count_ctx c = { .p = p, .ns_drops = ns_drops };

	vx_nfsrc_drain(p->src);
	vx_nfsrc_read_counts(p->src, count_ns, &c);
	return c.delta;
}

/* ---- attribution ------------------------------------------------------ */

static struct prule *prule_get(struct policy *p, uint32_t inum, const struct vx_nf_rule *r)
{
	struct prule *n;

	for (int i = 0; i < p->n_rules; i++)
		if (p->rules[i].ns_inum == inum && vx_nf_same_rule(&p->rules[i].rule, r)) {
			p->rules[i].rule = *r; /* the newest text and position */
			return &p->rules[i];
		}
	n = realloc(p->rules, (p->n_rules + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->rules = n;
	n = &p->rules[p->n_rules++];
	memset(n, 0, sizeof(*n));
	n->ns_inum = inum;
	n->rule = *r;
	return n;
}

/* New rule counts of @ns since its last snapshot; returns their sum. */
static uint64_t attribute(struct policy *p, struct pns *ns)
{
	static struct vx_nf_hit hits[MAX_HITS];
	uint64_t sum = 0;
	int n;

	if (!ns->readable)
		return 0;
	n = vx_nf_watch_read(&ns->rules, hits, MAX_HITS);
	if (n < 0) {
		pr_warn("cannot read the rules of netns %s: %s", ns->label, vx_strerror(n));
		return 0;
	}
	if (n > MAX_HITS)
		n = MAX_HITS;
	for (int i = 0; i < n; i++) {
		struct prule *r = prule_get(p, ns->inum, hits[i].rule);

		if (!r)
			break;
		r->interval += hits[i].packets;
		r->total += hits[i].packets;
		sum += hits[i].packets;
	}
	return sum;
}

static void rule_text_line(const struct prule *r, const char *ns, uint64_t count)
{
	const struct vx_nf_rule *x = &r->rule;

	if (x->policy)
		printf("%10llu  netns=%s %s %s table=%s chain=%s policy: %s\n",
		       (unsigned long long)count, ns, vx_nf_source_name(x->source), x->family,
		       x->table, x->chain, x->text);
	else
		printf("%10llu  netns=%s %s %s table=%s chain=%s rule=%d handle=%llu %s: %s\n",
		       (unsigned long long)count, ns, vx_nf_source_name(x->source), x->family,
		       x->table, x->chain, x->position, (unsigned long long)x->handle,
		       vx_nf_verdict_name(x->verdict), x->text);
}

static void rule_json(struct jw *w, const struct prule *r, const char *ns, uint64_t count,
		      uint64_t total)
{
	const struct vx_nf_rule *x = &r->rule;

	jw_obj_open(w, NULL);
	jw_str(w, "netns", ns);
	vx_nf_rule_json(w, x);
	jw_uint(w, "count", count);
	jw_uint(w, "total", total);
	jw_obj_close(w);
}

static const char *why_unattributed(const struct pns *ns)
{
	return vx_nf_why_unattributed(ns->readable, &ns->rules.snap);
}

static void print_clusters(struct policy *p, struct jw *w, bool all)
{
	char sym[160];

	if (!p->o->json)
		printf("  stacks:\n");
	else
		jw_arr_open(w, "stacks");
	for (int i = 0; i < p->n_clusters; i++) {
		struct pcluster *c = &p->clusters[i];
		uint64_t count = all ? c->total : c->interval;

		if (!count)
			continue;
		if (p->o->json) {
			jw_obj_open(w, NULL);
			jw_str(w, "nf_hook", vx_nf_hook_name(c->hook));
			jw_uint(w, "count", count);
			jw_arr_open(w, "stack");
			for (int k = 0; k < c->n; k++)
				jw_str(w, NULL, vx_ksym_fmt(c->ips[k], sym, sizeof(sym)));
			jw_arr_close(w);
			jw_obj_close(w);
			continue;
		}
		printf("%10llu  hook=%s", (unsigned long long)count, vx_nf_hook_name(c->hook));
		for (int k = 0; k < c->n; k++)
			printf("%s%s", k ? " < " : " ", vx_ksym_fmt(c->ips[k], sym, sizeof(sym)));
		putchar('\n');
	}
	if (p->o->json)
		jw_arr_close(w);
}

/* --metrics: the drops (by the drop engine's reason and location, or as
 * nf_hook_slow verdicts per namespace) and the counters of the rules that
 * took them. */
static void export_metrics(struct policy *p, const uint64_t *ns_drops, uint64_t lost)
{
	const struct vx_drop_row *rows;
	int n;

	if (!p->view.me)
		return;
	vx_mexport_begin(p->view.me);
	n = vx_nfsrc_last_rows(p->src, &rows);
	if (vx_nfsrc_dropsrc(p->src)) {
		vx_mexport_drops(p->view.me, rows, n, lost);
	} else {
		for (int i = 0; i < p->n_ns; i++)
			if (ns_drops[i])
				vx_mexport_drops_add(p->view.me, p->ns[i].label, "NETFILTER_DROP",
						     "nf_hook_slow", ns_drops[i]);
		vx_mexport_lost(p->view.me, "policy", lost);
	}
	for (int i = 0; i < p->n_rules; i++) {
		const struct pns *ns = ns_find(p, p->rules[i].ns_inum);

		vx_mexport_nf_rule(p->view.me, ns ? ns->label : "?", &p->rules[i].rule);
	}
	vx_mexport_end(p->view.me);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct policy *p = ctx;
	uint64_t lost = vx_nfsrc_lost(p->src), new_lost = lost - p->lost_seen;
	uint64_t delta, ns_drops[MAX_NS] = {}, ns_hits[MAX_NS] = {};
	double secs = (double)(now - p->last_tick) / NSEC_PER_SEC;
	char ts[32];
	struct jw w;

	/* Drops first, counters second: a rule's counter rises before the
	 * kernel frees the skb, so every drop counted here has its counter
	 * increment in the snapshot read after it. */
	delta = src_read_drops(p, ns_drops);
	for (int i = 0; i < p->n_rules; i++)
		p->rules[i].interval = 0;
	for (int i = 0; i < p->n_ns; i++)
		if (ns_drops[i])
			ns_hits[i] = attribute(p, &p->ns[i]);
	p->drops_total += delta;
	vx_fmt_wallclock(now + p->mono_to_real, 3, ts, sizeof(ts));

	if (p->o->json) {
		jw_init(&w, stdout);
		jw_record(&w, "policy_summary");
		jw_double(&w, "interval_s", secs);
		jw_uint(&w, "drops", delta);
		jw_uint(&w, "lost", new_lost);
		jw_uint(&w, "total_drops", p->drops_total);
		jw_bool(&w, "heartbeat", !delta);
		jw_arr_open(&w, "rules");
	} else if (delta) {
		printf("--- %s netfilter drops in the last %.1fs: %llu, lost %llu ---\n", ts, secs,
		       (unsigned long long)delta, (unsigned long long)new_lost);
	} else {
		printf("--- still tracing, %llu netfilter drops, %llu lost ---\n",
		       (unsigned long long)p->drops_total, (unsigned long long)lost);
	}
	for (int i = 0; i < p->n_rules; i++) {
		struct prule *r = &p->rules[i];
		struct pns *ns = ns_find(p, r->ns_inum);

		if (!r->interval)
			continue;
		if (p->o->json)
			rule_json(&w, r, ns ? ns->label : "?", r->interval, r->total);
		else
			rule_text_line(r, ns ? ns->label : "?", r->interval);
	}
	if (p->o->json) {
		jw_arr_close(&w);
		jw_arr_open(&w, "unattributed");
	}
	for (int i = 0; i < p->n_ns; i++) {
		struct pns *ns = &p->ns[i];
		uint64_t cum, left;

		ns->drops_cum += ns_drops[i];
		ns->hits_cum += ns_hits[i];
		cum = ns->drops_cum > ns->hits_cum ? ns->drops_cum - ns->hits_cum : 0;
		if (cum <= ns->unattributed_cum)
			continue;
		left = cum - ns->unattributed_cum;
		ns->unattributed_cum = cum;
		p->unattributed_total += left;
		if (p->o->json) {
			jw_obj_open(&w, NULL);
			jw_str(&w, "netns", p->ns[i].label);
			jw_uint(&w, "count", left);
			jw_str(&w, "why", why_unattributed(&p->ns[i]));
			jw_obj_close(&w);
		} else {
			printf("%10llu  netns=%s not attributed to a rule: %s\n",
			       (unsigned long long)left, p->ns[i].label,
			       why_unattributed(&p->ns[i]));
		}
	}
	if (p->o->json)
		jw_arr_close(&w);
	if (delta)
		print_clusters(p, &w, false);
	if (p->o->json) {
		jw_obj_close(&w);
		jw_end_line(&w);
	}
	for (int i = 0; i < p->n_clusters; i++)
		p->clusters[i].interval = 0;
	if (new_lost)
		pr_warn("%llu netfilter drop events did not fit the ring buffer; the counts above are exact, the event lines are not",
			(unsigned long long)new_lost);
	export_metrics(p, ns_drops, lost);
	p->lost_seen = lost;
	p->last_tick = now;
	vx_capture_flush(p->view.cap);
	fflush(stdout);
}

/* Per-rule totals for the whole run. */
static void print_totals(struct policy *p)
{
	struct jw w;

	if (p->o->json) {
		jw_init(&w, stdout);
		jw_record(&w, "policy_totals");
		jw_uint(&w, "total_drops", p->drops_total);
		jw_uint(&w, "total_unattributed", p->unattributed_total);
		jw_uint(&w, "total_lost", p->lost_seen);
		jw_arr_open(&w, "rules");
	} else {
		printf("=== netfilter drops in total: %llu, not attributed %llu, lost %llu ===\n",
		       (unsigned long long)p->drops_total,
		       (unsigned long long)p->unattributed_total, (unsigned long long)p->lost_seen);
	}
	for (int i = 0; i < p->n_rules; i++) {
		struct prule *r = &p->rules[i];
		struct pns *ns = ns_find(p, r->ns_inum);

		if (p->o->json)
			rule_json(&w, r, ns ? ns->label : "?", r->total, r->total);
		else
			rule_text_line(r, ns ? ns->label : "?", r->total);
	}
	if (p->o->json)
		jw_arr_close(&w);
	if (p->drops_total)
		print_clusters(p, &w, true);
	if (p->o->json) {
		jw_obj_close(&w);
		jw_end_line(&w);
	}
	if (p->clusters_overflow && !p->o->json)
		printf("  (%llu drops had stacks beyond the %d kept)\n",
		       (unsigned long long)p->clusters_overflow, MAX_CLUSTERS);
	fflush(stdout);
}

static void policy_free(struct policy *p)
{
	for (int i = 0; i < p->n_ns; i++)
		vx_nf_watch_free(&p->ns[i].rules);
	free(p->rules);
}

int cmd_policy(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	static struct policy p;
	struct vx_nfsrc_cfg cfg = { .backend = o->backend };
	struct vx_loop loop;
	uint16_t port = 0;
	int n_scope = 0, ret;

	memset(&p, 0, sizeof(p));
	p.o = o;
	if (o->pcap && (o->backend == VX_BACKEND_FENTRY || o->backend == VX_BACKEND_KPROBE)) {
		pr_err("--pcap needs the dropped packet whole, and the %s backend sees it only "
		       "after it was freed: use --backend tracepoint or leave --backend out",
		       o->backend == VX_BACKEND_FENTRY ? "fentry" : "kprobe");
		return VX_EXIT_USAGE;
	}
	if ((ret = vx_view_open(&p.view, o, VX_VIEW_CAPTURE)))
		return ret;
	ret = vx_drop_scope_build(o, scope, &n_scope, &port);
	if (ret) { /* a namespace or interface the user named is not there */
		vx_view_close(&p.view, false, 0);
		return vx_exit_code(ret);
	}
	cfg.scope = scope;
	cfg.n_scope = n_scope;
	cfg.vxlan_port = port;
	cfg.snaplen = vx_capture_snaplen(p.view.cap);
	if (vx_nfsrc_open(&p.src, &cfg, on_nf_drop, &p)) {
		vx_view_close(&p.view, false, 0);
		return VX_EXIT_FAIL;
	}
	vx_mexport_begin(p.view.me);
	vx_mexport_backend(p.view.me, "policy", vx_nfsrc_backend(p.src));
	vx_mexport_end(p.view.me);
	/* Baselines after the probe is attached: a drop between the two
	 * would show as a counter without an event, the safer side. */
	ns_init(&p, scope, n_scope);
	p.mono_to_real = vx_mono_to_real();
	p.last_tick = vx_now_ns();

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &p);
	if (!ret)
		ret = vx_nfsrc_add_to_loop(p.src, &loop);
	if (ret) {
		pr_err("cannot set up the event loop: %s", vx_strerror(ret));
		vx_loop_close(&loop);
		goto out;
	}
	pr_info("tracing netfilter drops with %s in %s%s%s; Ctrl-C to stop",
		vx_nfsrc_backend(p.src),
		n_scope ? "the chosen namespaces/devices" : "every namespace",
		p.view.cap ? ", capturing to " : "", vx_capture_where(p.view.cap));
	ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret)
		pr_err("policy tracing stopped early: %s", vx_strerror(ret));
	else
		print_totals(&p);
out:
	vx_view_close(&p.view, true, vx_nfsrc_lost(p.src));
	vx_nfsrc_close(p.src);
	policy_free(&p);
	return ret ? VX_EXIT_FAIL : VX_EXIT_OK;
}
