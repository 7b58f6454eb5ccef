/* SPDX-License-Identifier: GPL-2.0-only */
/* The TCP retransmit engine: loads bpf/kprobe/vx_retrans.bpf.c (tp_btf,
 * else the classic tracepoint), scopes it to namespaces, maps each event
 * to the VXLAN tunnel its flow leaves through and keeps per-tunnel counts
 * (full-size, small, SYNACK). `vxray retrans` prints its events;
 * `vxray diagnose` reads its counts. No output of its own. */
#ifndef VXRAY_RETRANSSRC_H
#define VXRAY_RETRANSSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "inventory.h"

struct vx_loop;
#include "../bpf/kprobe/vx_retrans.h"

struct ring_buffer;
struct vx_retranssrc;

/* Counts for one tunnel (one entry of the inventory). */
struct vx_retrans_tun {
	uint64_t full; /* segments of at least one MSS */
	uint64_t small;
	uint64_t synack;
	uint32_t max_len;
};

/* Called for every event: @dev is the index of its tunnel in the
 * inventory, -1 when the flow does not leave through a known VXLAN;
 * @full_size tells a full-MSS retransmit. */
typedef void (*vx_retrans_cb)(void *ctx, const struct vxr_event *e, int dev, bool full_size);

struct vx_retranssrc_cfg {
	const struct vx_inventory *inv; /* must outlive the engine */
	const uint32_t *inums;		/* scope to these; n_inums 0: every namespace */
	int n_inums;
	/* Count in the kernel (vx_retranssrc_read_counts()), no event per
	 * retransmit: @cb is not called. With @flow_fd, the datapath's
	 * vxp_flow (struct vx_flow_key), the kernel reads each flow's VNI
	 * from it; -1: the route alone. */
	bool count;
	int flow_fd;
	vx_retrans_cb cb; /* events; NULL: only the counts */
	void *ctx;
};

/* Open as @cfg says, load and attach. Returns 0 or a negative errno. */
int vx_retranssrc_open(struct vx_retranssrc **out, const struct vx_retranssrc_cfg *cfg);
int vx_retranssrc_add_to_loop(struct vx_retranssrc *s, struct vx_loop *l);
/* Deliver what is already in the ring buffer. */
void vx_retranssrc_drain(struct vx_retranssrc *s);
/* Counting mode: bring the per-tunnel counts up to the kernel's. */
void vx_retranssrc_read_counts(struct vx_retranssrc *s);
/* What attached, for messages. */
const char *vx_retranssrc_backend(const struct vx_retranssrc *s);
/* Events the kernel could not queue (ring buffer full), cumulative. */
uint64_t vx_retranssrc_lost(const struct vx_retranssrc *s);
/* Cumulative counts of inventory device @dev. */
const struct vx_retrans_tun *vx_retranssrc_tun(const struct vx_retranssrc *s, int dev);
/* Events: the datapath's flow table (vxp_flow, struct vx_flow_key), when a
 * datapath runs beside: a retransmit's tunnel is read from it first, with
 * the remote VTEP its packets really went to (an FDB entry's, where the
 * device has no remote of its own); the route is the fallback. -1: none. */
void vx_retranssrc_use_flows(struct vx_retranssrc *s, int flow_fd);
/* During the callback: the tunnel of the event, as vx_retrans_cb's @dev
 * names it, with the remote VTEP the flow table gave; NULL when none.
 * @from_flow: the flow table knew the flow. */
const struct vx_vxlan_dev *vx_retranssrc_cur_tunnel(const struct vx_retranssrc *s, bool *from_flow);
/* Detach and free; NULL is fine. */
void vx_retranssrc_close(struct vx_retranssrc *s);

#endif
