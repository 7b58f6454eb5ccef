/* SPDX-License-Identifier: GPL-2.0-only */
/* The netfilter rule model of `vxray policy` and its decoders: nftables'
 * JSON listing (libnftables-json(5)) for the rules, nft's text listing for
 * the text a user reads, `iptables-save -c` for iptables-legacy and for the
 * text of iptables-nft rules.
 *
 * What they decode was printed by other programs: untrusted input. They are
 * pure functions (no processes, no sockets, no logging), never crash on
 * malformed input, and skip what they do not understand. policy.c runs the
 * programs and feeds the engine. */
#ifndef VXRAY_POLICY_PARSE_H
#define VXRAY_POLICY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_NF_NAME_MAX 64
#define VX_NF_TEXT_MAX 512

enum vx_nf_verdict {
	VX_NFV_OTHER = 0,
	VX_NFV_DROP,
	VX_NFV_REJECT,
};

enum vx_nf_source {
	VX_NFS_NFT = 0,	   /* native nftables */
	VX_NFS_IPT_NFT,	   /* iptables-nft: nftables underneath */
	VX_NFS_IPT_LEGACY, /* iptables-legacy (x_tables) */
};

struct vx_nf_rule {
	char family[8]; /* ip, ip6, inet, arp, bridge, netdev */
	char table[VX_NF_NAME_MAX];
	char chain[VX_NF_NAME_MAX];
	char text[VX_NF_TEXT_MAX]; /* as the user's tool prints it, no counters */
	uint64_t handle;	   /* nftables rule handle, 0 for legacy */
	uint64_t packets, bytes;
	int position;	  /* 1-based among the rules of its chain */
	uint8_t verdict;  /* enum vx_nf_verdict */
	uint8_t source;	  /* enum vx_nf_source */
	bool has_counter; /* nft rules only with a `counter` statement */
	bool policy;	  /* the chain's policy, not a rule */
};

struct vx_nf_ruleset {
	struct vx_nf_rule *r;
	int n, cap;
};

void vx_nf_ruleset_free(struct vx_nf_ruleset *rs);

/* Decode `nft -j list ruleset` (libnftables with NFT_CTX_OUTPUT_JSON): each
 * rule with its family, table, chain, handle, position, first counter and
 * verdict, and the policy of each base chain whose policy drops. The rules'
 * text stays empty: vx_nft_parse_texts() fills it. Returns the number of
 * rules added; -EINVAL when @json is not a JSON nftables listing, with the
 * reason in @err (@errsz bytes; NULL for none); -ENOMEM. */
int vx_nft_parse_json(const char *json, struct vx_nf_ruleset *rs, char *err, size_t errsz);
/* Give the native nftables rules of @rs the text of `nft -a -s list
 * ruleset` (libnftables with NFT_CTX_OUTPUT_HANDLE and _STATELESS: handles,
 * no counter values), matched by family, table and handle. Returns how
 * many rules got their text, or -ENOMEM. */
int vx_nft_parse_texts(const char *listing, struct vx_nf_ruleset *rs);
/* Decode `iptables-save -c` (or ip6tables-, -legacy-, -nft-save) of
 * @family ("ip" or "ip6"), tagging the rules with @source. Returns the
 * number of rules added, or -ENOMEM. */
int vx_ipt_parse_save(const char *text, const char *family, enum vx_nf_source source,
		      struct vx_nf_ruleset *rs);
/* Give the nftables rules that iptables-nft made (same family, table,
 * chain and position as in @ipt) the iptables text the user wrote; they
 * keep their nftables handle and counters. Returns how many were merged. */
int vx_nf_merge_iptables_nft(struct vx_nf_ruleset *nft, const struct vx_nf_ruleset *ipt);

#endif
