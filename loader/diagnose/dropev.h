/* SPDX-License-Identifier: GPL-2.0-only */
/* The drops of a `vxray diagnose` window, as evidence: every kernel drop
 * the drop engine reports (dropsrc.c), counted by namespace, reason,
 * location, device and side of the tunnel, and the netfilter DROP/REJECT
 * rules whose counters rose over the window (policy.c), which put names
 * on the NETFILTER_DROP ones.
 *
 * Use: vx_dropev_interest() for each address the probe sends to, and
 * vx_dropev_snap_rules(..., false) at the start; vx_dropev_on_drop()
 * as the drop engine's callback during the window; at the end
 * vx_dropev_snap_rules(..., true), then vx_dropev_attach_rules(). */
#ifndef VXRAY_DROPEV_H
#define VXRAY_DROPEV_H

#include <stdbool.h>
#include <stdint.h>

#include "findings.h"
#include "opts.h"
#include "policy.h"

#define VX_DROPEV_MAX_RULES 256

/* One DROP/REJECT rule's packets over the window. */
struct vx_dropev_rule {
	char netns[VX_NETNS_NAME_MAX];
	char rule[200]; /* as iptables-save or nft prints it */
	uint64_t before, after;
	bool seen_before;
};

/* An address of the traffic that matters (vx_dropev_interest). */
struct vx_dropev_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
};

struct vx_dropev {
	struct vx_evidence *ev; /* its tunnels say which side a drop is on */
	/* The traffic that matters: packets from or to these addresses (the
	 * probe's targets). None: every packet but the host's own link-local
	 * control traffic. */
	struct vx_dropev_addr interest[2 * VX_EV_MAX_PROBES];
	int n_interest;
	struct vx_dropev_rule rules[VX_DROPEV_MAX_RULES];
	int n_rules;
	struct vx_nf_ruleset rs[VX_MAX_NETNS]; /* each namespace's rules at the start */
	bool have_rs[VX_MAX_NETNS];
	bool have_rules; /* some namespace's rules could be read */
};

struct vx_drop;

/* Packets from or to @addr (@family AF_INET or AF_INET6) are the traffic
 * that matters; drops of other packets become notes (vx_ev_drop.unrelated).
 * Call before the first drop. */
void vx_dropev_interest(struct vx_dropev *w, int family, const void *addr);

/* The drop engine's callback (@ctx: the struct vx_dropev): one more drop
 * in ev->drops, merged with the same kind seen before. */
void vx_dropev_on_drop(void *ctx, const struct vx_drop *x);
/* Read the rules of the @n_names namespaces: at the start (@end false)
 * keep them; at the end, count each DROP/REJECT rule whose counter rose. */
void vx_dropev_snap_rules(struct vx_dropev *w, const char names[][VX_NETNS_NAME_MAX], int n_names,
			  bool end);
/* Put the rules on the NETFILTER_DROP drops: each rule whose counter rose
 * becomes its own drop entry (or names the only matching one); what the
 * rules do not account for (conntrack's own drops) stays without a rule. */
void vx_dropev_attach_rules(struct vx_dropev *w);
void vx_dropev_free(struct vx_dropev *w);

#endif
