/* SPDX-License-Identifier: GPL-2.0-only */
/* The drop engine: bpf/kprobe/vx_drops.bpf.c opened with the best backend
 * the kernel allows (or the one --backend forces), scoped in the kernel to
 * namespaces/devices, and decoded for its users. `vxray drops` prints what
 * it delivers; `policy`, `trace` and `diagnose` use it in-process.
 *
 * Lifecycle: vx_dropsrc_open() -> vx_dropsrc_add_to_loop() -> the loop
 * calls the callback once per drop event -> vx_dropsrc_read_agg() and
 * vx_dropsrc_lost() at each tick -> vx_dropsrc_close(). */
#ifndef VXRAY_DROPSRC_H
#define VXRAY_DROPSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "../bpf/kprobe/vx_drops.h"

struct vx_loop;
struct vx_dropsrc;
struct jw;

/* One decoded drop event; every pointer is valid only during the callback. */
struct vx_drop {
	const struct vxd_event *ev;
	const char *reason;    /* the running kernel's name, from BTF */
	const char *location;  /* "sym+0xoff", "-" when unknown */
	const uint64_t *stack; /* from the drop function outwards; NULL
				* without a stack (not asked, or lost) */
	int n_stack;
	int stack_err;		  /* why there is no stack, when asked: -errno */
	const struct vx_cap *cap; /* --pcap: the packet's bytes follow; else NULL */
};

typedef void (*vx_drop_cb)(void *ctx, const struct vx_drop *d);

struct vx_dropsrc_cfg {
	enum vx_backend backend;	   /* VX_BACKEND_AUTO: best first */
	const struct vxd_scope_key *scope; /* none: every namespace */
	int n_scope;
	uint16_t vxlan_port; /* 0: 4789 */
	bool stack;	     /* record a kernel stack per event */
	/* Only deliver (and count) this reason, by BTF name, e.g.
	 * "SKB_DROP_REASON_NETFILTER_DROP"; NULL: every reason. */
	const char *only_reason;
	/* --pcap: bytes of each dropped packet to put behind its event
	 * (vx_cap.h); 0: none, the bare event. */
	uint16_t snaplen;
};

/* An aggregate row: (location, reason, netns) and how many drops it got
 * since the previous vx_dropsrc_read_agg(). Exact even when the ring buffer
 * overflowed. */
struct vx_drop_row {
	struct vxd_agg_key key;
	uint64_t delta;
	uint64_t total;
};

/* 0, or a negative errno after printing one sentence saying why. @cb NULL:
 * count only -- the kernel adds each drop to the aggregate that
 * vx_dropsrc_read_agg() reads, and sends no event. */
int vx_dropsrc_open(struct vx_dropsrc **out, const struct vx_dropsrc_cfg *cfg, vx_drop_cb cb,
		    void *ctx);
/* "tp_btf/kfree_skb", "fentry/sk_skb_reason_drop", ... */
const char *vx_dropsrc_backend(const struct vx_dropsrc *s);
/* The kernel function or tracepoint the probe sits on: "kfree_skb",
 * "sk_skb_reason_drop", ... (a capture's hook name). */
const char *vx_dropsrc_hook(const struct vx_dropsrc *s);
int vx_dropsrc_add_to_loop(struct vx_dropsrc *s, struct vx_loop *l);
/* Deliver what is already in the ring buffer (before a final read). */
void vx_dropsrc_drain(struct vx_dropsrc *s);
/* Rows that grew since the last call, biggest growth first, in *rows (owned
 * by @s, valid until the next call). Returns their number. */
int vx_dropsrc_read_agg(struct vx_dropsrc *s, const struct vx_drop_row **rows);
/* Events the ring buffer had no room for, since open. */
uint64_t vx_dropsrc_lost(struct vx_dropsrc *s);
void vx_dropsrc_close(struct vx_dropsrc *s);

/* Kernel scope from -i, --netns and --auto: fills @s (VXD_MAX_SCOPE) and
 * *@n; --auto may learn a non-default VXLAN port into *@port. 0 or a
 * negative errno after printing why. */
int vx_drop_scope_build(struct vx_opts *o, struct vxd_scope_key *s, int *n, uint16_t *port);

/* --vni/--proto/--port/--host: whether @e's event line is wanted (the
 * aggregates count everything in scope). */
bool vx_drop_event_wanted(const struct vx_opts *o, const struct vxd_event *e);

#endif
