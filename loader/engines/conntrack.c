// SPDX-License-Identifier: GPL-2.0-only
/* The conntrack engine (see conntrack.h). ctnetlink is spoken with libmnl:
 * the three messages vxray needs are small, and their replies and events
 * are decoded by the pure functions of ctnl.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "conntrack.h"
#include "log.h"
#include "loop.h"
#include "maputil.h"
#include "names.h"
#include "netns.h"
/* The shared structs first: the skeleton names struct vxc_config. */
#include "../bpf/kprobe/vx_conntrack.h"
#include "vx_conntrack.skel.h"

#define CT_MAX_PATH "/proc/sys/net/netfilter/nf_conntrack_max"
#define EV_RCVBUF (4 << 20)
#define REQ_BUF 32768

enum ct_be { BE_FENTRY, BE_KPROBE, BE_NETLINK };
static const char *const be_kind[] = {
	[BE_FENTRY] = "fentry",
	[BE_KPROBE] = "kprobe",
	[BE_NETLINK] = "ctnetlink",
};

struct ct_nsstate {
	struct vx_ct *ct; /* back to the engine, for the loop callback */
	char name[VX_NETNS_NAME_MAX];
	uint32_t inum;
	struct mnl_socket *req; /* stats requests */
	struct mnl_socket *ev;	/* NEW/DESTROY events (ctnetlink backend) */
	int max_fd;		/* nf_conntrack_max, opened inside the netns */
	uint32_t seq;
	struct vx_ct_cpu_stats base, prev;
	uint64_t ev_new[VX_CT_L4__MAX], ev_destroyed[VX_CT_L4__MAX];
	/* BPF counters at the previous snapshot, cumulative, per bucket. */
	struct vxc_counts bpf_prev[VX_CT_L4__MAX];
	uint64_t total_alloc_failed;
};

struct vx_ct {
	int n;
	struct ct_nsstate ns[VX_MAX_NETNS];
	enum ct_be be;
	char backend[96];
	struct vx_conntrack *skel;
	struct bpf_link *links[5];
	struct ring_buffer *rb; /* events of the BPF backends */
	vx_ct_event_cb ev_cb;
	void *ev_ctx;
	uint64_t ev_lost, lost_seen, last_ns;
};

/* ---- names --------------------------------------------------------------- */

const char *vx_ct_l4_name(int l4)
{
	static const char *const names[VX_CT_L4__MAX] = {
		[VX_CT_TCP] = "tcp",	   [VX_CT_UDP] = "udp",	  [VX_CT_ICMP] = "icmp",
		[VX_CT_ICMPV6] = "icmpv6", [VX_CT_SCTP] = "sctp", [VX_CT_OTHER] = "other",
	};
	return l4 >= 0 && l4 < VX_CT_L4__MAX ? names[l4] : "?";
}

int vx_ct_l4_of(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return VX_CT_TCP;
	case IPPROTO_UDP: return VX_CT_UDP;
	case IPPROTO_ICMP: return VX_CT_ICMP;
	case IPPROTO_ICMPV6: return VX_CT_ICMPV6;
	case IPPROTO_SCTP: return VX_CT_SCTP;
	}
	return VX_CT_OTHER;
}

/* ---- the alert rule -------------------------------------------------------- */

void vx_ct_judge(struct vx_ct_ns *ns, bool alloc_failed_known)
{
	bool full = ns->have_count && ns->max && ns->count >= ns->max;
	uint64_t fails = ns->insert_failed + ns->drop + (alloc_failed_known ? ns->alloc_failed : 0);
	char fb[128] = "";
	int off = 0;

	ns->alert = false;
	ns->alert_why[0] = '\0';
	if (!full && !fails && !ns->early_drop)
		return;
	ns->alert = true;
	if (alloc_failed_known && ns->alloc_failed)
		off += snprintf(fb + off, sizeof(fb) - off, "%salloc_failed +%llu", off ? ", " : "",
				(unsigned long long)ns->alloc_failed);
	if (ns->insert_failed && off < (int)sizeof(fb))
		off += snprintf(fb + off, sizeof(fb) - off, "%sinsert_failed +%llu",
				off ? ", " : "", (unsigned long long)ns->insert_failed);
	if (ns->drop && off < (int)sizeof(fb))
		off += snprintf(fb + off, sizeof(fb) - off, "%sdrop +%llu", off ? ", " : "",
				(unsigned long long)ns->drop);
	/* An early drop evicts an unreplied entry to make room: the table
	 * was full at that moment even if it is not now. */
	if (ns->early_drop && off < (int)sizeof(fb))
		snprintf(fb + off, sizeof(fb) - off, "%searly_drop +%llu", off ? ", " : "",
			 (unsigned long long)ns->early_drop);
	if (full && fb[0])
		snprintf(ns->alert_why, sizeof(ns->alert_why),
			 "table full (%u/%u) and failures rising (%s): new connections are dropped",
			 ns->count, ns->max, fb);
	else if (full)
		snprintf(ns->alert_why, sizeof(ns->alert_why),
			 "table full (%u/%u): the next new connection will be dropped", ns->count,
			 ns->max);
	else
		snprintf(ns->alert_why, sizeof(ns->alert_why),
			 "failures rising (%s): the table filled during the interval", fb);
}

/* ---- ctnetlink ------------------------------------------------------------- */

static int ct_request(struct ct_nsstate *s, uint8_t msg, uint16_t flags, mnl_cb_t cb, void *data)
{
	char *buf = malloc(REQ_BUF);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned int portid;
	ssize_t n;
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++s->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	portid = mnl_socket_get_portid(s->req);
	if (mnl_socket_sendto(s->req, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(s->req, buf, REQ_BUF);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, s->seq, portid, cb, data);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	free(buf);
	return ret;
}

static int cb_stats_cpu(const struct nlmsghdr *nlh, void *data)
{
	return vx_ct_parse_stats_cpu(nlh, nlh->nlmsg_len, data) ? MNL_CB_ERROR : MNL_CB_OK;
}

struct count_max {
	uint32_t count, max;
};

static int cb_stats(const struct nlmsghdr *nlh, void *data)
{
	struct count_max *cm = data;

	return vx_ct_parse_stats(nlh, nlh->nlmsg_len, &cm->count, &cm->max) ? MNL_CB_ERROR :
									      MNL_CB_OK;
}

/* IPCTNL_MSG_CT_GET_STATS_CPU: the per-CPU counters, summed. */
static int get_stats_cpu(struct ct_nsstate *s, struct vx_ct_cpu_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (ct_request(s, IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_DUMP, cb_stats_cpu, out)) {
		if (!errno)
			errno = EBADMSG;
		return -errno;
	}
	return 0;
}

/* IPCTNL_MSG_CT_GET_STATS for the count; nf_conntrack_max from /proc/sys
 * as this namespace sees it (the kernel's reply carries it too, used when
 * the file cannot be read). */
static int get_count_max(struct ct_nsstate *s, uint32_t *count, uint32_t *max)
{
	struct count_max cm = {};
	char buf[32];
	ssize_t n;
	int ret;

	ret = ct_request(s, IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, cb_stats, &cm);
	if (ret)
		return ret;
	if (s->max_fd >= 0 && (n = pread(s->max_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		cm.max = (uint32_t)strtoul(buf, NULL, 10);
	}
	*count = cm.count;
	*max = cm.max;
	return 0;
}

static struct mnl_socket *open_nfnl(unsigned int groups)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct timeval tv = { .tv_sec = 2 };

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	/* A silent kernel must not hang a snapshot. */
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

static void close_ns(struct ct_nsstate *s)
{
	if (s->ev)
		mnl_socket_close(s->ev);
	if (s->req)
		mnl_socket_close(s->req);
	if (s->max_fd >= 0)
		close(s->max_fd);
}

/* Namespace @i was deleted after it was chosen (`ip netns del` between
 * the listing and here): it is left out, as if it had never been listed,
 * rather than stopping the engine. -ENOENT when none is left. */
static int drop_gone(struct vx_ct *ct, int i)
{
	close_ns(&ct->ns[i]);
	memmove(&ct->ns[i], &ct->ns[i + 1], (size_t)(ct->n - i - 1) * sizeof(ct->ns[0]));
	ct->n--;
	return ct->n ? 0 : -ENOENT;
}

int vx_ct_open(struct vx_ct **out, const char names[][VX_NETNS_NAME_MAX], int n, char *err,
	       size_t errlen)
{
	struct vx_ct *ct;
	int ret = 0;

	*out = NULL;
	if (n <= 0 || n > VX_MAX_NETNS) {
		snprintf(err, errlen, "conntrack watches 1 to %d namespaces, not %d", VX_MAX_NETNS,
			 n);
		return -EINVAL;
	}
	ct = calloc(1, sizeof(*ct));
	if (!ct) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct ct_nsstate *s = &ct->ns[ct->n];
		uint32_t count, max;
		int saved;

		s->ct = ct;
		s->max_fd = -1;
		ct->n++;
		snprintf(s->name, sizeof(s->name), "%s", names[i]);
		s->inum = vx_netns_inum(s->name);
		ret = vx_netns_enter(s->name, &saved);
		if (vx_netns_gone(s->name, ret) && !drop_gone(ct, ct->n - 1))
			continue;
		if (ret) {
			snprintf(err, errlen, "cannot enter network namespace '%s': %s", s->name,
				 vx_strerror(ret));
			goto fail;
		}
		/* Netlink sockets and sysctl files belong to the namespace
		 * they were opened in, whatever the thread does later. */
		s->req = open_nfnl(0);
		if (!s->req)
			ret = -errno;
		s->max_fd = open(CT_MAX_PATH, O_RDONLY | O_CLOEXEC);
		vx_netns_leave(saved);
		if (ret) {
			snprintf(err, errlen, "cannot open a ctnetlink socket in namespace %s: %s",
				 vx_ns_label_of(s->name), vx_strerror(ret));
			goto fail;
		}
		ret = get_stats_cpu(s, &s->base);
		if (!ret)
			ret = get_count_max(s, &count, &max);
		if (ret) {
			snprintf(
				err, errlen,
				"ctnetlink in namespace %s did not answer (%s): is the nf_conntrack_netlink module loaded?",
				vx_ns_label_of(s->name), vx_strerror(ret));
			goto fail;
		}
		s->prev = s->base;
	}
	ct->last_ns = vx_now_ns();
	*out = ct;
	return 0;
fail:
	vx_ct_close(ct);
	return ret;
}

/* ---- backends -------------------------------------------------------------- */

static bool kernel_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

static const char *ns_of(const struct vx_ct *ct, uint32_t inum)
{
	for (int i = 0; i < ct->n; i++)
		if (ct->ns[i].inum == inum)
			return ct->ns[i].name;
	return "?";
}

/* What saw a BPF event, for the line it makes. */
static const char *bpf_hook(int kind, bool kprobe, bool new_destroy)
{
	switch (kind) {
	case VXC_EV_ALLOC_FAILED:
		return kprobe ? "kretprobe/__nf_conntrack_alloc" : "fexit/__nf_conntrack_alloc";
	case VXC_EV_NEW:
	case VXC_EV_INSERT_FAILED:
		return kprobe ? "kretprobe/__nf_conntrack_confirm" : "fexit/__nf_conntrack_confirm";
	}
	if (new_destroy)
		return kprobe ? "kprobe/nf_ct_destroy" : "fentry/nf_ct_destroy";
	return kprobe ? "kprobe/nf_conntrack_destroy" : "fentry/nf_conntrack_destroy";
}

static int on_bpf_event(void *ctx, void *data, size_t size)
{
	struct vx_ct *ct = ctx;
	const struct vxc_event *e = data;
	struct vx_ct_event ev = {};

	if (size < sizeof(*e) || e->kind < VXC_EV_NEW || e->kind > VXC_EV_INSERT_FAILED)
		return 0;
	ev.ts_ns = e->ts_ns;
	ev.inum = e->netns;
	ev.netns = ns_of(ct, e->netns);
	ev.type = e->kind;
	ev.hook = bpf_hook(e->kind, e->backend == VXD_BE_KPROBE,
			   strstr(ct->backend, "nf_ct_destroy"));
	ev.t = e->t;
	ct->ev_cb(ct->ev_ctx, &ev);
	return 0;
}

void vx_ct_set_event_cb(struct vx_ct *ct, vx_ct_event_cb cb, void *ctx)
{
	ct->ev_cb = cb;
	ct->ev_ctx = ctx;
}

static int try_bpf(struct vx_ct *ct, enum ct_be be, char *why, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	/* nf_ct_put() calls nf_ct_destroy() directly since 5.19; before,
	 * every put went through nf_conntrack_destroy(). */
	bool new_destroy = kernel_has_func(btf, "nf_ct_destroy");
	struct bpf_program *progs[5] = {}, *p;
	struct vxc_config cfg = { .scoped = 1, .events = ct->ev_cb != NULL };
	const char *what;
	uint8_t one = 1;
	int np, ret, nl = 0;

	btf__free(btf);
	ct->skel = vx_conntrack__open();
	if (!ct->skel) {
		ret = -errno;
		snprintf(why, len, "opening the BPF object: %s", vx_strerror(ret));
		return ret;
	}
	ct->skel->rodata->cfg = cfg;
	if (!cfg.events)
		vx_ring_idle(ct->skel->maps.vxc_rb);
	if (be == BE_FENTRY) {
		progs[0] = ct->skel->progs.vxc_fexit_alloc;
		progs[1] = ct->skel->progs.vxc_fexit_confirm;
		progs[2] = new_destroy ? ct->skel->progs.vxc_fentry_destroy :
					 ct->skel->progs.vxc_fentry_destroy_old;
		np = 3;
		what = new_destroy ?
			       "fexit/__nf_conntrack_alloc,__nf_conntrack_confirm + fentry/nf_ct_destroy" :
			       "fexit/__nf_conntrack_alloc,__nf_conntrack_confirm + fentry/nf_conntrack_destroy";
	} else {
		progs[0] = ct->skel->progs.vxc_kprobe_alloc;
		progs[1] = ct->skel->progs.vxc_kretprobe_alloc;
		progs[2] = ct->skel->progs.vxc_kprobe_confirm;
		progs[3] = ct->skel->progs.vxc_kretprobe_confirm;
		progs[4] = new_destroy ? ct->skel->progs.vxc_kprobe_destroy :
					 ct->skel->progs.vxc_kprobe_destroy_old;
		np = 5;
		what = new_destroy ?
			       "kprobe+kretprobe/__nf_conntrack_alloc,__nf_conntrack_confirm + kprobe/nf_ct_destroy" :
			       "kprobe+kretprobe/__nf_conntrack_alloc,__nf_conntrack_confirm + kprobe/nf_conntrack_destroy";
	}
	bpf_object__for_each_program (p, ct->skel->obj) {
		bool on = false;

		for (int i = 0; i < np; i++)
			on |= p == progs[i];
		bpf_program__set_autoload(p, on);
	}
	ret = vx_conntrack__load(ct->skel);
	if (ret) {
		snprintf(why, len, "the kernel refused to load %s: %s",
			 be == BE_FENTRY ? "fexit/__nf_conntrack_alloc" :
					   "kprobe/__nf_conntrack_alloc",
			 vx_strerror(ret));
		goto err;
	}
	for (int i = 0; i < ct->n; i++) {
		ret = bpf_map__update_elem(ct->skel->maps.vxc_scope, &ct->ns[i].inum,
					   sizeof(ct->ns[i].inum), &one, sizeof(one), BPF_ANY);
		if (ret) {
			snprintf(why, len, "filling the namespace scope map: %s", vx_strerror(ret));
			goto err;
		}
	}
	for (int i = 0; i < np; i++) {
		struct bpf_link *l = bpf_program__attach(progs[i]);

		if (!l) {
			ret = -errno;
			snprintf(why, len, "the kernel refused to attach %s: %s%s",
				 bpf_program__section_name(progs[i]), vx_strerror(ret),
				 be == BE_KPROBE && access("/sys/bus/event_source/devices/kprobe",
							   F_OK) ?
					 " (this kernel has no kprobes: CONFIG_KPROBES is off)" :
					 "");
			goto err;
		}
		ct->links[nl++] = l;
	}
	if (cfg.events) {
		ct->rb = ring_buffer__new(bpf_map__fd(ct->skel->maps.vxc_rb), on_bpf_event, ct,
					  NULL);
		if (!ct->rb) {
			ret = -errno;
			snprintf(why, len, "reading the event ring buffer: %s", vx_strerror(ret));
			goto err;
		}
	}
	snprintf(ct->backend, sizeof(ct->backend), "%s", what);
	ct->be = be;
	return 0;
err:
	ring_buffer__free(ct->rb);
	ct->rb = NULL;
	for (int i = 0; i < nl; i++) {
		bpf_link__destroy(ct->links[i]);
		ct->links[i] = NULL;
	}
	vx_conntrack__destroy(ct->skel);
	ct->skel = NULL;
	return ret;
}

/* The ctnetlink backend: NEW and DESTROY event groups inside each
 * namespace. The kernel reports an entry when it is confirmed, so "new"
 * and "confirmed" are the same events here, and a refused allocation is
 * seen only as the kernel's drop counter. */
static int open_events(struct vx_ct *ct, char *why, size_t len)
{
	unsigned int groups =
		(1u << (NFNLGRP_CONNTRACK_NEW - 1)) | (1u << (NFNLGRP_CONNTRACK_DESTROY - 1));
	int rcvbuf = EV_RCVBUF;

	for (int i = 0; i < ct->n; i++) {
		struct ct_nsstate *s = &ct->ns[i];
		int saved, ret = vx_netns_enter(s->name, &saved);

		if (vx_netns_gone(s->name, ret) && !drop_gone(ct, i)) {
			i--;
			continue;
		}
		if (ret) {
			snprintf(why, len, "cannot enter network namespace '%s': %s", s->name,
				 vx_strerror(ret));
			return ret;
		}
		s->ev = open_nfnl(groups);
		ret = s->ev ? 0 : -errno;
		vx_netns_leave(saved);
		if (ret) {
			snprintf(why, len,
				 "cannot subscribe to ctnetlink events in namespace %s: %s",
				 vx_ns_label_of(s->name), vx_strerror(ret));
			return ret;
		}
		/* A burst of new flows is exactly what this view is for:
		 * a big buffer, and overflow (ENOBUFS) is counted. */
		if (setsockopt(mnl_socket_get_fd(s->ev), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			       sizeof(rcvbuf)))
			setsockopt(mnl_socket_get_fd(s->ev), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				   sizeof(rcvbuf));
	}
	snprintf(ct->backend, sizeof(ct->backend), "ctnetlink events");
	ct->be = BE_NETLINK;
	return 0;
}

int vx_ct_attach(struct vx_ct *ct, enum vx_backend be, char *err, size_t errlen)
{
	static const enum ct_be order_auto[] = { BE_FENTRY, BE_KPROBE, BE_NETLINK };
	enum ct_be order[3];
	char why[3][256];
	int n, ret = -ENOENT;

	switch (be) {
	case VX_BACKEND_FENTRY:
		order[0] = BE_FENTRY;
		n = 1;
		break;
	case VX_BACKEND_KPROBE:
		order[0] = BE_KPROBE;
		n = 1;
		break;
	case VX_BACKEND_TRACEPOINT:
		order[0] = BE_NETLINK;
		n = 1;
		break;
	default:
		memcpy(order, order_auto, sizeof(order));
		n = 3;
		break;
	}
	for (int i = 0; i < n; i++) {
		if (order[i] == BE_NETLINK)
			ret = open_events(ct, why[i], sizeof(why[i]));
		else
			ret = try_bpf(ct, order[i], why[i], sizeof(why[i]));
		if (!ret) {
			pr_debug("conntrack: attached %s", ct->backend);
			return 0;
		}
		pr_debug("conntrack: backend %s: %s", be_kind[order[i]], why[i]);
	}
	if (n == 1 && order[0] != BE_NETLINK)
		snprintf(
			err, errlen,
			"the %s backend cannot run here: %s; use --backend tracepoint (ctnetlink) or leave --backend out",
			be_kind[order[0]], why[0]);
	else
		snprintf(err, errlen, "no conntrack backend could be attached (last: %s)",
			 why[n - 1]);
	return ret;
}

const char *vx_ct_backend(const struct vx_ct *ct)
{
	return ct->backend[0] ? ct->backend : "none";
}

static int on_events(void *data)
{
	struct ct_nsstate *s = data;
	struct vx_ct *ct = s->ct;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(s->ev), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		/* ctnetlink events carry no time: stamped on receipt, in the
		 * clock bpf_ktime_get_ns() reads (docs/DESIGN.md). */
		uint64_t now = vx_now_ns();
		int len;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) { /* the kernel dropped events */
				s->ct->ev_lost++;
				continue;
			}
			return -errno;
		}
		len = (int)n;
		while (mnl_nlmsg_ok(nlh, len)) {
			struct vx_ct_event ev = { .ts_ns = now,
						  .on_receipt = true,
						  .netns = s->name,
						  .inum = s->inum,
						  .hook = "ctnetlink" };
			int t = vx_ct_parse_event_tuple(nlh, nlh->nlmsg_len, &ev.t);

			if (t == VX_CT_EV_NEW)
				s->ev_new[vx_ct_l4_of(ev.t.proto)]++;
			else if (t == VX_CT_EV_DESTROY)
				s->ev_destroyed[vx_ct_l4_of(ev.t.proto)]++;
			else if (t < 0)
				pr_debug("conntrack: ignored a malformed event: %s",
					 vx_strerror(t));
			if (ct->ev_cb && (t == VX_CT_EV_NEW || t == VX_CT_EV_DESTROY)) {
				ev.type = t;
				ct->ev_cb(ct->ev_ctx, &ev);
			}
			nlh = mnl_nlmsg_next(nlh, &len);
		}
	}
}

int vx_ct_add_to_loop(struct vx_ct *ct, struct vx_loop *l)
{
	if (ct->be != BE_NETLINK)
		return ct->rb ? vx_loop_add_ringbuf(l, ct->rb) : 0;
	for (int i = 0; i < ct->n; i++) {
		int ret = vx_loop_add_fd(l, mnl_socket_get_fd(ct->ns[i].ev), on_events, &ct->ns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void vx_ct_drain(struct vx_ct *ct)
{
	if (ct->rb)
		ring_buffer__consume(ct->rb);
}

/* ---- snapshots ------------------------------------------------------------- */

static uint64_t read_bpf_lost(struct vx_ct *ct)
{
	return ct->skel ? vx_percpu_sum(bpf_map__fd(ct->skel->maps.vxc_lost), 0) : 0;
}

/* The BPF counters, cumulative, summed into L4 buckets per namespace. */
static void read_bpf(struct vx_ct *ct, struct vxc_counts (*cur)[VX_CT_L4__MAX])
{
	int fd = bpf_map__fd(ct->skel->maps.vxc_counts);
	struct vxc_key key, next, *prev = NULL;
	struct vxc_counts c;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c))
			continue;
		for (int i = 0; i < ct->n; i++) {
			struct vxc_counts *t;

			if (ct->ns[i].inum != key.netns)
				continue;
			t = &cur[i][vx_ct_l4_of(key.proto)];
			t->alloc += c.alloc;
			t->alloc_failed += c.alloc_failed;
			t->confirmed += c.confirmed;
			t->insert_failed += c.insert_failed;
			t->destroyed += c.destroyed;
		}
	}
}

int vx_ct_snapshot(struct vx_ct *ct, struct vx_ct_snapshot *out)
{
	struct vxc_counts(*cur)[VX_CT_L4__MAX] = NULL;
	uint64_t now = vx_now_ns(), lost;
	bool bpf = ct->be != BE_NETLINK && ct->skel;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->interval_s = (double)(now - ct->last_ns) / NSEC_PER_SEC;
	out->backend = vx_ct_backend(ct);
	out->alloc_failed_known = bpf;
	if (bpf) {
		cur = calloc(ct->n, sizeof(*cur));
		if (!cur)
			return -ENOMEM;
		read_bpf(ct, cur);
	}
	lost = ct->ev_lost + read_bpf_lost(ct);
	out->lost = lost - ct->lost_seen;
	out->total_lost = lost;
	ct->lost_seen = lost;

	for (int i = 0; i < ct->n; i++) {
		struct ct_nsstate *s = &ct->ns[i];
		struct vx_ct_ns *o = &out->ns[out->n++];
		struct vx_ct_cpu_stats st;
		int r;

		snprintf(o->netns, sizeof(o->netns), "%s", s->name);
		o->inum = s->inum;
		if (bpf) {
			for (int l = 0; l < VX_CT_L4__MAX; l++) {
				struct vxc_counts *c = &cur[i][l], *p = &s->bpf_prev[l];

				o->new[l] = c->alloc - p->alloc;
				o->confirmed[l] = c->confirmed - p->confirmed;
				o->destroyed[l] = c->destroyed - p->destroyed;
				o->alloc_failed += c->alloc_failed - p->alloc_failed;
				*p = *c;
			}
			s->total_alloc_failed += o->alloc_failed;
		} else {
			for (int l = 0; l < VX_CT_L4__MAX; l++) {
				o->new[l] = o->confirmed[l] = s->ev_new[l];
				o->destroyed[l] = s->ev_destroyed[l];
				s->ev_new[l] = s->ev_destroyed[l] = 0;
			}
		}
		o->total_alloc_failed = s->total_alloc_failed;
		r = get_stats_cpu(s, &st);
		if (!r) {
			/* Counters are per CPU and only grow; guard anyway
			 * against a CPU going offline between reads. */
			o->insert_failed = st.insert_failed > s->prev.insert_failed ?
						   st.insert_failed - s->prev.insert_failed :
						   0;
			o->drop = st.drop > s->prev.drop ? st.drop - s->prev.drop : 0;
			o->early_drop = st.early_drop > s->prev.early_drop ?
						st.early_drop - s->prev.early_drop :
						0;
			s->prev = st;
		} else {
			pr_warn("conntrack statistics of namespace %s: %s", vx_ns_label_of(s->name),
				vx_strerror(r));
			ret = r;
		}
		o->total = s->prev;
		if (!get_count_max(s, &o->count, &o->max)) {
			o->have_count = true;
			o->fill_pct = o->max ? 100.0 * o->count / o->max : 0;
		}
		vx_ct_judge(o, bpf);
	}
	free(cur);
	ct->last_ns = now;
	return ret;
}

void vx_ct_close(struct vx_ct *ct)
{
	if (!ct)
		return;
	ring_buffer__free(ct->rb);
	for (int i = 4; i >= 0; i--)
		bpf_link__destroy(ct->links[i]);
	vx_conntrack__destroy(ct->skel);
	for (int i = 0; i < ct->n; i++)
		close_ns(&ct->ns[i]);
	free(ct);
}
