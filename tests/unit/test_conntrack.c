// SPDX-License-Identifier: GPL-2.0-only
/* The ctnetlink decoders on crafted messages -- well-formed ones as the
 * kernel writes them, and truncated, oversized and foreign ones -- and the
 * alert rule at its edges. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include "conntrack.h"
#include "ctnl.h"

static char buf[4096] __attribute__((aligned(4)));

static struct nlmsghdr *put_hdr(uint8_t msg, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = flags;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

static struct nlmsghdr *stats_cpu_msg(uint32_t insert_failed, uint32_t drop, uint32_t early_drop)
{
	struct nlmsghdr *nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_MULTI);

	mnl_attr_put_u32(nlh, CTA_STATS_FOUND, htonl(7));
	mnl_attr_put_u32(nlh, CTA_STATS_INVALID, htonl(1));
	mnl_attr_put_u32(nlh, CTA_STATS_INSERT_FAILED, htonl(insert_failed));
	mnl_attr_put_u32(nlh, CTA_STATS_DROP, htonl(drop));
	mnl_attr_put_u32(nlh, CTA_STATS_EARLY_DROP, htonl(early_drop));
	mnl_attr_put_u32(nlh, CTA_STATS_CLASH_RESOLVE, htonl(2));
	return nlh;
}

static void test_stats_cpu_sums(void **state)
{
	struct vx_ct_cpu_stats sum = {};
	struct nlmsghdr *nlh;

	nlh = stats_cpu_msg(3, 30, 1);
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), 0);
	nlh = stats_cpu_msg(4, 0xfffffff0u, 0);
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), 0);
	assert_int_equal(sum.insert_failed, 7);
	/* 64-bit sums: a big per-CPU value must not wrap. */
	assert_true(sum.drop == 30ULL + 0xfffffff0ULL);
	assert_int_equal(sum.early_drop, 1);
	assert_int_equal(sum.found, 14);
	assert_int_equal(sum.invalid, 2);
	assert_int_equal(sum.clash_resolve, 4);
	assert_int_equal(sum.error, 0); /* absent: an older kernel */
}

static void test_stats_cpu_malformed(void **state)
{
	struct vx_ct_cpu_stats sum = { .drop = 5 };
	struct nlmsghdr *nlh;
	struct nlattr *a;

	/* A u16 where the kernel sends a u32. */
	nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS_CPU, 0);
	mnl_attr_put_u16(nlh, CTA_STATS_DROP, 1);
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), -EBADMSG);

	/* An attribute longer than the message. */
	nlh = stats_cpu_msg(1, 1, 1);
	a = (struct nlattr *)((char *)nlh + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
	a->nla_len = 200;
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), -EBADMSG);

	/* An attribute shorter than its own header. */
	a->nla_len = 2;
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), -EBADMSG);

	/* nlmsg_len beyond the buffer the caller holds. */
	nlh = stats_cpu_msg(1, 1, 1);
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len - 4, &sum), -EBADMSG);

	/* Shorter than the nfgenmsg header. */
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, sizeof(buf), &sum), -EBADMSG);

	/* Another subsystem, another message. */
	nlh = stats_cpu_msg(1, 1, 1);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_CT_GET_STATS_CPU;
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), -EPROTO);
	nlh = stats_cpu_msg(1, 1, 1);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, &sum), -EPROTO);

	/* NULL and a buffer smaller than a header. */
	assert_int_equal(vx_ct_parse_stats_cpu(NULL, 100, &sum), -EBADMSG);
	assert_int_equal(vx_ct_parse_stats_cpu(nlh, 8, &sum), -EBADMSG);

	/* Nothing was added by any of them. */
	assert_int_equal(sum.drop, 5);
	assert_int_equal(sum.insert_failed, 0);
}

static void test_stats_count_max(void **state)
{
	struct nlmsghdr *nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS, 0);
	uint32_t count = 0, max = 99;

	mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_ENTRIES, htonl(10));
	mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_MAX_ENTRIES, htonl(10));
	assert_int_equal(vx_ct_parse_stats(nlh, nlh->nlmsg_len, &count, &max), 0);
	assert_int_equal(count, 10);
	assert_int_equal(max, 10);

	/* Kernels before 4.18 send no max: it is left for /proc to fill. */
	nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS, 0);
	mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_ENTRIES, htonl(3));
	max = 99;
	assert_int_equal(vx_ct_parse_stats(nlh, nlh->nlmsg_len, &count, &max), 0);
	assert_int_equal(count, 3);
	assert_int_equal(max, 99);

	/* No count at all is malformed, and writes nothing. */
	nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS, 0);
	mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_MAX_ENTRIES, htonl(5));
	count = 42;
	assert_int_equal(vx_ct_parse_stats(nlh, nlh->nlmsg_len, &count, &max), -EBADMSG);
	assert_int_equal(count, 42);
	assert_int_equal(max, 99);

	/* A wrong-sized max. */
	nlh = put_hdr(IPCTNL_MSG_CT_GET_STATS, 0);
	mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_ENTRIES, htonl(3));
	mnl_attr_put_u64(nlh, CTA_STATS_GLOBAL_MAX_ENTRIES, 5);
	assert_int_equal(vx_ct_parse_stats(nlh, nlh->nlmsg_len, &count, &max), -EBADMSG);
	assert_int_equal(count, 42);
}

/* A conntrack event as the kernel writes it: CTA_TUPLE_ORIG { CTA_TUPLE_IP
 * {...}, CTA_TUPLE_PROTO { CTA_PROTO_NUM, ports } }, then more. */
static struct nlmsghdr *event_msg(uint8_t msg, uint16_t flags, int proto)
{
	struct nlmsghdr *nlh = put_hdr(msg, flags);
	struct nlattr *orig, *ip, *pr;

	orig = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0xac100001));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0xac100002));
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	if (proto >= 0)
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, (uint8_t)proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(20001));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(10001));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, orig);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(30));
	return nlh;
}

static void test_events(void **state)
{
	struct nlmsghdr *nlh;
	uint8_t proto = 0;

	nlh = event_msg(IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL, IPPROTO_UDP);
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), VX_CT_EV_NEW);
	assert_int_equal(proto, IPPROTO_UDP);
	assert_int_equal(vx_ct_l4_of(proto), VX_CT_UDP);

	nlh = event_msg(IPCTNL_MSG_CT_DELETE, 0, IPPROTO_TCP);
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), VX_CT_EV_DESTROY);
	assert_int_equal(proto, IPPROTO_TCP);

	/* An update of an existing entry is not a new one. */
	nlh = event_msg(IPCTNL_MSG_CT_NEW, 0, IPPROTO_TCP);
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), VX_CT_EV_OTHER);

	/* No protocol number: counted as "other". */
	nlh = event_msg(IPCTNL_MSG_CT_DELETE, 0, -1);
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), VX_CT_EV_DESTROY);
	assert_int_equal(proto, 0);
	assert_int_equal(vx_ct_l4_of(proto), VX_CT_OTHER);
	assert_string_equal(vx_ct_l4_name(VX_CT_OTHER), "other");
	assert_string_equal(vx_ct_l4_name(VX_CT_L4__MAX), "?");
}

/* The whole original tuple, as trace prints it: addresses, ports, and an
 * ICMP entry's type and code where drops keep them. */
static void test_event_tuple(void **state)
{
	struct nlmsghdr *nlh;
	struct vxd_ip t;
	const uint8_t six[16] = { 0xfd, [15] = 1 };

	nlh = event_msg(IPCTNL_MSG_CT_NEW, NLM_F_CREATE, IPPROTO_UDP);
	assert_int_equal(vx_ct_parse_event_tuple(nlh, nlh->nlmsg_len, &t), VX_CT_EV_NEW);
	assert_int_equal(t.family, 4);
	assert_int_equal(t.proto, IPPROTO_UDP);
	assert_memory_equal(t.saddr, "\xac\x10\x00\x01", 4);
	assert_memory_equal(t.daddr, "\xac\x10\x00\x02", 4);
	assert_int_equal(t.sport, 20001);
	assert_int_equal(t.dport, 10001);

	nlh = put_hdr(IPCTNL_MSG_CT_DELETE, 0);
	{
		struct nlattr *o = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
		struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
		struct nlattr *p;

		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, six);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, six);
		mnl_attr_nest_end(nlh, ip);
		p = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_ICMPV6);
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMPV6_ID, htons(7));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_TYPE, 128);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_CODE, 0);
		mnl_attr_nest_end(nlh, p);
		mnl_attr_nest_end(nlh, o);
	}
	assert_int_equal(vx_ct_parse_event_tuple(nlh, nlh->nlmsg_len, &t), VX_CT_EV_DESTROY);
	assert_int_equal(t.family, 6);
	assert_int_equal(t.proto, IPPROTO_ICMPV6);
	assert_memory_equal(t.saddr, six, 16);
	assert_int_equal(t.sport, 128);
	assert_int_equal(t.dport, 0);

	/* A three-byte IPv4 address is malformed, not a shorter address. */
	nlh = put_hdr(IPCTNL_MSG_CT_NEW, NLM_F_CREATE);
	{
		struct nlattr *o = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
		struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);

		mnl_attr_put(nlh, CTA_IP_V4_SRC, 3, "abc");
		mnl_attr_nest_end(nlh, ip);
		mnl_attr_nest_end(nlh, o);
	}
	memset(&t, 0x77, sizeof(t));
	assert_int_equal(vx_ct_parse_event_tuple(nlh, nlh->nlmsg_len, &t), -EBADMSG);
	assert_int_equal(t.family, 0x77); /* untouched */
}

static void test_events_malformed(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *orig;
	uint8_t proto = 77;
	size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	/* A nested length that runs past its parent. */
	nlh = event_msg(IPCTNL_MSG_CT_NEW, NLM_F_CREATE, IPPROTO_UDP);
	orig = (struct nlattr *)((char *)nlh + hdr);
	((struct nlattr *)((char *)orig + NLA_HDRLEN))->nla_len = 400;
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), -EBADMSG);

	/* A two-byte protocol number. */
	nlh = put_hdr(IPCTNL_MSG_CT_NEW, NLM_F_CREATE);
	{
		struct nlattr *o = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
		struct nlattr *p = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);

		mnl_attr_put_u16(nlh, CTA_PROTO_NUM, 17);
		mnl_attr_nest_end(nlh, p);
		mnl_attr_nest_end(nlh, o);
	}
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), -EBADMSG);

	/* Truncated in the middle of an attribute. */
	nlh = event_msg(IPCTNL_MSG_CT_DELETE, 0, IPPROTO_UDP);
	nlh->nlmsg_len = (uint32_t)hdr + 6;
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), -EBADMSG);

	/* A message type ctnetlink events never use, and a foreign one. */
	nlh = event_msg(IPCTNL_MSG_CT_GET, 0, IPPROTO_UDP);
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), -EPROTO);
	nlh = event_msg(IPCTNL_MSG_CT_NEW, NLM_F_CREATE, IPPROTO_UDP);
	nlh->nlmsg_type = NLMSG_ERROR;
	assert_int_equal(vx_ct_parse_event(nlh, nlh->nlmsg_len, &proto), -EPROTO);
	assert_int_equal(proto, 77); /* untouched by every failure */
}

/* Every prefix of a valid message, each in a heap block of exactly that
 * size, and single-byte corruptions of every byte after the header: the
 * decoders answer and never read past @len (SANITIZE=1 turns an overread
 * into a failure). */
static void test_prefixes_and_flips(void **state)
{
	struct vx_ct_cpu_stats sum = {};
	uint32_t c, m;
	uint8_t proto;
	struct nlmsghdr *nlh = event_msg(IPCTNL_MSG_CT_NEW, NLM_F_CREATE, IPPROTO_UDP);
	uint32_t full = nlh->nlmsg_len;

	for (uint32_t l = 0; l <= full; l++) {
		struct nlmsghdr *h = malloc(l ? l : 1);

		assert_non_null(h);
		memcpy(h, buf, l);
		if (l >= sizeof(*h))
			h->nlmsg_len = l;
		/* Shorter than the headers: malformed. Longer: a prefix
		 * cut on an attribute boundary is a valid shorter message,
		 * so only the whole one has a known answer. */
		if (l < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
			assert_true(vx_ct_parse_event(h, l, &proto) < 0);
		else if (l == full)
			assert_int_equal(vx_ct_parse_event(h, l, &proto), VX_CT_EV_NEW);
		else
			vx_ct_parse_event(h, l, &proto);
		vx_ct_parse_stats(h, l, &c, &m);
		vx_ct_parse_stats_cpu(h, l, &sum);
		free(h);
	}
	for (uint32_t i = NLMSG_HDRLEN + 4; i < full; i++) {
		for (int v = 0; v < 256; v += 17) {
			struct nlmsghdr *h = malloc(full);

			assert_non_null(h);
			memcpy(h, buf, full);
			((char *)h)[i] = (char)v;
			vx_ct_parse_event(h, full, &proto);
			free(h);
		}
	}
}

static void test_judge(void **state)
{
	struct vx_ct_ns ns = { .have_count = true, .count = 5, .max = 10 };

	vx_ct_judge(&ns, true);
	assert_false(ns.alert);

	ns.count = 10;
	vx_ct_judge(&ns, true);
	assert_true(ns.alert);
	assert_string_equal(ns.alert_why,
			    "table full (10/10): the next new connection will be dropped");

	ns.drop = 30;
	ns.alloc_failed = 30;
	vx_ct_judge(&ns, true);
	assert_string_equal(
		ns.alert_why,
		"table full (10/10) and failures rising (alloc_failed +30, drop +30): new connections are dropped");
	/* Without a BPF backend the allocator's failures are not known. */
	vx_ct_judge(&ns, false);
	assert_string_equal(
		ns.alert_why,
		"table full (10/10) and failures rising (drop +30): new connections are dropped");

	/* Below the max again, but it was full during the interval. */
	ns.count = 4;
	ns.drop = 0;
	ns.alloc_failed = 0;
	ns.early_drop = 2;
	vx_ct_judge(&ns, true);
	assert_true(ns.alert);
	assert_string_equal(
		ns.alert_why,
		"failures rising (early_drop +2): the table filled during the interval");

	/* Unknown count and max: no alert from the table alone. */
	memset(&ns, 0, sizeof(ns));
	vx_ct_judge(&ns, true);
	assert_false(ns.alert);
	ns.max = 0;
	ns.have_count = true;
	vx_ct_judge(&ns, true);
	assert_false(ns.alert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_cpu_sums),
		cmocka_unit_test(test_stats_cpu_malformed),
		cmocka_unit_test(test_stats_count_max),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_event_tuple),
		cmocka_unit_test(test_events_malformed),
		cmocka_unit_test(test_prefixes_and_flips),
		cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
