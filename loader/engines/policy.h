/* SPDX-License-Identifier: GPL-2.0-only */
/* The netfilter policy engine behind `vxray policy`: rule dumps decoded into
 * one model (nftables, iptables-nft, iptables-legacy), the netfilter hook a
 * drop happened at inferred from its kernel stack, and the counters of
 * DROP/REJECT rules compared between two snapshots to name the rule that
 * dropped.
 *
 * The rule model and the decoders of the dumps are in policy_parse.h. */
#ifndef VXRAY_POLICY_H
#define VXRAY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "opts.h"
#include "policy_parse.h"

/* The same rule in two snapshots: same source, family, table and chain,
 * then the same handle (nftables) or the same text (legacy). */
bool vx_nf_same_rule(const struct vx_nf_rule *a, const struct vx_nf_rule *b);

/* One DROP/REJECT rule whose packet counter rose between two snapshots. */
struct vx_nf_hit {
	const struct vx_nf_rule *rule; /* in @after */
	uint64_t packets;
};

/* Rules of @after whose verdict drops and whose counter rose since
 * @before (a rule absent from @before counts from zero). Fills at most
 * @max hits; returns how many there are. */
int vx_nf_counter_hits(const struct vx_nf_ruleset *before, const struct vx_nf_ruleset *after,
		       struct vx_nf_hit *hits, int max);
/* One namespace's rules between two reads: the counters of the last read
 * are the baseline the next read's rises are measured from. */
struct vx_nf_watch {
	char netns[VX_NETNS_NAME_MAX]; /* to enter; "" is vxray's own */
	bool have_snap;		       /* snap is a baseline */
	struct vx_nf_ruleset snap;
};

/* Re-read @w's rules (vx_nf_read_ruleset) and make them the baseline. The
 * DROP/REJECT rules whose counters rose since the previous read (all of
 * their count when there was none) go to @hits, which point into w->snap
 * and stay valid until the next read. Returns how many there are (maybe
 * more than @max), or a negative errno with the old baseline kept. */
int vx_nf_watch_read(struct vx_nf_watch *w, struct vx_nf_hit *hits, int max);
void vx_nf_watch_free(struct vx_nf_watch *w);

/* Why netfilter drops in a namespace name no rule: it cannot be entered
 * (!@readable), its DROP/REJECT rules in @rs have no counters, or no
 * counter rose (a conntrack verdict, ...). One phrase. */
const char *vx_nf_why_unattributed(bool readable, const struct vx_nf_ruleset *rs);

/* Whether @rs has DROP/REJECT rules (or drop policies) without counters:
 * drops there cannot be attributed. */
int vx_nf_uncounted_droppers(const struct vx_nf_ruleset *rs);

/* The hook a netfilter drop happened at, from its kernel stack as symbol
 * names, innermost first: the first frame after nf_hook_slow that is a
 * known NF_HOOK caller (ip_local_deliver -> INPUT, ...). *@family is set
 * to 4 or 6 (0 for bridge/unknown). */
enum vx_nf_hook vx_nf_hook_from_stack(const char *const *syms, int n, int *family);
const char *vx_nf_source_name(enum vx_nf_source s);
struct jw;
/* A rule's fields into the JSON object open in @w: source, family, table,
 * chain, policy or position (and handle), verdict, text. */
void vx_nf_rule_json(struct jw *w, const struct vx_nf_rule *r);
const char *vx_nf_verdict_name(enum vx_nf_verdict v);

/* Every rule of network namespace @netns ("" or NULL: vxray's own) with
 * its counters, without changing anything: nftables over netlink through
 * libnftables, the rules from its JSON listing and their text from its text
 * listing (iptables-nft rules then carry their iptables-nft-save text),
 * iptables-legacy through iptables-legacy-save -c when x_tables has tables
 * there. Replaces @rs's contents; 0 or a negative errno. */
int vx_nf_read_ruleset(const char *netns, struct vx_nf_ruleset *rs);

#endif
