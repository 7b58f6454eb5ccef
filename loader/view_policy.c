// SPDX-License-Identifier: GPL-2.0-only
/* `vxray policy`: netfilter drops with their hook, family, namespace and
 * headers, their kernel stacks clustered, and the rule that dropped them.
 *
 * The drops come, best first, from fexit or kprobe+kretprobe on
 * nf_hook_slow (bpf/kprobe/vx_nfhook.bpf.c: the hook and family from the
 * kernel's own hook state), or from the drop engine (dropsrc, only
 * NETFILTER_DROP, with stacks: the hook is the NF_HOOK caller below
 * nf_hook_slow in the stack). The rule is
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

#include "cmd.h"
#include "capture.h"
#include "dropsrc.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "mexport.h"
#include "netns.h"
#include "policy.h"
#include "sysinfo.h"
/* The shared structs first: the skeleton names struct vxn_config. */
#include "../bpf/kprobe/vx_nfhook.h"
#include "vx_nfhook.skel.h"

#define MAX_NS 64
#define MAX_HITS 256
#define MAX_CLUSTERS 256
#define SIG_FRAMES 12

/* One watched namespace and its last rule snapshot. */
struct pns {
	uint32_t inum;
	char name[VX_NETNS_NAME_MAX];	/* to enter; "" is vxray's own */
	char label[VX_NETNS_NAME_MAX];	/* to print: "host" for pid 1's */
	bool readable;			/* named, so vxray can enter it */
	bool have_snap;			/* snap is a baseline to diff against */
	struct vx_nf_ruleset snap;
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

/* The nf_hook_slow source: its skeleton, links and per-key totals. */
struct nfhook {
	struct vx_nfhook *skel;
	struct bpf_link *links[2];
	struct ring_buffer *rb;
	const char *backend;
	struct { struct vxn_agg_key key; uint64_t seen; } *agg;
	int n_agg;
};

struct policy {
	struct vx_opts *o;
	struct vx_dropsrc *src;		/* either this ... */
	struct nfhook nh;		/* ... or this one delivers */
	struct vx_capture *cap;		/* --pcap (drop engine only), else NULL */
	struct vx_mexport *me;		/* --metrics, else NULL */
	const struct vx_drop_row *rows;	/* the drop engine's last read */
	int n_rows;
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
	char buf[32];
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
	snprintf(n->label, sizeof(n->label), "%s", vx_drop_ns_name(inum, buf, sizeof(buf)));
	if (!baseline || !n->readable)
		return n;
	ret = vx_nf_read_ruleset(n->name, &n->snap);
	if (ret)
		pr_warn("cannot read the rules of netns %s: %s; its drops will not be attributed",
			n->label, vx_strerror(ret));
	n->have_snap = !ret;
	return n;
}

/* The name to enter namespace @inum by: "" for vxray's own, NULL when
 * it has none under /run/netns. */
static const char *enter_name(uint32_t inum)
{
	static char names[VX_MAX_NETNS * 4][VX_NETNS_NAME_MAX];
	int n;

	if (inum == vx_netns_inum(NULL))
		return "";
	n = vx_netns_list(names, VX_MAX_NETNS * 4);
	for (int i = 0; i < n; i++)
		if (vx_netns_inum(names[i]) == inum)
			return names[i];
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
	name = enter_name(inum);
	return ns_add(p, name, inum, false);
}

static void ns_init(struct policy *p, const struct vxd_scope_key *scope, int n_scope)
{
	static char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	int n;

	if (n_scope) {
		for (int i = 0; i < n_scope; i++) {
			ns_add(p, enter_name(scope[i].netns), scope[i].netns, true);
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

static enum vx_nf_hook hook_of(const struct vx_drop *d, int *family)
{
	const char *syms[VXD_STACK_DEPTH];
	int n = d->n_stack < VXD_STACK_DEPTH ? d->n_stack : VXD_STACK_DEPTH;

	for (int i = 0; i < n; i++)
		syms[i] = vx_ksym_lookup(d->stack[i], NULL);
	return vx_nf_hook_from_stack(syms, n, family);
}

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

static const char *family_name(int family, const struct vxd_event *e)
{
	if (!family)
		family = (e->flags & VXD_F_INNER) ? e->inner.family : e->outer.family;
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "?";
}

static void print_drop_json(struct policy *p, const struct vx_drop *d, enum vx_nf_hook hook,
			    const char *fam, const char *ns, const char *dev)
{
	const struct vxd_event *e = d->ev;
	char ts[32], sym[160], a[INET6_ADDRSTRLEN];
	struct jw w;

	vx_fmt_wallclock(e->ts_ns + p->mono_to_real, 3, ts, sizeof(ts));
	jw_init(&w, stdout);
	jw_obj_open(&w, NULL);
	jw_str(&w, "type", "nf_drop");
	jw_str(&w, "time", ts);
	jw_uint(&w, "time_ns", e->ts_ns + p->mono_to_real);
	jw_str(&w, "hook", vx_nf_hook_name(hook));
	jw_str(&w, "family", fam);
	jw_str(&w, "netns", ns);
	jw_uint(&w, "netns_inum", e->netns);
	jw_str(&w, "dev", dev);
	if (e->len)
		jw_uint(&w, "len", e->len);
	jw_str(&w, "location", d->location);
	if (e->flags & VXD_F_OUTER)
		vx_drop_json_ip(&w, "outer", &e->outer);
	if (e->flags & VXD_F_TUNNEL) {
		jw_uint(&w, "vni", e->vni);
		if (e->flags & VXD_F_OUTER)
			jw_str(&w, "vtep", vx_drop_addr_str(&e->outer, e->outer.saddr, a, sizeof(a)));
	}
	if (e->flags & VXD_F_INNER)
		vx_drop_json_ip(&w, "inner", &e->inner);
	if (p->o->stack) {
		jw_arr_open(&w, "stack");
		for (int i = 0; i < d->n_stack; i++)
			jw_str(&w, NULL, vx_ksym_fmt(d->stack[i], sym, sizeof(sym)));
		jw_arr_close(&w);
	}
	jw_obj_close(&w);
	jw_end_line(&w);
}

static void handle_drop(struct policy *p, const struct vx_drop *d, enum vx_nf_hook hook,
			int family)
{
	const struct vxd_event *e = d->ev;
	char ts[32], pkt[160], outer[160], sym[160], a[INET6_ADDRSTRLEN];
	const char *fam, *dev;
	struct pns *ns;

	cluster_add(p, d, hook);
	if (!vx_drop_event_wanted(p->o, e))
		return;
	ns = ns_for_drop(p, e->netns);
	fam = family_name(family, e);
	dev = vx_drop_dev_name(e->netns, e->ifindex);
	if (p->src)
		vx_capture_drop(p->cap, d, ns ? ns->label : "?", dev, vx_dropsrc_hook(p->src),
				p->mono_to_real);
	if (p->o->json) {
		print_drop_json(p, d, hook, fam, ns ? ns->label : "?", dev);
		return;
	}
	vx_fmt_wallclock(e->ts_ns + p->mono_to_real, 3, ts, sizeof(ts));
	if (e->flags & VXD_F_INNER)
		vx_drop_fmt_ip(&e->inner, pkt, sizeof(pkt));
	else if (e->flags & VXD_F_OUTER)
		vx_drop_fmt_ip(&e->outer, pkt, sizeof(pkt));
	else
		snprintf(pkt, sizeof(pkt), "ethertype 0x%04x", e->protocol);
	printf("%s NF_DROP hook=%s family=%s netns=%s dev=%s len=", ts, vx_nf_hook_name(hook), fam,
	       ns ? ns->label : "?", dev);
	if (e->len)
		printf("%u %s", e->len, pkt);
	else
		printf("- %s", pkt);	/* nf_hook_slow backends: skb already freed */
	if (e->flags & VXD_F_TUNNEL) {
		printf(" vni=%u", e->vni);
		if (e->flags & VXD_F_OUTER) {
			vx_drop_fmt_ip(&e->outer, outer, sizeof(outer));
			printf(" vtep=%s outer %s",
			       vx_drop_addr_str(&e->outer, e->outer.saddr, a, sizeof(a)), outer);
		}
	}
	putchar('\n');
	if (p->o->stack)
		for (int i = 0; i < d->n_stack; i++)
			printf("    %s\n", vx_ksym_fmt(d->stack[i], sym, sizeof(sym)));
	fflush(stdout);
}

/* From the drop engine: the hook is read off the stack. */
static void on_drop(void *ctx, const struct vx_drop *d)
{
	int family;
	enum vx_nf_hook hook = hook_of(d, &family);

	handle_drop(ctx, d, hook, family);
}

/* ---- the nf_hook_slow source ------------------------------------------ */

/* From nf_hook_slow: the hook and family are the kernel's own. */
static int nh_on_event(void *ctx, void *data, size_t size)
{
	struct policy *p = ctx;
	const struct vxn_event *e = data;
	uint64_t ips[VXD_STACK_DEPTH] = {};
	struct vx_drop d = { .ev = &e->d, .reason = "NETFILTER_DROP" };
	char loc[160];
	int family;

	if (size < sizeof(*e))
		return 0;
	if (e->d.location)
		vx_ksym_fmt(e->d.location, loc, sizeof(loc));
	else
		snprintf(loc, sizeof(loc), "-");
	d.location = loc;
	d.stack_err = e->d.stack_id < 0 ? e->d.stack_id :
		bpf_map__lookup_elem(p->nh.skel->maps.vxn_stacks, &e->d.stack_id,
				     sizeof(e->d.stack_id), ips, sizeof(ips), 0);
	if (!d.stack_err) {
		int i = 0;

		/* fexit's stack starts with the BPF program, its trampoline and
		 * nf_hook_slow itself; kretprobe's at the caller. Show both from
		 * the caller, the function that ran the hook. */
		for (; i < VXD_STACK_DEPTH && ips[i]; i++) {
			const char *sym = vx_ksym_lookup(ips[i], NULL);

			if (!sym || (strncmp(sym, "bpf_prog_", 9) &&
				     strncmp(sym, "bpf_trampoline_", 15) &&
				     strcmp(sym, "nf_hook_slow")))
				break;
		}
		d.stack = ips + i;
		while (i + d.n_stack < VXD_STACK_DEPTH && ips[i + d.n_stack])
			d.n_stack++;
	}
	/* NFPROTO_IPV4 2, NFPROTO_IPV6 10 */
	family = e->pf == 2 ? 4 : e->pf == 10 ? 6 : 0;
	handle_drop(p, &d, vx_nf_hook_from_num(e->hook, e->pf), family);
	return 0;
}

static int nh_try(struct policy *p, bool fexit, const struct vxd_scope_key *scope, int n_scope,
		  uint16_t port, char *why, size_t len)
{
	const char *what = fexit ? "fexit/nf_hook_slow" : "kprobe+kretprobe/nf_hook_slow";
	struct nfhook *nh = &p->nh;
	struct bpf_program *prog;
	uint8_t one = 1;
	int ret;

	nh->skel = vx_nfhook__open();
	if (!nh->skel) {
		ret = -errno;
		snprintf(why, len, "opening the BPF object: %s", vx_strerror(ret));
		return ret;
	}
	nh->skel->rodata->cfg.vxlan_port = port ? port : 4789;
	nh->skel->rodata->cfg.scoped = n_scope > 0;
	nh->skel->rodata->cfg.stack = 1;
	bpf_map__set_max_entries(nh->skel->maps.vxn_stacks, 4096);
	bpf_object__for_each_program(prog, nh->skel->obj)
		bpf_program__set_autoload(prog, fexit ? prog == nh->skel->progs.vxn_fexit :
						 prog != nh->skel->progs.vxn_fexit);
	ret = vx_nfhook__load(nh->skel);
	if (ret) {
		snprintf(why, len, "the kernel refused to load %s: %s", what, vx_strerror(ret));
		goto err;
	}
	for (int i = 0; i < n_scope; i++) {
		ret = bpf_map__update_elem(nh->skel->maps.vxn_scope, &scope[i], sizeof(scope[i]),
					   &one, sizeof(one), BPF_ANY);
		if (ret) {
			snprintf(why, len, "filling the scope map: %s", vx_strerror(ret));
			goto err;
		}
	}
	/* The return probe first: an entry without its return would leave
	 * a stale frame, a return without an entry is ignored. */
	nh->links[0] = bpf_program__attach(fexit ? nh->skel->progs.vxn_fexit :
						   nh->skel->progs.vxn_kretprobe);
	if (nh->links[0] && !fexit)
		nh->links[1] = bpf_program__attach(nh->skel->progs.vxn_kprobe);
	if (!nh->links[0] || (!fexit && !nh->links[1])) {
		ret = -errno;
		snprintf(why, len, "the kernel refused to attach %s: %s%s", what, vx_strerror(ret),
			 fexit ? "" : " (this kernel may have no kprobes: CONFIG_KPROBES)");
		goto err;
	}
	nh->rb = ring_buffer__new(bpf_map__fd(nh->skel->maps.vxn_rb), nh_on_event, p, NULL);
	if (!nh->rb) {
		ret = -errno;
		snprintf(why, len, "reading the ring buffer: %s", vx_strerror(ret));
		goto err;
	}
	nh->backend = what;
	return 0;
err:
	bpf_link__destroy(nh->links[1]);
	bpf_link__destroy(nh->links[0]);
	nh->links[0] = nh->links[1] = NULL;
	vx_nfhook__destroy(nh->skel);
	nh->skel = NULL;
	return ret;
}

static void nh_close(struct nfhook *nh)
{
	ring_buffer__free(nh->rb);
	bpf_link__destroy(nh->links[1]);
	bpf_link__destroy(nh->links[0]);
	vx_nfhook__destroy(nh->skel);
	free(nh->agg);
}

static uint64_t nh_lost(struct nfhook *nh)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *v;
	uint32_t zero = 0;

	if (ncpu <= 0 || !(v = calloc(ncpu, sizeof(*v))))
		return 0;
	if (!bpf_map__lookup_elem(nh->skel->maps.vxn_lost, &zero, sizeof(zero), v,
				  ncpu * sizeof(*v), 0))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* ---- either source ---------------------------------------------------- */

static uint64_t src_lost(struct policy *p)
{
	return p->src ? vx_dropsrc_lost(p->src) : nh_lost(&p->nh);
}

static const char *src_backend(struct policy *p)
{
	return p->src ? vx_dropsrc_backend(p->src) : p->nh.backend;
}

/* Drops since the last call, per watched namespace, into @ns_drops;
 * returns their sum. Exact: counted in the kernel, not from events. */
static uint64_t src_read_drops(struct policy *p, uint64_t *ns_drops)
{
	struct nfhook *nh = &p->nh;
	const struct vx_drop_row *rows;
	struct vxn_agg_key key, next, *prev = NULL;
	uint64_t delta = 0, count;
	int fd, n;

	if (p->src) {
		vx_dropsrc_drain(p->src);
		n = vx_dropsrc_read_agg(p->src, &rows);
		p->rows = rows;
		p->n_rows = n;
		for (int i = 0; i < n; i++) {
			struct pns *ns = ns_for_drop(p, rows[i].key.netns);

			delta += rows[i].delta;
			if (ns)
				ns_drops[ns - p->ns] += rows[i].delta;
		}
		return delta;
	}
	ring_buffer__consume(nh->rb);
	fd = bpf_map__fd(nh->skel->maps.vxn_agg);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct pns *ns;
		int i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &count))
			continue;
		for (i = 0; i < nh->n_agg; i++)
			if (!memcmp(&nh->agg[i].key, &key, sizeof(key)))
				break;
		if (i == nh->n_agg) {
			void *m = realloc(nh->agg, (nh->n_agg + 1) * sizeof(*nh->agg));

			if (!m)
				break;
			nh->agg = m;
			nh->agg[i].key = key;
			nh->agg[i].seen = 0;
			nh->n_agg++;
		}
		if (count <= nh->agg[i].seen)
			continue;
		ns = ns_for_drop(p, key.netns);
		delta += count - nh->agg[i].seen;
		if (ns)
			ns_drops[ns - p->ns] += count - nh->agg[i].seen;
		nh->agg[i].seen = count;
	}
	return delta;
}

/* ---- attribution ------------------------------------------------------ */

static struct prule *prule_get(struct policy *p, uint32_t inum, const struct vx_nf_rule *r)
{
	struct prule *n;

	for (int i = 0; i < p->n_rules; i++)
		if (p->rules[i].ns_inum == inum && vx_nf_same_rule(&p->rules[i].rule, r)) {
			p->rules[i].rule = *r;	/* the newest text and position */
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
	struct vx_nf_ruleset now = {};
	uint64_t sum = 0;
	int n, ret;

	if (!ns->readable)
		return 0;
	ret = vx_nf_read_ruleset(ns->name, &now);
	if (ret) {
		pr_warn("cannot read the rules of netns %s: %s", ns->label, vx_strerror(ret));
		vx_nf_ruleset_free(&now);
		return 0;
	}
	n = vx_nf_counter_hits(ns->have_snap ? &ns->snap : NULL, &now, hits, MAX_HITS);
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
	vx_nf_ruleset_free(&ns->snap);
	ns->snap = now;
	ns->have_snap = true;
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
	jw_str(w, "source", vx_nf_source_name(x->source));
	jw_str(w, "family", x->family);
	jw_str(w, "table", x->table);
	jw_str(w, "chain", x->chain);
	if (x->policy) {
		jw_bool(w, "policy", true);
	} else {
		jw_int(w, "position", x->position);
		if (x->handle)
			jw_uint(w, "handle", x->handle);
	}
	jw_str(w, "verdict", vx_nf_verdict_name(x->verdict));
	jw_str(w, "text", x->text);
	jw_uint(w, "count", count);
	jw_uint(w, "total", total);
	jw_obj_close(w);
}

static const char *why_unattributed(const struct pns *ns)
{
	if (!ns->readable)
		return "the namespace has no name vxray can enter to read its rules";
	if (vx_nf_uncounted_droppers(&ns->snap))
		return "DROP/REJECT rules without counters there (nft rules need a `counter` statement)";
	return "no DROP/REJECT rule counter rose (a conntrack or other netfilter verdict, or a rule vxray cannot read)";
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
			jw_str(w, "hook", vx_nf_hook_name(c->hook));
			jw_uint(w, "count", count);
			jw_arr_open(w, "frames");
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

/* --metrics: the drops (by the engine's reason and location, or as
 * nf_hook_slow verdicts) and the counters of the rules that took them. */
static void export_metrics(struct policy *p, const uint64_t *ns_drops, uint64_t lost)
{
	if (!p->me)
		return;
	vx_mexport_begin(p->me);
	if (p->src) {
		vx_mexport_drops(p->me, p->rows, p->n_rows, lost);
	} else {
		for (int i = 0; i < p->n_ns; i++)
			if (ns_drops[i])
				vx_mexport_drops_add(p->me, p->ns[i].label, "NETFILTER_DROP",
						     "nf_hook_slow", ns_drops[i]);
		vx_mexport_lost(p->me, "policy", lost);
	}
	for (int i = 0; i < p->n_rules; i++) {
		const struct pns *ns = ns_find(p, p->rules[i].ns_inum);

		vx_mexport_nf_rule(p->me, ns ? ns->label : "?", &p->rules[i].rule);
	}
	vx_mexport_end(p->me);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct policy *p = ctx;
	uint64_t lost = src_lost(p), new_lost = lost - p->lost_seen;
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
		jw_obj_open(&w, NULL);
		jw_str(&w, "type", "summary");
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
			       (unsigned long long)left, p->ns[i].label, why_unattributed(&p->ns[i]));
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
	vx_capture_flush(p->cap);
	fflush(stdout);
}

/* Per-rule totals for the whole run. */
static void print_totals(struct policy *p)
{
	struct jw w;

	if (p->o->json) {
		jw_init(&w, stdout);
		jw_obj_open(&w, NULL);
		jw_str(&w, "type", "totals");
		jw_uint(&w, "drops", p->drops_total);
		jw_uint(&w, "unattributed", p->unattributed_total);
		jw_uint(&w, "lost", p->lost_seen);
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
		vx_nf_ruleset_free(&p->ns[i].snap);
	free(p->rules);
}

static int open_source(struct policy *p, const struct vxd_scope_key *scope, int n_scope,
		       uint16_t port)
{
	struct vx_dropsrc_cfg cfg = {
		.backend = VX_BACKEND_TRACEPOINT,
		.scope = scope,
		.n_scope = n_scope,
		.vxlan_port = port,
		.stack = true,	/* the hook is read from the stack */
		.only_reason = "SKB_DROP_REASON_NETFILTER_DROP",
		.snaplen = vx_capture_snaplen(p->cap),
	};
	enum vx_backend be = p->o->backend;
	char why[2][256] = { "not tried", "not tried" };
	int ret;

	/* nf_hook_slow returns after the skb was freed: its bytes are gone.
	 * The drop engine sees it at kfree_skb, still whole. */
	if (p->cap)
		return vx_dropsrc_open(&p->src, &cfg, on_drop, p);

	if (be == VX_BACKEND_AUTO || be == VX_BACKEND_FENTRY) {
		ret = nh_try(p, true, scope, n_scope, port, why[0], sizeof(why[0]));
		if (!ret)
			return 0;
		pr_debug("policy: backend fentry: %s", why[0]);
		if (be == VX_BACKEND_FENTRY) {
			pr_err("the fentry backend cannot run here: %s; use --backend tracepoint or leave --backend out",
			       why[0]);
			return ret;
		}
	}
	if (be == VX_BACKEND_AUTO || be == VX_BACKEND_KPROBE) {
		ret = nh_try(p, false, scope, n_scope, port, why[1], sizeof(why[1]));
		if (!ret)
			return 0;
		pr_debug("policy: backend kprobe: %s", why[1]);
		if (be == VX_BACKEND_KPROBE) {
			pr_err("the kprobe backend cannot run here: %s; use --backend tracepoint or leave --backend out",
			       why[1]);
			return ret;
		}
	}
	return vx_dropsrc_open(&p->src, &cfg, on_drop, p);
}

int cmd_policy(struct vx_opts *o)
{
	static struct vxd_scope_key scope[VXD_MAX_SCOPE];
	static struct policy p;
	struct vx_sysinfo si;
	struct vx_loop loop;
	const char *priv;
	uint16_t port = 0;
	int n_scope = 0, ret;

	memset(&p, 0, sizeof(p));
	p.o = o;
	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_FAIL;
	}
	ret = vx_drop_scope_build(o, scope, &n_scope, &port);
	if (ret)	/* a namespace or interface the user named is not there */
		return ret == -ENOENT || ret == -ENODEV ? VX_EXIT_USAGE : VX_EXIT_FAIL;
	if (o->pcap && (o->backend == VX_BACKEND_FENTRY || o->backend == VX_BACKEND_KPROBE)) {
		pr_err("--pcap needs the dropped packet whole, and the %s backend sees it only "
		       "after it was freed: use --backend tracepoint or leave --backend out",
		       o->backend == VX_BACKEND_FENTRY ? "fentry" : "kprobe");
		return VX_EXIT_USAGE;
	}
	if ((ret = vx_mexport_start(&p.me, o, false)))
		return ret == -EINVAL ? VX_EXIT_USAGE : VX_EXIT_FAIL;
	if (vx_capture_open(&p.cap, o)) {
		vx_mexport_stop(p.me);
		return VX_EXIT_USAGE;
	}
	if (open_source(&p, scope, n_scope, port)) {
		vx_capture_discard(p.cap);
		vx_mexport_stop(p.me);
		return VX_EXIT_FAIL;
	}
	vx_mexport_begin(p.me);
	vx_mexport_backend(p.me, "policy", src_backend(&p));
	vx_mexport_end(p.me);
	/* Baselines after the probe is attached: a drop between the two
	 * would show as a counter without an event, the safer side. */
	ns_init(&p, scope, n_scope);
	p.mono_to_real = vx_mono_to_real();
	p.last_tick = vx_now_ns();

	ret = vx_loop_init(&loop, o->duration_ns, o->interval_ns, on_tick, &p);
	if (!ret)
		ret = p.src ? vx_dropsrc_add_to_loop(p.src, &loop) :
			      vx_loop_add_ringbuf(&loop, p.nh.rb);
	if (ret) {
		pr_err("cannot set up the event loop: %s", vx_strerror(ret));
		vx_loop_close(&loop);
		goto out;
	}
	pr_info("tracing netfilter drops with %s in %s%s%s; Ctrl-C to stop", src_backend(&p),
		n_scope ? "the chosen namespaces/devices" : "every namespace",
		p.cap ? ", capturing to " : "", p.cap ? o->pcap : "");
	ret = vx_loop_run(&loop);
	vx_loop_close(&loop);
	if (ret)
		pr_err("policy tracing stopped early: %s", vx_strerror(ret));
	else
		print_totals(&p);
out:
	vx_capture_close(p.cap, src_lost(&p));
	vx_mexport_stop(p.me);
	vx_dropsrc_close(p.src);
	nh_close(&p.nh);
	policy_free(&p);
	return ret ? VX_EXIT_FAIL : VX_EXIT_OK;
}
