// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the rule-dump decoders of loader/policy.c on arbitrary
 * text, as `nft -a list ruleset` and as `iptables-save -c` of either
 * family, then the steps that use what they decoded (merge, counter hits,
 * rule identity). Decoded fields must be terminated and the rule count must
 * match what the decoder returned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"

static void check_rules(const struct vx_nf_ruleset *rs)
{
	for (int i = 0; i < rs->n; i++) {
		const struct vx_nf_rule *r = &rs->r[i];

		CHECK(memchr(r->family, 0, sizeof(r->family)));
		CHECK(memchr(r->table, 0, sizeof(r->table)));
		CHECK(memchr(r->chain, 0, sizeof(r->chain)));
		CHECK(memchr(r->text, 0, sizeof(r->text)));
		CHECK(vx_nf_verdict_name(r->verdict) && vx_nf_source_name(r->source));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_nf_ruleset nft = {}, ipt = {}, ipt6 = {};
	struct vx_nf_hit hits[8];
	char *text;
	int n;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	n = vx_nft_parse_listing(text, &nft);
	CHECK(n == nft.n);
	check_rules(&nft);
	n = vx_ipt_parse_save(text, "ip", VX_NFS_IPT_NFT, &ipt);
	CHECK(n == ipt.n);
	check_rules(&ipt);
	n = vx_ipt_parse_save(text, "ip6", VX_NFS_IPT_LEGACY, &ipt6);
	CHECK(n == ipt6.n);
	check_rules(&ipt6);

	n = vx_nf_merge_iptables_nft(&nft, &ipt);
	CHECK(n >= 0 && n <= nft.n);
	check_rules(&nft);
	n = vx_nf_counter_hits(&ipt6, &nft, hits, 8);
	CHECK(n >= 0);
	for (int i = 0; i < n && i < 8; i++)
		CHECK(hits[i].rule >= nft.r && hits[i].rule < nft.r + nft.n);
	(void)vx_nf_uncounted_droppers(&nft);
	for (int i = 0; i + 1 < nft.n && i < 16; i++)
		CHECK(vx_nf_same_rule(&nft.r[i], &nft.r[i]));

	vx_nf_ruleset_free(&nft);
	vx_nf_ruleset_free(&ipt);
	vx_nf_ruleset_free(&ipt6);
	free(text);
	return 0;
}
