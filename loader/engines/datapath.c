// SPDX-License-Identifier: GPL-2.0-only
/* Open, load and attach the datapath programs for every view that needs
 * them; see datapath.h for the API and lifecycle.
 *
 * Attachment, in order of preference:
 * - tc: TCX links (6.6+). A link dies with vxray's last fd, so nothing
 *   stays attached after an exit, a crash or SIGKILL. Without TCX (or with
 *   VXRAY_TC_ATTACH=netlink) a clsact qdisc and direct-action cls_bpf
 *   filters named "vxray/<program>" go just in front of the existing
 *   filters, at a priority nobody uses. They outlive vxray, so vxray
 *   removes exactly what it created on exit and, at the next start, stale
 *   filters left by a killed vxray (recognised by filter name AND the
 *   loaded program's name, never anyone else's).
 * - XDP (opt-in, --xdp): a native-mode bpf_link on underlay ingress, never
 *   generic mode, never over another program.
 *
 * This file: choosing interfaces, loading, attaching and detaching one
 * interface, the event ring, teardown and accessors. Loading one
 * instance's programs is dp_load.c; tc over netlink (the
 * cls_bpf filters and the stale-filter sweep) is dp_tcnl.c; following link
 * events and namespaces (--auto, on_link) is dp_follow.c; dp_internal.h is
 * what the three share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>

#include "datapath.h"
#include "dp_internal.h"
#include "maputil.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "netns.h"
#include "record.h"
#include "tcnl.h"
#include "vx_tc.skel.h"
#include "vx_xdp.skel.h"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

void vx_dp_init(struct vx_dp *dp, const struct vx_dp_opts *po)
{
	memset(dp, 0, sizeof(*dp));
	dp->po = *po;
	dp->max_w = po->o && po->o->max_ifaces ? (int)po->o->max_ifaces : VX_DP_DEF_WATCH;
	dp->max_tun = po->o && po->o->max_tunnels ? po->o->max_tunnels : VX_TUN_DEF_KEYS;
	/* calloc maps fresh zero pages for tables this size: a slot costs
	 * memory once it is used. A failure leaves no room (E2BIG, then
	 * ENOMEM is said by vx_dp_pick). */
	dp->w = calloc((size_t)dp->max_w, sizeof(*dp->w));
	dp->inst = calloc(VX_DP_MAX_INST, sizeof(*dp->inst));
	if (!dp->w || !dp->inst) {
		free(dp->w);
		free(dp->inst);
		dp->w = NULL;
		dp->inst = NULL;
		dp->max_w = 0;
	}
	dp->ns_watch = dp->ns_timer = dp->rt_timer = dp->scan_timer = -1;
}

/* ---- choosing interfaces ------------------------------------------------ */

static int inst_for(struct vx_dp *dp, const char *netns)
{
	for (int i = 0; i < dp->n_inst; i++)
		if (!strcmp(dp->inst[i].netns, netns))
			return i;
	if (!dp->inst || dp->n_inst == VX_DP_MAX_INST)
		return -E2BIG;
	snprintf(dp->inst[dp->n_inst].netns, VX_NETNS_NAME_MAX, "%s", netns);
	dp->inst[dp->n_inst].inum = vx_netns_inum(netns);
	dp->inst[dp->n_inst].dp = dp;
	return dp->n_inst++;
}

struct vx_dp_watched *dp_find_active(struct vx_dp *dp, int inst, int ifindex)
{
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active && dp->w[i].inst == inst && dp->w[i].ifindex == ifindex)
			return &dp->w[i];
	return NULL;
}

/* A new active slot, or NULL when it is already watched (or no room). */
struct vx_dp_watched *dp_add_watch(struct vx_dp *dp, int inst, int ifindex, const char *name,
				   const struct vx_vxlan_dev *vx, bool is_vxlan, int *err)
{
	struct vx_dp_watched *w = NULL;

	*err = 0;
	if (dp_find_active(dp, inst, ifindex))
		return NULL;
	if (dp->n_w < dp->max_w) {
		w = &dp->w[dp->n_w++];
	} else {
		/* Full after much churn: reuse the slot of a vanished one. */
		for (int i = 0; i < dp->n_w && !w; i++)
			if (!dp->w[i].active && dp->w[i].tcx[0] < 0 && dp->w[i].tcx[1] < 0)
				w = &dp->w[i];
		if (!w) {
			*err = -E2BIG;
			return NULL;
		}
	}
	memset(w, 0, sizeof(*w));
	w->tcx[0] = w->tcx[1] = w->xdp_link = -1;
	w->inst = inst;
	w->netns = dp->inst[inst].netns;
	w->netns_inum = dp->inst[inst].inum;
	w->ifindex = ifindex;
	w->is_vxlan = is_vxlan;
	w->active = true;
	snprintf(w->name, IF_NAMESIZE, "%s", name);
	if (vx) {
		w->vx_copy = *vx;
		w->vx = &w->vx_copy;
	}
	return w;
}

/* vx_dp_pick() with room for the names of every namespace it may look
 * in: --netns and those of -i, else vxray's own. */
static int pick(struct vx_dp *dp, char (*names)[VX_NETNS_NAME_MAX], char *err, size_t errlen)
{
	const struct vx_opts *o = dp->po.o;
	int n = 0, n_chosen, ret;

	for (int i = 0; i < o->n_netns; i++) {
		ret = vx_netns_check(o->netns[i], err, errlen);
		if (o->all_netns && vx_netns_gone(o->netns[i], ret))
			continue;
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	}
	n_chosen = n;
	for (int i = 0; i < o->n_ifaces; i++) {
		/* NETNS:IFACE with a namespace that is not there: say that,
		 * not what listing its devices then fails with. */
		if ((ret = vx_netns_check(o->ifaces[i].netns, err, errlen))) {
			pr_err("%s", err);
			return ret;
		}
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->ifaces[i].netns);
	}
	if (!n)
		names[n++][0] = '\0';
	for (int i = 0; i < n; i++) {
		bool dup = false;

		for (int j = 0; j < i; j++)
			dup |= !strcmp(names[i], names[j]);
		if (dup)
			continue;
		ret = vx_inventory_collect(&dp->inv, names[i]);
		if (o->all_netns && vx_netns_gone(names[i], ret)) {
			/* Left out of the list: no instance for it. */
			memmove(names[i], names[i + 1], (size_t)(n - i - 1) * sizeof(*names));
			n_chosen -= i < n_chosen;
			n--;
			i--;
			continue;
		}
		if (ret) {
			pr_err("cannot list the VXLAN devices in %s: %s", vx_ns_label_of(names[i]),
			       strerror(-ret));
			return ret;
		}
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		const struct vx_iface_spec *s = &o->ifaces[i];
		const struct vx_vxlan_dev *vx = NULL;
		bool is_vx = false;
		int ifindex, inst;

		if ((ret = vx_iface_resolve(s, &ifindex, err, errlen))) {
			pr_err("%s", err);
			return ret;
		}
		for (int d = 0; d < dp->inv.n; d++) {
			const struct vx_vxlan_dev *v = &dp->inv.devs[d];

			if (strcmp(v->netns, s->netns))
				continue;
			if (v->ifindex == ifindex) {
				vx = v;
				is_vx = true;
			} else if (v->underlay_ifindex == ifindex && !vx) {
				vx = v;
			}
		}
		if ((inst = inst_for(dp, s->netns)) < 0)
			goto too_many;
		dp_add_watch(dp, inst, ifindex, s->name, vx, is_vx, &ret);
		if (ret)
			goto too_many;
	}
	if (o->auto_attach) {
		for (int d = 0; d < dp->inv.n; d++) {
			const struct vx_vxlan_dev *v = &dp->inv.devs[d];
			struct vx_dp_watched *w;
			int inst = inst_for(dp, v->netns);

			if (inst < 0)
				goto too_many;
			if ((w = dp_add_watch(dp, inst, v->ifindex, v->name, v, true, &ret)))
				w->from_auto = true;
			if (ret)
				goto too_many;
			if (!v->underlay_ifindex)
				continue;
			if ((w = dp_add_watch(dp, inst, v->underlay_ifindex, v->underlay, v, false,
					      &ret)))
				w->from_auto = true;
			if (ret)
				goto too_many;
		}
		if (!dp->inv.n && !o->all_netns) {
			pr_err("--auto found no VXLAN device in the chosen namespaces; `vxray doctor` "
			       "lists them, --netns NAME looks inside a namespace");
			return -ENODEV;
		}
	}
	/* --auto --netns X with no device yet in X still gets an instance,
	 * so devices created there later are followed. */
	for (int i = 0; o->auto_attach && i < n_chosen; i++)
		if (inst_for(dp, names[i]) < 0)
			goto too_many;
	if (!dp->n_w && !o->all_netns) {
		pr_err("nothing to watch: name interfaces with -i [NETNS:]IFACE or use --auto "
		       "(every VXLAN device and its underlay)");
		return -EINVAL;
	}
	return 0;
too_many:
	if (!dp->w)
		pr_err("cannot allocate the table of watched interfaces: out of memory");
	else
		pr_err("too many interfaces or namespaces: vxray watches at most %d interfaces "
		       "(--max-interfaces N raises it) in %d namespaces",
		       dp->max_w, VX_DP_MAX_INST);
	return -EINVAL;
}

int vx_dp_pick(struct vx_dp *dp)
{
	const struct vx_opts *o = dp->po.o;
	char(*names)[VX_NETNS_NAME_MAX] =
		calloc((size_t)(o->n_netns + o->n_ifaces + 1), sizeof(*names));
	char err[256];
	int ret;

	if (!names)
		return -ENOMEM;
	ret = pick(dp, names, err, sizeof(err));
	free(names);
	return ret;
}

/* ---- loading ------------------------------------------------------------ */

static int choose_tc_mode(struct vx_dp *dp)
{
	const char *env = getenv("VXRAY_TC_ATTACH");
	__u32 cnt = 0;

	if (env && !strcmp(env, "netlink")) {
		dp->tc_mode = VX_TC_NETLINK;
		dp->tc_mode_why = "forced by VXRAY_TC_ATTACH=netlink";
		return 0;
	}
	if (env && !strcmp(env, "tcx")) {
		dp->tc_mode = VX_TC_TCX;
		dp->tc_mode_why = "forced by VXRAY_TC_ATTACH=tcx";
		return 0;
	}
	if (env && env[0] && strcmp(env, "auto")) {
		pr_err("VXRAY_TC_ATTACH='%s' is not one of auto, tcx, netlink", env);
		return -EINVAL;
	}
	/* A query of TCX programs on lo changes nothing; kernels before 6.6
	 * do not know the attach type and answer EINVAL. */
	if (!bpf_prog_query(1, (enum bpf_attach_type)BPF_TCX_INGRESS, 0, NULL, NULL, &cnt)) {
		dp->tc_mode = VX_TC_TCX;
		dp->tc_mode_why = "the kernel has TCX";
	} else {
		dp->tc_mode = VX_TC_NETLINK;
		dp->tc_mode_why = "the kernel has no TCX links (6.6+)";
	}
	return 0;
}

static int host_filter(struct vx_dp_config *c, const char *host)
{
	if (!host[0])
		return 0;
	if (inet_pton(AF_INET, host, c->host) == 1)
		c->has_host = 4;
	else if (inet_pton(AF_INET6, host, c->host) == 1)
		c->has_host = 6;
	else
		return -EINVAL;
	return 0;
}

static int fill_config(struct vx_dp *dp)
{
	const struct vx_opts *o = dp->po.o;
	struct vx_dp_config *c = &dp->cfg;
	int nports = 0;

	memset(c, 0, sizeof(*c));
	c->events = dp->po.events;
	c->snaplen = dp->po.events ? dp->po.snaplen : 0;
	c->flows = dp->po.flows;
	if (host_filter(c, o->host)) {
		pr_err("--host '%s' is not an IPv4 or IPv6 address", o->host);
		return -EINVAL;
	}
	c->host_side = o->host_side;
	c->has_vni = o->has_vni;
	c->vni = o->vni;
	c->has_port = o->has_port;
	c->port = o->port;
	c->proto = o->proto > 0 ? (uint8_t)o->proto : 0;
	/* --rate is per second overall: one window shared by every CPU. */
	c->rate = o->rate;
	for (int d = 0; d < dp->inv.n && nports < VX_MAX_VXLAN_PORTS; d++) {
		bool seen = dp->inv.devs[d].dstport == 4789;

		for (int i = 0; i < nports; i++)
			seen |= c->vxlan_ports[i] == dp->inv.devs[d].dstport;
		if (!seen)
			c->vxlan_ports[nports++] = dp->inv.devs[d].dstport;
	}
	c->n_vxlan_ports = (uint8_t)nports;
	return 0;
}

/* The tc socket lives in the namespace it is opened in. TCX needs it too:
 * to remove the filters a killed vxray left on the netlink path, whatever
 * path this run takes; there a socket that will not open only costs that. */
int dp_open_tc_socket(struct vx_dp *dp, struct vx_dp_inst *in)
{
	int saved, err;

	err = vx_netns_enter(in->netns, &saved);
	if (dp_ns_lost(dp, in, err))
		return 0;
	if (err)
		return err;
	in->nl = vx_tcnl_open();
	err = in->nl ? 0 : -errno;
	vx_netns_leave(saved);
	if (err && dp->tc_mode == VX_TC_NETLINK) {
		pr_err("cannot open an rtnetlink socket in %s: %s", dp_inst_label(in),
		       strerror(-err));
		return err;
	}
	if (err)
		pr_warn("cannot open an rtnetlink socket in %s (%s): stale tc filters of an "
			"earlier vxray there are not looked for",
			dp_inst_label(in), strerror(-err));
	return 0;
}

int vx_dp_load(struct vx_dp *dp)
{
	const char *per;
	int err;

	if ((err = choose_tc_mode(dp)) || (err = fill_config(dp)))
		return err;
	per = getenv("VXRAY_DP_PER_NETNS");
	dp->per_netns = per && *per && strcmp(per, "0");
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];

		err = dp_load_inst(dp, in, i ? dp->inst[0].tc->obj : NULL);
		if (err && !i && !dp->per_netns) {
			/* Kernels that refuse tc and XDP programs kernel reads
			 * (lockdown) still run a copy per namespace. */
			pr_debug("cannot load one copy of the datapath programs for every "
				 "namespace (%s): loading one per namespace",
				 vx_strerror(err));
			dp_unload_inst(in);
			dp->per_netns = true;
			err = dp_load_inst(dp, in, NULL);
		}
		if (err) {
			pr_err("cannot load the datapath programs for %s: %s", dp_inst_label(in),
			       vx_strerror(err));
			return err == -EINVAL ? -EIO : err;
		}
		if ((err = dp_open_tc_socket(dp, in)))
			return err;
	}
	return 0;
}

/* ---- attach / detach one interface -------------------------------------- */

static void xdp_attach(struct vx_dp *dp, struct vx_dp_watched *w)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	int fd;

	if (!bpf_xdp_query(w->ifindex, 0, &q) && (q.prog_id || q.drv_prog_id || q.skb_prog_id)) {
		pr_info("%s in %s already has an XDP program (id %u); leaving it there, "
			"tc ingress sees arriving packets on %s",
			w->name, dp_inst_label(&dp->inst[w->inst]),
			q.prog_id     ? q.prog_id :
			q.drv_prog_id ? q.drv_prog_id :
					q.skb_prog_id,
			w->name);
		return;
	}
	fd = bpf_link_create(bpf_program__fd(in->xdp->progs.vx_xdp_ul_in), w->ifindex, BPF_XDP,
			     &lo);
	if (fd < 0) {
		pr_warn("no XDP on %s in %s: native mode refused (%s), and generic mode is not "
			"used because it would change the timing it is meant to measure; tc ingress "
			"sees arriving packets there",
			w->name, dp_inst_label(&dp->inst[w->inst]), vx_strerror(fd));
		return;
	}
	w->xdp_link = fd;
	dp->n_xdp++;
	pr_info("XDP in native mode on %s in %s", w->name, dp_inst_label(&dp->inst[w->inst]));
}

/* Describe VXLAN device IFINDEX to the datapath (@vx: its VNI, or that it
 * is external and each packet's tunnel key names VNI and remote), or
 * forget it (@vx NULL): in vxp_dev always, and in its vxp_devc slot unless
 * another device holds that slot (the programs look there first, vxp_dev
 * after). */
static void dev_vni_set(struct vx_dp_inst *in, uint32_t ifindex, const struct vx_vxlan_dev *vx)
{
	int hfd = bpf_map__fd(in->tc->maps.vxp_dev), cfd = bpf_map__fd(in->tc->maps.vxp_devc);
	struct vx_dev_key k = { .netns = in->inum, .ifindex = ifindex };
	uint32_t slot = vx_devc_slot(in->inum, ifindex),
		 val = vx ? (vx->external ? VX_DEV_F_EXTERNAL : vx->vni & VX_DEV_VNI_MASK) : 0;
	struct vx_devc cur = { 0 }, v = { 0 };

	if (vx) {
		v = (struct vx_devc){ .netns = in->inum, .ifindex = ifindex, .val = val };
		bpf_map_update_elem(hfd, &k, &val, BPF_ANY);
	} else {
		bpf_map_delete_elem(hfd, &k);
	}
	if (bpf_map_lookup_elem(cfd, &slot, &cur) ||
	    (cur.ifindex && (cur.ifindex != ifindex || cur.netns != in->inum)))
		return;
	bpf_map_update_elem(cfd, &slot, &v, BPF_ANY);
}

void dp_detach_one(struct vx_dp *dp, struct vx_dp_watched *w)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];

	if (w->xdp_link >= 0) {
		close(w->xdp_link);
		w->xdp_link = -1;
		dp->n_xdp--;
	}
	for (int dir = 1; dir >= 0; dir--) {
		if (w->tcx[dir] >= 0)
			close(w->tcx[dir]);
		w->tcx[dir] = -1;
	}
	if (in->nl && (w->nl_prio[0] || w->nl_prio[1] || w->nl_qdisc_created))
		dp_nl_detach(dp, w);
	if (w->is_vxlan && in->tc)
		dev_vni_set(in, (uint32_t)w->ifindex, NULL);
	w->active = false;
	if (w->is_vxlan)
		dp_wanted_update(dp);
}

/* What to do about @err when it is the descriptor limit. */
static const char *fd_hint(int err)
{
	return err == -EMFILE || err == -ENFILE ?
		       " (each watched interface takes two descriptors: raise the hard limit, "
		       "ulimit -Hn or LimitNOFILE=, or watch fewer)" :
		       "";
}

/* Whether @err, met attaching to @w inside its namespace, says only that
 * the interface is gone: one --auto found, deleted since (a pod's
 * namespace torn down, a device removed). Not an error: it is left
 * unwatched, as if it had gone a moment later. */
static bool dp_went_away(const struct vx_dp_watched *w, int err)
{
	char name[IF_NAMESIZE];

	return err == -ENODEV && w->from_auto && !if_indextoname((unsigned int)w->ifindex, name);
}

int dp_attach_one(struct vx_dp *dp, struct vx_dp_watched *w)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct bpf_program *p[2] = {
		w->is_vxlan ? in->tc->progs.vx_tc_vx_in : in->tc->progs.vx_tc_ul_in,
		w->is_vxlan ? in->tc->progs.vx_tc_vx_out : in->tc->progs.vx_tc_ul_out,
	};
	unsigned int hooks = dp->po.hooks ? dp->po.hooks : VX_DP_HOOKS_ALL;
	bool want[2] = {
		hooks & (w->is_vxlan ? VX_DP_HOOK_VX_IN : VX_DP_HOOK_UL_IN),
		hooks & (w->is_vxlan ? VX_DP_HOOK_VX_OUT : VX_DP_HOOK_UL_OUT),
	};
	int saved, err = vx_netns_enter(in->netns, &saved);
	bool gone = false;

	if (dp_ns_lost(dp, in, err))
		return 0;
	if (err) {
		pr_err("cannot enter %s to attach to %s: %s%s", dp_inst_label(in), w->name,
		       vx_strerror(err), fd_hint(err));
		return err;
	}
	if (w->is_vxlan && w->vx)
		dev_vni_set(in, (uint32_t)w->ifindex, w->vx);
	/* Before the programs: the device's first packet finds its remote. */
	if (w->is_vxlan)
		dp_wanted_update(dp);
	if (dp->tc_mode == VX_TC_TCX)
		dp_nl_sweep_stale(dp, w);
	if (dp->tc_mode == VX_TC_NETLINK && (want[0] || want[1]) &&
	    (err = vx_tcnl_newqdisc_clsact(in->nl, w->ifindex, &w->nl_qdisc_created)) &&
	    !(gone = dp_went_away(w, err)))
		pr_err("cannot add a clsact qdisc to %s in %s: %s", w->name, dp_inst_label(in),
		       strerror(-err));
	for (int dir = 0; dir < 2 && !err; dir++) {
		if (!want[dir])
			continue;
		if (dp->tc_mode == VX_TC_NETLINK) {
			err = dp_nl_attach_dir(dp, w, dir);
			if (err && !(gone = dp_went_away(w, err)))
				pr_err("cannot add vxray's tc filter to %s %s in %s: %s", w->name,
				       dir ? "egress" : "ingress", dp_inst_label(in),
				       strerror(-err));
			continue;
		}
		err = bpf_link_create(bpf_program__fd(p[dir]), w->ifindex,
				      dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
		if (err >= 0) {
			w->tcx[dir] = err;
			err = 0;
		} else if (!(gone = dp_went_away(w, err))) {
			pr_err("cannot attach to %s %s in %s: %s%s", w->name,
			       dir ? "egress" : "ingress", dp_inst_label(in), vx_strerror(err),
			       err == -EINVAL ? " (this kernel has no TCX links; "
						"VXRAY_TC_ATTACH=netlink uses tc filters)" :
						fd_hint(err));
		}
	}
	if (!err && dp->po.xdp && !w->is_vxlan)
		xdp_attach(dp, w);
	vx_netns_leave(saved);
	if (err) {
		dp_detach_one(dp, w);
		if (!gone)
			return err;
		pr_info("%s (%s) in %s went away before vxray attached to it", w->name,
			w->is_vxlan ? "vxlan" : "underlay", dp_inst_label(in));
		return 0;
	}
	pr_debug("attached to %s (%s) in %s", w->name, w->is_vxlan ? "vxlan" : "underlay",
		 dp_inst_label(in));
	return 0;
}

int vx_dp_attach(struct vx_dp *dp)
{
	int err = 0;

	/* The flags first and the VXLAN devices last: a packet decapsulated
	 * while vxray starts then finds its remote, which the underlay's
	 * ingress left for it, instead of being counted without one. */
	dp_wanted_update(dp);
	dp->attaching = true;
	for (int vxlan = 0; vxlan < 2 && !err; vxlan++)
		for (int i = 0; i < dp->n_w && !err; i++)
			if (dp->w[i].active && dp->w[i].is_vxlan == vxlan)
				err = dp_attach_one(dp, &dp->w[i]);
	dp->attaching = false;
	dp_wanted_update(dp);
	return err;
}

/* ---- teardown and accessors --------------------------------------------- */

static int on_rb_event(void *ctx, void *data, size_t len)
{
	struct vx_dp *dp = ctx;
	struct vx_event e;

	if (vx_dp_event_decode(data, len, &e))
		return 0;
	dp->po.on_event(dp->po.ctx, &e, vx_cap_of(data, sizeof(e), len, dp->po.snaplen));
	return 0;
}

int vx_dp_add_to_loop(struct vx_dp *dp, struct vx_loop *loop)
{
	const struct vx_tc *tc = dp->n_inst ? dp->inst[0].tc : NULL;
	int err;

	if (dp->po.events && dp->po.on_event && tc) {
		dp->rb = ring_buffer__new(bpf_map__fd(tc->maps.vxp_rb), on_rb_event, dp, NULL);
		if (!dp->rb) {
			err = -errno;
			pr_err("cannot open the datapath's event ring buffer: %s", strerror(-err));
			return err;
		}
		if ((err = vx_loop_add_ringbuf(loop, dp->rb)))
			return err;
	}
	return vx_dp_follow(dp, loop);
}

void vx_dp_drain(struct vx_dp *dp)
{
	if (dp->rb)
		ring_buffer__consume(dp->rb);
}

uint64_t vx_dp_lost(const struct vx_dp *dp)
{
	uint64_t cnt[VX_C__MAX];

	vx_dp_counters(dp, cnt);
	return cnt[VX_C_LOST];
}

void vx_dp_close(struct vx_dp *dp)
{
	ring_buffer__free(dp->rb);
	dp->rb = NULL;
	/* Detach in reverse order of attachment, then unload. */
	for (int i = dp->n_w - 1; i >= 0; i--)
		if (dp->w[i].active)
			dp_detach_one(dp, &dp->w[i]);
	for (int i = dp->n_inst - 1; i >= 0; i--) {
		struct vx_dp_inst *in = &dp->inst[i];

		if (in->mon)
			mnl_socket_close(in->mon);
		vx_tcnl_close(in->nl);
		dp_unload_inst(in);
		in->mon = NULL;
		in->nl = NULL;
	}
	if (dp->ns_watch >= 0)
		close(dp->ns_watch);
	if (dp->ns_timer >= 0)
		close(dp->ns_timer);
	if (dp->rt_timer >= 0)
		close(dp->rt_timer);
	if (dp->scan_timer >= 0)
		close(dp->scan_timer);
	dp->ns_watch = dp->ns_timer = dp->rt_timer = dp->scan_timer = -1;
	vx_incarn_free(&dp->inc);
	vx_inventory_free(&dp->inv);
	dp->n_w = dp->n_inst = dp->max_w = 0;
	free(dp->w);
	free(dp->inst);
	dp->w = NULL;
	dp->inst = NULL;
}

int vx_dp_cnt_fd(const struct vx_dp *dp)
{
	return dp->n_inst && dp->inst[0].tc ? bpf_map__fd(dp->inst[0].tc->maps.vxp_cnt) : -EBADF;
}

const char *dp_inst_label(const struct vx_dp_inst *in)
{
	return vx_netns_is_name(in->netns) ? vx_ns_label_of(in->netns) : vx_ns_label(in->inum);
}

void vx_dp_counters(const struct vx_dp *dp, uint64_t out[VX_C__MAX])
{
	vx_cnt_sum(vx_dp_cnt_fd(dp), out, VX_C__MAX);
}

void vx_dp_warn_evictions(struct vx_dp *dp, const uint64_t cnt[VX_C__MAX])
{
	uint64_t n = cnt[VX_C_TUN_EVICTED];

	if (!n || n < 2 * dp->tun_evicted_said)
		return;
	pr_warn("the kernel's table of %u tunnel counters is too small: %llu evictions so far, "
		"so some tunnels' totals restarted from zero; raise --max-tunnels",
		dp->max_tun, (unsigned long long)n);
	dp->tun_evicted_said = n;
}

int vx_dp_map_fd(const struct vx_dp *dp, const char *name)
{
	struct bpf_map *m;

	if (!dp->n_inst || !dp->inst[0].tc)
		return -EBADF;
	m = bpf_object__find_map_by_name(dp->inst[0].tc->obj, name);
	return m ? bpf_map__fd(m) : -ENOENT;
}

const struct vx_dp_watched *vx_dp_lookup(const struct vx_dp *dp, uint32_t inum, uint32_t ifindex)
{
	const struct vx_dp_watched *gone = NULL;

	/* An active slot wins over a vanished one with a reused ifindex. */
	for (int i = 0; i < dp->n_w; i++) {
		const struct vx_dp_watched *w = &dp->w[i];

		if (w->netns_inum != inum || w->ifindex != (int)ifindex)
			continue;
		if (w->active)
			return w;
		gone = w;
	}
	return gone;
}

int vx_dp_n_active(const struct vx_dp *dp)
{
	int n = 0;

	for (int i = 0; i < dp->n_w; i++)
		n += dp->w[i].active;
	return n;
}

const char *vx_dp_tc_mode_name(enum vx_dp_tc_mode m)
{
	switch (m) {
	case VX_TC_TCX: return "TCX links";
	case VX_TC_NETLINK: return "tc clsact filters over netlink";
	}
	return "nothing";
}
