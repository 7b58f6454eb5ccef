// SPDX-License-Identifier: GPL-2.0-only
/* The TCP retransmit engine behind `vxray retrans` and `vxray diagnose`. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "loop.h"
#include "maputil.h"
#include "names.h"
#include "netns.h"
#include "record.h"
#include "retranssrc.h"
#include "vx_retrans.skel.h"

/* Destinations already looked up, open addressing on a hash of the
 * destination: as many as counting mode has keys, which it reads every
 * interval; the one beyond is asked again each time. Routes do not
 * change within a run as far as a diagnosis cares, and a route lookup
 * is a netlink round trip. */
#define ROUTE_SLOTS VXR_COUNT_KEYS

struct route {
	uint32_t netns;
	uint16_t family; /* 0: a free slot */
	uint8_t daddr[16];
	int dev; /* index into inv->devs, -1: not through a tunnel */
};

struct vx_retranssrc {
	struct vx_retrans *skel;
	struct bpf_link *links[2];
	struct ring_buffer *rb;
	const char *backend;
	const struct vx_inventory *inv;
	struct vx_retrans_tun *tun; /* one per inv->devs entry */
	struct route routes[ROUTE_SLOTS];
	vx_retrans_cb cb;
	void *ctx;
	int flow_fd;		 /* the datapath's vxp_flow, -1: none */
	bool count;		 /* counting mode: vxr_count, no ring */
	struct vx_vxlan_dev cur; /* the current event's tunnel */
	bool cur_set, cur_from_flow;
};

/* The tunnel a flow leaves through: the route to its destination inside the
 * socket's namespace, when that route's device is a VXLAN we know. */
static int tunnel_of(struct vx_retranssrc *s, const struct vxr_event *e)
{
	const char *ns = vx_ns_label(e->netns);
	int oif = 0, dev = -1, alen = e->family == AF_INET ? 4 : 16, err = -ENOENT;
	uint32_t h = e->netns * 0x9e3779b1u ^ e->family;
	struct route *free = NULL;

	for (int i = 0; i < alen; i++)
		h = (h ^ e->daddr[i]) * 0x01000193u;
	for (int i = 0; i < ROUTE_SLOTS && !free; i++) {
		struct route *rt = &s->routes[(h + (uint32_t)i) % ROUTE_SLOTS];

		if (!rt->family)
			free = rt;
		else if (rt->netns == e->netns && rt->family == e->family &&
			 !memcmp(rt->daddr, e->daddr, (size_t)alen))
			return rt->dev;
	}
	/* Only vxray's own namespace and one with a live name can be asked;
	 * the node's ("host") only when vxray runs in it. */
	if (e->netns == vx_netns_inum(NULL))
		err = vx_route_oif(NULL, e->family, e->daddr, &oif);
	else if (vx_netns_inum(ns) == e->netns)
		err = vx_route_oif(ns, e->family, e->daddr, &oif);
	for (int i = 0; !err && i < s->inv->n; i++)
		if (s->inv->devs[i].netns_inum == e->netns && s->inv->devs[i].ifindex == oif)
			dev = i;
	if (free) {
		free->netns = e->netns;
		free->family = e->family;
		memcpy(free->daddr, e->daddr, (size_t)alen);
		free->dev = dev;
	}
	return dev;
}

/* The VXLAN device of namespace @netns with VNI @vni, -1: none we know. */
static int dev_of_vni(const struct vx_retranssrc *s, uint32_t netns, uint32_t vni)
{
	for (int i = 0; i < s->inv->n; i++)
		if (s->inv->devs[i].netns_inum == netns && s->inv->devs[i].vni == vni)
			return i;
	return -1;
}

/* The flow table's word on @e's tunnel: the device (the VXLAN in that
 * namespace with the VNI the flow's packets carried) and, in s->cur, the
 * remote VTEP they went to. -1 when the flow was not learned. */
static int tunnel_from_flow(struct vx_retranssrc *s, const struct vxr_event *e)
{
	struct vx_flow_key k = { .netns = e->netns,
				 .sport = e->sport,
				 .dport = e->dport,
				 .family = e->family == AF_INET ? 4 : 6 };
	struct vx_flow_val v;
	int dev = -1;

	if (s->flow_fd < 0)
		return -1;
	memcpy(k.saddr, e->saddr, k.family == 4 ? 4 : 16);
	memcpy(k.daddr, e->daddr, k.family == 4 ? 4 : 16);
	if (bpf_map_lookup_elem(s->flow_fd, &k, &v))
		return -1;
	dev = dev_of_vni(s, e->netns, v.vni);
	if (dev < 0)
		return -1;
	s->cur = s->inv->devs[dev];
	if (v.family == 4 || v.family == 6) {
		s->cur.remote_family = v.family == 4 ? AF_INET : AF_INET6;
		s->cur.remote_is_group = false;
		memcpy(&s->cur.remote, v.remote, v.family == 4 ? 4 : 16);
	}
	return dev;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct vx_retranssrc *s = ctx;
	struct vxr_event ev, *e = &ev;
	bool full;
	int dev;

	if (vx_retrans_decode(data, len, e, &full))
		return 0;
	dev = tunnel_from_flow(s, e);
	s->cur_from_flow = dev >= 0;
	if (dev < 0 && (dev = tunnel_of(s, e)) >= 0)
		s->cur = s->inv->devs[dev];
	s->cur_set = dev >= 0;
	if (dev >= 0) {
		struct vx_retrans_tun *t = &s->tun[dev];

		if (e->kind == VXR_SYNACK)
			t->synack++;
		else if (full)
			t->full++;
		else
			t->small++;
		if (e->len > t->max_len)
			t->max_len = e->len;
	}
	if (s->cb)
		s->cb(s->ctx, e, dev, full);
	return 0;
}

/* Classic tracepoints need tracefs; mount it in vxray's own mount
 * namespace so it vanishes with the process and the host never sees it. */
static int ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events/tcp", F_OK))
		return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	pr_info("tracefs was not mounted: mounted it privately for vxray");
	return 0;
}

static int attach(struct vx_retranssrc *s, bool classic)
{
	struct bpf_program *skb =
		classic ? s->skel->progs.vxr_tp_skb : s->skel->progs.vxr_tp_btf_skb;
	struct bpf_program *syn =
		classic ? s->skel->progs.vxr_tp_synack : s->skel->progs.vxr_tp_btf_synack;
	struct bpf_program *p;
	int err;

	bpf_object__for_each_program (p, s->skel->obj)
		bpf_program__set_autoload(p, p == skb || p == syn);
	err = vx_retrans__load(s->skel);
	if (err)
		return err;
	s->links[0] = bpf_program__attach(skb);
	if (!s->links[0])
		return -errno;
	s->links[1] = bpf_program__attach(syn);
	if (!s->links[1])
		return -errno;
	s->backend = classic ? "tracepoint tcp:tcp_retransmit_skb/synack" :
			       "tp_btf tcp_retransmit_skb/synack";
	return 0;
}

static void detach(struct vx_retranssrc *s)
{
	for (int i = 1; i >= 0; i--) {
		bpf_link__destroy(s->links[i]);
		s->links[i] = NULL;
	}
}

void vx_retranssrc_close(struct vx_retranssrc *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	detach(s);
	vx_retrans__destroy(s->skel);
	free(s->tun);
	free(s);
}

/* Map sizes for the mode: counting mode keeps no ring worth the name,
 * events keep no counts; the flow table is the datapath's or unused. */
static int size_maps(struct vx_retranssrc *s, int flow_fd)
{
	struct vx_retrans *k = s->skel;

	k->rodata->cfg.count = s->count;
	if (s->count)
		vx_ring_idle(k->maps.vxr_rb);
	else
		bpf_map__set_max_entries(k->maps.vxr_count, 1);
	if (s->count && flow_fd >= 0)
		return bpf_map__reuse_fd(k->maps.vxr_flow, flow_fd);
	return bpf_map__set_max_entries(k->maps.vxr_flow, 1);
}

int vx_retranssrc_open(struct vx_retranssrc **out, const struct vx_retranssrc_cfg *cfg)
{
	struct vx_retranssrc *s;
	int err = -EINVAL;

	*out = NULL;
	if (cfg->n_inums > VXR_MAX_NETNS)
		return -E2BIG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->inv = cfg->inv;
	s->flow_fd = -1;
	s->count = cfg->count;
	s->cb = cfg->count ? NULL : cfg->cb;
	s->ctx = cfg->ctx;
	s->tun = calloc((size_t)(s->inv->n ? s->inv->n : 1), sizeof(*s->tun));
	if (!s->tun) {
		free(s);
		return -ENOMEM;
	}
	/* tp_btf first, the classic tracepoint when the kernel refuses it. */
	for (int pass = 0; pass < 2; pass++) {
		s->skel = vx_retrans__open();
		if (!s->skel) {
			err = -errno;
			break;
		}
		for (int i = 0; i < cfg->n_inums; i++)
			s->skel->rodata->cfg.netns[i] = cfg->inums[i];
		s->skel->rodata->cfg.n_netns = (uint32_t)cfg->n_inums;
		if ((err = size_maps(s, cfg->flow_fd)))
			break;
		/* Test knob: prove the classic-tracepoint fallback on kernels
		 * where tp_btf works. */
		if (pass == 0 && getenv("VXRAY_RETRANS_NO_TP_BTF")) {
			pr_debug("retrans: tp_btf skipped (VXRAY_RETRANS_NO_TP_BTF)");
			vx_retrans__destroy(s->skel);
			s->skel = NULL;
			continue;
		}
		if (pass == 1 && (err = ensure_tracefs())) {
			pr_err("cannot mount tracefs for the classic tracepoint backend: %s",
			       strerror(-err));
			break;
		}
		err = attach(s, pass == 1);
		if (!err)
			break;
		pr_debug("retrans: %s backend refused: %s", pass ? "tracepoint" : "tp_btf",
			 vx_strerror(err));
		detach(s);
		vx_retrans__destroy(s->skel);
		s->skel = NULL;
	}
	if (!err && !s->count) {
		s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.vxr_rb), on_event, s, NULL);
		if (!s->rb)
			err = -errno ? -errno : -ENOMEM;
	}
	if (err) {
		vx_retranssrc_close(s);
		return err;
	}
	*out = s;
	return 0;
}

int vx_retranssrc_add_to_loop(struct vx_retranssrc *s, struct vx_loop *l)
{
	return s->rb ? vx_loop_add_ringbuf(l, s->rb) : 0;
}

void vx_retranssrc_drain(struct vx_retranssrc *s)
{
	if (s->rb)
		ring_buffer__consume(s->rb);
}

/* The tunnel of a counting key: the one its VNI names when the flow table
 * knew the flow, else the route's to its destination (as for an event). */
static int dev_of_key(struct vx_retranssrc *s, const struct vxr_count_key *k)
{
	struct vxr_event e = { .netns = k->netns, .family = k->family };
	int dev = k->known ? dev_of_vni(s, k->netns, k->vni) : -1;

	memcpy(e.daddr, k->daddr, sizeof(e.daddr));
	return dev >= 0 ? dev : tunnel_of(s, &e);
}

void vx_retranssrc_read_counts(struct vx_retranssrc *s)
{
	int fd = s->count ? bpf_map__fd(s->skel->maps.vxr_count) : -1;
	struct vxr_count_key k, next;
	struct vxr_count_val v;
	void *prev = NULL;

	if (fd < 0)
		return;
	/* The kernel's values are totals: sum them afresh. */
	memset(s->tun, 0, (size_t)(s->inv->n ? s->inv->n : 1) * sizeof(*s->tun));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct vx_retrans_tun *t;
		int dev;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) || (dev = dev_of_key(s, &k)) < 0)
			continue;
		t = &s->tun[dev];
		if (k.size == VXR_SZ_SYNACK)
			t->synack += v.n;
		else if (k.size == VXR_SZ_FULL)
			t->full += v.n;
		else
			t->small += v.n;
		if (v.max_len > t->max_len)
			t->max_len = v.max_len;
	}
}

const char *vx_retranssrc_backend(const struct vx_retranssrc *s)
{
	return s->backend;
}

uint64_t vx_retranssrc_lost(const struct vx_retranssrc *s)
{
	return vx_percpu_sum(bpf_map__fd(s->skel->maps.vxr_lost), 0);
}

void vx_retranssrc_use_flows(struct vx_retranssrc *s, int flow_fd)
{
	s->flow_fd = flow_fd;
}

const struct vx_vxlan_dev *vx_retranssrc_cur_tunnel(const struct vx_retranssrc *s, bool *from_flow)
{
	if (from_flow)
		*from_flow = s->cur_from_flow;
	return s->cur_set ? &s->cur : NULL;
}

const struct vx_retrans_tun *vx_retranssrc_tun(const struct vx_retranssrc *s, int dev)
{
	return dev >= 0 && dev < s->inv->n ? &s->tun[dev] : NULL;
}
