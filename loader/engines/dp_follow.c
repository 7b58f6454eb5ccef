// SPDX-License-Identifier: GPL-2.0-only
/* The datapath engine following what changes under it (vx_dp_follow, see
 * dp_internal.h): with --auto, VXLAN devices and underlays that appear or
 * vanish are attached or detached on the fly, and a named namespace that
 * is deleted is let go and followed again when it is created again; with
 * vx_dp_opts.on_link, changes of watched links are reported. Attaching and
 * loading are datapath.c's, through dp_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>

#include "clock.h"
#include "datapath.h"
#include "dp_internal.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "tcnl.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

/* ---- following link events ---------------------------------------------- */

static bool port_known(const struct vx_dp *dp, uint16_t port)
{
	if (port == 4789)
		return true;
	for (int i = 0; i < dp->cfg.n_vxlan_ports; i++)
		if (dp->cfg.vxlan_ports[i] == port)
			return true;
	return false;
}

static void follow_add(struct vx_dp *dp, int inst, int ifindex, const char *name,
		       const struct vx_vxlan_dev *v, bool is_vxlan)
{
	struct vx_dp_watched *w;
	int err;

	w = dp_add_watch(dp, inst, ifindex, name, v, is_vxlan, &err);
	if (!w) {
		if (err)
			pr_warn("cannot watch %s in %s: vxray watches at most %d interfaces", name,
				vx_ns_label_of(dp->inst[inst].netns), VX_DP_MAX_WATCH);
		return;
	}
	w->from_auto = true;
	w->appeared = true;
	if (dp_attach_one(dp, w)) {
		w->active = false;
		return;
	}
	pr_info("attached to %s (%s) in %s, which appeared", w->name,
		is_vxlan ? "vxlan" : "underlay", vx_ns_label_of(w->netns));
	if (dp->po.on_change)
		dp->po.on_change(dp->po.ctx, w, true);
}

/* Re-read the namespace's VXLAN devices and make the watched set match. */
static void resync(struct vx_dp_inst *in)
{
	struct vx_dp *dp = in->dp;
	struct vx_inventory inv = {};
	int inst = (int)(in - dp->inst), err;

	if ((err = vx_inventory_collect(&inv, in->netns))) {
		pr_warn("cannot re-read the VXLAN devices in %s: %s", vx_ns_label_of(in->netns),
			strerror(-err));
		return;
	}
	/* Vanished, or no longer a VXLAN device or its underlay. */
	for (int i = 0; i < dp->n_w; i++) {
		struct vx_dp_watched *w = &dp->w[i];
		bool keep = false;

		if (!w->active || w->inst != inst || !w->from_auto)
			continue;
		for (int d = 0; d < inv.n && !keep; d++)
			keep = w->is_vxlan ? inv.devs[d].ifindex == w->ifindex :
					     inv.devs[d].underlay_ifindex == w->ifindex;
		if (keep)
			continue;
		dp_detach_one(dp, w);
		pr_info("detached from %s in %s, which vanished or is no longer a tunnel device",
			w->name, vx_ns_label_of(w->netns));
		if (dp->po.on_change)
			dp->po.on_change(dp->po.ctx, w, false);
	}
	for (int d = 0; d < inv.n; d++) {
		const struct vx_vxlan_dev *v = &inv.devs[d];
		struct vx_dp_watched *w = dp_find_active(dp, inst, v->ifindex);

		if (w && w->is_vxlan) {
			/* Still here: refresh its configuration (VNI, remote). */
			w->vx_copy = *v;
			continue;
		}
		if (!port_known(dp, v->dstport))
			pr_warn("%s in %s uses UDP port %u, unknown when vxray started: its outer "
				"packets count as non-VXLAN until vxray restarts",
				v->name, vx_ns_label_of(in->netns), v->dstport);
		follow_add(dp, inst, v->ifindex, v->name, v, true);
		if (v->underlay_ifindex)
			follow_add(dp, inst, v->underlay_ifindex, v->underlay, v, false);
	}
	vx_inventory_free(&inv);
}

const char *vx_link_change_name(enum vx_link_change c)
{
	switch (c) {
	case VX_LINK_ADDED: return "added";
	case VX_LINK_DELETED: return "deleted";
	case VX_LINK_UP: return "up";
	case VX_LINK_DOWN: return "down";
	case VX_LINK_CARRIER_ON: return "carrier on";
	case VX_LINK_CARRIER_OFF: return "carrier off";
	}
	return "?";
}

/* What a link message says about a watched interface, if anything: a
 * dump reply (NLM_F_MULTI) only learns the state; a notification is
 * compared with it. An interface watched from the start whose state a
 * notification beats the dump to is reported only when it went down. */
static void link_report(struct vx_dp *dp, struct vx_dp_inst *in, const struct vx_link_msg *m,
			bool dump, uint64_t ts)
{
	struct vx_dp_watched *w =
		(struct vx_dp_watched *)vx_dp_lookup(dp, in->inum, (uint32_t)m->ifindex);
	struct vx_dp_link l = { .ts_ns = ts, .flags = m->flags, .mtu = m->mtu };
	unsigned int was = w ? w->link_flags : 0;

	if (!dp->po.on_link || !w || !w->active)
		return;
	l.w = w;
	if (m->deleted) {
		w->link_known = false;
		if (dump)
			return;
		l.change = VX_LINK_DELETED;
	} else if (!w->link_known) {
		w->link_known = true;
		w->link_flags = m->flags;
		if (dump || (!w->appeared && (m->flags & IFF_UP)))
			return;
		l.change = w->appeared ? VX_LINK_ADDED : VX_LINK_DOWN;
	} else {
		w->link_flags = m->flags;
		if ((was ^ m->flags) & IFF_UP)
			l.change = m->flags & IFF_UP ? VX_LINK_UP : VX_LINK_DOWN;
		else if ((was ^ m->flags) & IFF_LOWER_UP)
			l.change =
				m->flags & IFF_LOWER_UP ? VX_LINK_CARRIER_ON : VX_LINK_CARRIER_OFF;
		else
			return; /* another attribute changed */
	}
	dp->po.on_link(dp->po.ctx, &l);
}

#define LINK_BURST 64

static int on_link_event(void *ctx)
{
	struct vx_dp_inst *in = ctx;
	struct vx_dp *dp = in->dp;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	/* Links not watched yet: --auto may attach them in resync(). */
	struct {
		struct vx_link_msg m;
		uint64_t ts;
	} later[LINK_BURST];
	int n_later = 0;
	bool changed = false;
	ssize_t n;

	/* Drain everything queued; one re-read covers a burst. */
	while ((n = recv(mnl_socket_get_fd(in->mon), buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		uint64_t now = vx_now_ns();
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: events were lost; re-read everything. */
			if (errno == ENOBUFS) {
				changed = true;
				if (dp->po.on_link)
					pr_warn("link events in %s were lost (socket buffer full): "
						"changes may be missing",
						vx_ns_label_of(in->netns));
			}
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			bool dump = h->nlmsg_flags & NLM_F_MULTI;
			struct vx_link_msg m;

			if (vx_link_parse(h, &m))
				continue;
			changed |= !dump;
			if (vx_dp_lookup(dp, in->inum, (uint32_t)m.ifindex) || dump)
				link_report(dp, in, &m, dump, now);
			else if (n_later < LINK_BURST && !m.deleted)
				later[n_later].m = m, later[n_later++].ts = now;
		}
	}
	if (changed && dp->po.o->auto_attach)
		resync(in);
	for (int i = 0; i < n_later; i++)
		link_report(dp, in, &later[i].m, false, later[i].ts);
	return 0;
}

/* RTM_GETLINK dump on the monitor socket: its replies teach link_report()
 * each interface's state before the first change. */
static int send_link_dump(struct mnl_socket *nl)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

/* RTNLGRP_LINK in @in's namespace, read by on_link_event. */
static int open_monitor(struct vx_dp *dp, struct vx_dp_inst *in)
{
	int saved, err = vx_netns_enter(in->netns, &saved);

	if (err)
		return err;
	in->mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	err = in->mon && !mnl_socket_bind(in->mon, RTMGRP_LINK, MNL_SOCKET_AUTOPID) ? 0 : -errno;
	vx_netns_leave(saved);
	if (!err && dp->po.on_link)
		err = send_link_dump(in->mon);
	if (!err)
		err = vx_loop_add_fd(dp->loop, mnl_socket_get_fd(in->mon), on_link_event, in);
	if (err) {
		pr_err("cannot follow link events in %s: %s", vx_ns_label_of(in->netns),
		       strerror(-err));
		if (in->mon)
			mnl_socket_close(in->mon);
		in->mon = NULL;
	}
	return err;
}

/* The name of @in's namespace is gone (`ip netns del`): detach from its
 * interfaces and close the sockets vxray holds there, which would
 * otherwise keep the namespace and its devices alive. The skeletons stay
 * loaded until the name comes back. */
static void ns_vanished(struct vx_dp *dp, struct vx_dp_inst *in)
{
	int inst = (int)(in - dp->inst);

	for (int i = 0; i < dp->n_w; i++) {
		struct vx_dp_watched *w = &dp->w[i];

		if (!w->active || w->inst != inst)
			continue;
		dp_detach_one(dp, w);
		pr_info("detached from %s in %s, which vanished with its namespace", w->name,
			vx_ns_label_of(w->netns));
		if (dp->po.on_change)
			dp->po.on_change(dp->po.ctx, w, false);
	}
	if (in->mon) {
		vx_loop_del_fd(dp->loop, mnl_socket_get_fd(in->mon));
		mnl_socket_close(in->mon);
		in->mon = NULL;
	}
	vx_tcnl_close(in->nl);
	in->nl = NULL;
	in->gone = true;
	in->back_by = 0;
	pr_info("network namespace %s was deleted; vxray follows it again if it is created again",
		in->netns);
}

/* A namespace is mounted on /run/netns/NAME: `ip netns add` creates the
 * file first and bind-mounts the namespace on it a moment later. */
static uint32_t ns_mounted(const char *name)
{
	char path[VX_NETNS_NAME_MAX + 16];
	struct statfs sf;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (statfs(path, &sf) || sf.f_type != NSFS_MAGIC)
		return 0;
	return vx_netns_inum(name);
}

/* The name is a namespace again, with a new inode: load programs that
 * carry it (the old ones name the dead namespace), open the sockets there
 * and attach to its tunnel devices. 0, -EAGAIN while it is not mounted yet,
 * or another negative errno (said). */
static int ns_back(struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct vx_tc *old_tc = in->tc;
	struct vx_xdp *old_xdp = in->xdp;
	uint32_t old_inum = in->inum, inum = ns_mounted(in->netns);
	/* The shared maps: the first instance's (for itself, its old self). */
	struct bpf_object *global = in == dp->inst ? old_tc->obj : dp->inst[0].tc->obj;
	int err;

	if (!inum)
		return -EAGAIN;
	in->inum = inum;
	in->tc = NULL;
	in->xdp = NULL;
	err = dp_load_inst(dp, in, global);
	if (!err)
		err = dp_open_tc_socket(dp, in);
	if (!err)
		err = open_monitor(dp, in);
	if (err) {
		pr_warn("cannot follow network namespace %s again: %s", in->netns,
			vx_strerror(err));
		vx_tcnl_close(in->nl);
		in->nl = NULL;
		vx_xdp__destroy(in->xdp);
		vx_tc__destroy(in->tc);
		in->tc = old_tc;
		in->xdp = old_xdp;
		in->inum = old_inum;
		return err;
	}
	/* Every map the old programs shared is held by the new ones. */
	vx_xdp__destroy(old_xdp);
	vx_tc__destroy(old_tc);
	in->gone = false;
	in->back_by = 0;
	pr_info("network namespace %s was created again: following it", in->netns);
	if (dp->po.on_netns)
		dp->po.on_netns(dp->po.ctx, old_inum, inum);
	resync(in);
	return 0;
}

static void arm_ns_timer(struct vx_dp *dp, bool on)
{
	/* 10 ms: `ip netns add` mounts right after creating the file. */
	struct itimerspec its = { .it_interval = { 0, on ? 10000000 : 0 },
				  .it_value = { 0, on ? 10000000 : 0 } };

	timerfd_settime(dp->ns_timer, 0, &its, NULL);
}

static int on_ns_timer(void *ctx)
{
	struct vx_dp *dp = ctx;
	uint64_t exp, now = vx_now_ns();
	bool waiting = false;

	if (read(dp->ns_timer, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return 0;
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];

		if (!in->gone || !in->back_by)
			continue;
		if (ns_back(dp, in) != -EAGAIN)
			continue;
		if (now > in->back_by) {
			pr_warn("/run/netns/%s appeared but no namespace was mounted on it within 5 s; "
				"vxray waits for the next one",
				in->netns);
			in->back_by = 0;
			continue;
		}
		waiting = true;
	}
	if (!waiting)
		arm_ns_timer(dp, false);
	return 0;
}

static struct vx_dp_inst *inst_named(struct vx_dp *dp, const char *name)
{
	for (int i = 0; i < dp->n_inst; i++)
		if (dp->inst[i].netns[0] && !strcmp(dp->inst[i].netns, name))
			return &dp->inst[i];
	return NULL;
}

/* A name in /run/netns was created, deleted or renamed. */
static void ns_name_event(struct vx_dp *dp, struct vx_dp_inst *in, bool created)
{
	if (!created) {
		if (!in->gone)
			ns_vanished(dp, in);
		return;
	}
	if (!in->gone && vx_netns_inum(in->netns) == in->inum)
		return;
	/* Created again before vxray saw it go (events merged): let the old
	 * one go first. */
	if (!in->gone)
		ns_vanished(dp, in);
	in->back_by = vx_now_ns() + 5 * NSEC_PER_SEC;
	arm_ns_timer(dp, true);
}

static int on_ns_event(void *ctx)
{
	struct vx_dp *dp = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(dp->ns_watch, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct vx_dp_inst *in;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events lost: compare every name with what it was. */
				for (int i = 0; i < dp->n_inst; i++)
					if (dp->inst[i].netns[0])
						ns_name_event(dp, &dp->inst[i],
							      vx_netns_inum(dp->inst[i].netns) !=
								      0);
				continue;
			}
			if (!ev->len || !(in = inst_named(dp, ev->name)))
				continue;
			ns_name_event(dp, in, ev->mask & (IN_CREATE | IN_MOVED_TO));
		}
	}
	return 0;
}

/* /run/netns, when some chosen namespace is a named one. */
static int watch_ns_names(struct vx_dp *dp)
{
	bool named = false;
	int err;

	for (int i = 0; i < dp->n_inst; i++)
		named |= dp->inst[i].netns[0] != '\0';
	if (!named)
		return 0;
	dp->ns_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	dp->ns_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (dp->ns_watch < 0 || dp->ns_timer < 0 ||
	    inotify_add_watch(dp->ns_watch, "/run/netns",
			      IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0)
		err = -errno;
	else if (!(err = vx_loop_add_fd(dp->loop, dp->ns_watch, on_ns_event, dp)))
		err = vx_loop_add_fd(dp->loop, dp->ns_timer, on_ns_timer, dp);
	if (err)
		pr_err("cannot watch /run/netns for namespaces that are deleted and created again: %s",
		       strerror(-err));
	return err;
}

int vx_dp_follow(struct vx_dp *dp, struct vx_loop *loop)
{
	int err;

	if (!dp->po.o->auto_attach && !dp->po.on_link)
		return 0;
	dp->loop = loop;
	for (int i = 0; i < dp->n_inst; i++)
		if ((err = open_monitor(dp, &dp->inst[i])))
			return err;
	/* Namespaces deleted and created again are followed with --auto. */
	return dp->po.o->auto_attach ? watch_ns_names(dp) : 0;
}
