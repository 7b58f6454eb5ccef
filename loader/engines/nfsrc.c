// SPDX-License-Identifier: GPL-2.0-only
/* The netfilter verdict engine (see nfsrc.h): nf_hook_slow's backends, or
 * the drop engine's NETFILTER_DROPs, delivered as one kind of callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ksyms.h"
#include "log.h"
#include "loop.h"
#include "maputil.h"
#include "nfsrc.h"
#include "record.h"
/* The shared structs first: the skeleton names struct vxn_config. */
#include "../bpf/kprobe/vx_nfhook.h"
#include "vx_nfhook.skel.h"

/* Per-key totals at the last vx_nfsrc_read_counts(). */
struct nf_seen {
	struct vxn_agg_key key;
	uint64_t seen;
};

struct vx_nfsrc {
	vx_nf_cb cb;
	void *ctx;
	struct vx_dropsrc *drops; /* either this ... */
	struct vx_nfhook *skel;	  /* ... or nf_hook_slow delivers */
	struct bpf_link *links[2];
	struct ring_buffer *rb;
	const struct vx_drop_row *rows; /* the drop engine's last read */
	int n_rows;
	const char *backend;
	struct nf_seen *agg;
	int n_agg;
};

static char why_refused[512];

const char *vx_nfsrc_why(void)
{
	return why_refused;
}

struct vx_dropsrc *vx_nfsrc_dropsrc(const struct vx_nfsrc *s)
{
	return s ? s->drops : NULL;
}

int vx_nfsrc_last_rows(const struct vx_nfsrc *s, const struct vx_drop_row **rows)
{
	*rows = s->drops ? s->rows : NULL;
	return s->drops ? s->n_rows : 0;
}

enum vx_nf_hook vx_nf_hook_of_drop(const struct vx_drop *d, int *family)
{
	const char *syms[VXD_STACK_DEPTH];
	int n = d->n_stack < VXD_STACK_DEPTH ? d->n_stack : VXD_STACK_DEPTH;

	*family = 0;
	if (!d->stack)
		return VX_NFH_UNKNOWN;
	for (int i = 0; i < n; i++)
		syms[i] = vx_ksym_lookup(d->stack[i], NULL);
	return vx_nf_hook_from_stack(syms, n, family);
}

/* From the drop engine: the hook is read off the stack. */
static void on_drop(void *ctx, const struct vx_drop *d)
{
	struct vx_nfsrc *s = ctx;
	int family;
	enum vx_nf_hook hook = vx_nf_hook_of_drop(d, &family);

	s->cb(s->ctx, d, hook, family);
}

/* From nf_hook_slow: the hook and family are the kernel's own. The record
 * is decoded by vx_nf_drop_decode() (recfmt.c, fuzzed): fexit's stack
 * starts with the BPF program, its trampoline and nf_hook_slow itself,
 * kretprobe's at the caller; both are shown from the caller, the function
 * that ran the hook. */
static int nh_on_event(void *ctx, void *data, size_t size)
{
	struct vx_nfsrc *s = ctx;
	uint64_t ips[VXD_STACK_DEPTH] = {};
	const char *syms[VXD_STACK_DEPTH];
	struct vx_nf_drop_rec r;
	struct vx_drop d = { .reason = "NETFILTER_DROP" };
	char loc[160];
	int n = 0;

	if (size < sizeof(r.ev))
		return 0;
	memcpy(&r.ev, data, sizeof(r.ev));
	d.stack_err = r.ev.d.stack_id < 0 ?
			      r.ev.d.stack_id :
			      bpf_map__lookup_elem(s->skel->maps.vxn_stacks, &r.ev.d.stack_id,
						   sizeof(r.ev.d.stack_id), ips, sizeof(ips), 0);
	for (; !d.stack_err && n < VXD_STACK_DEPTH && ips[n]; n++)
		syms[n] = vx_ksym_lookup(ips[n], NULL);
	vx_nf_drop_decode(data, size, syms, n, &r);
	if (r.ev.d.location)
		vx_ksym_fmt(r.ev.d.location, loc, sizeof(loc));
	else
		snprintf(loc, sizeof(loc), "-");
	d.ev = &r.ev.d;
	d.location = loc;
	if (!d.stack_err) {
		d.stack = ips + r.first_frame;
		d.n_stack = n - r.first_frame;
	}
	s->cb(s->ctx, &d, r.hook, r.family);
	return 0;
}

static void nh_close(struct vx_nfsrc *s)
{
	ring_buffer__free(s->rb);
	bpf_link__destroy(s->links[1]);
	bpf_link__destroy(s->links[0]);
	vx_nfhook__destroy(s->skel);
	s->rb = NULL;
	s->links[0] = s->links[1] = NULL;
	s->skel = NULL;
}

static int nh_try(struct vx_nfsrc *s, bool fexit, const struct vx_nfsrc_cfg *c, char *why,
		  size_t len)
{
	const char *what = fexit ? "fexit/nf_hook_slow" : "kprobe+kretprobe/nf_hook_slow";
	struct bpf_program *prog;
	uint8_t one = 1;
	int ret;

	s->skel = vx_nfhook__open();
	if (!s->skel) {
		ret = -errno;
		snprintf(why, len, "opening the BPF object: %s", vx_strerror(ret));
		return ret;
	}
	s->skel->rodata->cfg.vxlan_port = c->vxlan_port ? c->vxlan_port : 4789;
	s->skel->rodata->cfg.scoped = c->n_scope > 0;
	s->skel->rodata->cfg.stack = 1;
	bpf_map__set_max_entries(s->skel->maps.vxn_stacks, 4096);
	bpf_object__for_each_program (prog, s->skel->obj)
		bpf_program__set_autoload(prog, fexit ? prog == s->skel->progs.vxn_fexit :
							prog != s->skel->progs.vxn_fexit);
	ret = vx_nfhook__load(s->skel);
	if (ret) {
		snprintf(why, len, "the kernel refused to load %s: %s", what, vx_strerror(ret));
		goto err;
	}
	for (int i = 0; i < c->n_scope; i++) {
		ret = bpf_map__update_elem(s->skel->maps.vxn_scope, &c->scope[i],
					   sizeof(c->scope[i]), &one, sizeof(one), BPF_ANY);
		if (ret) {
			snprintf(why, len, "filling the scope map: %s", vx_strerror(ret));
			goto err;
		}
	}
	/* The return probe first: an entry without its return would leave
	 * a stale frame, a return without an entry is ignored. */
	s->links[0] = bpf_program__attach(fexit ? s->skel->progs.vxn_fexit :
						  s->skel->progs.vxn_kretprobe);
	if (s->links[0] && !fexit)
		s->links[1] = bpf_program__attach(s->skel->progs.vxn_kprobe);
	if (!s->links[0] || (!fexit && !s->links[1])) {
		ret = -errno;
		snprintf(why, len, "the kernel refused to attach %s: %s%s", what, vx_strerror(ret),
			 fexit ? "" : " (this kernel may have no kprobes: CONFIG_KPROBES)");
		goto err;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.vxn_rb), nh_on_event, s, NULL);
	if (!s->rb) {
		ret = -errno;
		snprintf(why, len, "reading the ring buffer: %s", vx_strerror(ret));
		goto err;
	}
	s->backend = what;
	return 0;
err:
	nh_close(s);
	return ret;
}

int vx_nfsrc_open(struct vx_nfsrc **out, const struct vx_nfsrc_cfg *c, vx_nf_cb cb, void *ctx)
{
	struct vx_dropsrc_cfg dcfg = {
		.backend = VX_BACKEND_TRACEPOINT,
		.scope = c->scope,
		.n_scope = c->n_scope,
		.vxlan_port = c->vxlan_port,
		.stack = true, /* the hook is read from the stack */
		.only_reason = "SKB_DROP_REASON_NETFILTER_DROP",
		.snaplen = c->snaplen,
	};
	char why[2][256] = { "not tried", "not tried" };
	struct vx_nfsrc *s;
	enum vx_backend be = c->backend;
	int ret = -EOPNOTSUPP;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->ctx = ctx;
	for (int pass = 0; pass < 2 && !c->snaplen; pass++) {
		enum vx_backend mine = pass ? VX_BACKEND_KPROBE : VX_BACKEND_FENTRY;

		if (be != VX_BACKEND_AUTO && be != mine)
			continue;
		ret = nh_try(s, !pass, c, why[pass], sizeof(why[pass]));
		if (!ret) {
			*out = s;
			return 0;
		}
		pr_debug("netfilter: backend %s: %s", pass ? "kprobe" : "fentry", why[pass]);
		if (be == mine) {
			if (c->hooks_only)
				break;
			pr_err("the %s backend cannot run here: %s; use --backend tracepoint or leave --backend out",
			       pass ? "kprobe" : "fentry", why[pass]);
			free(s);
			return ret;
		}
	}
	if (c->hooks_only) {
		snprintf(why_refused, sizeof(why_refused), "fentry: %s; kprobe: %s", why[0],
			 why[1]);
		free(s);
		return -EOPNOTSUPP;
	}
	ret = vx_dropsrc_open(&s->drops, &dcfg, on_drop, s);
	if (ret) {
		free(s);
		return ret;
	}
	s->backend = vx_dropsrc_backend(s->drops);
	*out = s;
	return 0;
}

const char *vx_nfsrc_backend(const struct vx_nfsrc *s)
{
	return s->backend;
}

int vx_nfsrc_add_to_loop(struct vx_nfsrc *s, struct vx_loop *l)
{
	return s->drops ? vx_dropsrc_add_to_loop(s->drops, l) : vx_loop_add_ringbuf(l, s->rb);
}

void vx_nfsrc_drain(struct vx_nfsrc *s)
{
	if (s->drops)
		vx_dropsrc_drain(s->drops);
	else
		ring_buffer__consume(s->rb);
}

void vx_nfsrc_read_counts(struct vx_nfsrc *s, void (*fn)(void *ctx, uint32_t netns, uint64_t n),
			  void *ctx)
{
	struct vxn_agg_key key, next, *prev = NULL;
	const struct vx_drop_row *rows;
	uint64_t count;
	int fd, n;

	if (s->drops) {
		n = vx_dropsrc_read_agg(s->drops, &rows);
		s->rows = rows;
		s->n_rows = n > 0 ? n : 0;
		for (int i = 0; i < n; i++)
			fn(ctx, rows[i].key.netns, rows[i].delta);
		return;
	}
	fd = bpf_map__fd(s->skel->maps.vxn_agg);
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
		if (count <= s->agg[i].seen)
			continue;
		fn(ctx, key.netns, count - s->agg[i].seen);
		s->agg[i].seen = count;
	}
}

uint64_t vx_nfsrc_lost(struct vx_nfsrc *s)
{
	if (s->drops)
		return vx_dropsrc_lost(s->drops);
	return vx_percpu_sum(bpf_map__fd(s->skel->maps.vxn_lost), 0);
}

void vx_nfsrc_close(struct vx_nfsrc *s)
{
	if (!s)
		return;
	vx_dropsrc_close(s->drops);
	nh_close(s);
	free(s->agg);
	free(s);
}
