// SPDX-License-Identifier: GPL-2.0-only
/* The datapath engine following namespaces as they come and go (with
 * --auto; dp_follow_netns, see dp_internal.h):
 * - a named namespace that is deleted is let go (detached, vxray's
 *   sockets there closed so that it can die) and, when a namespace of
 *   that name is created again, told to the programs (or loaded for,
 *   with a copy per namespace) and followed again (inotify on /run/netns);
 * - a namespace given by path or pid:PID, and with --all-netns every
 *   namespace, is polled every second: one that no process or mount holds
 *   any more is let go for good (vxray's own sockets keep it alive, and
 *   keep its inode from being reused, until then), and with --all-netns
 *   one that holds a VXLAN device is followed as it appears.
 * Each namespace that ends ends its tunnels' totals (dp_netns_ended). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/magic.h>

#include "clock.h"
#include "datapath.h"
#include "dp_internal.h"
#include "inventory.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "tcnl.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

/* ---- named namespaces, deleted and created again ------------------------ */

/* @in's namespace is gone: detach from its interfaces and close the
 * sockets vxray holds there, which would otherwise keep the namespace and
 * its devices alive; its tunnels' totals end with it (dp_netns_ended). */
static void ns_let_go(struct vx_dp *dp, struct vx_dp_inst *in)
{
	int inst = (int)(in - dp->inst);

	dp_netns_ended(dp, in);
	for (int i = 0; i < dp->n_w; i++) {
		struct vx_dp_watched *w = &dp->w[i];

		if (!w->active || w->inst != inst)
			continue;
		dp_detach_one(dp, w);
		pr_info("detached from %s in %s, which vanished with its namespace", w->name,
			dp_inst_label(&dp->inst[w->inst]));
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
	in->reroute = false;
	vx_ns_label_forget(in->inum);
}

/* The name of @in's namespace is gone (`ip netns del`). The skeletons
 * stay loaded until the name comes back. */
static void ns_vanished(struct vx_dp *dp, struct vx_dp_inst *in)
{
	ns_let_go(dp, in);
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

/* The name is a namespace again, with a new inode: tell the programs (or,
 * with a copy per namespace, load one that carries it: the old one names
 * the dead namespace), open the sockets there and attach to its tunnel
 * devices. 0, -EAGAIN while it is not mounted yet, or another negative
 * errno (said). */
static int ns_back(struct vx_dp *dp, struct vx_dp_inst *in)
{
	struct vx_tc *old_tc = in->tc;
	struct vx_xdp *old_xdp = in->xdp;
	uint32_t old_inum = in->inum, inum = ns_mounted(in->netns);
	/* The shared maps: the first instance's (for itself, its old self). */
	struct bpf_object *global = in == dp->inst ? old_tc->obj : dp->inst[0].tc->obj;
	int err = 0;

	if (!inum)
		return -EAGAIN;
	in->inum = inum;
	if (dp->per_netns) {
		in->tc = NULL;
		in->xdp = NULL;
		err = dp_load_inst(dp, in, global);
	} else {
		dp_netns_mode(dp);
	}
	if (!err)
		err = dp_open_tc_socket(dp, in);
	if (!err)
		err = dp_open_monitor(dp, in);
	if (err) {
		pr_warn("cannot follow network namespace %s again: %s", in->netns,
			vx_strerror(err));
		vx_tcnl_close(in->nl);
		in->nl = NULL;
		if (dp->per_netns) {
			dp_unload_inst(in);
			in->tc = old_tc;
			in->xdp = old_xdp;
		}
		in->inum = old_inum;
		dp_netns_mode(dp);
		return err;
	}
	/* Every map the old programs shared is held by the new ones. */
	if (dp->per_netns) {
		vx_xdp__destroy(old_xdp);
		vx_tc__destroy(old_tc);
	}
	in->gone = false;
	in->back_by = 0;
	pr_info("network namespace %s was created again: following it", in->netns);
	if (dp->po.on_netns)
		dp->po.on_netns(dp->po.ctx, old_inum, inum);
	dp_resync(in, "its re-creation");
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
		if (dp->inst[i].netns[0] && !dp->inst[i].dead && !strcmp(dp->inst[i].netns, name))
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
					if (dp->inst[i].netns[0] && !dp->inst[i].dead &&
					    vx_netns_is_name(dp->inst[i].netns))
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
		named |= dp->inst[i].netns[0] && vx_netns_is_name(dp->inst[i].netns);
	/* --all-netns before any `ip netns add`: the poll follows names too. */
	if (!named && (!dp->po.o->all_netns || access("/run/netns", F_OK)))
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

/* ---- namespaces by path or pid, and --all-netns ------------------------- */

#define SCAN_EVERY_NS NSEC_PER_SEC
#define SCAN_MAX (VX_MAX_NETNS * 4)

/* A namespace vxray followed by path or pid is held by no process or
 * mount any more: let it go for good. Its slot may be taken by another
 * (the first instance's skeletons stay: they hold the shared maps). */
static void ns_ended(struct vx_dp *dp, struct vx_dp_inst *in)
{
	const char *label = dp_inst_label(in);

	ns_let_go(dp, in);
	if (strcmp(label, in->netns))
		pr_info("network namespace %s (%s) is gone: no process or mount holds it any more",
			label, in->netns);
	else
		pr_info("network namespace %s is gone: no process or mount holds it any more",
			label);
	in->dead = true;
	if (in != dp->inst)
		dp_unload_inst(in);
}

bool dp_ns_lost(struct vx_dp *dp, struct vx_dp_inst *in, int err)
{
	if (err != -ENOENT || !dp->po.o->all_netns || !in->netns[0] || in->gone || in->dead)
		return false;
	if (vx_netns_is_name(in->netns))
		ns_vanished(dp, in);
	else
		ns_ended(dp, in);
	return true;
}

static const struct vx_nsent *scan_find(const struct vx_nsent *ns, int n, uint32_t inum)
{
	for (int i = 0; i < n; i++)
		if (ns[i].inum == inum)
			return &ns[i];
	return NULL;
}

/* A namespace holding a VXLAN device appeared (--all-netns): follow it in
 * a new instance, or one whose namespace ended. */
static void ns_new(struct vx_dp *dp, const struct vx_nsent *e)
{
	struct vx_dp_inst *in = NULL;
	int err;

	for (int i = 1; i < dp->n_inst && !in; i++)
		if (dp->inst[i].dead)
			in = &dp->inst[i];
	if (!in && dp->inst && dp->n_inst < VX_DP_MAX_INST)
		in = &dp->inst[dp->n_inst++];
	if (!in) {
		pr_warn("not following network namespace %s (%s): vxray follows at most %d",
			vx_ns_label(e->inum), e->spec, VX_DP_MAX_INST);
		return;
	}
	memset(in, 0, sizeof(*in));
	in->dp = dp;
	in->inum = e->inum;
	snprintf(in->netns, sizeof(in->netns), "%s", e->spec);
	err = dp_load_inst(dp, in, dp->inst[0].tc->obj);
	if (!err)
		err = dp_open_tc_socket(dp, in);
	if (!err)
		err = dp_open_monitor(dp, in);
	if (err) {
		pr_warn("cannot follow network namespace %s (%s): %s", vx_ns_label(e->inum),
			e->spec, vx_strerror(err));
		vx_tcnl_close(in->nl);
		dp_unload_inst(in);
		memset(in, 0, sizeof(*in));
		in->dead = true;
		return;
	}
	if (strcmp(vx_ns_label(e->inum), e->spec))
		pr_info("following network namespace %s (%s), which holds a VXLAN device",
			vx_ns_label(e->inum), e->spec);
	else
		pr_info("following network namespace %s, which holds a VXLAN device", e->spec);
	if (dp->po.on_netns)
		dp->po.on_netns(dp->po.ctx, 0, e->inum);
	dp_resync(in, "its discovery");
}

static bool holds_vxlan(const char *spec)
{
	struct vx_inventory inv = {};
	bool yes = !vx_inventory_collect(&inv, spec) && inv.n;

	vx_inventory_free(&inv);
	return yes;
}

static int on_scan_timer(void *ctx)
{
	static struct vx_nsent ns[SCAN_MAX];
	struct vx_dp *dp = ctx;
	uint64_t exp;
	int n;

	if (read(dp->scan_timer, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return 0;
	n = vx_netns_scan(ns, SCAN_MAX);
	/* Followed by path or pid: still held? A pid that exited while
	 * another process holds the namespace: enter it through that one. */
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];
		const struct vx_nsent *e;

		/* A named one is the inotify watch's, when there is one. */
		if (in->dead || in->gone || (vx_netns_is_name(in->netns) && dp->ns_watch >= 0) ||
		    !in->netns[0])
			continue;
		if (!(e = scan_find(ns, n, in->inum))) {
			ns_ended(dp, in);
			continue;
		}
		if (vx_netns_inum(in->netns) != in->inum)
			snprintf(in->netns, sizeof(in->netns), "%s", e->spec);
	}
	if (!dp->po.o->all_netns)
		return 0;
	for (int k = 0; k < n; k++) {
		bool known = false;

		for (int i = 0; i < dp->n_inst && !known; i++) {
			const struct vx_dp_inst *in = &dp->inst[i];

			/* A named one is the inotify watch's, created again or not. */
			known = !in->dead &&
				((!in->gone && in->inum == ns[k].inum) ||
				 (vx_netns_is_name(ns[k].spec) && !strcmp(in->netns, ns[k].spec)));
		}
		if (!known && holds_vxlan(ns[k].spec))
			ns_new(dp, &ns[k]);
	}
	return 0;
}

/* Polling, when some namespace is followed by path or pid, or all are. */
static int poll_namespaces(struct vx_dp *dp)
{
	struct itimerspec its = { .it_interval = { SCAN_EVERY_NS / NSEC_PER_SEC, 0 },
				  .it_value = { SCAN_EVERY_NS / NSEC_PER_SEC, 0 } };
	bool unnamed = false;
	int err;

	for (int i = 0; i < dp->n_inst; i++)
		unnamed |= !vx_netns_is_name(dp->inst[i].netns);
	if (!unnamed && !dp->po.o->all_netns)
		return 0;
	dp->scan_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (dp->scan_timer < 0 || timerfd_settime(dp->scan_timer, 0, &its, NULL))
		err = -errno;
	else
		err = vx_loop_add_fd(dp->loop, dp->scan_timer, on_scan_timer, dp);
	if (err)
		pr_err("cannot poll for namespaces that come and go: %s", strerror(-err));
	return err;
}

int vx_dp_all_netns(struct vx_opts *o)
{
	static struct vx_nsent ns[SCAN_MAX];
	int n = vx_netns_scan(ns, SCAN_MAX);

	/* vxray's own first, always: the datapath keeps its maps there and
	 * follows the others from it. */
	o->n_netns = 0;
	o->netns[o->n_netns++][0] = '\0';
	for (int i = 0; i < n && o->n_netns < VX_MAX_NETNS; i++) {
		struct vx_inventory inv = {};

		if (!ns[i].spec[0] || vx_inventory_collect(&inv, ns[i].spec))
			continue;
		if (inv.n)
			snprintf(o->netns[o->n_netns++], VX_NETNS_NAME_MAX, "%s", ns[i].spec);
		vx_inventory_free(&inv);
	}
	o->auto_attach = true;
	return o->n_netns;
}

int dp_follow_netns(struct vx_dp *dp)
{
	int err = watch_ns_names(dp);

	return err ? err : poll_namespaces(dp);
}
