// SPDX-License-Identifier: GPL-2.0-only
/* Loading bpf/kprobe/vx_xmit.bpf.c: one object per try, with only the
 * programs of the backend being tried autoloaded, so that a kernel which
 * refuses fentry (EPERM) or has no kprobes (attach fails) falls through to
 * the next backend instead of failing the view. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lathooks.h"
#include "log.h"
#include "loop.h"
#include "maputil.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_xmit.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"
#include "vx_xmit.skel.h"

static const char *const be_name[] = {
	[VX_BACKEND_FENTRY] = "fentry",
	[VX_BACKEND_KPROBE] = "kprobe",
	[VX_BACKEND_TRACEPOINT] = "tracepoint",
};

static void detach(struct vx_lathooks *h)
{
	while (h->n_links > 0)
		bpf_link__destroy(h->links[--h->n_links]);
	vx_xmit__destroy(h->skel);
	h->skel = NULL;
}

/* The programs of backend @be: the xmit pair, then the rcv pair where the
 * backend has one. Returns how many. */
static int progs_of(struct vx_xmit *s, enum vx_backend be, struct bpf_program **p)
{
	switch (be) {
	case VX_BACKEND_FENTRY:
		p[0] = s->progs.vx_xmit_fentry;
		p[1] = s->progs.vx_xmit_fexit;
		p[2] = s->progs.vx_rcv_fentry;
		p[3] = s->progs.vx_rcv_fexit;
		return 4;
	case VX_BACKEND_KPROBE:
		p[0] = s->progs.vx_xmit_kprobe;
		p[1] = s->progs.vx_xmit_kretprobe;
		p[2] = s->progs.vx_rcv_kprobe;
		p[3] = s->progs.vx_rcv_kretprobe;
		return 4;
	case VX_BACKEND_TRACEPOINT:
		p[0] = s->progs.vx_xmit_tp_start;
		p[1] = s->progs.vx_xmit_tp_end;
		return 2;
	default: return 0;
	}
}

/* Load with the @be programs (none for VX_BACKEND_AUTO; the vxlan_rcv pair
 * only when @rcv) and, when @delivery, tcp_probe; attach them. 0 or a
 * negative errno, everything undone. */
static int try_load(struct vx_lathooks *h, enum vx_backend be, bool rcv, bool delivery)
{
	struct bpf_program *p, *want[VX_LATHOOKS_MAX_LINKS];
	int err, n;

	h->skel = vx_xmit__open();
	if (!h->skel)
		return -errno;
	h->skel->rodata->cfg.events = h->events;
	h->skel->rodata->cfg.sample = h->sample;
	if (!h->events)
		vx_ring_idle(h->skel->maps.vxx_rb);
	bpf_object__for_each_program (p, h->skel->obj)
		bpf_program__set_autoload(p, false);
	n = progs_of(h->skel, be, want);
	if (!rcv && n == 4)
		n = 2;
	h->rcv = n == 4;
	if (delivery)
		want[n++] = h->skel->progs.vx_deliver_tcp;
	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(want[i], true);
	err = vx_xmit__load(h->skel);
	for (int i = 0; !err && i < n; i++) {
		h->links[h->n_links] = bpf_program__attach(want[i]);
		if (!h->links[h->n_links])
			err = -errno;
		else
			h->n_links++;
	}
	if (err) {
		detach(h);
		h->rcv = false;
	}
	return err;
}

int vx_lathooks_open(struct vx_lathooks *h, enum vx_backend be, uint8_t sample, unsigned int flags,
		     vx_hook_cb cb, void *ctx)
{
	static const enum vx_backend order[] = { VX_BACKEND_FENTRY, VX_BACKEND_KPROBE,
						 VX_BACKEND_TRACEPOINT };
	bool xmit = flags & VX_LATHOOKS_XMIT;
	size_t len = 0;
	int err;

	memset(h, 0, sizeof(*h));
	h->events = cb != NULL;
	h->sample = sample;
	h->sample_tshift = flags & VX_LATHOOKS_HIST ? VX_SAMPLE_HIST_SHIFT : 0;
	h->cb = cb;
	h->ctx = ctx;
	for (size_t i = 0; xmit && i < sizeof(order) / sizeof(order[0]); i++) {
		char msg[128];

		if (be != VX_BACKEND_AUTO && be != order[i])
			continue;
		/* vxlan_rcv is a bonus: a backend that can time vxlan_xmit
		 * but not vxlan_rcv still serves (decap stands in for it). */
		err = try_load(h, order[i], true, true);
		if (err)
			err = try_load(h, order[i], false, true);
		if (err == 0) {
			h->xmit_backend = be_name[order[i]];
			h->delivery = true;
			return 0;
		}
		h->refused |= 1u << (order[i] - 1);
		libbpf_strerror(err, msg, sizeof(msg));
		len += (size_t)snprintf(h->why + len,
					len < sizeof(h->why) ? sizeof(h->why) - len : 0, "%s%s: %s",
					len ? "; " : "", be_name[order[i]], msg);
		if (len >= sizeof(h->why))
			len = sizeof(h->why) - 1;
		pr_debug("latency: the %s backend for vxlan_xmit was refused: %s",
			 be_name[order[i]], msg);
	}
	if (xmit && be != VX_BACKEND_AUTO) {
		pr_err("latency: this kernel refuses the %s backend for vxlan_xmit (%s); "
		       "leave --backend out to use the best one it allows",
		       be_name[be], h->why);
		return -EOPNOTSUPP;
	}
	/* No xmit backend (or none asked for): delivery alone, if tcp_probe
	 * exists. */
	if (try_load(h, VX_BACKEND_AUTO, false, true) == 0)
		h->delivery = true;
	if (xmit)
		pr_warn("latency: no backend could time vxlan_xmit (%s); that stage is left out",
			h->why);
	return 0;
}

int vx_lathooks_share(const struct vx_lathooks *h, struct bpf_object *obj)
{
	static const char *const maps[] = { "vxl_stamp", "vxl_busy", "vxl_hist", "vxl_cnt",
					    "vxl_dflow" };

	if (!h->skel)
		return 0;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bpf_map *from = bpf_object__find_map_by_name(h->skel->obj, maps[i]);
		struct bpf_map *to = bpf_object__find_map_by_name(obj, maps[i]);
		int err;

		if (!from || !to)
			return -ENOENT;
		if ((err = bpf_map__reuse_fd(to, bpf_map__fd(from))))
			return err;
	}
	return 0;
}

int vx_lathooks_dp_config(const struct vx_lathooks *h, struct vx_dp_inst *in)
{
	struct vx_dp_config *c[2] = {
		(struct vx_dp_config *)&in->tc->rodata->cfg,
		in->xdp ? (struct vx_dp_config *)&in->xdp->rodata->cfg : NULL,
	};
	struct bpf_object *obj[2] = { in->tc->obj, in->xdp ? in->xdp->obj : NULL };
	int err;

	for (int i = 0; i < 2 && c[i]; i++) {
		c[i]->latency = 1;
		c[i]->latency_delivery = h->delivery;
		c[i]->sample = h->sample;
		c[i]->sample_tshift = h->sample_tshift;
		if ((err = vx_lathooks_share(h, obj[i])))
			return err;
	}
	return 0;
}

/* Add or remove the key (@netns, @ifindex) of the watched set: its slot
 * in vxx_wset when free (or already its own), else @hash (vxx_dev, or
 * vxx_ns for a namespace), counted in the slot's @more (vx_xmit.h). */
static int wset_change(const struct vx_lathooks *h, uint32_t netns, uint32_t ifindex, uint32_t vni,
		       bool on)
{
	int set = bpf_map__fd(h->skel->maps.vxx_wset);
	int hash = bpf_map__fd(ifindex ? h->skel->maps.vxx_dev : h->skel->maps.vxx_ns);
	struct vx_xmit_dev dk = { .netns = netns, .ifindex = ifindex };
	const void *key = ifindex ? (const void *)&dk : (const void *)&netns;
	uint32_t k = vx_xmit_slot_of(netns, ifindex);
	struct vx_xmit_slot sl;
	uint8_t one = 1;

	uint32_t old;
	bool in_hash;

	if (bpf_map_lookup_elem(set, &k, &sl))
		return -errno;
	/* A key once sent to the hash stays there until removed, even when
	 * its slot frees meanwhile: it is never in both. */
	in_hash = !bpf_map_lookup_elem(hash, key, &old);
	if (sl.netns == netns && sl.ifindex == ifindex) {
		/* The slot's own key: set in place, or emptied (its @more stays). */
		sl.vni = vni;
		if (!on)
			sl.netns = sl.ifindex = sl.vni = 0;
	} else if (on && !sl.netns && !in_hash) {
		sl.netns = netns;
		sl.ifindex = ifindex;
		sl.vni = vni;
	} else if (on) {
		if (bpf_map_update_elem(hash, key, ifindex ? (void *)&vni : (void *)&one, BPF_ANY))
			return -errno;
		if (in_hash)
			return 0;
		sl.more++;
	} else {
		if (bpf_map_delete_elem(hash, key))
			return errno == ENOENT ? 0 : -errno;
		sl.more--;
	}
	return bpf_map_update_elem(set, &k, &sl, BPF_ANY) ? -errno : 0;
}

int vx_lathooks_watch_ns(const struct vx_lathooks *h, uint32_t netns, bool on)
{
	return h->skel ? wset_change(h, netns, 0, 0, on) : 0;
}

int vx_lathooks_watch(const struct vx_lathooks *h, uint32_t netns, uint32_t ifindex, uint32_t vni,
		      bool on)
{
	return h->skel ? wset_change(h, netns, ifindex, vni, on) : 0;
}

static int on_rb_event(void *ctx, void *data, size_t len)
{
	struct vx_lathooks *h = ctx;
	struct vx_hook_event e;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	h->cb(h->ctx, &e);
	return 0;
}

int vx_lathooks_add_to_loop(struct vx_lathooks *h, struct vx_loop *loop)
{
	int err;

	if (!h->skel || !h->events)
		return 0;
	h->rb = ring_buffer__new(bpf_map__fd(h->skel->maps.vxx_rb), on_rb_event, h, NULL);
	if (!h->rb) {
		err = -errno;
		pr_err("cannot open the vxlan_xmit/rcv event ring buffer: %s", strerror(-err));
		return err;
	}
	return vx_loop_add_ringbuf(loop, h->rb);
}

void vx_lathooks_drain(struct vx_lathooks *h)
{
	if (h->rb)
		ring_buffer__consume(h->rb);
}

uint64_t vx_lathooks_lost(const struct vx_lathooks *h)
{
	return h->skel ? vx_percpu_sum(bpf_map__fd(h->skel->maps.vxx_lost), 0) : 0;
}

void vx_lathooks_on_change(const struct vx_lathooks *h, const struct vx_dp_watched *w, bool added)
{
	if (w->is_vxlan && w->vx)
		vx_lathooks_watch(h, w->netns_inum, (uint32_t)w->ifindex,
				  w->vx->external ? VX_VNI_UNKNOWN : w->vx->vni, added);
}

void vx_lathooks_on_netns(const struct vx_lathooks *h, uint32_t old_inum, uint32_t new_inum)
{
	vx_lathooks_watch_ns(h, old_inum, false);
	vx_lathooks_watch_ns(h, new_inum, true);
}

void vx_lathooks_watch_dp(const struct vx_lathooks *h, const struct vx_dp *dp)
{
	for (int i = 0; i < dp->n_inst; i++)
		vx_lathooks_watch_ns(h, dp->inst[i].inum, true);
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active)
			vx_lathooks_on_change(h, &dp->w[i], true);
}

void vx_lathooks_close(struct vx_lathooks *h)
{
	ring_buffer__free(h->rb);
	h->rb = NULL;
	detach(h);
}
