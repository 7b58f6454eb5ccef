// SPDX-License-Identifier: GPL-2.0-only
/* The datapath engine's tc over netlink, for kernels without TCX (or
 * VXRAY_TC_ATTACH=netlink): a direct-action cls_bpf filter per hook, put
 * just in front of the existing filters and removed on exit after checking
 * it still holds vxray's program; and the sweep of stale filters a killed
 * vxray left behind, on either path. A filter is stale only when it is
 * named by vxray, runs a program named by vxray and no live process holds
 * that program. The messages themselves are tcnl.c's; datapath.c calls
 * these through dp_internal.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "dp_internal.h"
#include "log.h"
#include "names.h"
#include "tcnl.h"
#include "vx_tc.skel.h"

/* tc filter names carry this prefix: with the program name it is how a
 * stale vxray filter is told from anyone else's. */
#define NL_NAME_PREFIX "vxray/"
#define NL_PRIO_EMPTY 49151 /* just below the kernel's first auto priority */
#define NL_MAX_FILTERS 256

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
		return true; /* cannot tell: assume it is alive */
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
			dp_inst_label(&dp->inst[w->inst]), err ? ": " : "",
			err ? strerror(-err) : "");
		/* The dump also lists the priority's own entry (handle 0). */
		for (int j = 0; j < n; j++)
			if (f[j].prio == stale)
				f[j].prio = 0;
	}
}

/* On the TCX path: the netlink filters a killed vxray left on @w. An
 * interface without a clsact qdisc has none, and its dump fails. */
void dp_nl_sweep_stale(struct vx_dp *dp, struct vx_dp_watched *w)
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

int dp_nl_attach_dir(struct vx_dp *dp, struct vx_dp_watched *w, int dir)
{
	struct vx_dp_inst *in = &dp->inst[w->inst];
	struct vx_tc_filter *f = calloc(NL_MAX_FILTERS, sizeof(*f));
	struct bpf_program *p =
		w->is_vxlan ? (dir ? in->tc->progs.vx_tc_vx_out : in->tc->progs.vx_tc_vx_in) :
			      (dir ? in->tc->progs.vx_tc_ul_out : in->tc->progs.vx_tc_ul_in);
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
			w->nl_prio[dir], w->name, dir ? "egress" : "ingress",
			dp_inst_label(&dp->inst[w->inst]));
	} else if (n > 0 && (err = vx_tcnl_deltfilter(in->nl, w->ifindex, dir, w->nl_prio[dir]))) {
		pr_warn("cannot remove vxray's tc filter from %s %s in %s: %s; remove it with "
			"`tc filter del dev %s %s pref %u`",
			w->name, dir ? "egress" : "ingress", dp_inst_label(&dp->inst[w->inst]),
			strerror(-err), w->name, dir ? "egress" : "ingress", w->nl_prio[dir]);
	}
out:
	w->nl_prio[dir] = 0;
	free(f);
}

void dp_nl_detach(struct vx_dp *dp, struct vx_dp_watched *w)
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
