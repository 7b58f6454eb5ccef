// SPDX-License-Identifier: GPL-2.0-only
/* The datapath engine following what changes under it (vx_dp_follow, see
 * dp_internal.h): with --auto, VXLAN devices and underlays that appear or
 * vanish are attached or detached on the fly, and so is the underlay a
 * VXLAN device without `dev` moves to when addresses or routes change;
 * with vx_dp_opts.on_link, changes of watched links are reported.
 * Namespaces that come and go are dp_nsfollow.c's; attaching and loading
 * are datapath.c's, through dp_internal.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
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

/* @why completes "attached to NAME (KIND) in NETNS": ", which appeared";
 * NULL when a line of dp_resync() said it already (a debug line then). */
static void follow_add(struct vx_dp *dp, int inst, int ifindex, const char *name,
		       const struct vx_vxlan_dev *v, bool is_vxlan, const char *why)
{
	struct vx_dp_watched *w;
	int err;

	w = dp_add_watch(dp, inst, ifindex, name, v, is_vxlan, &err);
	if (!w) {
		if (err)
			pr_warn("cannot watch %s in %s: vxray watches at most %d interfaces "
				"(--max-interfaces N raises it)",
				name, dp_inst_label(&dp->inst[inst]), dp->max_w);
		return;
	}
	w->from_auto = true;
	w->appeared = true;
	if (dp_attach_one(dp, w) || !w->active) {
		w->active = false;
		return;
	}
	if (why)
		pr_info("attached to %s (%s) in %s%s", w->name, is_vxlan ? "vxlan" : "underlay",
			dp_inst_label(&dp->inst[w->inst]), why);
	else
		pr_debug("attached to %s (underlay) in %s", w->name,
			 dp_inst_label(&dp->inst[w->inst]));
	if (dp->po.on_change)
		dp->po.on_change(dp->po.ctx, w, true);
}

/* Whether interface @ifindex still exists in @in's namespace. */
static bool link_alive(const struct vx_dp_inst *in, int ifindex)
{
	char name[IF_NAMESIZE];
	int saved;
	bool alive;

	if (vx_netns_enter(in->netns, &saved))
		return false;
	alive = if_indextoname((unsigned int)ifindex, name) != NULL;
	vx_netns_leave(saved);
	return alive;
}

/* How the inventory found @v's underlay, for the change line. */
static const char *underlay_how(const struct vx_vxlan_dev *v, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!v->underlay_from_route)
		snprintf(buf, len, "its dev");
	else if (v->remote_family && !v->remote_is_group)
		snprintf(buf, len, "the route to %s",
			 inet_ntop(v->remote_family, &v->remote, a, sizeof(a)) ? a : "its remote");
	else if (v->local_family)
		snprintf(buf, len, "its FDB remote, or the device holding %s",
			 inet_ntop(v->local_family, &v->local, a, sizeof(a)) ? a :
									       "its local address");
	else
		snprintf(buf, len, "its FDB remote");
	return buf;
}

/* What does not resolve for @v, for the change line. */
static const char *unresolved_how(const struct vx_vxlan_dev *v, char *buf, size_t len)
{
	char r[INET6_ADDRSTRLEN] = "", l[INET6_ADDRSTRLEN] = "";

	if (v->remote_family && !v->remote_is_group)
		inet_ntop(v->remote_family, &v->remote, r, sizeof(r));
	if (v->local_family)
		inet_ntop(v->local_family, &v->local, l, sizeof(l));
	if (r[0] && l[0])
		snprintf(buf, len, "no route to %s and no device holds %s", r, l);
	else if (r[0])
		snprintf(buf, len, "no route to %s", r);
	else if (l[0])
		snprintf(buf, len, "no FDB remote is routed and no device holds %s", l);
	else
		snprintf(buf, len, "no FDB remote is routed");
	return buf;
}

/* @v is what the inventory says of a VXLAN device vxray watches as @w;
 * decide the underlay it uses now and say, in one line, what changed
 * (dp_resync() then attaches and detaches without a line of its own).
 * A device whose underlay no longer resolves keeps the one it had while
 * that exists: its local address or route is gone only for a moment as
 * a rule (re-applied configuration), and detaching would lose the
 * packets that follow. Returns the underlay to watch, 0 for none. */
static int underlay_now(struct vx_dp_inst *in, struct vx_dp_watched *w, struct vx_vxlan_dev *v,
			const char *why)
{
	const struct vx_vxlan_dev *was = &w->vx_copy;
	const char *ns = dp_inst_label(in);
	char how[160];

	if (!v->underlay_ifindex) {
		if (!was->underlay_ifindex || !link_alive(in, was->underlay_ifindex)) {
			if (was->underlay_ifindex)
				pr_info("%s in %s: underlay %s -> none after %s (%s; %s is gone)",
					v->name, ns, was->underlay, why,
					unresolved_how(v, how, sizeof(how)), was->underlay);
			w->ul_unresolved = false;
			return 0;
		}
		v->underlay_ifindex = was->underlay_ifindex;
		v->underlay_mtu = was->underlay_mtu;
		v->underlay_from_route = was->underlay_from_route;
		snprintf(v->underlay, sizeof(v->underlay), "%s", was->underlay);
		if (!w->ul_unresolved)
			pr_info("%s in %s: underlay %s no longer resolves after %s (%s); "
				"staying attached to %s, which still exists",
				v->name, ns, v->underlay, why, unresolved_how(v, how, sizeof(how)),
				v->underlay);
		w->ul_unresolved = true;
		return v->underlay_ifindex;
	}
	if (was->underlay_ifindex != v->underlay_ifindex) {
		struct vx_dp_watched *old =
			was->underlay_ifindex ?
				dp_find_active(in->dp, w->inst, was->underlay_ifindex) :
				NULL;

		/* Its detach, if no other device uses it, is this line's. */
		if (old && !old->is_vxlan)
			old->ul_moved = true;
		pr_info("%s in %s: underlay %s -> %s after %s (%s)", v->name, ns,
			was->underlay_ifindex ? was->underlay : "none", v->underlay, why,
			underlay_how(v, how, sizeof(how)));
	} else if (w->ul_unresolved)
		pr_info("%s in %s: underlay %s resolves again after %s (%s)", v->name, ns,
			v->underlay, why, underlay_how(v, how, sizeof(how)));
	w->ul_unresolved = false;
	return v->underlay_ifindex;
}

static void arm_rt_timer(struct vx_dp *dp);

/* Re-read the namespace's VXLAN devices and make the watched set match;
 * @why names what prompted it ("a link change"). */
void dp_resync(struct vx_dp_inst *in, const char *why)
{
	struct vx_dp *dp = in->dp;
	struct vx_inventory inv = {};
	int inst = (int)(in - dp->inst), err;

	in->reroute = false;
	for (int i = 0; i < dp->n_w; i++)
		dp->w[i].ul_moved = false;
	if ((err = vx_inventory_collect(&inv, in->netns))) {
		vx_inventory_free(&inv);
		/* Still changing after a few dumps (a thousand devices going):
		 * read again once the burst is over. */
		if (err == -EINTR && dp->rt_timer >= 0) {
			pr_debug("the links of %s keep changing: reading them again shortly",
				 dp_inst_label(in));
			in->reroute = true;
			arm_rt_timer(dp);
			return;
		}
		pr_warn("cannot re-read the VXLAN devices in %s: %s", dp_inst_label(in),
			strerror(-err));
		return;
	}
	/* Each device's underlay now: resolved, or kept (underlay_now). */
	for (int d = 0; d < inv.n; d++) {
		struct vx_dp_watched *w = dp_find_active(dp, inst, inv.devs[d].ifindex);

		if (w && w->is_vxlan && w->from_auto)
			underlay_now(in, w, &inv.devs[d], why);
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
		if (!w->ul_moved)
			pr_info("detached from %s in %s, which vanished or is no longer a tunnel "
				"device",
				w->name, dp_inst_label(&dp->inst[w->inst]));
		else /* said by underlay_now()'s line */
			pr_debug("detached from %s in %s: no VXLAN device there uses it as its "
				 "underlay now",
				 w->name, dp_inst_label(&dp->inst[w->inst]));
		if (dp->po.on_change)
			dp->po.on_change(dp->po.ctx, w, false);
	}
	for (int d = 0; d < inv.n; d++) {
		const struct vx_vxlan_dev *v = &inv.devs[d];
		struct vx_dp_watched *w = dp_find_active(dp, inst, v->ifindex);

		if (w && w->is_vxlan) {
			/* Still here: refresh its configuration (VNI, remote,
			 * underlay), and watch an underlay it moved to. */
			w->vx_copy = *v;
			if (w->from_auto && v->underlay_ifindex)
				follow_add(dp, inst, v->underlay_ifindex, v->underlay, v, false,
					   NULL);
			continue;
		}
		if (!port_known(dp, v->dstport))
			pr_warn("%s in %s uses UDP port %u, unknown when vxray started: its outer "
				"packets count as non-VXLAN until vxray restarts",
				v->name, dp_inst_label(in), v->dstport);
		follow_add(dp, inst, v->ifindex, v->name, v, true, ", which appeared");
		if (v->underlay_ifindex)
			follow_add(dp, inst, v->underlay_ifindex, v->underlay, v, false,
				   ", which appeared");
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
/* A burst of address and route changes (an address re-applied, a routing
 * daemon's update) is followed once, this long after its first message. */
#define REROUTE_NS (100 * NSEC_PER_MSEC)

static void arm_rt_timer(struct vx_dp *dp)
{
	struct itimerspec its = { .it_value = { 0, REROUTE_NS } }, cur;

	/* Armed already: that expiry covers this change too. */
	if (!timerfd_gettime(dp->rt_timer, &cur) && (cur.it_value.tv_sec || cur.it_value.tv_nsec))
		return;
	timerfd_settime(dp->rt_timer, 0, &its, NULL);
}

static int on_rt_timer(void *ctx)
{
	struct vx_dp *dp = ctx;
	uint64_t exp;

	if (read(dp->rt_timer, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return 0;
	for (int i = 0; i < dp->n_inst; i++)
		if (dp->inst[i].reroute && !dp->inst[i].gone)
			dp_resync(&dp->inst[i], "an address or route change");
	return 0;
}

static bool addr_or_route(uint16_t type)
{
	return type == RTM_NEWADDR || type == RTM_DELADDR || type == RTM_NEWROUTE ||
	       type == RTM_DELROUTE;
}

static int on_link_event(void *ctx)
{
	struct vx_dp_inst *in = ctx;
	struct vx_dp *dp = in->dp;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	/* Links not watched yet: --auto may attach them in dp_resync(). */
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
						dp_inst_label(in));
			}
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			bool dump = h->nlmsg_flags & NLM_F_MULTI;
			struct vx_link_msg m;

			if (addr_or_route(h->nlmsg_type)) {
				in->reroute = true;
				continue;
			}
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
		dp_resync(in, in->reroute ? "a link, address or route change" : "a link change");
	else if (in->reroute && dp->po.o->auto_attach)
		arm_rt_timer(dp);
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

/* RTNLGRP_LINK (and with --auto, addresses and routes) in @in's
 * namespace, read by on_link_event. */
int dp_open_monitor(struct vx_dp *dp, struct vx_dp_inst *in)
{
	/* With --auto, addresses and routes too: they decide which device a
	 * VXLAN device without `dev` sends through. */
	unsigned int groups = RTMGRP_LINK | (dp->po.o->auto_attach ?
						     RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
							     RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE :
						     0);
	int saved, err = vx_netns_enter(in->netns, &saved);

	if (err == -ENOENT)
		return err; /* gone: the caller says so */
	if (err) {
		pr_err("cannot enter %s to follow its link events: %s", dp_inst_label(in),
		       vx_strerror(err));
		return err;
	}
	in->mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	err = in->mon && !mnl_socket_bind(in->mon, groups, MNL_SOCKET_AUTOPID) ? 0 : -errno;
	vx_netns_leave(saved);
	if (!err && dp->po.on_link)
		err = send_link_dump(in->mon);
	if (!err)
		err = vx_loop_add_fd(dp->loop, mnl_socket_get_fd(in->mon), on_link_event, in);
	if (err) {
		pr_err("cannot follow link events in %s: %s", dp_inst_label(in), strerror(-err));
		if (in->mon)
			mnl_socket_close(in->mon);
		in->mon = NULL;
	}
	return err;
}

int vx_dp_follow(struct vx_dp *dp, struct vx_loop *loop)
{
	int err;

	if (!dp->po.o->auto_attach && !dp->po.on_link)
		return 0;
	dp->loop = loop;
	if (dp->po.o->auto_attach) {
		dp->rt_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		err = dp->rt_timer < 0 ? -errno :
					 vx_loop_add_fd(loop, dp->rt_timer, on_rt_timer, dp);
		if (err) {
			pr_err("cannot follow address and route changes: %s", strerror(-err));
			return err;
		}
	}
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];

		if (in->gone || in->dead)
			continue;
		if ((err = dp_open_monitor(dp, in)) && !dp_ns_lost(dp, in, err))
			return err;
	}
	/* Namespaces deleted, created again, or new, with --auto. */
	return dp->po.o->auto_attach ? dp_follow_netns(dp) : 0;
}
