// SPDX-License-Identifier: GPL-2.0-only
/* Netfilter counters compared, hooks inferred, and the kernel's rules read
 * (see policy.h); the dumps are decoded by policy_parse.c. Everything but
 * the reading at the end is pure, so tests/unit/test_policy.c can feed it
 * anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "json.h"
#include "log.h"
#include "netns.h"
#include "policy.h"

/* ---- counters -------------------------------------------------------- */

bool vx_nf_same_rule(const struct vx_nf_rule *a, const struct vx_nf_rule *b)
{
	if (a->source != b->source || a->policy != b->policy || strcmp(a->family, b->family) ||
	    strcmp(a->table, b->table) || strcmp(a->chain, b->chain))
		return false;
	if (a->policy)
		return true;
	if (a->source != VX_NFS_IPT_LEGACY && (a->handle || b->handle))
		return a->handle == b->handle;
	return !strcmp(a->text, b->text) && a->position == b->position;
}

int vx_nf_counter_hits(const struct vx_nf_ruleset *before, const struct vx_nf_ruleset *after,
		       struct vx_nf_hit *hits, int max)
{
	int n = 0;

	for (int i = 0; i < after->n; i++) {
		const struct vx_nf_rule *r = &after->r[i];
		uint64_t prev = 0;

		if (r->verdict == VX_NFV_OTHER || !r->has_counter)
			continue;
		for (int j = 0; before && j < before->n; j++)
			if (vx_nf_same_rule(&before->r[j], r)) {
				prev = before->r[j].packets;
				break;
			}
		/* A counter that went down was reset or the rule replaced:
		 * everything it has now is new. */
		if (r->packets < prev)
			prev = 0;
		if (r->packets == prev)
			continue;
		if (n < max) {
			hits[n].rule = r;
			hits[n].packets = r->packets - prev;
		}
		n++;
	}
	return n;
}

int vx_nf_watch_read(struct vx_nf_watch *w, struct vx_nf_hit *hits, int max)
{
	struct vx_nf_ruleset now = {};
	int n, ret = vx_nf_read_ruleset(w->netns, &now);

	if (ret) {
		vx_nf_ruleset_free(&now);
		return ret;
	}
	n = vx_nf_counter_hits(w->have_snap ? &w->snap : NULL, &now, hits, max);
	vx_nf_ruleset_free(&w->snap);
	w->snap = now;
	w->have_snap = true;
	return n;
}

void vx_nf_watch_free(struct vx_nf_watch *w)
{
	vx_nf_ruleset_free(&w->snap);
	w->have_snap = false;
}

int vx_nf_uncounted_droppers(const struct vx_nf_ruleset *rs)
{
	int n = 0;

	for (int i = 0; i < rs->n; i++)
		if (rs->r[i].verdict != VX_NFV_OTHER && !rs->r[i].has_counter)
			n++;
	return n;
}

void vx_nf_rule_json(struct jw *w, const struct vx_nf_rule *x)
{
	jw_str(w, "source", vx_nf_source_name(x->source));
	jw_str(w, "family", x->family);
	jw_str(w, "table", x->table);
	jw_str(w, "chain", x->chain);
	if (x->policy) {
		jw_bool(w, "policy", true);
	} else {
		jw_int(w, "position", x->position);
		if (x->handle)
			jw_uint(w, "handle", x->handle);
	}
	jw_str(w, "verdict", vx_nf_verdict_name(x->verdict));
	jw_str(w, "text", x->text);
}

const char *vx_nf_why_unattributed(bool readable, const struct vx_nf_ruleset *rs)
{
	if (!readable)
		return "the namespace has no name vxray can enter to read its rules";
	if (vx_nf_uncounted_droppers(rs))
		return "DROP/REJECT rules without counters there (nft rules need a `counter` statement)";
	return "no DROP/REJECT rule counter rose (a conntrack or other netfilter verdict, or a rule vxray cannot read)";
}

/* ---- hooks ----------------------------------------------------------- */

static const struct {
	const char *sym;
	enum vx_nf_hook hook;
	int family;
} hook_callers[] = {
	/* IPv4: the functions that run NF_HOOK/nf_hook for each hook */
	{ "ip_rcv", VX_NFH_PREROUTING, 4 },
	{ "ip_sublist_rcv", VX_NFH_PREROUTING, 4 },
	{ "ip_list_rcv", VX_NFH_PREROUTING, 4 },
	{ "ip_local_deliver", VX_NFH_INPUT, 4 },
	{ "ip_forward", VX_NFH_FORWARD, 4 },
	{ "__ip_local_out", VX_NFH_OUTPUT, 4 },
	{ "ip_local_out", VX_NFH_OUTPUT, 4 },
	{ "raw_send_hdrinc", VX_NFH_OUTPUT, 4 },
	{ "ip_output", VX_NFH_POSTROUTING, 4 },
	{ "ip_mc_output", VX_NFH_POSTROUTING, 4 },
	/* IPv6 */
	{ "ipv6_rcv", VX_NFH_PREROUTING, 6 },
	{ "ip6_sublist_rcv", VX_NFH_PREROUTING, 6 },
	{ "ipv6_list_rcv", VX_NFH_PREROUTING, 6 },
	{ "ip6_input", VX_NFH_INPUT, 6 },
	{ "ip6_forward", VX_NFH_FORWARD, 6 },
	{ "__ip6_local_out", VX_NFH_OUTPUT, 6 },
	{ "ip6_local_out", VX_NFH_OUTPUT, 6 },
	{ "ip6_xmit", VX_NFH_OUTPUT, 6 },
	{ "rawv6_send_hdrinc", VX_NFH_OUTPUT, 6 },
	{ "ip6_output", VX_NFH_POSTROUTING, 6 },
	{ "ip6_finish_output2", VX_NFH_POSTROUTING, 6 },
	/* netdev family */
	{ "__netif_receive_skb_core", VX_NFH_INGRESS, 0 },
	{ "__dev_queue_xmit", VX_NFH_OUTPUT, 0 },
};

enum vx_nf_hook vx_nf_hook_from_stack(const char *const *syms, int n, int *family)
{
	int i = 0;

	*family = 0;
	/* Only frames below the hook runner belong to its caller. */
	for (; i < n; i++)
		if (syms[i] && !strcmp(syms[i], "nf_hook_slow"))
			break;
	if (i == n)
		return VX_NFH_UNKNOWN;
	for (i++; i < n; i++) {
		if (!syms[i])
			continue;
		for (size_t k = 0; k < sizeof(hook_callers) / sizeof(hook_callers[0]); k++)
			if (!strcmp(syms[i], hook_callers[k].sym)) {
				*family = hook_callers[k].family;
				return hook_callers[k].hook;
			}
	}
	return VX_NFH_UNKNOWN;
}

const char *vx_nf_source_name(enum vx_nf_source s)
{
	switch (s) {
	case VX_NFS_NFT: return "nftables";
	case VX_NFS_IPT_NFT: return "iptables-nft";
	case VX_NFS_IPT_LEGACY: return "iptables-legacy";
	}
	return "?";
}

const char *vx_nf_verdict_name(enum vx_nf_verdict v)
{
	return v == VX_NFV_DROP ? "DROP" : v == VX_NFV_REJECT ? "REJECT" : "other";
}

/* ---- reading the kernel's rules -------------------------------------- */

#define SAVE_MAX (4 << 20)

/* The whole stdout of @argv (run in vxray's current namespace), or NULL
 * when it cannot run or fails. */
static char *run_capture(char *const argv[])
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fds[2], status;
	pid_t pid;
	ssize_t r;

	if (!buf || pipe2(fds, O_CLOEXEC)) {
		free(buf);
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if (len + 1 >= cap && cap < SAVE_MAX) {
			char *n = realloc(buf, cap * 2);

			if (!n)
				break;
			buf = n;
			cap *= 2;
		}
		if (len + 1 >= cap)
			break; /* absurdly large: decode what fits */
		r = read(fds[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_debug("%s exited %d", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Whether x_tables has instantiated any table of this family here: only
 * then is there an iptables-legacy ruleset to read (and reading it cannot
 * create one). */
static bool legacy_tables(const char *proc)
{
	char buf[64];
	FILE *f = fopen(proc, "r");
	bool any;

	if (!f)
		return false;
	any = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	return any;
}

static bool has_iptables_nft(const struct vx_nf_ruleset *rs, const char *family)
{
	static const char *const tables[] = { "filter", "nat", "mangle", "raw", "security" };

	for (int i = 0; i < rs->n; i++)
		for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
			if (!strcmp(rs->r[i].family, family) && !strcmp(rs->r[i].table, tables[t]))
				return true;
	return false;
}

static int read_save(char *tool, const char *family, enum vx_nf_source src,
		     struct vx_nf_ruleset *into)
{
	char *argv[] = { tool, "-c", NULL };
	char *out = run_capture(argv);
	int ret;

	if (!out) {
		pr_debug("%s -c gave nothing to read", tool);
		return 0;
	}
	ret = vx_ipt_parse_save(out, family, src, into);
	free(out);
	return ret < 0 ? ret : 0;
}

/* One `list ruleset` through libnftables with output @flags; the listing
 * stays valid until the next command on @nft. */
static const char *nft_list(struct nft_ctx *nft, unsigned int flags)
{
	nft_ctx_output_set_flags(nft, flags);
	if (nft_run_cmd_from_buffer(nft, "list ruleset")) {
		pr_debug("nft list ruleset: %s", nft_ctx_get_error_buffer(nft));
		return NULL;
	}
	return nft_ctx_get_output_buffer(nft);
}

/* nftables (and so iptables-nft) over netlink, read-only: the rules from
 * the JSON listing, their text from the text listing. The text is nft's
 * own rendering, right for every expression nft knows; rendering the JSON
 * "expr" arrays here would have to redo nft's printer. A rule added
 * between the two listings has no text yet: one more text listing usually
 * catches it, and the next read surely does. */
static int read_nft(struct vx_nf_ruleset *rs)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	char why[160];
	const char *out;
	int ret = 0, rules = 0;

	if (!nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		ret = -ENOMEM;
		goto out;
	}
	out = nft_list(nft, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	if (!out)
		goto out; /* no nftables here: nothing to read */
	ret = vx_nft_parse_json(out, rs, why, sizeof(why));
	if (ret == -EINVAL) {
		pr_warn("cannot decode libnftables' JSON listing of the ruleset (%s); "
			"`nft -j list ruleset` shows what it printed",
			why);
		ret = -EBADMSG;
	}
	if (ret <= 0)
		goto out;
	for (int i = 0; i < rs->n; i++)
		rules += rs->r[i].source == VX_NFS_NFT && !rs->r[i].policy;
	if (!rules)
		goto out; /* only policies: their text is known */
	for (int tries = 0; tries < 2; tries++) {
		out = nft_list(nft, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
		ret = out ? vx_nft_parse_texts(out, rs) : 0;
		if (ret < 0 || ret == rules)
			break;
	}
	ret = ret < 0 ? ret : 0;
out:
	nft_ctx_free(nft);
	return ret;
}

static int read_here(struct vx_nf_ruleset *rs)
{
	struct vx_nf_ruleset ipt = {};
	int ret = read_nft(rs);

	if (ret < 0)
		return ret;

	/* iptables-nft rules get the text their author wrote */
	ret = 0;
	if (has_iptables_nft(rs, "ip"))
		ret = read_save("iptables-nft-save", "ip", VX_NFS_IPT_NFT, &ipt);
	if (!ret && has_iptables_nft(rs, "ip6"))
		ret = read_save("ip6tables-nft-save", "ip6", VX_NFS_IPT_NFT, &ipt);
	if (!ret)
		vx_nf_merge_iptables_nft(rs, &ipt);
	vx_nf_ruleset_free(&ipt);

	if (!ret && legacy_tables("/proc/net/ip_tables_names"))
		ret = read_save("iptables-legacy-save", "ip", VX_NFS_IPT_LEGACY, rs);
	if (!ret && legacy_tables("/proc/net/ip6_tables_names"))
		ret = read_save("ip6tables-legacy-save", "ip6", VX_NFS_IPT_LEGACY, rs);
	return ret;
}

int vx_nf_read_ruleset(const char *netns, struct vx_nf_ruleset *rs)
{
	int saved, ret;

	rs->n = 0;
	ret = vx_netns_enter(netns, &saved);
	if (ret)
		return ret;
	ret = read_here(rs);
	vx_netns_leave(saved);
	return ret;
}
