/* SPDX-License-Identifier: GPL-2.0-only */
/* The datapath programs (bpf/tc/vx_tc.bpf.c, bpf/xdp/vx_xdp.bpf.c) opened,
 * loaded and attached for any view that wants per-packet tunnel data:
 * encap, latency, trace, diagnose, the metrics agent. Several views may
 * share one struct vx_dp in the same process.
 *
 * Lifecycle, one call each:
 *
 *	struct vx_dp dp;
 *	struct vx_dp_opts po = { .o = opts, .events = true };
 *
 *	vx_dp_init(&dp, &po);
 *	err = vx_dp_pick(&dp);       -i / --auto / --netns -> watched list
 *	err = vx_dp_load(&dp);       open one vx_tc (and vx_xdp) skeleton, set
 *	                             rodata, before_load(), load: one copy of
 *	                             the programs for every namespace, which
 *	                             reads each packet's namespace from its
 *	                             device (vx_one_netns when there is one);
 *	                             where the kernel refuses that read, one
 *	                             copy per namespace (vx_dp.per_netns) that
 *	                             shares every map but vxp_dev and vxp_devc
 *	err = vx_dp_attach(&dp);     TCX links, else clsact + cls_bpf filters;
 *	                             XDP links when asked
 *	vx_dp_add_to_loop(&dp, &loop);  events to vx_dp_opts.on_event, and
 *	                             --auto: attach/detach on link events
 *	... vx_dp_drain(), vx_dp_lost(), vx_dp_counters(), vx_dp_tun_foreach() ...
 *	vx_dp_close(&dp);            detach and destroy, reverse order
 *
 * Functions return 0 or a negative errno and have already printed one
 * sentence saying what went wrong; -EINVAL, -ENOENT and -ENODEV mean the
 * command line asked for something impossible (exit code 2).
 * vx_dp_close() is safe after any failure and on a zeroed struct. */
#ifndef VXRAY_LOADER_DATAPATH_H
#define VXRAY_LOADER_DATAPATH_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_incarn.h"
#include "inventory.h"
#include "maputil.h"
#include "opts.h"
#include "vxray.h"

struct vx_tc;
struct vx_xdp;
struct vx_loop;
struct vx_tcnl;
struct mnl_socket;
struct ring_buffer;
struct vx_cap;

/* Namespaces the datapath follows: one loaded program set each (about
 * 150 bytes here, the programs' and per-namespace maps' memory in the
 * kernel). */
#define VX_DP_MAX_INST 1024
/* Interfaces watched at once unless --max-interfaces says otherwise: the
 * table's slots (1.2 KiB each) are allocated up front but only touched
 * when used, and each namespace's device map holds as many entries,
 * allocated as devices are added. */
#define VX_DP_DEF_WATCH 4096
#define VX_DP_MAX_WATCH_LIMIT 65536
/* --max-tunnels' range: vxp_tun's keys (VX_TUN_DEF_KEYS by default), each
 * a 32-byte key and 16 bytes per CPU, allocated up front by the LRU. */
#define VX_DP_MIN_TUNNELS 256
#define VX_DP_MAX_TUNNELS 1048576

/* How the tc programs are attached. */
enum vx_dp_tc_mode {
	VX_TC_TCX = 1, /* bpf_link (kernel >= 6.6): dies with vxray */
	VX_TC_NETLINK, /* clsact + cls_bpf filters, removed by vxray */
};

/* One skeleton pair per namespace: the namespace inode is a rodata
 * constant of the programs. */
struct vx_dp_inst {
	struct vx_dp *dp;
	char netns[VX_NETNS_NAME_MAX]; /* "" = vxray's own namespace */
	uint32_t inum;
	struct vx_tc *tc;
	struct vx_xdp *xdp;	/* NULL unless vx_dp_opts.xdp */
	bool shared;		/* tc, xdp are the first instance's */
	struct vx_tcnl *nl;	/* rtnetlink socket in that namespace */
	struct mnl_socket *mon; /* RTNLGRP_LINK socket (vx_dp_follow) */
	uint32_t prog_id[4];	/* tc ul_in, ul_out, vx_in, vx_out */
	/* Following a named namespace that is deleted and created again
	 * (vx_dp_follow): gone once its /run/netns name vanished, nothing of
	 * it attached and no socket of vxray's keeping it alive; back_by is
	 * the deadline for the recreated name to become a namespace. */
	bool gone;
	uint64_t back_by; /* CLOCK_MONOTONIC ns, 0: not waiting */
	/* Followed by path or pid (or --all-netns), and no process or mount
	 * holds it any more: let go for good, the slot free for another. */
	bool dead;
	/* An address or route changed there (vx_dp_follow): the underlays
	 * are resolved again when the debounce timer fires. */
	bool reroute;
};

/* An interface vxray watches. Slots are never moved: pointers stay valid
 * for the life of the struct vx_dp, and a vanished interface keeps its
 * slot with .active false (its name stays readable for late events). */
struct vx_dp_watched {
	char name[IF_NAMESIZE];
	const char *netns; /* points at its instance's netns */
	uint32_t netns_inum;
	int ifindex;
	int inst;	/* index into vx_dp.inst */
	bool is_vxlan;	/* a VXLAN device, else an underlay */
	bool active;	/* attached now */
	bool from_auto; /* found by --auto, not named with -i */
	/* Its VXLAN device, or the VXLAN device it carries; NULL if none. */
	const struct vx_vxlan_dev *vx;
	struct vx_vxlan_dev vx_copy; /* what .vx points at */
	/* Attachment, private to the engine (datapath.c, dp_tcnl.c). */
	int tcx[2];	     /* ingress, egress link fds, or -1 */
	int xdp_link;	     /* -1 when none */
	uint32_t nl_prio[2]; /* netlink filters created, 0: none */
	bool nl_qdisc_created;
	/* Link state, private to dp_follow.c (vx_dp_opts.on_link). */
	bool appeared;		 /* attached while following */
	bool link_known;	 /* link_flags hold its state */
	unsigned int link_flags; /* IFF_* at the last message */
	/* A VXLAN device whose underlay no longer resolves (its local
	 * address or route is gone for now): vx_copy keeps the last one,
	 * which stays attached while it exists (dp_follow.c). */
	bool ul_unresolved;
	bool ul_moved; /* an underlay a device just left (dp_resync) */
};

/* What happened to a watched interface (vx_dp_opts.on_link). */
enum vx_link_change {
	VX_LINK_ADDED = 1, /* appeared and was attached (--auto) */
	VX_LINK_DELETED,
	VX_LINK_UP, /* administratively */
	VX_LINK_DOWN,
	VX_LINK_CARRIER_ON,
	VX_LINK_CARRIER_OFF,
};

struct vx_dp_link {
	/* rtnetlink carries no time: CLOCK_MONOTONIC (the clock of
	 * bpf_ktime_get_ns) when vxray read the message. */
	uint64_t ts_ns;
	const struct vx_dp_watched *w;
	enum vx_link_change change;
	unsigned int flags; /* IFF_* now */
	uint32_t mtu;	    /* 0 when not said */
};
/* "added", "deleted", "up", "down", "carrier on", "carrier off". */
const char *vx_link_change_name(enum vx_link_change c);

struct vx_dp;

struct vx_dp_opts {
	const struct vx_opts *o; /* -i, --auto, --netns and the filters */
	bool events;		 /* ring-buffer events; false: counters only */
	bool xdp;		 /* XDP on underlay ingress (native only) */
	uint16_t snaplen;	 /* --pcap: packet bytes behind each event */
	bool flows;		 /* learn TCP flows' tunnels into vxp_flow */
	/* The hooks to attach, VX_DP_HOOK_* or'ed; 0: all four. A view that
	 * needs one hook (retrans learns flows at underlay egress only) does
	 * not make every packet pay for the others. */
	uint8_t hooks;
	/* Called for every instance after rodata is filled and before load:
	 * change in->tc->rodata / in->xdp->rodata, or bpf_map__set_max_entries
	 * on maps (do the same for every instance: shared maps must agree).
	 * A negative return aborts vx_dp_load() with it. */
	int (*before_load)(void *ctx, struct vx_dp *dp, struct vx_dp_inst *in);
	/* Called after an interface was attached (added) or detached because
	 * it vanished, while following link events. */
	void (*on_change)(void *ctx, const struct vx_dp_watched *w, bool added);
	/* Called when a followed namespace was created again under its name:
	 * the namespace inode @old_inum is gone, @new_inum replaces it. */
	void (*on_netns)(void *ctx, uint32_t old_inum, uint32_t new_inum);
	/* Called for every change of a watched interface's link: added,
	 * deleted, up/down, carrier. Setting it makes vx_dp_follow() listen
	 * even without --auto (then the watched set stays as it is). */
	void (*on_link)(void *ctx, const struct vx_dp_link *l);
	/* With .events: one call per ring-buffer event, from the loop (or
	 * vx_dp_drain()), with the packet bytes behind it (--pcap) or NULL.
	 * The pointers are valid during the call only. */
	void (*on_event)(void *ctx, const struct vx_event *e, const struct vx_cap *cap);
	void *ctx;
	/* Keep the last totals of namespaces that ended for
	 * vx_dp_retired_take() (a view showing them once). */
	bool retired;
};

enum {
	VX_DP_HOOK_UL_IN = 1,  /* underlay tc ingress */
	VX_DP_HOOK_UL_OUT = 2, /* underlay tc egress */
	VX_DP_HOOK_VX_IN = 4,  /* VXLAN device tc ingress */
	VX_DP_HOOK_VX_OUT = 8, /* VXLAN device tc egress */
	VX_DP_HOOKS_ALL = 15,
};

struct vx_dp {
	struct vx_dp_opts po;
	struct vx_inventory inv;
	struct vx_dp_inst *inst; /* VX_DP_MAX_INST slots */
	int n_inst;
	struct vx_dp_watched *w;   /* max_w slots: pointers into it stay valid */
	int n_w;		   /* slots used, active or not */
	int max_w;		   /* --max-interfaces, else VX_DP_DEF_WATCH */
	uint32_t max_tun;	   /* --max-tunnels, else VX_TUN_DEF_KEYS */
	uint64_t tun_evicted_said; /* VX_C_TUN_EVICTED when last warned of */
	bool attaching;		   /* vx_dp_attach() runs: per-namespace flags after */
	/* Each namespace has its own copy of the programs, its inode in
	 * their rodata: the kernel refuses them the read of a packet's
	 * namespace, or VXRAY_DP_PER_NETNS=1 asked for it. */
	bool per_netns;
	enum vx_dp_tc_mode tc_mode;
	const char *tc_mode_why; /* why that mode, for the startup line */
	int n_xdp;		 /* interfaces with vxray's XDP */
	struct vx_dp_config cfg; /* rodata common to every instance */
	/* vx_dp_follow: the loop, an inotify fd on /run/netns and a timer
	 * that polls a recreated name until its namespace is mounted. */
	struct vx_loop *loop;
	int ns_watch, ns_timer;
	/* Address and route changes are followed after this one-shot
	 * timer, so that a burst of them costs one re-read. */
	int rt_timer;
	struct ring_buffer *rb; /* vx_dp_add_to_loop() with .on_event */
	/* Namespaces that ended: per-tunnel baselines and retired rows, and
	 * how many ended (a reader's cue to drop what it keeps of them). */
	struct vx_incarn inc;
	uint64_t ns_ended;
	int scan_timer; /* vx_dp_follow: namespaces that come and go */
};

/* --all-netns, before the views start: o->netns becomes vxray's own
 * namespace ("") and every other one holding a VXLAN device now (named,
 * mounted elsewhere, or any process's, as pid:PID), and --auto is set;
 * vx_dp_follow() follows those that appear later. Returns the count. */
int vx_dp_all_netns(struct vx_opts *o);

void vx_dp_init(struct vx_dp *dp, const struct vx_dp_opts *po);
int vx_dp_pick(struct vx_dp *dp);
int vx_dp_load(struct vx_dp *dp);
int vx_dp_attach(struct vx_dp *dp);
/* The engine in the loop: the event ring (vx_dp_opts.on_event) and
 * vx_dp_follow(). 0 or a negative errno, having said why. */
int vx_dp_add_to_loop(struct vx_dp *dp, struct vx_loop *loop);
/* Deliver what is already in the ring (before a final read or a flush). */
void vx_dp_drain(struct vx_dp *dp);
/* Events the ring buffer had no room for, since load (exact: counted in
 * the kernel). */
uint64_t vx_dp_lost(const struct vx_dp *dp);
void vx_dp_close(struct vx_dp *dp);

/* Shared maps: the per-CPU counters (enum vx_result + enum vx_counter). */
int vx_dp_cnt_fd(const struct vx_dp *dp);
/* The per-tunnel statistics, one call of FN per tunnel (maputil.h), for
 * the namespaces as they are now: a namespace that ended, and was
 * perhaps created again with the same inode, counts from its start
 * (dp_incarn.h); tunnels of ended namespaces only are left out. */
int vx_dp_tun_foreach(const struct vx_dp *dp, vx_tun_fn fn, void *ctx);
/* Every latency histogram (vxl_hist) with samples, summed over CPUs, one
 * call of FN each; stages past VX_ST__MAX are passed over. 0, or a
 * negative errno when the map cannot be read. */
typedef void (*vx_lat_fn)(const struct vx_lat_key *k, const struct vx_lat_hist *h, void *ctx);
int vx_dp_lat_foreach(const struct vx_dp *dp, vx_lat_fn fn, void *ctx);
/* The latency join counters (enum vx_lat_counter) of every stage summed
 * over CPUs, and in *@one_in the most packets per stamp any CPU's auto
 * sampling is at now (1: every packet). 0 or a negative errno. */
struct vx_lat_counts {
	uint64_t c[VX_ST__MAX][VX_L__MAX];
	uint32_t one_in;
};
int vx_dp_lat_counts(const struct vx_dp *dp, struct vx_lat_counts *out);
/* With vx_dp_opts.retired: move up to @max rows of namespaces that ended
 * since the last call (their tunnels' totals, labelled as the namespace
 * was; only the keys vx_dp_tun_counts counted) into @out; returns how
 * many. */
int vx_dp_retired_take(struct vx_dp *dp, struct vx_dp_retired *out, int max);
/* Whether the per-tunnel summaries (encap's rows, the tunnel metrics)
 * count key @k: each packet once, at the hook that read its remote VTEP
 * from the packet. An external device's own hooks (its tunnel key); a
 * classic device's ingress (the outer source its underlay saw) but, for
 * packets leaving, its underlay (the outer destination the kernel chose:
 * a frame replicated to several remotes counts once for each), or the
 * device itself, remote unknown, when its underlay is not watched; an
 * underlay for the VNIs of devices not watched. *dev: the VXLAN device
 * the packet belongs to when it is watched, else the hook's interface
 * (NULL when unknown). */
bool vx_dp_tun_counts(const struct vx_dp *dp, const struct vx_tun_key *k,
		      const struct vx_dp_watched **dev);
/* The per-CPU counters (enum vx_result + enum vx_counter) summed over
 * CPUs into @out; slots that cannot be read are 0. */
void vx_dp_counters(const struct vx_dp *dp, uint64_t out[VX_C__MAX]);
/* Warn when the kernel's tunnel counters were evicted (@cnt from
 * vx_dp_counters): at the first, then each time their number doubles. */
void vx_dp_warn_evictions(struct vx_dp *dp, const uint64_t cnt[VX_C__MAX]);
/* The fd of a map by name in the first instance (shared maps added by other
 * views), or a negative errno. */
int vx_dp_map_fd(const struct vx_dp *dp, const char *name);

/* The watched interface an event's (netns inode, ifindex) names, active or
 * not, or NULL. */
const struct vx_dp_watched *vx_dp_lookup(const struct vx_dp *dp, uint32_t inum, uint32_t ifindex);
/* Number of interfaces attached now. */
int vx_dp_n_active(const struct vx_dp *dp);
/* Whether this kernel has bpf_cast_to_kern_ctx (6.2+): then the tc
 * programs read a packet's namespace with plain loads (vx_kern_ctx in
 * bpf/tc/vx_tc.bpf.c), else with bpf_probe_read_kernel. */
bool vx_dp_kern_ctx(void);
/* "TCX links" or "tc clsact filters over netlink". */
const char *vx_dp_tc_mode_name(enum vx_dp_tc_mode m);

#endif
