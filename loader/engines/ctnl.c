// SPDX-License-Identifier: GPL-2.0-only
/* The ctnetlink decoders (see ctnl.h): the replies and events the
 * conntrack engine reads, decoded by hand in pure functions so that a
 * fuzzer and the unit tests reach every branch without a socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "ctnl.h"

/* The common checks: a whole ctnetlink message of @msg types, returning
 * its attributes' start and length. */
static int ct_payload(const struct nlmsghdr *nlh, size_t len, const struct nlattr **attrs,
		      size_t *alen)
{
	size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	if (!nlh || len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
		return -EBADMSG;
	if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_CTNETLINK)
		return -EPROTO;
	if (nlh->nlmsg_len < hdr)
		return -EBADMSG;
	*attrs = (const struct nlattr *)((const char *)nlh + hdr);
	*alen = nlh->nlmsg_len - hdr;
	return 0;
}

/* Walk @alen bytes of attributes, storing the last of each type <= @max in
 * @tb. Every attribute must fit whole; a truncated one is an error. */
static int ct_attrs(const struct nlattr *a, size_t alen, const struct nlattr **tb, int max)
{
	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	while (alen >= sizeof(*a)) {
		size_t l = a->nla_len, step = NLA_ALIGN(l);
		int type = a->nla_type & NLA_TYPE_MASK;

		if (l < sizeof(*a) || l > alen)
			return -EBADMSG;
		if (type <= max)
			tb[type] = a;
		if (step >= alen)
			return 0;
		alen -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return alen ? -EBADMSG : 0;
}

/* A 32-bit big-endian attribute, length checked. */
static int attr_be32(const struct nlattr *a, uint32_t *v)
{
	uint32_t x;

	if (!a)
		return -ENOENT;
	if (a->nla_len != NLA_HDRLEN + sizeof(x))
		return -EBADMSG;
	memcpy(&x, (const char *)a + NLA_HDRLEN, sizeof(x));
	*v = ntohl(x);
	return 0;
}

int vx_ct_parse_stats_cpu(const struct nlmsghdr *nlh, size_t len, struct vx_ct_cpu_stats *sum)
{
	const struct nlattr *tb[CTA_STATS_MAX + 1], *a;
	struct vx_ct_cpu_stats add = {};
	static const struct {
		int attr;
		size_t off;
	} map[] = {
		{ CTA_STATS_FOUND, offsetof(struct vx_ct_cpu_stats, found) },
		{ CTA_STATS_INVALID, offsetof(struct vx_ct_cpu_stats, invalid) },
		{ CTA_STATS_INSERT, offsetof(struct vx_ct_cpu_stats, insert) },
		{ CTA_STATS_INSERT_FAILED, offsetof(struct vx_ct_cpu_stats, insert_failed) },
		{ CTA_STATS_DROP, offsetof(struct vx_ct_cpu_stats, drop) },
		{ CTA_STATS_EARLY_DROP, offsetof(struct vx_ct_cpu_stats, early_drop) },
		{ CTA_STATS_ERROR, offsetof(struct vx_ct_cpu_stats, error) },
		{ CTA_STATS_SEARCH_RESTART, offsetof(struct vx_ct_cpu_stats, search_restart) },
		{ CTA_STATS_CLASH_RESOLVE, offsetof(struct vx_ct_cpu_stats, clash_resolve) },
		{ CTA_STATS_CHAIN_TOOLONG, offsetof(struct vx_ct_cpu_stats, chaintoolong) },
	};
	size_t alen;
	int ret;

	ret = ct_payload(nlh, len, &a, &alen);
	if (ret)
		return ret;
	if ((nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_GET_STATS_CPU)
		return -EPROTO;
	ret = ct_attrs(a, alen, tb, CTA_STATS_MAX);
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint32_t v;

		ret = attr_be32(tb[map[i].attr], &v);
		if (ret == -ENOENT) /* older kernels lack the newer ones */
			continue;
		if (ret)
			return ret;
		*(uint64_t *)((char *)&add + map[i].off) = v;
	}
	for (size_t i = 0; i < sizeof(add) / sizeof(uint64_t); i++)
		((uint64_t *)sum)[i] += ((uint64_t *)&add)[i];
	return 0;
}

int vx_ct_parse_stats(const struct nlmsghdr *nlh, size_t len, uint32_t *count, uint32_t *max)
{
	const struct nlattr *tb[CTA_STATS_GLOBAL_MAX + 1], *a;
	uint32_t c, m;
	size_t alen;
	int ret;

	ret = ct_payload(nlh, len, &a, &alen);
	if (ret)
		return ret;
	if ((nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_GET_STATS)
		return -EPROTO;
	ret = ct_attrs(a, alen, tb, CTA_STATS_GLOBAL_MAX);
	if (ret)
		return ret;
	ret = attr_be32(tb[CTA_STATS_GLOBAL_ENTRIES], &c);
	if (ret)
		return ret == -ENOENT ? -EBADMSG : ret;
	ret = attr_be32(tb[CTA_STATS_GLOBAL_MAX_ENTRIES], &m);
	if (ret && ret != -ENOENT)
		return ret;
	*count = c;
	if (!ret)
		*max = m;
	return 0;
}

/* A nested attribute's members into @tb. */
static int ct_nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
	return ct_attrs((const struct nlattr *)((const char *)a + NLA_HDRLEN),
			a->nla_len - NLA_HDRLEN, tb, max);
}

/* A fixed-size attribute's payload into @out; -EBADMSG when the size is
 * not @len, 0 and nothing done when @a is absent. */
static int attr_copy(const struct nlattr *a, void *out, size_t len)
{
	if (!a)
		return 0;
	if (a->nla_len != NLA_HDRLEN + len)
		return -EBADMSG;
	memcpy(out, (const char *)a + NLA_HDRLEN, len);
	return 0;
}

static int attr_be16(const struct nlattr *a, uint16_t *v)
{
	uint16_t x;
	int ret;

	if (!a)
		return 0;
	if ((ret = attr_copy(a, &x, sizeof(x))))
		return ret;
	*v = ntohs(x);
	return 0;
}

/* CTA_TUPLE_IP and CTA_TUPLE_PROTO of a tuple into @t. */
static int ct_tuple(const struct nlattr *tuple, struct vxd_ip *t)
{
	const struct nlattr *tt[CTA_TUPLE_MAX + 1], *ti[CTA_IP_MAX + 1], *tp[CTA_PROTO_MAX + 1];
	int ret;

	if ((ret = ct_nested(tuple, tt, CTA_TUPLE_MAX)))
		return ret;
	if (tt[CTA_TUPLE_IP]) {
		if ((ret = ct_nested(tt[CTA_TUPLE_IP], ti, CTA_IP_MAX)))
			return ret;
		if (ti[CTA_IP_V4_SRC] || ti[CTA_IP_V4_DST]) {
			t->family = 4;
			if ((ret = attr_copy(ti[CTA_IP_V4_SRC], t->saddr, 4)) ||
			    (ret = attr_copy(ti[CTA_IP_V4_DST], t->daddr, 4)))
				return ret;
		} else if (ti[CTA_IP_V6_SRC] || ti[CTA_IP_V6_DST]) {
			t->family = 6;
			if ((ret = attr_copy(ti[CTA_IP_V6_SRC], t->saddr, 16)) ||
			    (ret = attr_copy(ti[CTA_IP_V6_DST], t->daddr, 16)))
				return ret;
		}
	}
	if (!tt[CTA_TUPLE_PROTO])
		return 0;
	if ((ret = ct_nested(tt[CTA_TUPLE_PROTO], tp, CTA_PROTO_MAX)))
		return ret;
	if ((ret = attr_copy(tp[CTA_PROTO_NUM], &t->proto, 1)))
		return ret;
	if (tp[CTA_PROTO_ICMP_TYPE] || tp[CTA_PROTO_ICMPV6_TYPE]) {
		uint8_t type = 0, code = 0;

		if ((ret = attr_copy(tp[CTA_PROTO_ICMP_TYPE], &type, 1)) ||
		    (ret = attr_copy(tp[CTA_PROTO_ICMP_CODE], &code, 1)) ||
		    (ret = attr_copy(tp[CTA_PROTO_ICMPV6_TYPE], &type, 1)) ||
		    (ret = attr_copy(tp[CTA_PROTO_ICMPV6_CODE], &code, 1)))
			return ret;
		t->sport = type;
		t->dport = code;
		return 0;
	}
	if ((ret = attr_be16(tp[CTA_PROTO_SRC_PORT], &t->sport)) ||
	    (ret = attr_be16(tp[CTA_PROTO_DST_PORT], &t->dport)))
		return ret;
	return 0;
}

int vx_ct_parse_event_tuple(const struct nlmsghdr *nlh, size_t len, struct vxd_ip *out)
{
	const struct nlattr *tb[CTA_MAX + 1], *a;
	struct vxd_ip t = {};
	uint8_t msg;
	size_t alen;
	int ret, type;

	ret = ct_payload(nlh, len, &a, &alen);
	if (ret)
		return ret;
	msg = nlh->nlmsg_type & 0xff;
	if (msg == IPCTNL_MSG_CT_NEW)
		/* The kernel marks a new entry (not an update) NLM_F_CREATE. */
		type = nlh->nlmsg_flags & NLM_F_CREATE ? VX_CT_EV_NEW : VX_CT_EV_OTHER;
	else if (msg == IPCTNL_MSG_CT_DELETE)
		type = VX_CT_EV_DESTROY;
	else
		return -EPROTO;
	ret = ct_attrs(a, alen, tb, CTA_MAX);
	if (ret)
		return ret;
	if (tb[CTA_TUPLE_ORIG] && (ret = ct_tuple(tb[CTA_TUPLE_ORIG], &t)))
		return ret;
	*out = t;
	return type;
}

int vx_ct_parse_event(const struct nlmsghdr *nlh, size_t len, uint8_t *proto)
{
	struct vxd_ip t;
	int ret = vx_ct_parse_event_tuple(nlh, len, &t);

	if (ret >= 0)
		*proto = t.proto;
	return ret;
}
