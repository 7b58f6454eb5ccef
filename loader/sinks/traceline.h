/* SPDX-License-Identifier: GPL-2.0-only */
/* One `vxray trace` line, or one JSON object line, per event kind: the
 * head every line has (when, which followed packet, the hook that saw it,
 * what it was, where) and the body of each source's event. Nothing here
 * looks anything up or keeps state: the view resolves the devices, the
 * followed packet, the join and the netfilter rule, and passes them in
 * (view_trace.c); the events wait in the merge (timeline.c) as struct
 * vx_tev. */
#ifndef VXRAY_TRACELINE_H
#define VXRAY_TRACELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "conntrack.h"
#include "datapath.h"
#include "dropsrc.h"
#include "inventory.h"
#include "json.h"
#include "lathooks.h"
#include "nfsrc.h"
#include "policy.h"
#include "retranssrc.h"
#include "vx_cap.h"
#include "vxray.h"
#include "../bpf/kprobe/vx_xmit.h"

enum vx_tev_type {
	VX_TEV_DP = 1,
	VX_TEV_DROP,
	VX_TEV_NF,
	VX_TEV_CT,
	VX_TEV_CT_ALERT,
	VX_TEV_LINK,
	VX_TEV_RETRANS,
	VX_TEV_HOOK,
};

/* One event of the timeline: what an engine handed over, copied (the
 * engines' records are gone after their callbacks return). */
struct vx_tev {
	uint64_t ts;
	int type;
	bool on_receipt;    /* netlink: stamped when vxray read it */
	struct vx_cap *cap; /* --pcap: a copy of the packet, freed once written */
	union {
		struct vx_event dp;
		struct { /* VX_TEV_DROP, VX_TEV_NF */
			struct vxd_event ev;
			char reason[64];
			char location[96];
			enum vx_nf_hook hook; /* netfilter drops only */
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

/* How a drop or a hook event was joined to a followed packet. */
enum vx_join { VX_JOIN_NONE = 0, VX_JOIN_ID, VX_JOIN_FLOW };

/* How every line is laid out: set once, before the first line. */
struct vx_tl_out {
	bool json;	       /* JSON object lines, else text to stdout */
	uint64_t mono_to_real; /* added to the kernel timestamp: wall clock */
};

/* What every line has: when, which packet, the hook that saw it, what it
 * was, where. */
struct vx_tl_line {
	uint64_t ts;
	bool late, on_receipt;
	const char *hook, *event, *ns, *dev;
	uint32_t pkt;	   /* the followed packet's number; 0: none */
	uint64_t first_ts; /* when @pkt was first seen */
	bool first;	   /* @pkt's first sighting */
	bool joined;	   /* a line joined to a packet seen elsewhere */
	enum vx_join how;
	const struct vx_pkt_id *id; /* NULL or family 0: no identity */
};

/* The rule that took a netfilter drop, as the view found it: @r NULL with
 * the reason in @why, @others more rules that are candidates too. */
struct vx_tl_rule {
	const struct vx_nf_rule *r;
	const char *why;
	int others;
};

/* The lines whose head the view builds (they follow packets): a datapath
 * event, a drop or netfilter verdict (@nf_line: with its hook and rule;
 * @first_hook: where the joined packet was first seen, or NULL; @meaning:
 * what the kernel means by its reason, NULL to leave it unsaid), and a
 * vxlan_xmit, vxlan_rcv or delivery event (whose hook and event names
 * this fills in). */
void vx_tl_dp(const struct vx_tl_out *o, const struct vx_tl_line *l, const struct vx_event *e);
void vx_tl_drop(const struct vx_tl_out *o, const struct vx_tl_line *l, const struct vx_tev *e,
		bool nf_line, const char *first_hook, const struct vx_tl_rule *rule,
		const char *meaning);
void vx_tl_hook(const struct vx_tl_out *o, struct vx_tl_line *l, const struct vx_tev *e);

/* The lines made from the event alone: a conntrack entry, a conntrack
 * ALERT, a link change, and a TCP retransmit (@v: the tunnel the flow
 * leaves by, NULL: none; @backend: the retransmit engine's). */
void vx_tl_ct(const struct vx_tl_out *o, const struct vx_tev *e, bool late);
void vx_tl_alert(const struct vx_tl_out *o, const struct vx_tev *e, bool late);
void vx_tl_link(const struct vx_tl_out *o, const struct vx_tev *e, bool late);
void vx_tl_retrans(const struct vx_tl_out *o, const struct vx_tev *e, bool late,
		   const struct vx_vxlan_dev *v, const char *backend);

#endif
