// SPDX-License-Identifier: GPL-2.0-only
/* The rule-dump decoders (nft's JSON and text listings, iptables-save),
 * counter matching and hook inference of `vxray policy`: real nft and
 * iptables-save output as the tools print it, and malformed input, which
 * must neither crash nor invent rules, and whose JSON errors say where. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

/* nft -j list ruleset, as nft 1.0.6 prints two tables in two families
 * (one with an iptables-nft-like chain and a jump to a chain that logs
 * and drops) and a native one with a named set, a drop policy, a goto
 * and a verdict map. Counter values set by hand where no lab traffic
 * reaches. */
static const char nft_json[] =
	"{\"nftables\": ["
	"{\"metainfo\": {\"version\": \"1.0.6\", \"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, "
	"{\"table\": {\"family\": \"ip\", \"name\": \"filter\", \"handle\": 1}}, "
	"{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"INPUT\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}}, "
	"{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"LOG_DROP\", \"handle\": 2}}, "
	"{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"INPUT\", \"handle\": 3, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"vx0\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 9000}}, {\"counter\": {\"packets\": 7, \"bytes\": 420}}, {\"reject\": {\"type\": \"tcp reset\"}}]}}, "
	"{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"INPUT\", \"handle\": 4, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"vx0\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"l4proto\"}}, \"right\": \"icmp\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"172.16.0.1\"}}, {\"counter\": {\"packets\": 5, \"bytes\": 420}}, {\"drop\": null}]}}, "
	"{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"INPUT\", \"handle\": 5, \"expr\": [{\"jump\": {\"target\": \"LOG_DROP\"}}]}}, "
	"{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"LOG_DROP\", \"handle\": 6, \"expr\": [{\"counter\": {\"packets\": 1, \"bytes\": 60}}, {\"log\": {\"prefix\": \"drop \"}}, {\"drop\": null}]}}, "
	"{\"table\": {\"family\": \"inet\", \"name\": \"t\", \"handle\": 2}}, "
	"{\"set\": {\"family\": \"inet\", \"name\": \"bad\", \"table\": \"t\", \"type\": \"ipv4_addr\", \"handle\": 3, \"elem\": [\"10.0.0.1\", \"10.0.0.2\"]}}, "
	"{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}}, "
	"{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"d\", \"handle\": 2}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 4, \"comment\": \"drop dns; { not a brace # handle 9\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, \"right\": 53}}, {\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"drop\": null}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 5, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 22}}, {\"reject\": {\"type\": \"icmpx\", \"expr\": \"port-unreachable\"}}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 6, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"@bad\"}}, {\"accept\": null}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 8, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": {\"set\": [80, 443]}}}, {\"counter\": {\"packets\": 9, \"bytes\": 9}}, {\"drop\": null}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 10, \"expr\": [{\"vmap\": {\"key\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"data\": {\"set\": [[23, {\"drop\": null}], [24, {\"accept\": null}]]}}}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 11, \"expr\": [{\"goto\": {\"target\": \"d\"}}]}}, "
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"d\", \"handle\": 12, \"expr\": [{\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"accept\": null}]}}, "
	"{\"table\": {\"family\": \"ip6\", \"name\": \"six\", \"handle\": 3}}, "
	"{\"chain\": {\"family\": \"ip6\", \"table\": \"six\", \"name\": \"o\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"output\", \"prio\": 0, \"policy\": \"accept\"}}, "
	"{\"rule\": {\"family\": \"ip6\", \"table\": \"six\", \"chain\": \"o\", \"handle\": 2, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip6\", \"field\": \"daddr\"}}, \"right\": \"::1\"}}, {\"counter\": {\"packets\": 6, \"bytes\": 768}}, {\"reject\": {\"type\": \"icmpv6\", \"expr\": \"port-unreachable\"}}]}}]}";

/* nft -a -s list ruleset of the same ruleset. */
static const char nft_text[] =
	"table ip filter { # handle 1\n"
	"\tchain INPUT { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiifname \"vx0\" tcp dport 9000 counter reject with tcp reset # handle 3\n"
	"\t\tiifname \"vx0\" meta l4proto icmp ip saddr 172.16.0.1 counter drop # handle 4\n"
	"\t\tjump LOG_DROP # handle 5\n"
	"\t}\n"
	"\n"
	"\tchain LOG_DROP { # handle 2\n"
	"\t\tcounter log prefix \"drop \" drop # handle 6\n"
	"\t}\n"
	"}\n"
	"table inet t { # handle 2\n"
	"\tset bad { # handle 3\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.0.0.1, 10.0.0.2 }\n"
	"\t}\n"
	"\n"
	"\tchain c { # handle 1\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t\tudp dport 53 counter drop comment \"drop dns; { not a brace # handle 9\" # handle 4\n"
	"\t\ttcp dport 22 reject # handle 5\n"
	"\t\tip saddr @bad accept # handle 6\n"
	"\t\ttcp dport { 80, 443 } counter drop # handle 8\n"
	"\t\ttcp dport vmap { 23 : drop, 24 : accept } # handle 10\n"
	"\t\tgoto d # handle 11\n"
	"\t}\n"
	"\n"
	"\tchain d { # handle 2\n"
	"\t\tcounter accept # handle 12\n"
	"\t}\n"
	"}\n"
	"table ip6 six { # handle 3\n"
	"\tchain o { # handle 1\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\tip6 daddr ::1 counter reject # handle 2\n"
	"\t}\n"
	"}\n";

static void nft_json_parses_rules(void **state)
{
	struct vx_nf_ruleset rs = {};
	const struct vx_nf_rule *r;
	char err[128] = "";

	assert_int_equal(vx_nft_parse_json(nft_json, &rs, err, sizeof(err)), 13);
	assert_string_equal(err, "");
	r = &rs.r[0];
	assert_string_equal(r->family, "ip");
	assert_string_equal(r->table, "filter");
	assert_string_equal(r->chain, "INPUT");
	assert_int_equal(r->source, VX_NFS_NFT);
	assert_int_equal(r->handle, 3);
	assert_int_equal(r->position, 1);
	assert_true(r->has_counter);
	assert_int_equal(r->packets, 7);
	assert_int_equal(r->bytes, 420);
	assert_int_equal(r->verdict, VX_NFV_REJECT);
	assert_string_equal(r->text, ""); /* the text listing's to give */
	r = &rs.r[1];
	assert_int_equal(r->handle, 4);
	assert_int_equal(r->position, 2);
	assert_int_equal(r->packets, 5);
	assert_int_equal(r->verdict, VX_NFV_DROP);
	r = &rs.r[2];
	assert_int_equal(r->position, 3);
	assert_int_equal(r->verdict, VX_NFV_OTHER); /* a jump is no verdict of its own */
	assert_false(r->has_counter);
	r = &rs.r[3];
	assert_string_equal(r->chain, "LOG_DROP");
	assert_int_equal(r->position, 1);
	assert_int_equal(r->verdict, VX_NFV_DROP);
	assert_int_equal(r->packets, 1);
	/* a base chain's drop policy, before its chain's rules */
	r = &rs.r[4];
	assert_true(r->policy);
	assert_string_equal(r->family, "inet");
	assert_string_equal(r->table, "t");
	assert_string_equal(r->chain, "c");
	assert_string_equal(r->text, "policy drop");
	assert_int_equal(r->verdict, VX_NFV_DROP);
	assert_int_equal(r->position, 0);
	assert_int_equal(r->handle, 0);
	assert_false(r->has_counter);
	r = &rs.r[5];
	assert_int_equal(r->handle, 4);
	assert_int_equal(r->position, 1);
	assert_true(r->has_counter);
	assert_int_equal(r->packets, 0);
	assert_int_equal(r->verdict, VX_NFV_DROP);
	r = &rs.r[6];
	assert_false(r->has_counter);
	assert_int_equal(r->verdict, VX_NFV_REJECT);
	assert_int_equal(rs.r[7].verdict, VX_NFV_OTHER); /* accept */
	r = &rs.r[8];
	assert_int_equal(r->handle, 8);
	assert_int_equal(r->position, 4);
	assert_int_equal(r->packets, 9);
	assert_int_equal(r->verdict, VX_NFV_DROP);
	/* a verdict map's counter would count what it accepts too */
	assert_int_equal(rs.r[9].verdict, VX_NFV_OTHER);
	assert_int_equal(rs.r[10].verdict, VX_NFV_OTHER); /* goto */
	r = &rs.r[11];
	assert_string_equal(r->chain, "d");
	assert_int_equal(r->position, 1);
	assert_true(r->has_counter);
	assert_int_equal(r->verdict, VX_NFV_OTHER);
	r = &rs.r[12];
	assert_string_equal(r->family, "ip6");
	assert_string_equal(r->table, "six");
	assert_int_equal(r->handle, 2);
	assert_int_equal(r->packets, 6);
	assert_int_equal(r->bytes, 768);
	assert_int_equal(r->verdict, VX_NFV_REJECT);
	/* the drop policy and the reject without counter */
	assert_int_equal(vx_nf_uncounted_droppers(&rs), 2);
	vx_nf_ruleset_free(&rs);
}

static void nft_text_names_rules(void **state)
{
	struct vx_nf_ruleset rs = {};

	assert_int_equal(vx_nft_parse_json(nft_json, &rs, NULL, 0), 13);
	/* every rule but the policy, matched by family, table and handle */
	assert_int_equal(vx_nft_parse_texts(nft_text, &rs), 12);
	assert_string_equal(rs.r[0].text,
			    "iifname \"vx0\" tcp dport 9000 counter reject with tcp reset");
	assert_string_equal(rs.r[2].text, "jump LOG_DROP");
	assert_string_equal(rs.r[3].text, "counter log prefix \"drop \" drop");
	assert_string_equal(rs.r[4].text, "policy drop");
	/* "# handle 9" inside the comment is not the handle */
	assert_string_equal(
		rs.r[5].text,
		"udp dport 53 counter drop comment \"drop dns; { not a brace # handle 9\"");
	assert_string_equal(rs.r[9].text, "tcp dport vmap { 23 : drop, 24 : accept }");
	assert_string_equal(rs.r[11].text, "counter accept");
	/* same handle, other table */
	assert_string_equal(rs.r[12].text, "ip6 daddr ::1 counter reject");
	vx_nf_ruleset_free(&rs);
}

static void nft_text_wrapped_and_partial(void **state)
{
	/* Long element lists wrap onto deeper lines (older nft wraps
	 * anonymous sets too); a named set's elements make no rule; a rule
	 * the JSON listing had but the text listing not (deleted between the
	 * two) keeps no text, one only the text listing has (added between
	 * them) names nothing. */
	static const char json[] =
		"{\"nftables\": [{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\", \"handle\": 1}}, "
		"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 6, \"expr\": [{\"drop\": null}]}}, "
		"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"handle\": 7, \"expr\": [{\"accept\": null}]}}]}";
	static const char text[] = "table inet t { # handle 2\n"
				   "\tset bad { # handle 4\n"
				   "\t\ttype ipv4_addr\n"
				   "\t\telements = { 10.0.0.1,\n"
				   "\t\t\t     10.0.0.2 }\n"
				   "\t}\n"
				   "\n"
				   "\tchain c { # handle 1\n"
				   "\t\ttcp dport { 80,\n"
				   "\t\t\t     443 } counter drop # handle 6\n"
				   "\t\tudp dport 1 drop # handle 8\n"
				   "\t}\n"
				   "}\n";
	struct vx_nf_ruleset rs = {};

	assert_int_equal(vx_nft_parse_json(json, &rs, NULL, 0), 2);
	assert_int_equal(vx_nft_parse_texts(text, &rs), 1);
	assert_string_equal(rs.r[0].text, "tcp dport { 80, 443 } counter drop");
	assert_string_equal(rs.r[1].text, "");
	vx_nf_ruleset_free(&rs);
}

static const char ipt_save[] =
	"# Generated by iptables-save v1.8.9 on Wed Nov 25 13:18:27 2026\n"
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD DROP [4:336]\n"
	":OUTPUT ACCEPT [0:0]\n"
	"[7:420] -A INPUT -i vx0 -p tcp -m tcp --dport 9000 -m comment --comment \"s2 reject -j DROP\" -j REJECT --reject-with tcp-reset\n"
	"[5:420] -A INPUT -s 172.16.0.1/32 -i vx0 -p icmp -m comment --comment \"vxray-lab scenario 2: drop overlay ICMP\" -j DROP\n"
	"[1:60] -A INPUT -j LOG_DROP\n"
	"-A INPUT -p udp -j DROP\n"
	"COMMIT\n"
	"*raw\n"
	":PREROUTING ACCEPT [0:0]\n"
	"[3:180] -A PREROUTING -p tcp -j DROP\n"
	"COMMIT\n";

static void ipt_parses_rules(void **state)
{
	struct vx_nf_ruleset rs = {};
	const struct vx_nf_rule *r;

	assert_int_equal(vx_ipt_parse_save(ipt_save, "ip", VX_NFS_IPT_LEGACY, &rs), 6);
	r = &rs.r[0];
	assert_true(r->policy);
	assert_string_equal(r->chain, "FORWARD");
	assert_true(r->has_counter);
	assert_int_equal(r->packets, 4);
	r = &rs.r[1];
	assert_int_equal(r->position, 1);
	assert_int_equal(r->packets, 7);
	/* the -j inside the comment is not the target */
	assert_int_equal(r->verdict, VX_NFV_REJECT);
	r = &rs.r[2];
	assert_string_equal(r->table, "filter");
	assert_string_equal(
		r->text,
		"-A INPUT -s 172.16.0.1/32 -i vx0 -p icmp -m comment --comment \"vxray-lab scenario 2: drop overlay ICMP\" -j DROP");
	assert_int_equal(r->position, 2);
	assert_int_equal(r->verdict, VX_NFV_DROP);
	assert_int_equal(rs.r[3].verdict, VX_NFV_OTHER); /* LOG_DROP is a chain */
	assert_false(rs.r[4].has_counter);
	assert_int_equal(rs.r[4].position, 4);
	r = &rs.r[5];
	assert_string_equal(r->table, "raw");
	assert_int_equal(r->position, 1);
	vx_nf_ruleset_free(&rs);

	/* iptables-nft leaves policies to the nftables listing */
	assert_int_equal(vx_ipt_parse_save(ipt_save, "ip", VX_NFS_IPT_NFT, &rs), 5);
	vx_nf_ruleset_free(&rs);
}

static void merge_gives_iptables_text(void **state)
{
	struct vx_nf_ruleset nft = {}, ipt = {};

	assert_int_equal(vx_nft_parse_json(nft_json, &nft, NULL, 0), 13);
	assert_int_equal(vx_nft_parse_texts(nft_text, &nft), 12);
	assert_int_equal(vx_ipt_parse_save(ipt_save, "ip", VX_NFS_IPT_NFT, &ipt), 5);
	/* INPUT 1 to 3 exist in both; INPUT 4 and raw only in ipt */
	assert_int_equal(vx_nf_merge_iptables_nft(&nft, &ipt), 3);
	assert_int_equal(nft.r[1].source, VX_NFS_IPT_NFT);
	assert_int_equal(nft.r[1].handle, 4);
	assert_int_equal(nft.r[1].packets, 5);
	assert_non_null(strstr(nft.r[1].text, "scenario 2: drop overlay ICMP"));
	assert_string_equal(nft.r[2].text, "-A INPUT -j LOG_DROP");
	assert_int_equal(nft.r[3].source, VX_NFS_NFT); /* chain LOG_DROP is not in ipt */
	assert_int_equal(nft.r[5].source, VX_NFS_NFT); /* inet t stays native */
	vx_nf_ruleset_free(&nft);
	vx_nf_ruleset_free(&ipt);
}

static void counter_hits(void **state)
{
	struct vx_nf_ruleset a = {}, b = {};
	struct vx_nf_hit hits[8];
	char *later = strdup(ipt_save), *p;
	int n;

	assert_int_equal(vx_ipt_parse_save(ipt_save, "ip", VX_NFS_IPT_LEGACY, &a), 6);
	/* three more ICMP drops, the LOG_DROP jump (not a verdict) counts too */
	p = strstr(later, "[5:420]");
	memcpy(p, "[8:672]", 7);
	p = strstr(later, "[1:60]");
	memcpy(p, "[2:99]", 6);
	assert_int_equal(vx_ipt_parse_save(later, "ip", VX_NFS_IPT_LEGACY, &b), 6);
	n = vx_nf_counter_hits(&a, &b, hits, 8);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].packets, 3);
	assert_ptr_equal(hits[0].rule, &b.r[2]);
	/* same snapshot: nothing */
	assert_int_equal(vx_nf_counter_hits(&b, &b, hits, 8), 0);
	/* no earlier snapshot: every counted dropper with packets */
	n = vx_nf_counter_hits(NULL, &b, hits, 8);
	assert_int_equal(n, 4);
	/* a reset counter counts from zero */
	n = vx_nf_counter_hits(&b, &a, hits, 8);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].packets, 5);
	/* more hits than room: the count is still right */
	assert_int_equal(vx_nf_counter_hits(NULL, &b, hits, 1), 4);
	free(later);
	vx_nf_ruleset_free(&a);
	vx_nf_ruleset_free(&b);
}

static void nft_counter_hits(void **state)
{
	struct vx_nf_ruleset a = {}, b = {};
	struct vx_nf_hit hits[8];
	char *later = strdup(nft_json), *p;

	assert_int_equal(vx_nft_parse_json(nft_json, &a, NULL, 0), 13);
	/* three more drops by handle 4 of ip filter */
	p = strstr(later, "\"packets\": 5, \"bytes\": 420");
	assert_non_null(p);
	memcpy(p, "\"packets\": 8, \"bytes\": 672", 26);
	assert_int_equal(vx_nft_parse_json(later, &b, NULL, 0), 13);
	assert_int_equal(vx_nf_counter_hits(&a, &b, hits, 8), 1);
	assert_ptr_equal(hits[0].rule, &b.r[1]);
	assert_int_equal(hits[0].packets, 3);
	/* no earlier snapshot: the counted DROP/REJECT rules with packets */
	assert_int_equal(vx_nf_counter_hits(NULL, &b, hits, 8), 5);
	free(later);
	vx_nf_ruleset_free(&a);
	vx_nf_ruleset_free(&b);
}

static void nft_handles_identify_rules(void **state)
{
	struct vx_nf_rule x = { .family = "ip",
				.table = "filter",
				.chain = "INPUT",
				.handle = 4,
				.position = 1,
				.text = "a" };
	struct vx_nf_rule y = x;

	y.position = 2; /* a rule inserted above moves it */
	strcpy(y.text, "b");
	assert_true(vx_nf_same_rule(&x, &y));
	y.handle = 5;
	assert_false(vx_nf_same_rule(&x, &y));
	x.source = y.source = VX_NFS_IPT_LEGACY;
	y = x;
	assert_true(vx_nf_same_rule(&x, &y));
	y.position = 3;
	assert_false(vx_nf_same_rule(&x, &y));
}

static void malformed_nft_json(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"nftables\": [",
		"{\"nftables\": []} x",
		"nft list ruleset\n",
		"{\"nftables\": [{\"rule\": {\"handle\": 99999999999999999999999}}]}",
	};
	static const char *const no_array[] = { "[]", "{}", "{\"nftables\": {}}",
						"{\"nftables\": 7}" };
	/* well-formed JSON, but nothing a rule can be made of */
	static const char odd[] =
		"{\"nftables\": [1, \"x\", null, [], {\"rule\": 5}, {\"rule\": {\"family\": \"ip\"}}, "
		"{\"chain\": {\"family\": \"ip\", \"table\": \"x\", \"name\": \"c\", \"policy\": \"drop\"}}, "
		"{\"chain\": {\"family\": 4, \"table\": \"x\", \"name\": \"c\", \"hook\": \"input\", \"policy\": \"drop\"}}, "
		"{\"chain\": {\"family\": \"ip\", \"table\": \"x\", \"name\": \"c\", \"hook\": \"input\", \"policy\": \"accept\"}}]}";
	/* a rule with every field out of shape: what fits is kept */
	static const char odd_rule[] =
		"{\"nftables\": [{\"rule\": {\"family\": \"inet6789\", \"table\": "
		"\"ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\", "
		"\"chain\": \"c\", \"handle\": -1, \"expr\": [{\"counter\": {\"packets\": \"7\", \"bytes\": 1}}, "
		"{\"counter\": \"named\"}, {\"counter\": {\"packets\": 2, \"bytes\": 3}}, {\"drop\": 1}]}}]}";
	struct vx_nf_ruleset rs = {};
	char err[128], tiny[8], deep[5000];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vx_nft_parse_json(bad[i], &rs, err, sizeof(err)), -EINVAL);
		assert_int_equal(rs.n, 0);
		/* where jansson stopped, and why */
		assert_true(!strncmp(err, "not JSON: line ", 15));
	}
	for (size_t i = 0; i < sizeof(no_array) / sizeof(no_array[0]); i++) {
		assert_int_equal(vx_nft_parse_json(no_array[i], &rs, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "no \"nftables\" array at the top");
	}
	assert_int_equal(vx_nft_parse_json(NULL, &rs, err, sizeof(err)), -EINVAL);
	assert_int_equal(vx_nft_parse_json("", &rs, NULL, 0), -EINVAL);
	assert_int_equal(vx_nft_parse_json("", &rs, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	/* nesting beyond jansson's limit is an error, not a deep recursion */
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(vx_nft_parse_json(deep, &rs, err, sizeof(err)), -EINVAL);

	assert_int_equal(vx_nft_parse_json(odd, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 0);
	assert_int_equal(vx_nft_parse_json(odd_rule, &rs, err, sizeof(err)), 1);
	assert_string_equal(rs.r[0].family, "inet678");
	assert_int_equal(strlen(rs.r[0].table), VX_NF_NAME_MAX - 1);
	assert_int_equal(rs.r[0].handle, 0);
	assert_int_equal(rs.r[0].position, 1);
	assert_true(rs.r[0].has_counter);
	assert_int_equal(rs.r[0].packets, 2);
	assert_int_equal(rs.r[0].bytes, 3);
	assert_int_equal(rs.r[0].verdict, VX_NFV_DROP);
	vx_nf_ruleset_free(&rs);
}

static void malformed_nft_text(void **state)
{
	static const char *const bad[] = {
		"",
		"}}}}\n",
		"table\n",
		"table ip\n",
		"table ip filter {\n\tchain\n",
		"table ip filter {\n\tchain c {\n\t\tcounter drop # handle\n",
		"table ip filter {\n\tchain c {\n\t\tdrop # handle 99999999999999999999999\n",
		"table ip filter {\n\tchain c {\n\t\tdrop # handle 3 x\n",
		"table ip filter {\n\tchain c {\n\t\t\"unterminated { drop # handle 3\n\t}\n}\n",
		"table ip filter {\n\tchain c {\n\t\ttcp dport { 1,\n",
		"table ip x {\n\tchain c {\n\t\tdrop # handle 3\n", /* a table JSON did not list */
		"\t\tdrop # handle 3\n",			    /* a rule outside any table */
		"table ip filter {\n\t\t\t443 } drop # handle 3\n", /* a wrap without its start */
	};
	struct vx_nf_ruleset rs = {};
	char big[8192];

	assert_int_equal(vx_nft_parse_json(nft_json, &rs, NULL, 0), 13);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vx_nft_parse_texts(bad[i], &rs), 0);
		assert_string_equal(rs.r[0].text, "");
	}
	assert_int_equal(vx_nft_parse_texts(NULL, &rs), 0);
	assert_int_equal(vx_nft_parse_texts("table ip filter {\n\t\tdrop # handle 3 \n", &rs), 1);
	assert_string_equal(rs.r[0].text, "drop");
	/* one rule far longer than its text's room */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "table ip filter {\n\t\t", 20);
	strcpy(big + sizeof(big) - 12, "# handle 3\n");
	assert_int_equal(vx_nft_parse_texts(big, &rs), 1);
	assert_int_equal(strlen(rs.r[0].text), VX_NF_TEXT_MAX - 1);
	vx_nf_ruleset_free(&rs);

	/* no rules to name: nothing to do */
	assert_int_equal(vx_nft_parse_texts(nft_text, &rs), 0);
}

static void malformed_ipt(void **state)
{
	static const char *const bad_ipt[] = {
		"",
		"*\n",
		"[1:2] -A\n",
		"*filter\n[1 -A INPUT -j DROP\n",
		"*filter\n[:] -A X -j DROP\n",
		"-A INPUT -j DROP\n", /* before any table */
		"*filter\n:INPUT\n:FORWARD DROP [x:y]\n[1:2]-A\n[1:2] -A \"open -j DROP\n",
	};
	struct vx_nf_ruleset rs = {};
	char big[8192];

	for (size_t i = 0; i < sizeof(bad_ipt) / sizeof(bad_ipt[0]); i++) {
		assert_true(vx_ipt_parse_save(bad_ipt[i], "ip", VX_NFS_IPT_LEGACY, &rs) >= 0);
		for (int k = 0; k < rs.n; k++)
			assert_true(strlen(rs.r[k].text) < sizeof(rs.r[k].text));
		vx_nf_ruleset_free(&rs);
	}
	assert_int_equal(vx_ipt_parse_save(bad_ipt[5], "ip", VX_NFS_IPT_LEGACY, &rs), 0);
	/* one line far longer than any buffer */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "*filter\n[1:2] -A INPUT -j DROP ", 31);
	assert_int_equal(vx_ipt_parse_save(big, "ip", VX_NFS_IPT_LEGACY, &rs), 1);
	assert_true(strlen(rs.r[0].text) < VX_NF_TEXT_MAX);
	vx_nf_ruleset_free(&rs);
}

static void hooks_from_stacks(void **state)
{
	static const char *const input[] = {
		"sk_skb_reason_drop",	 "nf_hook_slow",   "ip_local_deliver",
		"ip_sublist_rcv_finish", "ip_sublist_rcv", "ip_list_rcv",
	};
	static const char *const pre[] = {
		"kfree_skb_reason",  "nft_do_chain",   "nf_hook_slow",
		"nf_hook_slow_list", "ip_sublist_rcv", "ip_list_rcv",
	};
	static const char *const out6[] = {
		"sk_skb_reason_drop",
		"nf_hook_slow",
		"ip6_xmit",
		"inet6_csk_xmit",
	};
	/* ip_rcv above nf_hook_slow is not its caller */
	static const char *const none[] = { "ip_rcv", "nf_hook_slow", NULL, "tcp_v4_rcv" };
	static const char *const no_nf[] = { "sk_skb_reason_drop", "ip_rcv" };
	int fam;

	assert_int_equal(vx_nf_hook_from_stack(input, 6, &fam), VX_NFH_INPUT);
	assert_int_equal(fam, 4);
	assert_int_equal(vx_nf_hook_from_stack(pre, 6, &fam), VX_NFH_PREROUTING);
	assert_int_equal(vx_nf_hook_from_stack(out6, 4, &fam), VX_NFH_OUTPUT);
	assert_int_equal(fam, 6);
	assert_int_equal(vx_nf_hook_from_stack(none, 4, &fam), VX_NFH_UNKNOWN);
	assert_int_equal(vx_nf_hook_from_stack(no_nf, 2, &fam), VX_NFH_UNKNOWN);
	assert_int_equal(vx_nf_hook_from_stack(NULL, 0, &fam), VX_NFH_UNKNOWN);
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(1, 2)), "INPUT");
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(4, 10)), "POSTROUTING");
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(0, 5)), "INGRESS");
	assert_string_equal(vx_nf_hook_name(vx_nf_hook_from_num(77, 2)), "?");
	assert_string_equal(vx_nf_hook_name((enum vx_nf_hook)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nft_json_parses_rules),
		cmocka_unit_test(nft_text_names_rules),
		cmocka_unit_test(nft_text_wrapped_and_partial),
		cmocka_unit_test(ipt_parses_rules),
		cmocka_unit_test(merge_gives_iptables_text),
		cmocka_unit_test(counter_hits),
		cmocka_unit_test(nft_counter_hits),
		cmocka_unit_test(nft_handles_identify_rules),
		cmocka_unit_test(malformed_nft_json),
		cmocka_unit_test(malformed_nft_text),
		cmocka_unit_test(malformed_ipt),
		cmocka_unit_test(hooks_from_stacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
