/* SPDX-License-Identifier: GPL-2.0-only */
/* The netfilter policy engine behind `vxray policy`: rule dumps decoded into
 * one model (nftables, iptables-nft, iptables-legacy), the netfilter hook a
 * drop happened at inferred from its kernel stack, and the counters of
 * DROP/REJECT rules compared between two snapshots to name the rule that
 * dropped.
 *
 * The decoders read text that other programs produced (nft's listing,
 * iptables-save -c): untrusted input. They are pure functions, never
 * crash on malformed text, and skip what they do not understand. */
#ifndef VXRAY_POLICY_H
#define VXRAY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

#define VX_NF_NAME_MAX 64
#define VX_NF_TEXT_MAX 512

enum vx_nf_verdict {
	VX_NFV_OTHER = 0,
	VX_NFV_DROP,
	VX_NFV_REJECT,
};

enum vx_nf_source {
	VX_NFS_NFT = 0,		/* native nftables */
	VX_NFS_IPT_NFT,		/* iptables-nft: nftables underneath */
	VX_NFS_IPT_LEGACY,	/* iptables-legacy (x_tables) */
};

/* The netfilter hooks, in the order a packet meets them. */
enum vx_nf_hook {
	VX_NFH_UNKNOWN = 0,
	VX_NFH_PREROUTING,
	VX_NFH_INPUT,
	VX_NFH_FORWARD,
	VX_NFH_OUTPUT,
	VX_NFH_POSTROUTING,
	VX_NFH_INGRESS,
};

struct vx_nf_rule {
	char family[8];		/* ip, ip6, inet, arp, bridge, netdev */
	char table[VX_NF_NAME_MAX];
	char chain[VX_NF_NAME_MAX];
	char text[VX_NF_TEXT_MAX];	/* as the user's tool prints it, no counters */
	uint64_t handle;	/* nftables rule handle, 0 for legacy */
	uint64_t packets, bytes;
	int position;		/* 1-based among the rules of its chain */
	uint8_t verdict;	/* enum vx_nf_verdict */
	uint8_t source;		/* enum vx_nf_source */
	bool has_counter;	/* nft rules only with a `counter` statement */
	bool policy;		/* the chain's policy, not a rule */
};

struct vx_nf_ruleset {
	struct vx_nf_rule *r;
	int n, cap;
};

void vx_nf_ruleset_free(struct vx_nf_ruleset *rs);

/* Decode `nft -a list ruleset` (libnftables with NFT_CTX_OUTPUT_HANDLE).
 * Returns the number of rules added, or -ENOMEM. */
int vx_nft_parse_listing(const char *text, struct vx_nf_ruleset *rs);
/* Decode `iptables-save -c` (or ip6tables-, -legacy-, -nft-save) of
 * @family ("ip" or "ip6"), tagging the rules with @source. Returns the
 * number of rules added, or -ENOMEM. */
int vx_ipt_parse_save(const char *text, const char *family, enum vx_nf_source source,
		      struct vx_nf_ruleset *rs);
/* Give the nftables rules that iptables-nft made (same family, table,
 * chain and position as in @ipt) the iptables text the user wrote; they
 * keep their nftables handle and counters. Returns how many were merged. */
int vx_nf_merge_iptables_nft(struct vx_nf_ruleset *nft, const struct vx_nf_ruleset *ipt);

/* The same rule in two snapshots: same source, family, table and chain,
 * then the same handle (nftables) or the same text (legacy). */
bool vx_nf_same_rule(const struct vx_nf_rule *a, const struct vx_nf_rule *b);

/* One DROP/REJECT rule whose packet counter rose between two snapshots. */
struct vx_nf_hit {
	const struct vx_nf_rule *rule;	/* in @after */
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
	char netns[VX_NETNS_NAME_MAX];	/* to enter; "" is vxray's own */
	bool have_snap;			/* snap is a baseline */
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
/* The hook for a kernel's NF_INET_* number and protocol family (the
 * fexit/kprobe backends read them from struct nf_hook_state). */
enum vx_nf_hook vx_nf_hook_from_num(unsigned int hooknum, unsigned int pf);
const char *vx_nf_hook_name(enum vx_nf_hook h);
const char *vx_nf_source_name(enum vx_nf_source s);
struct jw;
/* A rule's fields into the JSON object open in @w: source, family, table,
 * chain, policy or position (and handle), verdict, text. */
void vx_nf_rule_json(struct jw *w, const struct vx_nf_rule *r);
const char *vx_nf_verdict_name(enum vx_nf_verdict v);

/* Every rule of network namespace @netns ("" or NULL: vxray's own) with
 * its counters, without changing anything: nftables over netlink through
 * libnftables (iptables-nft rules then carry their iptables-nft-save
 * text), iptables-legacy through iptables-legacy-save -c when x_tables has
 * tables there. Replaces @rs's contents; 0 or a negative errno. */
int vx_nf_read_ruleset(const char *netns, struct vx_nf_ruleset *rs);

#endif
