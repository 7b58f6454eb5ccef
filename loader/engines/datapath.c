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
 *   generic mode, never over another program. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>

#include "datapath.h"
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

/* tc filter names carry this prefix: with the program name it is how a
 * stale vxray filter is told from anyone else's. */
#define NL_NAME_PREFIX "vxray/"
#define NL_PRIO_EMPTY 49151	/* just below the kernel's first auto priority */
#define NL_MAX_FILTERS 256

/* Maps keyed by ifindex are per namespace; every other map is shared. */
static bool map_per_netns(const char *name)
{
	return !strcmp(name, "vxp_dev") || !strcmp(name, "vxp_devc");
}

void vx_dp_init(struct vx_dp *dp, const struct vx_dp_opts *po)
{
	memset(dp, 0, sizeof(*dp));
	dp->po = *po;
	for (int i = 0; i < VX_DP_MAX_WATCH; i++) {
		dp->w[i].tcx[0] = dp->w[i].tcx[1] = -1;
		dp->w[i].xdp_link = -1;
	}
	dp->ns_watch = dp->ns_timer = -1;
}

/* ---- choosing interfaces ------------------------------------------------ */

static int inst_for(struct vx_dp *dp, const char *netns)
{
	for (int i = 0; i < dp->n_inst; i++)
		if (!strcmp(dp->inst[i].netns, netns))
			return i;
	if (dp->n_inst == VX_DP_MAX_INST)
		return -E2BIG;
	snprintf(dp->inst[dp->n_inst].netns, VX_NETNS_NAME_MAX, "%s", netns);
	dp->inst[dp->n_inst].inum = vx_netns_inum(netns);
	dp->inst[dp->n_inst].dp = dp;
	return dp->n_inst++;
}

static struct vx_dp_watched *find_active(struct vx_dp *dp, int inst, int ifindex)
{
	for (int i = 0; i < dp->n_w; i++)
		if (dp->w[i].active && dp->w[i].inst == inst && dp->w[i].ifindex == ifindex)
			return &dp->w[i];
	return NULL;
}

/* A new active slot, or NULL when it is already watched (or no room). */
static struct vx_dp_watched *add_watch(struct vx_dp *dp, int inst, int ifindex, const char *name,
				       const struct vx_vxlan_dev *vx, bool is_vxlan, int *err)
{
	struct vx_dp_watched *w = NULL;

	*err = 0;
	if (find_active(dp, inst, ifindex))
		return NULL;
	if (dp->n_w < VX_DP_MAX_WATCH) {
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

int vx_dp_pick(struct vx_dp *dp)
{
	char names[VX_MAX_NETNS + VX_MAX_IFACES + 1][VX_NETNS_NAME_MAX], err[256];
	const struct vx_opts *o = dp->po.o;
	int n = 0, ret;

	for (int i = 0; i < o->n_netns; i++) {
		if (vx_netns_check(o->netns[i], err, sizeof(err))) {
			pr_err("%s", err);
			return -ENOENT;
		}
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		/* NETNS:IFACE with a namespace that is not there: say that,
		 * not what listing its devices then fails with. */
		if (vx_netns_check(o->ifaces[i].netns, err, sizeof(err))) {
			pr_err("%s", err);
			return -ENOENT;
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
		if ((ret = vx_inventory_collect(&dp->inv, names[i]))) {
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

		if (vx_iface_resolve(s, &ifindex, err, sizeof(err))) {
			pr_err("%s", err);
			return -ENODEV;
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
		add_watch(dp, inst, ifindex, s->name, vx, is_vx, &ret);
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
			if ((w = add_watch(dp, inst, v->ifindex, v->name, v, true, &ret)))
				w->from_auto = true;
			if (ret)
				goto too_many;
			if (!v->underlay_ifindex)
				continue;
			if ((w = add_watch(dp, inst, v->underlay_ifindex, v->underlay, v, false, &ret)))
				w->from_auto = true;
			if (ret)
				goto too_many;
		}
		if (!dp->inv.n) {
			pr_err("--auto found no VXLAN device in the chosen namespaces; `vxray doctor` "
			       "lists them, --netns NAME looks inside a namespace");
			return -ENODEV;
		}
	}
	/* --auto --netns X with no device yet in X still gets an instance,
	 * so devices created there later are followed. */
	for (int i = 0; o->auto_attach && i < o->n_netns; i++)
		if (inst_for(dp, o->netns[i]) < 0)
			goto too_many;
	if (!dp->n_w) {
		pr_err("nothing to watch: name interfaces with -i [NETNS:]IFACE or use --auto "
		       "(every VXLAN device and its underlay)");
		return -EINVAL;
	}
	return 0;
too_many:
	pr_err("too many interfaces or namespaces: vxray watches at most %d interfaces in %d "
	       "namespaces", VX_DP_MAX_WATCH, VX_DP_MAX_INST);
	return -EINVAL;
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

/* Reuse the first instance's maps (the namespace's own for per-namespace
 * maps), so that every program writes into the same ring buffer and
 * counters, including maps added later by other views. */
static int share_maps(struct bpf_object *obj, struct bpf_object *global, struct bpf_object *ns)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct bpf_object *from = map_per_netns(bpf_map__name(m)) ? ns : global;
		struct bpf_map *src;
		int err;

		if (bpf_map__is_internal(m) || !from || from == obj)
			continue;
		src = bpf_object__find_map_by_name(from, bpf_map__name(m));
		if (!src || bpf_map__fd(src) < 0)
			continue;
		if ((err = bpf_map__reuse_fd(m, bpf_map__fd(src))))
			return err;
	}
	return 0;
}

/* Open and load @in's skeletons, its shared maps taken from @global (NULL:
 * the first instance, which creates them). */
static int load_inst(struct vx_dp *dp, struct vx_dp_inst *in, struct bpf_object *global)
{
	struct vx_dp_config c = dp->cfg;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bpf_program *progs[4];
	int err;

	c.netns = in->inum;
	in->tc = vx_tc__open();
	if (!in->tc)
		return -errno;
	memcpy((void *)&in->tc->rodata->cfg, &c, sizeof(c));
	if (dp->tc_mode == VX_TC_TCX) {
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_ul_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_vx_in, BPF_TCX_INGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_ul_out, BPF_TCX_EGRESS);
		bpf_program__set_expected_attach_type(in->tc->progs.vx_tc_vx_out, BPF_TCX_EGRESS);
	}
	if (dp->po.xdp) {
		in->xdp = vx_xdp__open();
		if (!in->xdp)
			return -errno;
		memcpy((void *)&in->xdp->rodata->cfg, &c, sizeof(c));
	}
	if (dp->po.before_load && (err = dp->po.before_load(dp->po.ctx, dp, in)) < 0)
		return err;
	if ((err = share_maps(in->tc->obj, global, NULL)) || (err = vx_tc__load(in->tc)))
		return err;
	if (in->xdp && ((err = share_maps(in->xdp->obj, global ? global : in->tc->obj,
					  in->tc->obj)) ||
			(err = vx_xdp__load(in->xdp))))
		return err;
	progs[0] = in->tc->progs.vx_tc_ul_in;
	progs[1] = in->tc->progs.vx_tc_ul_out;
	progs[2] = in->tc->progs.vx_tc_vx_in;
	progs[3] = in->tc->progs.vx_tc_vx_out;
	for (int i = 0; i < 4; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len))
			in->prog_id[i] = info.id;
	}
	return 0;
}

/* The tc socket lives in the namespace it is opened in. */
/* The tc socket lives in the namespace it is opened in. TCX needs it too:
 * to remove the filters a killed vxray left on the netlink path, whatever
 * path this run takes; there a socket that will not open only costs that. */
static int open_tc_socket(struct vx_dp *dp, struct vx_dp_inst *in)
{
	int saved, err;

	if ((err = vx_netns_enter(in->netns, &saved)))
		return err;
	in->nl = vx_tcnl_open();
	err = in->nl ? 0 : -errno;
	vx_netns_leave(saved);
	if (err && dp->tc_mode == VX_TC_NETLINK) {
		pr_err("cannot open an rtnetlink socket in %s: %s", vx_ns_label_of(in->netns),
		       strerror(-err));
		return err;
	}
	if (err)
		pr_warn("cannot open an rtnetlink socket in %s (%s): stale tc filters of an "
			"earlier vxray there are not looked for", vx_ns_label_of(in->netns),
			strerror(-err));
	return 0;
}

int vx_dp_load(struct vx_dp *dp)
{
	int err;

	if ((err = choose_tc_mode(dp)) || (err = fill_config(dp)))
		return err;
	for (int i = 0; i < dp->n_inst; i++) {
		struct vx_dp_inst *in = &dp->inst[i];

		if ((err = load_inst(dp, in, i ? dp->inst[0].tc->obj : NULL))) {
			pr_err("cannot load the datapath programs for %s: %s", vx_ns_label_of(in->netns),
			       vx_strerror(err));
			return err == -EINVAL ? -EIO : err;
		}
		if ((err = open_tc_socket(dp, in)))
			return err;
	}
	return 0;
}

/* ---- tc over netlink ---------------------------------------------------- */

static bool is_ours(const struct vx_dp_inst *in, uint32_t id)
{
	for (int i = 0; i < 4; i++)
		if (id && in->prog_id[i] == id)
			return true;
	return false;
}

/* True when some live process holds an fd for BPF program @id: another
 * vxray still running on this interface, whose filters are not stale.
 * After SIGKILL only the filter itself holds the program, so no process
 * does. Only called for filters that look like vxray's, so the /proc walk
 * is rare. */
static bool prog_held_by_process(uint32_t id)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *f;
	char path[288], link[64], line[128];
	bool held = false;

	if (!proc)
		return true;	/* cannot tell: assume it is alive */
	while (!held && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!held && (f = readdir(fds))) {
			ssize_t n;
			FILE *fi;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, "anon_inode:bpf-prog"))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
			fi = fopen(path, "r");
			if (!fi)
				continue;
			while (fgets(line, sizeof(line), fi)) {
				unsigned int v;

				if (sscanf(line, "prog_id: %u", &v) == 1) {
					held = v == id;
					break;
				}
			}
			fclose(fi);
		}
		closedir(fds);
	}
	closedir(proc);
	return held;
}

/* A filter some earlier vxray left behind: named by vxray, running a
 * program named by vxray, and held by no live process (a vxray that is
 * still running keeps its filters). Anything else is someone else's. */
static bool is_stale_vxray(const struct vx_dp *dp, const struct vx_tc_filter *f)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;
	bool named;

	if (strcmp(f->kind, "bpf") || !f->bpf_id ||
	    strncmp(f->bpf_name, NL_NAME_PREFIX, strlen(NL_NAME_PREFIX)))
		return false;
	for (int i = 0; i < dp->n_inst; i++)
		if (is_ours(&dp->inst[i], f->bpf_id))
			return false;
	fd = bpf_prog_get_fd_by_id(f->bpf_id);
	if (fd < 0)
		return false;
	named = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "vx_tc_", 6);
	close(fd);
	return named && !prog_held_by_process(f->bpf_id);
}

/* Remove the stale vxray filters among the @n in @f (a dump of @w's @dir),
 * and clear their priorities in @f. */
static void nl_remove_stale(struct vx_dp *dp, struct vx_dp_watched *w, int dir,
			    struct vx_tc_filter *f, int n)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];

	for (int i = 0; i < n; i++) {
		uint32_t stale = f[i].prio;
		int err;

		if (!f[i].handle || !is_stale_vxray(dp, &f[i]))
			continue;
		err = vx_tcnl_deltfilter(in->nl, w->ifindex, dir, stale);
		pr_info("removed a stale vxray tc filter (%s, pref %u) from %s %s in %s%s%s",
			f[i].bpf_name, stale, w->name, dir ? "egress" : "ingress",
			vx_ns_label_of(w->netns), err ? ": " : "", err ? strerror(-err) : "");
		/* The dump also lists the priority's own entry (handle 0). */
		for (int j = 0; j < n; j++)
			if (f[j].prio == stale)
				f[j].prio = 0;
	}
}

/* On the TCX path: the netlink filters a killed vxray left on @w. An
 * interface without a clsact qdisc has none, and its dump fails. */
static void nl_sweep_stale(struct vx_dp *dp, struct vx_dp_watched *w)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct vx_tc_filter *f;
	int n;

	if (!in->nl || !(f = calloc(NL_MAX_FILTERS, sizeof(*f))))
		return;
	for (int dir = 0; dir < 2; dir++) {
		n = vx_tcnl_gettfilter(in->nl, w->ifindex, dir, f, NL_MAX_FILTERS);
		if (n > 0)
			nl_remove_stale(dp, w, dir, f, n);
	}
	free(f);
}

static int nl_attach_dir(struct vx_dp *dp, struct vx_dp_watched *w, int dir)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct vx_tc_filter *f = calloc(NL_MAX_FILTERS, sizeof(*f));
	struct bpf_program *p = w->is_vxlan ? (dir ? in->tc->progs.vx_tc_vx_out :
						      in->tc->progs.vx_tc_vx_in) :
					      (dir ? in->tc->progs.vx_tc_ul_out :
						     in->tc->progs.vx_tc_ul_in);
	char name[64];
	uint32_t prio = 0, min = 0;
	int n, err;

	if (!f)
		return -ENOMEM;
	n = vx_tcnl_gettfilter(in->nl, w->ifindex, dir, f, NL_MAX_FILTERS);
	if (n < 0) {
		err = n;
		goto out;
	}
	nl_remove_stale(dp, w, dir, f, n);
	for (int i = 0; i < n; i++)
		if (f[i].prio && (!min || f[i].prio < min))
			min = f[i].prio;
	/* Just in front of the first filter: a filter's verdict (even
	 * TC_ACT_OK) ends the chain, and vxray must see the packet first.
	 * Other filters keep their priorities, handles and order. */
	if (!min)
		prio = NL_PRIO_EMPTY;
	else if (min > 1)
		prio = min - 1;
	else
		for (prio = 2; prio < 0xffff; prio++) {
			bool used = false;

			for (int i = 0; i < n; i++)
				used |= f[i].prio == prio;
			if (!used)
				break;
		}
	snprintf(name, sizeof(name), NL_NAME_PREFIX "%s", bpf_program__name(p));
	err = vx_tcnl_newtfilter_bpf(in->nl, w->ifindex, dir, prio, bpf_program__fd(p), name);
	if (!err)
		w->nl_prio[dir] = prio;
out:
	free(f);
	return err;
}

/* Remove the filter vxray created at nl_prio, after checking that what is
 * there now is still vxray's own program. */
static void nl_detach_dir(struct vx_dp *dp, struct vx_dp_watched *w, int dir)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct vx_tc_filter *f = calloc(NL_MAX_FILTERS, sizeof(*f));
	bool mine = true;
	int n, err;

	if (!w->nl_prio[dir] || !f)
		goto out;
	n = vx_tcnl_gettfilter(in->nl, w->ifindex, dir, f, NL_MAX_FILTERS);
	for (int i = 0; i < n; i++)
		if (f[i].prio == w->nl_prio[dir] && f[i].handle && !is_ours(in, f[i].bpf_id))
			mine = false;
	if (!mine) {
		pr_warn("left tc pref %u on %s %s in %s: it no longer holds vxray's program",
			w->nl_prio[dir], w->name, dir ? "egress" : "ingress", vx_ns_label_of(w->netns));
	} else if (n > 0 && (err = vx_tcnl_deltfilter(in->nl, w->ifindex, dir, w->nl_prio[dir]))) {
		pr_warn("cannot remove vxray's tc filter from %s %s in %s: %s; remove it with "
			"`tc filter del dev %s %s pref %u`", w->name, dir ? "egress" : "ingress",
			vx_ns_label_of(w->netns), strerror(-err), w->name, dir ? "egress" : "ingress",
			w->nl_prio[dir]);
	}
out:
	w->nl_prio[dir] = 0;
	free(f);
}

static void nl_detach(struct vx_dp *dp, struct vx_dp_watched *w)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct vx_tc_filter f[1];

	nl_detach_dir(dp, w, 1);
	nl_detach_dir(dp, w, 0);
	/* The qdisc only if vxray added it and nobody has put a filter on
	 * it since. */
	if (w->nl_qdisc_created && !vx_tcnl_gettfilter(in->nl, w->ifindex, 0, f, 1) &&
	    !vx_tcnl_gettfilter(in->nl, w->ifindex, 1, f, 1))
		vx_tcnl_delqdisc_clsact(in->nl, w->ifindex);
	w->nl_qdisc_created = false;
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
			"tc ingress sees arriving packets on %s", w->name, vx_ns_label_of(w->netns),
			q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id,
			w->name);
		return;
	}
	fd = bpf_link_create(bpf_program__fd(in->xdp->progs.vx_xdp_ul_in), w->ifindex, BPF_XDP,
			     &lo);
	if (fd < 0) {
		pr_warn("no XDP on %s in %s: native mode refused (%s), and generic mode is not "
			"used because it would change the timing it is meant to measure; tc ingress "
			"sees arriving packets there", w->name, vx_ns_label_of(w->netns), vx_strerror(fd));
		return;
	}
	w->xdp_link = fd;
	dp->n_xdp++;
	pr_info("XDP in native mode on %s in %s", w->name, vx_ns_label_of(w->netns));
}

/* Name VXLAN device IFINDEX's VNI to the datapath, or forget it (VNI 0):
 * in vxp_dev always, and in its vxp_devc slot unless another device holds
 * that slot (the programs look there first, vxp_dev after). */
static void dev_vni_set(struct vx_dp_inst *in, uint32_t ifindex, uint32_t vni)
{
	int hfd = bpf_map__fd(in->tc->maps.vxp_dev), cfd = bpf_map__fd(in->tc->maps.vxp_devc);
	uint32_t slot = ifindex & (VX_DEV_SLOTS - 1);
	uint64_t cur = 0, v = vni ? vx_devc_entry(ifindex, vni) : 0;

	if (vni)
		bpf_map_update_elem(hfd, &ifindex, &vni, BPF_ANY);
	else
		bpf_map_delete_elem(hfd, &ifindex);
	if (bpf_map_lookup_elem(cfd, &slot, &cur) || (cur && cur >> 32 != ifindex))
		return;
	bpf_map_update_elem(cfd, &slot, &v, BPF_ANY);
}

static void detach_one(struct vx_dp *dp, struct vx_dp_watched *w)
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
		nl_detach(dp, w);
	if (w->is_vxlan && in->tc)
		dev_vni_set(in, (uint32_t)w->ifindex, 0);
	w->active = false;
}

static int attach_one(struct vx_dp *dp, struct vx_dp_watched *w)
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

	if (err)
		return err;
	if (w->is_vxlan && w->vx)
		dev_vni_set(in, (uint32_t)w->ifindex, w->vx->vni);
	if (dp->tc_mode == VX_TC_TCX)
		nl_sweep_stale(dp, w);
	if (dp->tc_mode == VX_TC_NETLINK && (want[0] || want[1]) &&
	    (err = vx_tcnl_newqdisc_clsact(in->nl, w->ifindex, &w->nl_qdisc_created)))
		pr_err("cannot add a clsact qdisc to %s in %s: %s", w->name, vx_ns_label_of(in->netns),
		       strerror(-err));
	for (int dir = 0; dir < 2 && !err; dir++) {
		if (!want[dir])
			continue;
		if (dp->tc_mode == VX_TC_NETLINK) {
			err = nl_attach_dir(dp, w, dir);
			if (err)
				pr_err("cannot add vxray's tc filter to %s %s in %s: %s", w->name,
				       dir ? "egress" : "ingress", vx_ns_label_of(in->netns),
				       strerror(-err));
			continue;
		}
		err = bpf_link_create(bpf_program__fd(p[dir]), w->ifindex,
				      dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
		if (err >= 0) {
			w->tcx[dir] = err;
			err = 0;
		} else {
			pr_err("cannot attach to %s %s in %s: %s%s", w->name,
			       dir ? "egress" : "ingress", vx_ns_label_of(in->netns), vx_strerror(err),
			       err == -EINVAL ? " (this kernel has no TCX links; "
						"VXRAY_TC_ATTACH=netlink uses tc filters)" : "");
		}
	}
	if (!err && dp->po.xdp && !w->is_vxlan)
		xdp_attach(dp, w);
	vx_netns_leave(saved);
	if (err) {
		detach_one(dp, w);
		return err;
	}
	pr_debug("attached to %s (%s) in %s", w->name, w->is_vxlan ? "vxlan" : "underlay",
		 vx_ns_label_of(in->netns));
	return 0;
}

int vx_dp_attach(struct vx_dp *dp)
{
	for (int i = 0; i < dp->n_w; i++) {
		int err = dp->w[i].active ? attach_one(dp, &dp->w[i]) : 0;

		if (err)
			return err;
	}
	return 0;
}

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

	w = add_watch(dp, inst, ifindex, name, v, is_vxlan, &err);
	if (!w) {
		if (err)
			pr_warn("cannot watch %s in %s: vxray watches at most %d interfaces", name,
				vx_ns_label_of(dp->inst[inst].netns), VX_DP_MAX_WATCH);
		return;
	}
	w->from_auto = true;
	w->appeared = true;
	if (attach_one(dp, w)) {
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
		detach_one(dp, w);
		pr_info("detached from %s in %s, which vanished or is no longer a tunnel device",
			w->name, vx_ns_label_of(w->netns));
		if (dp->po.on_change)
			dp->po.on_change(dp->po.ctx, w, false);
	}
	for (int d = 0; d < inv.n; d++) {
		const struct vx_vxlan_dev *v = &inv.devs[d];
		struct vx_dp_watched *w = find_active(dp, inst, v->ifindex);

		if (w && w->is_vxlan) {
			/* Still here: refresh its configuration (VNI, remote). */
			w->vx_copy = *v;
			continue;
		}
		if (!port_known(dp, v->dstport))
			pr_warn("%s in %s uses UDP port %u, unknown when vxray started: its outer "
				"packets count as non-VXLAN until vxray restarts", v->name,
				vx_ns_label_of(in->netns), v->dstport);
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
	struct vx_dp_watched *w = (struct vx_dp_watched *)vx_dp_lookup(dp, in->inum,
									(uint32_t)m->ifindex);
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
			l.change = m->flags & IFF_LOWER_UP ? VX_LINK_CARRIER_ON : VX_LINK_CARRIER_OFF;
		else
			return;	/* another attribute changed */
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
	struct { struct vx_link_msg m; uint64_t ts; } later[LINK_BURST];
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
						"changes may be missing", vx_ns_label_of(in->netns));
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
		pr_err("cannot follow link events in %s: %s", vx_ns_label_of(in->netns), strerror(-err));
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
		detach_one(dp, w);
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
	err = load_inst(dp, in, global);
	if (!err)
		err = open_tc_socket(dp, in);
	if (!err)
		err = open_monitor(dp, in);
	if (err) {
		pr_warn("cannot follow network namespace %s again: %s", in->netns, vx_strerror(err));
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
				"vxray waits for the next one", in->netns);
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
							      vx_netns_inum(dp->inst[i].netns) != 0);
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
			detach_one(dp, &dp->w[i]);
	for (int i = dp->n_inst - 1; i >= 0; i--) {
		struct vx_dp_inst *in = &dp->inst[i];

		if (in->mon)
			mnl_socket_close(in->mon);
		vx_tcnl_close(in->nl);
		vx_xdp__destroy(in->xdp);
		vx_tc__destroy(in->tc);
		in->mon = NULL;
		in->nl = NULL;
		in->xdp = NULL;
		in->tc = NULL;
	}
	if (dp->ns_watch >= 0)
		close(dp->ns_watch);
	if (dp->ns_timer >= 0)
		close(dp->ns_timer);
	dp->ns_watch = dp->ns_timer = -1;
	vx_inventory_free(&dp->inv);
	dp->n_w = dp->n_inst = 0;
}

int vx_dp_cnt_fd(const struct vx_dp *dp)
{
	return dp->n_inst && dp->inst[0].tc ? bpf_map__fd(dp->inst[0].tc->maps.vxp_cnt) : -EBADF;
}

int vx_dp_tun_foreach(const struct vx_dp *dp, vx_tun_fn fn, void *ctx)
{
	const struct vx_tc *tc = dp->n_inst ? dp->inst[0].tc : NULL;

	if (!tc)
		return -EBADF;
	return vx_tun_foreach(bpf_map__fd(tc->maps.vxp_tun), bpf_map__fd(tc->maps.vxp_tslot), fn,
			      ctx);
}

void vx_dp_counters(const struct vx_dp *dp, uint64_t out[VX_C__MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd = vx_dp_cnt_fd(dp);
	uint64_t *vals = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*vals));

	memset(out, 0, sizeof(uint64_t) * VX_C__MAX);
	for (uint32_t k = 0; vals && k < VX_C__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
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
