// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the rule-dump decoders of loader/policy_parse.c on
 * arbitrary text, as `nft -a list ruleset` and as `iptables-save -c` of
 * either family, then the merge of what they decoded. Decoded fields must
 * be terminated and in range, and the rule count must match what the
 * decoder returned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy_parse.h"

static void check_rules(const struct vx_nf_ruleset *rs)
{
	for (int i = 0; i < rs->n; i++) {
		const struct vx_nf_rule *r = &rs->r[i];

		CHECK(memchr(r->family, 0, sizeof(r->family)));
		CHECK(memchr(r->table, 0, sizeof(r->table)));
		CHECK(memchr(r->chain, 0, sizeof(r->chain)));
		CHECK(memchr(r->text, 0, sizeof(r->text)));
		CHECK(r->verdict <= VX_NFV_REJECT && r->source <= VX_NFS_IPT_LEGACY);
		CHECK(r->policy ? r->position == 0 : r->position >= 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_nf_ruleset nft = {}, ipt = {}, ipt6 = {};
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

	vx_nf_ruleset_free(&nft);
	vx_nf_ruleset_free(&ipt);
	vx_nf_ruleset_free(&ipt6);
	free(text);
	return 0;
}
