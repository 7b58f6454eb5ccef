// SPDX-License-Identifier: GPL-2.0-only
/* clsact + cls_bpf over rtnetlink: the tc attachment for kernels without
 * TCX links (before 6.6). Unlike a link, a filter outlives vxray, so the
 * caller records what it created and removes exactly that (datapath.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "tcnl.h"

struct vx_tcnl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
};

struct vx_tcnl *vx_tcnl_open(void)
{
	struct vx_tcnl *nl = calloc(1, sizeof(*nl));

	if (!nl)
		return NULL;
	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		if (nl->sk)
			mnl_socket_close(nl->sk);
		free(nl);
		errno = err;
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return nl;
}

void vx_tcnl_close(struct vx_tcnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

/* Send @nlh and read replies until the ACK (or the end of a dump), passing
 * data messages to @cb. Returns 0 or the kernel's negative errno. */
static int talk(struct vx_tcnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = ++nl->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	/* Not a flags test: NLM_F_EXCL and NLM_F_MATCH (part of NLM_F_DUMP)
	 * are the same bit. A dump ends with NLMSG_DONE, anything else with
	 * the ACK asked for here. */
	if (!cb)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *tc_msg(char *buf, uint16_t type, uint16_t flags, int ifindex,
			       uint32_t parent, uint32_t handle, uint32_t info)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *t;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = parent;
	t->tcm_handle = handle;
	t->tcm_info = info;
	return nlh;
}

static uint32_t clsact_parent(bool egress)
{
	return TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

int vx_tcnl_newqdisc_clsact(struct vx_tcnl *nl, int ifindex, bool *created)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
				      TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
	int ret;

	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	ret = talk(nl, nlh, NULL, NULL);
	*created = ret == 0;
	return ret == -EEXIST ? 0 : ret;
}

int vx_tcnl_delqdisc_clsact(struct vx_tcnl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
		tc_msg(buf, RTM_DELQDISC, 0, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
	int ret;

	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	ret = talk(nl, nlh, NULL, NULL);
	/* ENODEV: the device itself went away, taking the qdisc with it. */
	return ret == -ENOENT || ret == -EINVAL || ret == -ENODEV ? 0 : ret;
}

int vx_tcnl_newtfilter_bpf(struct vx_tcnl *nl, int ifindex, bool egress, uint32_t prio, int prog_fd,
			   const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
		tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex,
		       clsact_parent(egress), 1, TC_H_MAKE(prio << 16, htons(ETH_P_ALL)));
	struct nlattr *opts;

	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (uint32_t)prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, name);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	return talk(nl, nlh, NULL, NULL);
}

int vx_tcnl_deltfilter(struct vx_tcnl *nl, int ifindex, bool egress, uint32_t prio)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = tc_msg(buf, RTM_DELTFILTER, 0, ifindex, clsact_parent(egress), 0,
				      TC_H_MAKE(prio << 16, htons(ETH_P_ALL)));
	int ret = talk(nl, nlh, NULL, NULL);

	/* ENOENT: no such filter; EINVAL/ENODEV: the qdisc or device is gone
	 * and the filter with it. */
	return ret == -ENOENT || ret == -EINVAL || ret == -ENODEV ? 0 : ret;
}

struct dump {
	struct vx_tc_filter *out;
	int max, n;
};

static int bpf_opt_cb(const struct nlattr *a, void *data)
{
	struct vx_tc_filter *f = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_BPF_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(f->bpf_name, sizeof(f->bpf_name), "%s", mnl_attr_get_str(a));
		break;
	case TCA_BPF_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			f->bpf_id = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

static int filter_attr_cb(const struct nlattr *a, void *data)
{
	struct vx_tc_filter *f = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_KIND:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(f->kind, sizeof(f->kind), "%s", mnl_attr_get_str(a));
		break;
	case TCA_OPTIONS:
		if (!strcmp(f->kind, "bpf") && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(a, bpf_opt_cb, f);
		break;
	}
	return MNL_CB_OK;
}

static int filter_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct tcmsg *t;
	struct vx_tc_filter f = {};

	if (nlh->nlmsg_type != RTM_NEWTFILTER || mnl_nlmsg_get_payload_len(nlh) < sizeof(*t))
		return MNL_CB_OK;
	t = mnl_nlmsg_get_payload(nlh);
	f.prio = TC_H_MAJ(t->tcm_info) >> 16;
	f.protocol = (uint16_t)TC_H_MIN(t->tcm_info);
	f.handle = t->tcm_handle;
	/* TCA_KIND comes before TCA_OPTIONS, which is parsed by kind. */
	mnl_attr_parse(nlh, sizeof(*t), filter_attr_cb, &f);
	if (d->n < d->max)
		d->out[d->n++] = f;
	return MNL_CB_OK;
}

int vx_tcnl_gettfilter(struct vx_tcnl *nl, int ifindex, bool egress, struct vx_tc_filter *out,
		       int max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
		tc_msg(buf, RTM_GETTFILTER, NLM_F_DUMP, ifindex, clsact_parent(egress), 0, 0);
	struct dump d = { .out = out, .max = max };
	int ret = talk(nl, nlh, filter_dump_cb, &d);

	if (ret == -EINVAL || ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : d.n;
}
