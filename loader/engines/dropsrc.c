// SPDX-License-Identifier: GPL-2.0-only
/* The drop engine (see dropsrc.h): backend choice, in-kernel scoping, the
 * ring buffer decoded into struct vx_drop, and the exact aggregates. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "dropsrc.h"
#include "inventory.h"
#include "json.h"
#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "maputil.h"
#include "names.h"
#include "netns.h"
#include "record.h"
#include "sysinfo.h"
/* The shared structs first: the skeleton names struct vxd_config. */
#include "../bpf/kprobe/vx_drops.h"
#include "vx_drops.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define STACK_ENTRIES 4096

struct vx_dropsrc {
	struct vx_drops *skel;
	struct bpf_link *link;
	struct ring_buffer *rb;
	const char *backend; /* what attached, for messages */
	bool mounted_tracefs;
	bool stack;
	uint16_t snaplen;
	vx_drop_cb cb;
	void *ctx;
	struct vx_drop_row *agg; /* cumulative per key; delta since last read */
	int n_agg;
	struct vx_drop_row *out; /* what the last read returned */
};

/* ---- filters (userspace: they only thin the event lines) ----------------- */

static bool ip_matches_host(const struct vxd_ip *ip, const char *host)
{
	char s[INET6_ADDRSTRLEN], dd[INET6_ADDRSTRLEN];

	if (!ip->family)
		return false;
	return !strcmp(vx_ip_addr_str(ip, ip->saddr, s, sizeof(s)), host) ||
	       !strcmp(vx_ip_addr_str(ip, ip->daddr, dd, sizeof(dd)), host);
}

bool vx_drop_event_wanted(const struct vx_opts *o, const struct vxd_event *e)
{
	const struct vxd_ip *pkt = (e->flags & VXD_F_INNER) ? &e->inner : &e->outer;

	if (o->has_vni && (!(e->flags & VXD_F_TUNNEL) || e->vni != o->vni))
		return false;
	if (o->proto >= 0 && e->outer.proto != o->proto && e->inner.proto != o->proto)
		return false;
	if (o->has_port && e->outer.sport != o->port && e->outer.dport != o->port &&
	    e->inner.sport != o->port && e->inner.dport != o->port)
		return false;
	if (o->host[0]) {
		/* e->outer is an outer header only when an inner one was read. */
		bool in = o->host_side != VX_HOST_OUTER && ip_matches_host(pkt, o->host);
		bool out = o->host_side != VX_HOST_INNER &&
			   (o->host_side == VX_HOST_EITHER || (e->flags & VXD_F_INNER)) &&
			   ip_matches_host(&e->outer, o->host);

		if (!in && !out)
			return false;
	}
	return true;
}

/* ---- events ------------------------------------------------------------ */

/* The frames above the kernel's drop function are the BPF trampoline or
 * tracepoint plumbing, different per backend: start at the drop function
 * when it is in the stack. Returns the index of the first frame to show. */
static int stack_start(const uint64_t *ips)
{
	for (int i = 0; i < VXD_STACK_DEPTH && ips[i]; i++) {
		const char *s = vx_ksym_lookup(ips[i], NULL);

		if (s && (!strcmp(s, "sk_skb_reason_drop") || !strcmp(s, "kfree_skb_reason") ||
			  !strcmp(s, "kfree_skb") || !strcmp(s, "kfree_skb_list_reason")))
			return i;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct vx_dropsrc *s = ctx;
	const struct vxd_event *e = data;
	uint64_t ips[VXD_STACK_DEPTH] = {};
	char rbuf[32], loc[160];
	struct vx_drop d = { .ev = e };

	if (size < sizeof(*e))
		return 0;
	d.cap = vx_cap_of(e, sizeof(*e), size, s->snaplen);
	d.reason = vx_drop_reason_name(e->reason, rbuf, sizeof(rbuf));
	if (e->location)
		vx_ksym_fmt(e->location, loc, sizeof(loc));
	else
		snprintf(loc, sizeof(loc), "-");
	d.location = loc;
	if (s->stack) {
		int32_t id = e->stack_id;

		d.stack_err = id < 0 ? id :
				       bpf_map__lookup_elem(s->skel->maps.vxd_stacks, &id,
							    sizeof(id), ips, sizeof(ips), 0);
		if (!d.stack_err) {
			int i = stack_start(ips), n = 0;

			while (i + n < VXD_STACK_DEPTH && ips[i + n])
				n++;
			d.stack = ips + i;
			d.n_stack = n;
		}
	}
	s->cb(s->ctx, &d);
	return 0;
}

uint64_t vx_dropsrc_lost(struct vx_dropsrc *s)
{
	return vx_percpu_sum(bpf_map__fd(s->skel->maps.vxd_lost), 0);
}

static int cmp_delta(const void *a, const void *b)
{
	const struct vx_drop_row *x = a, *y = b;

	return x->delta < y->delta ? 1 : x->delta > y->delta ? -1 : 0;
}

int vx_dropsrc_read_agg(struct vx_dropsrc *s, const struct vx_drop_row **rows)
{
	int fd = bpf_map__fd(s->skel->maps.vxd_agg);
	struct vxd_agg_key key, next, *prev = NULL;
	struct vx_drop_row *out;
	uint64_t count;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		void *rows;
		int i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &count))
			continue;
		rows = s->agg;
		i = vx_row_slot(&rows, &s->n_agg, sizeof(*s->agg), &key, sizeof(key));
		s->agg = rows;
		if (i < 0)
			break;
		/* delta holds the total at the last read until below */
		s->agg[i].total = count;
	}
	out = s->n_agg ? realloc(s->out, s->n_agg * sizeof(*out)) : s->out;
	if (s->n_agg && !out) {
		*rows = NULL;
		return 0;
	}
	s->out = out;
	for (int i = 0; i < s->n_agg; i++) {
		struct vx_drop_row *r = &s->agg[i];

		if (r->total > r->delta) {
			out[n] = *r;
			out[n].delta = r->total - r->delta;
			n++;
		}
		r->delta = r->total;
	}
	if (n) /* out is NULL until the first drop */
		qsort(out, n, sizeof(*out), cmp_delta);
	*rows = out;
	return n;
}

/* ---- scoping ----------------------------------------------------------- */

/* Every entry of @s widened to its whole namespace (ifindex 0, which the
 * program reads as "any interface there"), each namespace once. */
static void scope_widen(struct vxd_scope_key *s, int *n)
{
	int m = 0;

	for (int i = 0; i < *n; i++) {
		bool seen = false;

		for (int k = 0; k < m && !seen; k++)
			seen = s[k].netns == s[i].netns;
		if (!seen)
			s[m++] = (struct vxd_scope_key){ .netns = s[i].netns };
	}
	*n = m;
}

static int scope_add(struct vxd_scope_key *s, int *n, uint32_t netns, uint32_t ifindex)
{
	for (int i = 0; i < *n; i++)
		if (s[i].netns == netns && (s[i].ifindex == ifindex || !s[i].ifindex))
			return 0;
	if (*n >= VXD_MAX_SCOPE && ifindex) {
		/* More interfaces than the scope map holds (a VTEP with a
		 * device per VNI): their namespaces, whole, instead. */
		pr_info("more than %d interfaces: drops are counted for their whole namespaces",
			VXD_MAX_SCOPE);
		scope_widen(s, n);
		ifindex = 0;
		for (int i = 0; i < *n; i++)
			if (s[i].netns == netns)
				return 0;
	}
	if (*n >= VXD_MAX_SCOPE) {
		pr_err("more than %d namespaces to watch drops in: name fewer with --netns",
		       VXD_MAX_SCOPE);
		return -E2BIG;
	}
	s[*n].netns = netns;
	s[*n].ifindex = ifindex;
	(*n)++;
	return 0;
}

static int scope_auto(struct vx_opts *o, struct vxd_scope_key *s, int *n, uint16_t *port)
{
	static char names[VX_MAX_NETNS][VX_NETNS_NAME_MAX];
	struct vx_inventory inv = {};
	int nn, ret = 0;

	if (o->n_netns) {
		nn = o->n_netns;
		memcpy(names, o->netns, sizeof(o->netns[0]) * nn);
	} else {
		/* Every namespace vxray can name, and its own. */
		names[0][0] = '\0';
		nn = 1 + vx_netns_list(names + 1, VX_MAX_NETNS - 1);
	}
	for (int i = 0; i < nn; i++) {
		ret = vx_inventory_collect(&inv, names[i]);
		if (ret)
			pr_debug("inventory of netns '%s': %s", names[i], vx_strerror(ret));
	}
	ret = 0;
	for (int i = 0; i < inv.n && !ret; i++) {
		const struct vx_vxlan_dev *v = &inv.devs[i];

		ret = scope_add(s, n, v->netns_inum, v->ifindex);
		if (!ret && v->underlay_ifindex)
			ret = scope_add(s, n, v->netns_inum, v->underlay_ifindex);
		if (v->dstport && v->dstport != 4789)
			*port = v->dstport;
		pr_debug("--auto: watching %s%s%s and its underlay %s", v->netns,
			 v->netns[0] ? ":" : "", v->name, v->underlay[0] ? v->underlay : "(none)");
	}
	if (!ret && !inv.n) {
		pr_err("--auto found no VXLAN device in the chosen namespaces: name them with -i or --netns");
		ret = -ENOENT;
	}
	vx_inventory_free(&inv);
	return ret;
}

int vx_drop_scope_build(struct vx_opts *o, struct vxd_scope_key *s, int *n, uint16_t *port)
{
	char err[256];
	int ret, ifindex;

	*n = 0;
	for (int i = 0; i < o->n_ifaces; i++) {
		ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		ret = scope_add(s, n, vx_netns_inum(o->ifaces[i].netns), ifindex);
		if (ret)
			return ret;
	}
	for (int i = 0; i < o->n_netns; i++) {
		ret = vx_netns_check(o->netns[i], err, sizeof(err));
		if (o->all_netns && vx_netns_gone(o->netns[i], ret))
			continue;
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		if (o->auto_attach)
			continue; /* --auto narrows these to their VXLAN devices */
		ret = scope_add(s, n, vx_netns_inum(o->netns[i]), 0);
		if (ret)
			return ret;
	}
	if (o->auto_attach)
		return scope_auto(o, s, n, port);
	return 0;
}

/* ---- backends ---------------------------------------------------------- */

enum { BE_FENTRY, BE_KPROBE, BE_TP_BTF, BE_TRACEPOINT };
static const char *const be_names[] = {
	[BE_FENTRY] = "fentry",
	[BE_KPROBE] = "kprobe",
	[BE_TP_BTF] = "tp_btf",
	[BE_TRACEPOINT] = "tracepoint",
};

static bool kernel_has_func(const char *name)
{
	struct btf *btf = vx_vmlinux_btf();

	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* sk_skb_reason_drop() replaced kfree_skb_reason() as the out-of-line
 * drop function in 6.11 (kfree_skb_reason became an inline wrapper). */
static struct bpf_program *pick_prog(struct vx_drops *skel, int be, const char **what)
{
	/* Asked once: every backend tried would otherwise ask again. */
	static int btf_new = -1, any_new = -1;
	bool new_fn;

	switch (be) {
	case BE_FENTRY:
		if (btf_new < 0)
			btf_new = kernel_has_func("sk_skb_reason_drop");
		new_fn = btf_new;
		*what = new_fn ? "fentry/sk_skb_reason_drop" : "fentry/kfree_skb_reason";
		return new_fn ? skel->progs.vxd_fentry_new : skel->progs.vxd_fentry_old;
	case BE_KPROBE:
		/* BTF first: kallsyms is a pass over ~120k lines. */
		if (btf_new < 0)
			btf_new = kernel_has_func("sk_skb_reason_drop");
		if (any_new < 0)
			any_new = btf_new || vx_ksym_addr("sk_skb_reason_drop");
		new_fn = any_new;
		*what = new_fn ? "kprobe/sk_skb_reason_drop" : "kprobe/kfree_skb_reason";
		return new_fn ? skel->progs.vxd_kprobe_new : skel->progs.vxd_kprobe_old;
	case BE_TP_BTF: *what = "tp_btf/kfree_skb"; return skel->progs.vxd_tp_btf;
	default: *what = "tracepoint/skb/kfree_skb"; return skel->progs.vxd_tracepoint;
	}
}

static int ensure_tracefs(struct vx_dropsrc *s)
{
	struct vx_sysinfo si;

	if (!access(TRACEFS "/events/skb/kfree_skb", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events/skb/kfree_skb", F_OK))
		return 0;
	vx_sysinfo_collect(&si);
	if (si.tracefs[0])
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	s->mounted_tracefs = true;
	pr_info("mounted tracefs on " TRACEFS
		" for the classic tracepoint; vxray unmounts it on exit");
	return 0;
}

/* With packet bytes behind each event the ring keeps the room for as many
 * records as without (256 KiB of 128-byte events), within 4 MiB. */
static uint32_t ring_size(uint16_t snaplen)
{
	uint64_t rec = sizeof(struct vxd_event) + sizeof(struct vx_cap) + VX_CAP_ROOM(snaplen) + 8;
	uint64_t want = 2048 * rec, size = 256 * 1024;

	while (size < want && size < 4 * 1024 * 1024)
		size *= 2;
	return (uint32_t)size;
}

static int try_backend(struct vx_dropsrc *s, int be, const struct vxd_config *cfg,
		       const struct vxd_scope_key *scope, int n_scope, char *why, size_t len)
{
	struct bpf_program *prog, *p;
	const char *what;
	uint8_t one = 1;
	int ret;

	s->skel = vx_drops__open();
	if (!s->skel) {
		ret = -errno;
		snprintf(why, len, "opening the BPF object: %s", vx_strerror(ret));
		return ret;
	}
	s->skel->rodata->cfg = *cfg;
	if (cfg->stack)
		bpf_map__set_max_entries(s->skel->maps.vxd_stacks, STACK_ENTRIES);
	if (cfg->count_only)
		vx_ring_idle(s->skel->maps.vxd_rb);
	else if (cfg->snaplen)
		bpf_map__set_max_entries(s->skel->maps.vxd_rb, ring_size(cfg->snaplen));
	prog = pick_prog(s->skel, be, &what);
	bpf_object__for_each_program (p, s->skel->obj)
		bpf_program__set_autoload(p, p == prog);

	if (be == BE_TRACEPOINT && (ret = ensure_tracefs(s))) {
		snprintf(why, len, "%s needs tracefs, and mounting it on " TRACEFS " failed: %s",
			 what, vx_strerror(ret));
		goto err;
	}
	/* libbpf parses its own copy for CO-RE: never hold two at once. */
	vx_vmlinux_btf_release();
	ret = vx_drops__load(s->skel);
	if (ret) {
		snprintf(why, len, "the kernel refused to load %s: %s", what, vx_strerror(ret));
		goto err;
	}
	for (int i = 0; i < n_scope; i++) {
		ret = bpf_map__update_elem(s->skel->maps.vxd_scope, &scope[i], sizeof(scope[i]),
					   &one, sizeof(one), BPF_ANY);
		if (ret) {
			snprintf(why, len, "filling the scope map: %s", vx_strerror(ret));
			goto err;
		}
	}
	s->link = bpf_program__attach(prog);
	if (!s->link) {
		ret = -errno;
		snprintf(why, len, "the kernel refused to attach %s: %s%s", what, vx_strerror(ret),
			 be == BE_KPROBE ? " (this kernel has no kprobes: CONFIG_KPROBES is off)" :
					   "");
		goto err;
	}
	s->backend = what;
	return 0;
err:
	vx_drops__destroy(s->skel);
	s->skel = NULL;
	return ret;
}

static int open_backend(struct vx_dropsrc *s, enum vx_backend forced, const struct vxd_config *cfg,
			const struct vxd_scope_key *scope, int n_scope)
{
	/* The tracepoint first wherever it exists: it carries the reason and
	 * the location itself, an ABI that does not move with the function
	 * names (kfree_skb_reason became sk_skb_reason_drop in 6.11). */
	static const int order_auto[] = { BE_TP_BTF, BE_TRACEPOINT, BE_FENTRY, BE_KPROBE };
	static const int order_fentry[] = { BE_FENTRY };
	static const int order_kprobe[] = { BE_KPROBE };
	static const int order_tp[] = { BE_TP_BTF, BE_TRACEPOINT };
	const int *order;
	char why[4][256];
	int n, ret = -ENOENT;

	switch (forced) {
	case VX_BACKEND_FENTRY:
		order = order_fentry;
		n = 1;
		break;
	case VX_BACKEND_KPROBE:
		order = order_kprobe;
		n = 1;
		break;
	case VX_BACKEND_TRACEPOINT:
		order = order_tp;
		n = 2;
		break;
	default:
		order = order_auto;
		n = 4;
		break;
	}
	for (int i = 0; i < n; i++) {
		/* Test knob: prove the classic-tracepoint fallback on kernels
		 * where tp_btf works. */
		if (order[i] == BE_TP_BTF && getenv("VXRAY_DROPS_NO_TP_BTF")) {
			snprintf(why[i], sizeof(why[i]), "skipped (VXRAY_DROPS_NO_TP_BTF)");
			continue;
		}
		ret = try_backend(s, order[i], cfg, scope, n_scope, why[i], sizeof(why[i]));
		if (!ret) {
			pr_debug("drops: attached %s", s->backend);
			return 0;
		}
		pr_debug("drops: backend %s: %s", be_names[order[i]], why[i]);
	}
	if (n == 1)
		pr_err("the %s backend cannot run here: %s; use --backend tracepoint or leave --backend out",
		       be_names[order[0]], why[0]);
	else
		pr_err("no drop probe could be attached (last: %s): `vxray doctor` shows what this kernel allows",
		       why[n - 1]);
	return ret;
}

/* ---- lifecycle --------------------------------------------------------- */

int vx_dropsrc_open(struct vx_dropsrc **out, const struct vx_dropsrc_cfg *c, vx_drop_cb cb,
		    void *ctx)
{
	struct vxd_config cfg = { .consumed_reason = ~0U, .vxlan_port = 4789 };
	struct vx_dropsrc *s;
	int64_t v;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->ctx = ctx;
	s->stack = c->stack;
	s->snaplen = c->snaplen;
	cfg.snaplen = c->snaplen;
	if (c->vxlan_port)
		cfg.vxlan_port = c->vxlan_port;
	cfg.scoped = c->n_scope > 0;
	cfg.stack = c->stack;
	cfg.count_only = !cb;
	if (!vx_btf_enum_value("skb_drop_reason", "SKB_CONSUMED", &v))
		cfg.consumed_reason = (uint32_t)v;
	if (c->only_reason) {
		if (vx_btf_enum_value("skb_drop_reason", c->only_reason, &v)) {
			pr_err("this kernel's BTF has no drop reason %s, so its drops cannot be told apart",
			       c->only_reason);
			free(s);
			return -ENOENT;
		}
		cfg.only_one = 1;
		cfg.only_reason = (uint32_t)v;
	}
	vx_ksyms_load();
	ret = open_backend(s, c->backend, &cfg, c->scope, c->n_scope);
	if (ret) {
		/* Not free(): a backend that failed may have mounted tracefs. */
		vx_dropsrc_close(s);
		return ret;
	}
	if (!cb) {
		*out = s;
		return 0;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.vxd_rb), on_event, s, NULL);
	if (!s->rb) {
		ret = -errno;
		pr_err("cannot read the drop ring buffer: %s", vx_strerror(ret));
		vx_dropsrc_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

const char *vx_dropsrc_backend(const struct vx_dropsrc *s)
{
	return s->backend;
}

const char *vx_dropsrc_hook(const struct vx_dropsrc *s)
{
	const char *slash = strrchr(s->backend, '/');

	return slash ? slash + 1 : s->backend;
}

int vx_dropsrc_add_to_loop(struct vx_dropsrc *s, struct vx_loop *l)
{
	return s->rb ? vx_loop_add_ringbuf(l, s->rb) : 0;
}

void vx_dropsrc_drain(struct vx_dropsrc *s)
{
	if (s->rb)
		ring_buffer__consume(s->rb);
}

void vx_dropsrc_close(struct vx_dropsrc *s)
{
	if (!s)
		return;
	/* Reverse order of acquisition: reader, link, programs, tracefs. */
	ring_buffer__free(s->rb);
	bpf_link__destroy(s->link);
	vx_drops__destroy(s->skel);
	if (s->mounted_tracefs && umount2(TRACEFS, MNT_DETACH))
		pr_warn("could not unmount the tracefs vxray mounted on " TRACEFS ": %s",
			strerror(errno));
	free(s->agg);
	free(s->out);
	free(s);
}
