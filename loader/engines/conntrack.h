/* SPDX-License-Identifier: GPL-2.0-only */
/* The conntrack engine: table pressure per network namespace, for
 * `vxray conntrack` and for in-process users (diagnose, the metrics agent).
 *
 * Lifecycle: vx_ct_open() (ctnetlink sockets inside each chosen namespace,
 * baseline counters) -> vx_ct_attach() (the best backend the kernel allows,
 * or the one forced, found by trying) -> vx_ct_add_to_loop() -> at each tick
 * vx_ct_snapshot() -> vx_ct_close().
 *
 * Backends: fexit/fentry or kprobe/kretprobe programs on the allocator,
 * confirm and destructor (bpf/kprobe/vx_conntrack.bpf.c), else ctnetlink
 * NEW/DESTROY events. Table count, max and the kernel's per-CPU failure
 * counters always come from ctnetlink and /proc/sys inside the namespace. */
#ifndef VXRAY_CONNTRACK_H
#define VXRAY_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctnl.h"
#include "opts.h"

struct vx_loop;
struct vx_ct;

enum vx_ct_l4 {
	VX_CT_TCP,
	VX_CT_UDP,
	VX_CT_ICMP,
	VX_CT_ICMPV6,
	VX_CT_SCTP,
	VX_CT_OTHER,
	VX_CT_L4__MAX
};

/* "tcp", "udp", ... for a VX_CT_* bucket; the bucket of an IPPROTO_*. */
const char *vx_ct_l4_name(int l4);
int vx_ct_l4_of(uint8_t ipproto);

/* One entry event, for `vxray trace`. */
struct vx_ct_event {
	uint64_t ts_ns;	   /* CLOCK_MONOTONIC: the kernel's, or on receipt */
	bool on_receipt;   /* ctnetlink: stamped when vxray read it */
	const char *netns; /* as opened ("" = vxray's own) */
	uint32_t inum;
	int type;	  /* VX_CT_EV_* */
	const char *hook; /* what saw it: "ctnetlink", "fexit/__nf_conntrack_confirm", ... */
	struct vxd_ip t;
};
typedef void (*vx_ct_event_cb)(void *ctx, const struct vx_ct_event *e);

/* ---- snapshots ----------------------------------------------------------- */

struct vx_ct_ns {
	char netns[VX_NETNS_NAME_MAX]; /* "" = vxray's own namespace */
	uint32_t inum;
	/* Over the interval: */
	uint64_t new[VX_CT_L4__MAX];
	uint64_t confirmed[VX_CT_L4__MAX];
	uint64_t destroyed[VX_CT_L4__MAX];
	uint64_t alloc_failed; /* only with a BPF backend */
	uint64_t insert_failed, drop, early_drop;
	/* Now: */
	bool have_count; /* count and max could be read */
	uint32_t count, max;
	double fill_pct;
	bool alert;	     /* table full, or failures rising */
	char alert_why[192]; /* the reason, in words */
	/* Since open: */
	struct vx_ct_cpu_stats total; /* the kernel's own, cumulative */
	uint64_t total_alloc_failed;
};

struct vx_ct_snapshot {
	double interval_s;
	const char *backend;	 /* "fexit/__nf_conntrack_alloc...", "ctnetlink" */
	bool alloc_failed_known; /* a BPF backend sees failed allocations */
	uint64_t lost;		 /* counts or event bursts lost, this interval */
	uint64_t total_lost;
	int n;
	struct vx_ct_ns ns[VX_MAX_NETNS];
};

/* Open ctnetlink in each of the @n namespaces ("" = this one). 0 or a
 * negative errno with one sentence in @err. */
int vx_ct_open(struct vx_ct **out, const char names[][VX_NETNS_NAME_MAX], int n, char *err,
	       size_t errlen);
/* Before vx_ct_attach(): deliver every entry event to @cb as well (the BPF
 * backends then also send one record per event over a ring buffer; their
 * counts stay exact whatever it loses). */
void vx_ct_set_event_cb(struct vx_ct *ct, vx_ct_event_cb cb, void *ctx);
/* Attach @be (VX_BACKEND_AUTO: fentry, then kprobe, then ctnetlink events;
 * VX_BACKEND_TRACEPOINT means ctnetlink: mainline has no conntrack
 * tracepoints). 0 or a negative errno with one sentence in @err. */
int vx_ct_attach(struct vx_ct *ct, enum vx_backend be, char *err, size_t errlen);
const char *vx_ct_backend(const struct vx_ct *ct);
/* Register the event sockets (ctnetlink backend), or the event ring buffer
 * (BPF backends with an event callback), with @l. */
int vx_ct_add_to_loop(struct vx_ct *ct, struct vx_loop *l);
/* Deliver the events already in the ring buffer (BPF backends). */
void vx_ct_drain(struct vx_ct *ct);
/* Fill @s with what happened since the previous snapshot (or open). */
int vx_ct_snapshot(struct vx_ct *ct, struct vx_ct_snapshot *s);
void vx_ct_close(struct vx_ct *ct);

/* The alert rule, pure so it can be tested: sets ns->alert/alert_why from
 * ns's interval counters and table fill. */
void vx_ct_judge(struct vx_ct_ns *ns, bool alloc_failed_known);

#endif
