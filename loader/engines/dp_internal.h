/* SPDX-License-Identifier: GPL-2.0-only */
/* What the datapath engine's files share, and nothing else: datapath.c
 * (choosing, attaching one interface, the event ring, teardown), dp_load.c
 * (loading the programs), dp_tcnl.c (tc over netlink and the stale-filter
 * sweep), dp_follow.c (following link events and namespaces) and dp_tun.c
 * (the per-tunnel statistics the summaries read). Private to the engine: only
 * datapath*.c and dp_*.c include it; everything else uses datapath.h.
 *
 * It names the structs of datapath.h without including it, so that the
 * two stay one-way (scripts/check-includes). Same conventions as there:
 * 0 or a negative errno, having said what went wrong. */
#ifndef VXRAY_LOADER_DP_INTERNAL_H
#define VXRAY_LOADER_DP_INTERNAL_H

#include <stdbool.h>

struct bpf_object;
struct vx_dp;
struct vx_dp_inst;
struct vx_dp_watched;
struct vx_loop;
struct vx_vxlan_dev;

/* ---- datapath.c, dp_load.c ---------------------------------------------- */

/* The active slot of @ifindex in instance @inst, or NULL. */
struct vx_dp_watched *dp_find_active(struct vx_dp *dp, int inst, int ifindex);
/* A new active slot, or NULL when it is already watched (*err 0) or there
 * is no room (*err -E2BIG). */
struct vx_dp_watched *dp_add_watch(struct vx_dp *dp, int inst, int ifindex, const char *name,
				   const struct vx_vxlan_dev *vx, bool is_vxlan, int *err);
/* Give @in the programs: the first instance's (after the first, unless
 * dp->per_netns), else its own skeletons, loaded with its shared maps
 * taken from @global (NULL: the first instance, which creates them). */
int dp_load_inst(struct vx_dp *dp, struct vx_dp_inst *in, struct bpf_object *global);
/* Let @in's programs go: destroyed when its own, NULL either way. */
void dp_unload_inst(struct vx_dp_inst *in);
/* Tell the programs the one namespace they see (vx_one_netns), or that
 * there are several: after an instance is added or its inode changes,
 * before anything is attached there. */
void dp_netns_mode(struct vx_dp *dp);
/* @in's rtnetlink socket for tc, opened in its namespace. */
int dp_open_tc_socket(struct vx_dp *dp, struct vx_dp_inst *in);
/* Attach @w's hooks (TCX or netlink, and XDP when asked); on failure
 * nothing of it stays attached. 0, with @w left inactive, when --auto
 * found it and it has been deleted since. */
int dp_attach_one(struct vx_dp *dp, struct vx_dp_watched *w);
/* Detach whatever @w has attached and mark it inactive. */
void dp_detach_one(struct vx_dp *dp, struct vx_dp_watched *w);
/* Set each namespace's vx_hop_wanted and vx_wire_wanted from the active
 * VXLAN devices, attached or about to be (dp_wanted.c); nothing while
 * dp->attaching. */
void dp_wanted_update(struct vx_dp *dp);
/* The label of @in's namespace: its name, else that of its inode (which
 * stays right after the namespace is gone). */
const char *dp_inst_label(const struct vx_dp_inst *in);
/* @in's namespace ended (deleted, or nothing holds it any more): its
 * tunnels' totals become baselines (dp_incarn.h), so that a namespace
 * given its inode starts from zero. Called while its devices are still
 * attached (which keys the summaries count depends on them); the caller
 * then lets its label go (vx_ns_label_forget), so that the new one gets a
 * label of its own. */
void dp_netns_ended(struct vx_dp *dp, struct vx_dp_inst *in);

/* ---- dp_tcnl.c ---------------------------------------------------------- */

/* On the TCX path: remove the netlink filters a killed vxray left on @w. */
void dp_nl_sweep_stale(struct vx_dp *dp, struct vx_dp_watched *w);
/* vxray's cls_bpf filter on @w's ingress (@dir 0) or egress (1), in front
 * of the existing ones; its priority is kept in w->nl_prio[dir]. */
int dp_nl_attach_dir(struct vx_dp *dp, struct vx_dp_watched *w, int dir);
/* Remove the filters (and the clsact qdisc) vxray created on @w. */
void dp_nl_detach(struct vx_dp *dp, struct vx_dp_watched *w);

/* ---- dp_follow.c -------------------------------------------------------- */

/* With --auto: one RTNLGRP_LINK socket per namespace in @loop, so VXLAN
 * devices and underlays that appear or vanish are attached or detached on
 * the fly; and an inotify watch on /run/netns, so a named namespace that
 * is deleted is let go (detached, its sockets closed so that it can die)
 * and, when a namespace of that name is created again, followed again
 * (its new inode told to the programs); with vx_dp_opts.on_link, also to
 * report link changes (a dump of the links first learns their state,
 * silently). A no-op without either --auto or on_link. */
int vx_dp_follow(struct vx_dp *dp, struct vx_loop *loop);

/* Re-read @in's VXLAN devices and make what is attached match: devices
 * that appeared or vanished, underlays that moved; @why says what
 * prompted it, for the lines it prints ("a link change"). */
void dp_resync(struct vx_dp_inst *in, const char *why);
/* @in's rtnetlink monitor socket, in the loop. */
int dp_open_monitor(struct vx_dp *dp, struct vx_dp_inst *in);

/* ---- dp_nsfollow.c ------------------------------------------------------ */

/* With --auto: named namespaces followed through deletion and
 * re-creation (inotify on /run/netns); namespaces given by path or pid,
 * and with --all-netns every namespace, polled: one that no process or
 * mount holds any more is let go, and with --all-netns one that holds a
 * VXLAN device is followed as it appears. */
int dp_follow_netns(struct vx_dp *dp);
/* With --all-netns, @in's namespace was deleted between the scan that
 * chose it and the step at hand (-ENOENT entering it): let it go as if it
 * had been deleted while followed. Returns whether it was so. */
bool dp_ns_lost(struct vx_dp *dp, struct vx_dp_inst *in, int err);

#endif
