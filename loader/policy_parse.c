// SPDX-License-Identifier: GPL-2.0-only
/* Netfilter rule dumps decoded into the rule model (see policy_parse.h):
 * nft's listing and iptables-save -c, line by line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_parse.h"

void vx_nf_ruleset_free(struct vx_nf_ruleset *rs)
{
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

static struct vx_nf_rule *rule_add(struct vx_nf_ruleset *rs)
{
	if (rs->n == rs->cap) {
		int cap = rs->cap ? rs->cap * 2 : 32;
		struct vx_nf_rule *r = realloc(rs->r, cap * sizeof(*r));

		if (!r)
			return NULL;
		rs->r = r;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
	return &rs->r[rs->n++];
}

/* Copy at most @len bytes of @s into @dst (size @size), NUL-terminated. */
static void copy_n(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* @s with every quoted string's content replaced by 'x', same length, so
 * searching it for keywords and braces ignores what users wrote in
 * comments. */
static void mask_quotes(const char *s, char *out, size_t size)
{
	bool q = false;
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++) {
		if (s[i] == '"' && (i == 0 || s[i - 1] != '\\')) {
			q = !q;
			out[i] = '"';
		} else {
			out[i] = q ? 'x' : s[i];
		}
	}
	out[i] = '\0';
}

static bool is_word_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == ';' || c == '\n';
}

/* Offset of @word as a whole word in @s, or -1. */
static long find_word(const char *s, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
		if ((p == s || p[-1] == ' ' || p[-1] == '\t') && is_word_end(p[wl]))
			return p - s;
	return -1;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The next whitespace-separated token of *@s into @out (quotes removed). */
static bool next_token(const char **s, char *out, size_t size)
{
	const char *p = skip_ws(*s), *e;

	if (!*p || *p == '\n')
		return false;
	if (*p == '"') {
		e = strchr(p + 1, '"');
		if (!e)
			return false;
		copy_n(out, size, p + 1, e - p - 1);
		*s = e + 1;
		return true;
	}
	for (e = p; *e && *e != ' ' && *e != '\t' && *e != '\n'; e++)
		;
	copy_n(out, size, p, e - p);
	*s = e;
	return true;
}

/* Collapse runs of blanks and trim both ends, in place. */
static void squeeze(char *s)
{
	char *w = s;
	bool sp = false;

	for (const char *r = skip_ws(s); *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n') {
			sp = true;
			continue;
		}
		if (sp && w != s)
			*w++ = ' ';
		sp = false;
		*w++ = *r;
	}
	*w = '\0';
}

static int brace_balance(const char *masked)
{
	int b = 0;

	for (const char *p = masked; *p; p++)
		b += *p == '{' ? 1 : *p == '}' ? -1 : 0;
	return b;
}

/* ---- nftables listing ---------------------------------------------------- */

struct nft_state {
	char family[8];
	char table[VX_NF_NAME_MAX];
	char chain[VX_NF_NAME_MAX];
	int depth;		/* braces open */
	int chain_depth;	/* depth inside the current chain, 0: none */
	int position;
};

/* One rule line of a chain (no newline). */
static int nft_rule(struct nft_state *st, const char *line, struct vx_nf_ruleset *rs)
{
	char masked[VX_NF_TEXT_MAX * 2], text[VX_NF_TEXT_MAX * 2];
	struct vx_nf_rule *r;
	const char *h;
	long c;

	mask_quotes(line, masked, sizeof(masked));
	if (strlen(masked) != strlen(line))
		return 0;	/* longer than we can mask: not a rule we can name */
	copy_n(text, sizeof(text), line, strlen(line));

	r = rule_add(rs);
	if (!r)
		return -ENOMEM;
	copy_n(r->family, sizeof(r->family), st->family, strlen(st->family));
	copy_n(r->table, sizeof(r->table), st->table, strlen(st->table));
	copy_n(r->chain, sizeof(r->chain), st->chain, strlen(st->chain));
	r->source = VX_NFS_NFT;
	r->position = ++st->position;

	/* "# handle N" ends the line when listed with handles. */
	h = strstr(masked, "# handle ");
	if (h) {
		char *end;
		unsigned long long v = strtoull(h + 9, &end, 10);

		if (end != h + 9)
			r->handle = v;
		text[h - masked] = '\0';
		masked[h - masked] = '\0';
	}
	c = find_word(masked, "counter");
	if (c >= 0 && !strncmp(masked + c, "counter packets ", 16)) {
		const char *p = masked + c + 16;
		char *end;
		unsigned long long pk = strtoull(p, &end, 10), by = 0;

		if (end != p && !strncmp(end, " bytes ", 7)) {
			const char *b = end + 7;

			by = strtoull(b, &end, 10);
			if (end != b) {
				r->has_counter = true;
				r->packets = pk;
				r->bytes = by;
				/* keep "counter", drop the numbers from the text */
				memmove(text + c + 7, text + (end - masked),
					strlen(text + (end - masked)) + 1);
				memmove(masked + c + 7, end, strlen(end) + 1);
			}
		}
	}
	if (find_word(masked, "drop") >= 0)
		r->verdict = VX_NFV_DROP;
	else if (find_word(masked, "reject") >= 0)
		r->verdict = VX_NFV_REJECT;
	squeeze(text);
	copy_n(r->text, sizeof(r->text), text, strlen(text));
	return 1;
}

int vx_nft_parse_listing(const char *text, struct vx_nf_ruleset *rs)
{
	struct nft_state st = {};
	char line[VX_NF_TEXT_MAX * 2], masked[VX_NF_TEXT_MAX * 2], tok[VX_NF_NAME_MAX];
	char pending[VX_NF_TEXT_MAX * 2] = "";
	int added = 0;

	if (!text)
		return 0;
	while (*text) {
		const char *nl = strchr(text, '\n'), *p;
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		int bal;

		copy_n(line, sizeof(line), text, len);
		text += len + (nl ? 1 : 0);
		if (pending[0]) {
			/* a rule whose anonymous set spans lines */
			if (strlen(pending) + strlen(line) + 2 < sizeof(pending)) {
				strcat(pending, " ");
				strcat(pending, line);
			}
			mask_quotes(pending, masked, sizeof(masked));
			if (brace_balance(masked) > 0)
				continue;
			int ret = nft_rule(&st, skip_ws(pending), rs);

			pending[0] = '\0';
			if (ret < 0)
				return ret;
			added += ret;
			continue;
		}
		mask_quotes(line, masked, sizeof(masked));
		bal = brace_balance(masked);
		p = skip_ws(line);
		if (!*p || *p == '#')
			continue;

		if (st.depth == 0 && !strncmp(p, "table ", 6)) {
			const char *s = p + 6;

			if (!next_token(&s, st.family, sizeof(st.family)) ||
			    !next_token(&s, st.table, sizeof(st.table)))
				st.family[0] = st.table[0] = '\0';
			/* "table NAME {" lists family ip implicitly */
			if (!strcmp(st.table, "{")) {
				copy_n(st.table, sizeof(st.table), st.family, strlen(st.family));
				strcpy(st.family, "ip");
			}
			st.depth += bal;
			continue;
		}
		if (st.depth == 1 && !strncmp(p, "chain ", 6) && bal > 0) {
			const char *s = p + 6;

			if (!next_token(&s, tok, sizeof(tok)))
				tok[0] = '\0';
			copy_n(st.chain, sizeof(st.chain), tok, strlen(tok));
			st.depth += bal;
			st.chain_depth = st.depth;
			st.position = 0;
			continue;
		}
		if (st.chain_depth && st.depth == st.chain_depth && bal == 0) {
			/* The base chain's declaration; its policy is the last
			 * word on drops nobody's rule took. */
			if (strstr(masked, " hook ") && !strncmp(p, "type ", 5)) {
				if (strstr(masked, "policy drop;")) {
					struct vx_nf_rule *r = rule_add(rs);

					if (!r)
						return -ENOMEM;
					copy_n(r->family, sizeof(r->family), st.family, strlen(st.family));
					copy_n(r->table, sizeof(r->table), st.table, strlen(st.table));
					copy_n(r->chain, sizeof(r->chain), st.chain, strlen(st.chain));
					strcpy(r->text, "policy drop");
					r->verdict = VX_NFV_DROP;
					r->policy = true;
					added++;
				}
				continue;
			}
			if (!strncmp(p, "comment ", 8))
				continue;	/* the chain's own comment */
			int ret = nft_rule(&st, p, rs);

			if (ret < 0)
				return ret;
			added += ret;
			continue;
		}
		if (st.chain_depth && st.depth == st.chain_depth && bal > 0) {
			copy_n(pending, sizeof(pending), p, strlen(p));
			continue;
		}
		st.depth += bal;
		if (st.depth < 0)
			st.depth = 0;
		if (st.chain_depth && st.depth < st.chain_depth)
			st.chain_depth = 0;
		if (st.depth == 0)
			st.family[0] = st.table[0] = '\0';
	}
	return added;
}

/* ---- iptables-save -c ------------------------------------------------ */

/* "[P:B]" at @p: 0 and the numbers, or -1. */
static int parse_counters(const char *p, uint64_t *pk, uint64_t *by, const char **after)
{
	char *end;

	if (*p != '[')
		return -1;
	*pk = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ':')
		return -1;
	p = end + 1;
	*by = strtoull(p, &end, 10);
	if (end == p || *end != ']')
		return -1;
	*after = end + 1;
	return 0;
}

static void ipt_verdict(struct vx_nf_rule *r)
{
	char masked[VX_NF_TEXT_MAX];
	const char *j = NULL;

	mask_quotes(r->text, masked, sizeof(masked));
	/* the last -j names the target */
	for (const char *p = strstr(masked, "-j "); p; p = strstr(p + 1, "-j "))
		if (p == masked || p[-1] == ' ')
			j = p + 3;
	if (!j)
		return;
	if (!strncmp(j, "DROP", 4) && is_word_end(j[4]))
		r->verdict = VX_NFV_DROP;
	else if (!strncmp(j, "REJECT", 6) && is_word_end(j[6]))
		r->verdict = VX_NFV_REJECT;
}

int vx_ipt_parse_save(const char *text, const char *family, enum vx_nf_source source,
		      struct vx_nf_ruleset *rs)
{
	char line[VX_NF_TEXT_MAX * 2], table[VX_NF_NAME_MAX] = "";
	struct { char name[VX_NF_NAME_MAX]; int n; } pos[64];
	int n_pos = 0, added = 0;

	if (!text || !family)
		return 0;
	while (*text) {
		const char *nl = strchr(text, '\n'), *p, *rest;
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		uint64_t pk = 0, by = 0;
		bool counted;
		struct vx_nf_rule *r;
		char chain[VX_NF_NAME_MAX];
		int i;

		copy_n(line, sizeof(line), text, len);
		text += len + (nl ? 1 : 0);
		p = skip_ws(line);
		if (*p == '*') {
			copy_n(table, sizeof(table), p + 1, strcspn(p + 1, " \t\r"));
			n_pos = 0;
			continue;
		}
		if (!table[0])
			continue;
		if (*p == ':') {
			/* ":CHAIN POLICY [P:B]": built-in chains have a
			 * policy, and in x_tables it counts what it took. */
			const char *s = p + 1;
			char pol[16];

			if (!next_token(&s, chain, sizeof(chain)) || !next_token(&s, pol, sizeof(pol)))
				continue;
			if (strcmp(pol, "DROP"))
				continue;
			s = skip_ws(s);
			counted = !parse_counters(s, &pk, &by, &rest);
			if (source != VX_NFS_IPT_LEGACY)
				continue;	/* nftables lists its own policies */
			r = rule_add(rs);
			if (!r)
				return -ENOMEM;
			copy_n(r->family, sizeof(r->family), family, strlen(family));
			copy_n(r->table, sizeof(r->table), table, strlen(table));
			copy_n(r->chain, sizeof(r->chain), chain, strlen(chain));
			snprintf(r->text, sizeof(r->text), "-P %s DROP", chain);
			r->verdict = VX_NFV_DROP;
			r->source = source;
			r->policy = true;
			r->has_counter = counted;
			r->packets = pk;
			r->bytes = by;
			added++;
			continue;
		}
		counted = !parse_counters(p, &pk, &by, &rest);
		if (counted)
			p = skip_ws(rest);
		if (strncmp(p, "-A ", 3))
			continue;
		rest = p + 3;
		if (!next_token(&rest, chain, sizeof(chain)))
			continue;
		for (i = 0; i < n_pos; i++)
			if (!strcmp(pos[i].name, chain))
				break;
		if (i == n_pos) {
			if (n_pos == (int)(sizeof(pos) / sizeof(pos[0])))
				continue;	/* more chains than we track */
			copy_n(pos[i].name, sizeof(pos[i].name), chain, strlen(chain));
			pos[i].n = 0;
			n_pos++;
		}
		r = rule_add(rs);
		if (!r)
			return -ENOMEM;
		copy_n(r->family, sizeof(r->family), family, strlen(family));
		copy_n(r->table, sizeof(r->table), table, strlen(table));
		copy_n(r->chain, sizeof(r->chain), chain, strlen(chain));
		copy_n(r->text, sizeof(r->text), p, strlen(p));
		squeeze(r->text);
		r->position = ++pos[i].n;
		r->source = source;
		r->has_counter = counted;
		r->packets = pk;
		r->bytes = by;
		ipt_verdict(r);
		added++;
	}
	return added;
}

int vx_nf_merge_iptables_nft(struct vx_nf_ruleset *nft, const struct vx_nf_ruleset *ipt)
{
	int merged = 0;

	for (int i = 0; i < ipt->n; i++) {
		const struct vx_nf_rule *x = &ipt->r[i];

		if (x->policy)
			continue;
		for (int j = 0; j < nft->n; j++) {
			struct vx_nf_rule *r = &nft->r[j];

			if (r->policy || r->source != VX_NFS_NFT || r->position != x->position ||
			    strcmp(r->family, x->family) || strcmp(r->table, x->table) ||
			    strcmp(r->chain, x->chain))
				continue;
			memcpy(r->text, x->text, sizeof(r->text));
			r->source = VX_NFS_IPT_NFT;
			/* the iptables text says what the verdict is */
			if (x->verdict != VX_NFV_OTHER)
				r->verdict = x->verdict;
			merged++;
			break;
		}
	}
	return merged;
}
