// SPDX-License-Identifier: GPL-2.0-only
/* Netfilter rule dumps decoded into the rule model (see policy_parse.h):
 * nftables through its JSON listing and jansson, the text a user reads from
 * nft's own listing, iptables-save -c line by line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

static void copy_str(char *dst, size_t size, const char *s)
{
	copy_n(dst, size, s, strlen(s));
}

/* @s with every quoted string's content replaced by 'x', same length, so
 * searching it for keywords ignores what users wrote in comments. */
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

/* ---- nftables JSON listing ------------------------------------------- */

/* The rule's own verdict statement ({"drop": null}, {"reject": ...}, or
 * {"xt": {"type": "target", "name": "REJECT"}} for an iptables-nft target
 * nft has no statement for). A verdict map's drops are not the rule's: its
 * counter also counts what the map accepts. */
static uint8_t json_verdict(const json_t *expr)
{
	json_t *st;
	size_t i;

	json_array_foreach(expr, i, st)
	{
		json_t *xt = json_object_get(st, "xt");
		const char *type = json_string_value(json_object_get(xt, "type"));
		const char *name = json_string_value(json_object_get(xt, "name"));

		if (json_object_get(st, "drop"))
			return VX_NFV_DROP;
		if (json_object_get(st, "reject") ||
		    (type && name && !strcmp(type, "target") && !strcmp(name, "REJECT")))
			return VX_NFV_REJECT;
	}
	return VX_NFV_OTHER;
}

/* A JSON integer that fits the model's unsigned fields. */
static bool json_u64(const json_t *j, uint64_t *v)
{
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*v = json_integer_value(j);
	return true;
}

/* The chain the previous rule was in, to number rules within a chain:
 * nft lists each chain's rules together and in order. */
struct json_pos {
	const char *family, *table, *chain;
	int n;
};

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* {"rule": {"family", "table", "chain", "handle", "expr": [...]}} */
static int json_rule(const json_t *o, struct json_pos *pos, struct vx_nf_ruleset *rs)
{
	const char *family = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));
	const char *chain = json_string_value(json_object_get(o, "chain"));
	json_t *expr = json_object_get(o, "expr"), *st;
	struct vx_nf_rule *r;
	size_t i;

	if (!family || !table || !chain)
		return 0;
	r = rule_add(rs);
	if (!r)
		return -ENOMEM;
	copy_str(r->family, sizeof(r->family), family);
	copy_str(r->table, sizeof(r->table), table);
	copy_str(r->chain, sizeof(r->chain), chain);
	r->source = VX_NFS_NFT;
	json_u64(json_object_get(o, "handle"), &r->handle);
	if (same_str(pos->family, family) && same_str(pos->table, table) &&
	    same_str(pos->chain, chain)) {
		pos->n++;
	} else {
		*pos = (struct json_pos){ family, table, chain, 1 };
	}
	r->position = pos->n;

	/* {"counter": {"packets": P, "bytes": B}}; a named counter
	 * ({"counter": "name"}) keeps its numbers elsewhere. */
	json_array_foreach(expr, i, st)
	{
		json_t *c = json_object_get(st, "counter");
		uint64_t pk, by;

		if (json_is_object(c) && json_u64(json_object_get(c, "packets"), &pk) &&
		    json_u64(json_object_get(c, "bytes"), &by)) {
			r->has_counter = true;
			r->packets = pk;
			r->bytes = by;
			break;
		}
	}
	r->verdict = json_verdict(expr);
	return 1;
}

/* {"chain": {"family", "table", "name", "hook", "policy"}}: a base chain's
 * policy is the last word on drops nobody's rule took. */
static int json_chain(const json_t *o, struct vx_nf_ruleset *rs)
{
	const char *family = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *policy = json_string_value(json_object_get(o, "policy"));
	struct vx_nf_rule *r;

	if (!family || !table || !name || !json_is_string(json_object_get(o, "hook")) ||
	    !same_str(policy, "drop"))
		return 0;
	r = rule_add(rs);
	if (!r)
		return -ENOMEM;
	copy_str(r->family, sizeof(r->family), family);
	copy_str(r->table, sizeof(r->table), table);
	copy_str(r->chain, sizeof(r->chain), name);
	strcpy(r->text, "policy drop");
	r->verdict = VX_NFV_DROP;
	r->policy = true;
	return 1;
}

int vx_nft_parse_json(const char *json, struct vx_nf_ruleset *rs, char *err, size_t errsz)
{
	struct json_pos pos = {};
	json_t *root, *items, *it;
	json_error_t je;
	int ret = 0, added = 0;
	char none[1];
	size_t i;

	if (!err || !errsz) {
		err = none; /* only to write somewhere */
		errsz = sizeof(none);
	}
	if (!json) {
		snprintf(err, errsz, "no listing to decode");
		return -EINVAL;
	}
	root = json_loads(json, 0, &je);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return -ENOMEM;
		snprintf(err, errsz, "not JSON: line %d column %d: %s", je.line, je.column,
			 je.text);
		return -EINVAL;
	}
	items = json_object_get(root, "nftables");
	if (!json_is_array(items)) {
		snprintf(err, errsz, "no \"nftables\" array at the top");
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(items, i, it)
	{
		json_t *o;

		if (json_is_object(o = json_object_get(it, "rule")))
			ret = json_rule(o, &pos, rs);
		else if (json_is_object(o = json_object_get(it, "chain")))
			ret = json_chain(o, rs);
		else
			continue;
		if (ret < 0)
			break;
		added += ret;
	}
	json_decref(root);
	return ret < 0 ? ret : added;
}

/* ---- nft's text listing, for the rules' text ------------------------- */

static int rule_key_cmp(const void *a, const void *b)
{
	const struct vx_nf_rule *x = *(const struct vx_nf_rule *const *)a;
	const struct vx_nf_rule *y = *(const struct vx_nf_rule *const *)b;
	int c = strcmp(x->family, y->family);

	if (!c)
		c = strcmp(x->table, y->table);
	if (!c)
		c = x->handle < y->handle ? -1 : x->handle > y->handle;
	return c;
}

/* Where a rule's last line says "# handle N" (outside quotes, nothing
 * after N but blanks): the offset of '#' in @line, with N in *@handle;
 * -1 when it does not. */
static long handle_at(const char *line, size_t len, uint64_t *handle)
{
	long hash = -1;
	bool q = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '"' && (i == 0 || line[i - 1] != '\\'))
			q = !q;
		else if (!q && line[i] == '#' && len - i > 9 && !strncmp(line + i, "# handle ", 9))
			hash = i;
	}
	if (hash < 0)
		return -1;
	*handle = 0;
	for (i = hash + 9; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (*handle > (UINT64_MAX - 9) / 10)
			return -1; /* no handle is that large */
		*handle = *handle * 10 + (line[i] - '0');
	}
	if (i == (size_t)hash + 9)
		return -1;
	for (; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return -1;
	return hash;
}

/* One statement of a chain (or set), possibly wrapped over lines. */
struct stmt {
	char *buf;
	size_t len, cap;
	bool open;
};

static int stmt_add(struct stmt *s, const char *p, size_t len)
{
	if (s->len + len + 2 > s->cap) {
		size_t cap = (s->len + len + 2) * 2;
		char *b = realloc(s->buf, cap);

		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	if (s->len)
		s->buf[s->len++] = ' ';
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/* nft indents what it lists: a table at the margin, its chains and sets
 * one tab in, their statements two tabs in, the lines a long element list
 * wraps onto deeper still. The indent says where a line belongs, so no
 * brace in a comment or a set can mislead; a rule is the statement that
 * ends with "# handle N". */
int vx_nft_parse_texts(const char *listing, struct vx_nf_ruleset *rs)
{
	struct vx_nf_rule key = {}, *kp = &key, **idx, **hit;
	struct stmt s = {};
	int n_idx = 0, got = 0, ret = 0;
	bool *done;

	if (!listing)
		return 0;
	idx = malloc((rs->n ? rs->n : 1) * sizeof(*idx));
	done = calloc(rs->n ? rs->n : 1, sizeof(*done));
	if (!idx || !done) {
		free(idx);
		free(done);
		return -ENOMEM;
	}
	for (int i = 0; i < rs->n; i++)
		if (rs->r[i].source == VX_NFS_NFT && !rs->r[i].policy)
			idx[n_idx++] = &rs->r[i];
	qsort(idx, n_idx, sizeof(*idx), rule_key_cmp);

	while (*listing && n_idx) {
		const char *nl = strchr(listing, '\n'), *line = listing;
		size_t len = nl ? (size_t)(nl - listing) : strlen(listing);
		int tabs = 0;
		long h;

		listing += len + (nl ? 1 : 0);
		while (tabs < (int)len && line[tabs] == '\t')
			tabs++;
		if (tabs < 2) {
			s.open = false;
			s.len = 0;
			if (len == 0)
				continue; /* nft separates chains by one */
			if (tabs == 0 && len > 6 && !strncmp(line, "table ", 6)) {
				char head[VX_NF_NAME_MAX * 2 + 16];
				const char *p = head + 6;

				copy_n(head, sizeof(head), line, len);
				if (!next_token(&p, key.family, sizeof(key.family)) ||
				    !next_token(&p, key.table, sizeof(key.table)))
					key.family[0] = key.table[0] = '\0';
				/* "table NAME {" is of family ip */
				if (!strcmp(key.table, "{")) {
					copy_str(key.table, sizeof(key.table), key.family);
					strcpy(key.family, "ip");
				}
			} else if (tabs == 0) {
				key.family[0] = key.table[0] = '\0';
			}
			continue;
		}
		if (tabs == 2) {
			s.open = true;
			s.len = 0;
		} else if (!s.open) {
			continue;
		}
		line += tabs;
		len -= tabs;
		h = handle_at(line, len, &key.handle);
		ret = stmt_add(&s, line, h < 0 ? len : (size_t)h);
		if (ret)
			break;
		if (h < 0)
			continue;
		s.open = false;
		hit = key.table[0] ? bsearch(&kp, idx, n_idx, sizeof(*idx), rule_key_cmp) : NULL;
		if (hit) {
			squeeze(s.buf);
			copy_str((*hit)->text, sizeof((*hit)->text), s.buf);
			got += !done[hit - idx];
			done[hit - idx] = true;
		}
	}
	free(s.buf);
	free(done);
	free(idx);
	return ret ? ret : got;
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
	struct {
		char name[VX_NF_NAME_MAX];
		int n;
	} pos[64];
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

			if (!next_token(&s, chain, sizeof(chain)) ||
			    !next_token(&s, pol, sizeof(pol)))
				continue;
			if (strcmp(pol, "DROP"))
				continue;
			s = skip_ws(s);
			counted = !parse_counters(s, &pk, &by, &rest);
			if (source != VX_NFS_IPT_LEGACY)
				continue; /* nftables lists its own policies */
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
				continue; /* more chains than we track */
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
