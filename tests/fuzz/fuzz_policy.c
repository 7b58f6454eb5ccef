// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the rule-dump decoders of loader/engines/policy_parse.c on
 * arbitrary input. The input is up to three parts split at NUL bytes, as
 * vxray reads them: `nft -j list ruleset`, then `nft -a -s list ruleset`
 * giving those rules their text, then `iptables-save -c` (of either
 * family) merged into them; a part that is missing is the whole input, so
 * plain text reaches every decoder. Decoded fields must be terminated, in
 * range, and the rule count must match what the decoder returned. */
#include <errno.h>
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
	const char *part[3], *p;
	char *text, err[128];
	int n;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	part[0] = part[1] = part[2] = text;
	for (int i = 1; i < 3; i++) {
		p += strlen(p) + 1;
		if (p > text + size)
			break; /* that NUL was the terminator */
		part[i] = p;
	}

	n = vx_nft_parse_json(part[0], &nft, err, sizeof(err));
	CHECK(n == nft.n || (n == -EINVAL && !nft.n && memchr(err, 0, sizeof(err)) && err[0]));
	check_rules(&nft);
	n = vx_nft_parse_texts(part[1], &nft);
	CHECK(n >= 0 && n <= nft.n);
	check_rules(&nft);
	n = vx_ipt_parse_save(part[2], "ip", VX_NFS_IPT_NFT, &ipt);
	CHECK(n == ipt.n);
	check_rules(&ipt);
	n = vx_ipt_parse_save(part[2], "ip6", VX_NFS_IPT_LEGACY, &ipt6);
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
