// SPDX-License-Identifier: GPL-2.0-only
/* `vxray doctor`: what this kernel lets vxray do, and every VXLAN device in
 * the chosen namespaces with its MTU checked against its underlay. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btfnames.h"
#include "cmd.h"
#include "conntrack.h"
#include "doctor.h"
#include "hookprobe.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "netns.h"
#include "sysinfo.h"

/* The namespaces to look in: --netns and the -i namespaces when given,
 * otherwise this one and every named one. */
static int pick_namespaces(const struct vx_opts *o, char names[][VX_NETNS_NAME_MAX], int max)
{
	char err[256];
	int n = 0, ret;

	for (int i = 0; i < o->n_netns && n < max; i++)
		snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->netns[i]);
	for (int i = 0; i < o->n_ifaces && n < max; i++) {
		bool dup = false;

		for (int j = 0; j < n; j++)
			dup |= !strcmp(names[j], o->ifaces[i].netns);
		if (!dup)
			snprintf(names[n++], VX_NETNS_NAME_MAX, "%s", o->ifaces[i].netns);
	}
	for (int i = 0; i < n; i++) {
		if ((ret = vx_netns_check(names[i], err, sizeof(err)))) {
			pr_err("%s", err);
			return ret;
		}
	}
	if (n)
		return n;
	names[n++][0] = '\0';
	return n + vx_netns_list(names + 1, max - 1);
}

/* ---- probe points --------------------------------------------------------
 * For each kernel point vxray instruments, the backends its view tries,
 * best first, each tried here for real at the view's own targets
 * (hookprobe.c's trial of that hook kind, retargeted, loaded and attached,
 * then undone): the first that works is what the view would choose, and every
 * better one carries the kernel's reason for refusing it. */

enum try_kind {
	T_FENTRY,
	T_FEXIT,
	T_KPROBE,
	T_KRETPROBE,
	T_TP_BTF,
	T_TRACEPOINT,
	T_CTNETLINK,
	T_NF_DROP_REASON,
	T_DATAPATH
};

#define PT_MAX_TRIES 4
#define PT_MAX_TARGETS 3

struct pt_try {
	enum try_kind kind;
	const char *targets[PT_MAX_TARGETS]; /* functions or "cat/name" */
	char label[96];			     /* "fexit/__nf_conntrack_alloc", shown */
	bool ok;
	char why[160];
};

struct point {
	const char *name;
	int n;
	struct pt_try tries[PT_MAX_TRIES];
	int chosen; /* index into tries, -1: none works */
};

enum { P_KFREE_SKB, P_TCP_RETRANS, P_CONNTRACK, P_NF_HOOK_SLOW, P_VXLAN_XMIT, P_VXLAN_RCV, P__MAX };

static const char *kind_prefix(enum try_kind k)
{
	switch (k) {
	case T_FENTRY: return "fentry";
	case T_FEXIT: return "fexit";
	case T_KPROBE: return "kprobe";
	case T_KRETPROBE: return "kretprobe";
	case T_TP_BTF: return "tp_btf";
	case T_TRACEPOINT: return "tracepoint";
	case T_CTNETLINK: return "ctnetlink";
	case T_NF_DROP_REASON: return "kfree_skb";
	case T_DATAPATH: return "datapath";
	}
	return "?";
}

/* The --backend value that selects a kind, NULL where none does. */
static const char *forcing(enum try_kind k)
{
	switch (k) {
	case T_FENTRY:
	case T_FEXIT: return "fentry";
	case T_KPROBE:
	case T_KRETPROBE: return "kprobe";
	case T_TP_BTF:
	case T_TRACEPOINT:
	case T_CTNETLINK:
	case T_NF_DROP_REASON: return "tracepoint";
	default: return NULL;
	}
}

static void add_try(struct point *p, enum try_kind k, const char *t0, const char *t1,
		    const char *t2)
{
	struct pt_try *t = &p->tries[p->n++];
	int off;

	t->kind = k;
	t->targets[0] = t0;
	t->targets[1] = t1;
	t->targets[2] = t2;
	off = snprintf(t->label, sizeof(t->label), "%s", kind_prefix(k));
	for (int i = 0; i < PT_MAX_TARGETS && t->targets[i] && off < (int)sizeof(t->label); i++)
		off += snprintf(t->label + off, sizeof(t->label) - off, "%s%s", i ? "," : "/",
				t->targets[i]);
}

static bool btf_has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* The same candidates and targets the views use (view_drops.c,
 * view_retrans.c, conntrack.c; the plan for the others). */
static void build_points(struct point *pts)
{
	struct btf *btf = btf__load_vmlinux_btf();
	/* sk_skb_reason_drop() replaced kfree_skb_reason() in 6.11. */
	const char *drop_fn =
		btf_has_func(btf, "sk_skb_reason_drop") ? "sk_skb_reason_drop" : "kfree_skb_reason";
	/* nf_ct_put() calls nf_ct_destroy() directly since 5.19. */
	const char *ct_destroy =
		btf_has_func(btf, "nf_ct_destroy") ? "nf_ct_destroy" : "nf_conntrack_destroy";
	struct point *p;

	btf__free(btf);
	memset(pts, 0, sizeof(*pts) * P__MAX);

	/* The tracepoint carries the reason and the location itself, on
	 * every kernel that has it: the function probes are for --backend. */
	p = &pts[P_KFREE_SKB];
	p->name = "kfree_skb";
	add_try(p, T_TP_BTF, "kfree_skb", NULL, NULL);
	add_try(p, T_TRACEPOINT, "skb/kfree_skb", NULL, NULL);
	add_try(p, T_FENTRY, drop_fn, NULL, NULL);
	add_try(p, T_KPROBE, drop_fn, NULL, NULL);

	p = &pts[P_TCP_RETRANS];
	p->name = "tcp_retransmit";
	add_try(p, T_TP_BTF, "tcp_retransmit_skb", "tcp_retransmit_synack", NULL);
	add_try(p, T_TRACEPOINT, "tcp/tcp_retransmit_skb", "tcp/tcp_retransmit_synack", NULL);

	p = &pts[P_CONNTRACK];
	p->name = "conntrack";
	add_try(p, T_FEXIT, "__nf_conntrack_alloc", "__nf_conntrack_confirm", ct_destroy);
	add_try(p, T_KRETPROBE, "__nf_conntrack_alloc", "__nf_conntrack_confirm", ct_destroy);
	add_try(p, T_CTNETLINK, "events", NULL, NULL);

	p = &pts[P_NF_HOOK_SLOW];
	p->name = "nf_hook_slow";
	add_try(p, T_FEXIT, "nf_hook_slow", NULL, NULL);
	add_try(p, T_KRETPROBE, "nf_hook_slow", NULL, NULL);
	add_try(p, T_NF_DROP_REASON, "NETFILTER_DROP", NULL, NULL);

	p = &pts[P_VXLAN_XMIT];
	p->name = "vxlan_xmit";
	add_try(p, T_FEXIT, "vxlan_xmit", NULL, NULL);
	add_try(p, T_KRETPROBE, "vxlan_xmit", NULL, NULL);
	add_try(p, T_TP_BTF, "net_dev_start_xmit", "net_dev_xmit", NULL);

	p = &pts[P_VXLAN_RCV];
	p->name = "vxlan_rcv";
	add_try(p, T_FENTRY, "vxlan_rcv", NULL, NULL);
	add_try(p, T_KPROBE, "vxlan_rcv", NULL, NULL);
	add_try(p, T_DATAPATH, "tc", NULL, NULL);
}

static void try_fail(struct pt_try *t, const char *target, const char *step, int err,
		     const char *extra)
{
	snprintf(t->why, sizeof(t->why), "%s%s%s: %s%s", step, target ? " " : "",
		 target ? target : "", strerror(err < 0 ? -err : err), extra ? extra : "");
}

static const char *no_kprobes(void)
{
	return access("/sys/bus/event_source/devices/kprobe", F_OK) ?
		       " (this kernel has no kprobes: CONFIG_KPROBES is off)" :
		       "";
}

/* hookprobe.c's trial of @t's kind at @target; why it failed in @t. */
static int try_one(struct pt_try *t, const char *target)
{
	enum vx_hook_kind kind;
	enum vx_trial_step step;
	const char *extra = NULL;
	int err;

	switch (t->kind) {
	case T_FENTRY:
	case T_FEXIT: kind = VX_HOOK_FENTRY; break;
	case T_KPROBE:
	case T_KRETPROBE: kind = VX_HOOK_KPROBE; break;
	case T_TP_BTF: kind = VX_HOOK_TP_BTF; break;
	default: kind = VX_HOOK_TRACEPOINT; break;
	}
	err = vx_hook_trial(kind, t->kind == T_FEXIT || t->kind == T_KRETPROBE, target, &step);
	if (!err)
		return 0;
	if (step == VX_TRIAL_LOAD && (err == -ESRCH || err == -ENOENT))
		extra = " (not in this kernel's BTF)";
	else if (step == VX_TRIAL_ATTACH && kind == VX_HOOK_KPROBE)
		extra = no_kprobes();
	try_fail(t, step == VX_TRIAL_OPEN ? NULL : target, vx_trial_step_name(step), err, extra);
	return err;
}

static void run_try(struct pt_try *t, const struct vx_feature *feat, const struct point *pts)
{
	switch (t->kind) {
	case T_CTNETLINK: {
		char names[1][VX_NETNS_NAME_MAX] = { "" }, err[256];
		struct vx_ct *ct;
		int ret = vx_ct_open(&ct, names, 1, err, sizeof(err));

		if (ret) {
			snprintf(t->why, sizeof(t->why), "%s", err);
			return;
		}
		vx_ct_close(ct);
		t->ok = true;
		return;
	}
	case T_NF_DROP_REASON: {
		const struct point *k = &pts[P_KFREE_SKB];
		int64_t v;

		if (vx_btf_enum_value("skb_drop_reason", "SKB_DROP_REASON_NETFILTER_DROP", &v))
			snprintf(t->why, sizeof(t->why),
				 "this kernel's BTF has no SKB_DROP_REASON_NETFILTER_DROP");
		else if (k->chosen < 0)
			snprintf(t->why, sizeof(t->why), "no kfree_skb backend works here");
		else
			t->ok = true;
		return;
	}
	case T_DATAPATH:
		if (feat[VX_HOOK_TCX].loads && feat[VX_HOOK_TCX].attaches) {
			snprintf(t->label, sizeof(t->label), "datapath/tcx ingress pair");
			t->ok = true;
		} else if (feat[VX_HOOK_TC_CLSACT].loads && feat[VX_HOOK_TC_CLSACT].attaches) {
			snprintf(t->label, sizeof(t->label), "datapath/tc clsact ingress pair");
			t->ok = true;
		} else {
			snprintf(t->why, sizeof(t->why),
				 "neither TCX nor tc clsact attaches (see Hooks)");
		}
		return;
	default:
		for (int i = 0; i < PT_MAX_TARGETS && t->targets[i]; i++)
			if (try_one(t, t->targets[i]))
				return;
		t->ok = true;
	}
}

static void probe_points_here(struct point *pts, const struct vx_feature *feat)
{
	/* Classic tracepoints need tracefs: mount it privately if absent. */
	if (access("/sys/kernel/tracing/events", F_OK) &&
	    access("/sys/kernel/debug/tracing/events", F_OK) &&
	    (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)))
		pr_debug("doctor: cannot mount a private tracefs: %s", strerror(errno));
	for (int i = 0; i < P__MAX; i++) {
		struct point *p = &pts[i];

		/* Every backend is tried, not only up to the chosen one: the
		 * ones after it are what --backend can still pick. */
		p->chosen = -1;
		for (int j = 0; j < p->n; j++) {
			run_try(&p->tries[j], feat, pts);
			if (p->tries[j].ok && p->chosen < 0)
				p->chosen = j;
		}
	}
}

/* Run the tries in a child with a private mount namespace, so a tracefs
 * mounted for them vanishes with it; the results come back over a pipe
 * (the labels and reasons are inline arrays; target pointers stay valid
 * as the child is a fork of this process). */
static int probe_points(struct point *pts, const struct vx_feature *feat)
{
	int pfd[2], status;
	ssize_t got;
	pid_t pid;

	build_points(pts);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (unshare(CLONE_NEWNS))
			pr_debug("doctor: no private mount namespace: %s", strerror(errno));
		probe_points_here(pts, feat);
		_exit(write(pfd[1], pts, sizeof(*pts) * P__MAX) !=
		      (ssize_t)(sizeof(*pts) * P__MAX));
	}
	close(pfd[1]);
	got = read(pfd[0], pts, sizeof(*pts) * P__MAX);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return got == (ssize_t)(sizeof(*pts) * P__MAX) ? 0 : -EIO;
}

static void print_points_text(const struct point *pts, int err)
{
	printf("\nProbe points (the backend each view would choose here, the better ones refused, and what --backend can still pick)\n");
	if (err) {
		printf("  not probed: %s\n", vx_strerror(err));
		return;
	}
	for (int i = 0; i < P__MAX; i++) {
		const struct point *p = &pts[i];

		printf("  %-16s %s\n", p->name,
		       p->chosen >= 0 ? p->tries[p->chosen].label :
					"none: every backend was refused");
		for (int j = 0; j < p->n && (p->chosen < 0 || j < p->chosen); j++)
			printf("  %-16s   refused %s: %s\n", "", p->tries[j].label,
			       p->tries[j].why);
		for (int j = p->chosen + 1; p->chosen >= 0 && j < p->n; j++) {
			const struct pt_try *t = &p->tries[j];

			if (t->ok)
				printf("  %-16s   also %s: works%s%s%s\n", "", t->label,
				       forcing(t->kind) ? " (--backend " : "", forcing(t->kind),
				       forcing(t->kind) ? ")" : "");
			else
				printf("  %-16s   also %s: refused: %s\n", "", t->label, t->why);
		}
	}
}

static void print_points_json(struct jw *w, const struct point *pts, int err)
{
	jw_obj_open(w, "points");
	if (err)
		jw_str(w, "error", vx_strerror(err));
	for (int i = 0; !err && i < P__MAX; i++) {
		const struct point *p = &pts[i];

		jw_obj_open(w, p->name);
		if (p->chosen >= 0)
			jw_str(w, "backend", p->tries[p->chosen].label);
		else
			jw_null(w, "backend");
		jw_arr_open(w, "refused");
		for (int j = 0; j < p->n && (p->chosen < 0 || j < p->chosen); j++) {
			jw_obj_open(w, NULL);
			jw_str(w, "backend", p->tries[j].label);
			jw_str(w, "why", p->tries[j].why);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		jw_arr_open(w, "alternatives");
		for (int j = p->chosen + 1; p->chosen >= 0 && j < p->n; j++) {
			jw_obj_open(w, NULL);
			jw_str(w, "backend", p->tries[j].label);
			jw_bool(w, "works", p->tries[j].ok);
			if (forcing(p->tries[j].kind))
				jw_str(w, "force", forcing(p->tries[j].kind));
			if (!p->tries[j].ok)
				jw_str(w, "why", p->tries[j].why);
			jw_obj_close(w);
		}
		jw_arr_close(w);
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

static void print_text(const struct vx_sysinfo *si, const struct vx_feature *feat, int feat_err,
		       const struct point *pts, int pts_err, const struct vx_inventory *inv,
		       int n_problems)
{
	char msg[256];

	printf("vxray doctor: kernel %s (%s)\n\n", si->release, si->machine);
	printf("System\n");
	printf("  %-18s %s\n", "BTF",
	       si->btf ? "yes (/sys/kernel/btf/vmlinux)" :
			 "NO: vxray needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	printf("  %-18s %s\n", "lockdown", si->lockdown);
	if (si->tracefs[0])
		printf("  %-18s mounted at %s\n", "tracefs", si->tracefs);
	else
		printf("  %-18s not mounted (classic tracepoints need it; vxray mounts it when it must)\n",
		       "tracefs");
	printf("  %-18s CAP_BPF %s, CAP_PERFMON %s, CAP_NET_ADMIN %s, CAP_SYS_ADMIN %s\n",
	       "privileges", si->cap_bpf ? "yes" : "no", si->cap_perfmon ? "yes" : "no",
	       si->cap_net_admin ? "yes" : "no", si->cap_sys_admin ? "yes" : "no");

	printf("\nHooks (each tried: load and attach a tiny program)\n");
	if (feat_err) {
		printf("  not probed: %s\n", vx_strerror(feat_err));
	} else {
		for (int k = 0; k < VX_HOOK__MAX; k++) {
			const struct vx_feature *f = &feat[k];

			printf("  %-18s %-4s %s\n", vx_hook_kind_name(k),
			       f->loads && f->attaches ? "yes" : "no", f->detail);
		}
	}

	print_points_text(pts, pts_err);

	vx_doctor_vxlan_text(inv);

	printf("\nFindings\n");
	for (int i = 0; i < inv->n; i++)
		if (vx_mtu_problem(&inv->devs[i], msg, sizeof(msg)))
			printf("  MTU: %s\n", msg);
	if (!n_problems)
		printf("  no problem found\n");
}

static void print_json(const struct vx_sysinfo *si, const struct vx_feature *feat, int feat_err,
		       const struct point *pts, int pts_err, const struct vx_inventory *inv)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_record(&w, "doctor");
	jw_obj_open(&w, "system");
	jw_str(&w, "kernel", si->release);
	jw_str(&w, "machine", si->machine);
	jw_bool(&w, "btf", si->btf);
	jw_str(&w, "lockdown", si->lockdown);
	if (si->tracefs[0])
		jw_str(&w, "tracefs", si->tracefs);
	else
		jw_null(&w, "tracefs");
	jw_obj_open(&w, "capabilities");
	jw_bool(&w, "CAP_BPF", si->cap_bpf);
	jw_bool(&w, "CAP_PERFMON", si->cap_perfmon);
	jw_bool(&w, "CAP_NET_ADMIN", si->cap_net_admin);
	jw_bool(&w, "CAP_SYS_ADMIN", si->cap_sys_admin);
	jw_obj_close(&w);
	jw_obj_close(&w);

	jw_obj_open(&w, "hooks");
	if (feat_err)
		jw_str(&w, "error", vx_strerror(feat_err));
	for (int k = 0; !feat_err && k < VX_HOOK__MAX; k++) {
		jw_obj_open(&w, vx_hook_kind_name(k));
		jw_bool(&w, "supported", feat[k].loads && feat[k].attaches);
		jw_bool(&w, "loads", feat[k].loads);
		jw_bool(&w, "attaches", feat[k].attaches);
		if (feat[k].err)
			jw_int(&w, "errno", -feat[k].err);
		jw_str(&w, "detail", feat[k].detail);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);
	print_points_json(&w, pts, pts_err);

	vx_doctor_vxlan_json(&w, inv);
	jw_obj_close(&w);
	jw_end_line(&w);
}

int cmd_doctor(struct vx_opts *o)
{
	char names[VX_MAX_NETNS + 1][VX_NETNS_NAME_MAX];
	struct vx_feature feat[VX_HOOK__MAX] = {};
	struct point pts[P__MAX];
	struct vx_inventory inv = {};
	struct vx_sysinfo si;
	const char *priv;
	char err[256], msg[256];
	int n_ns, feat_err = -EPERM, pts_err = -EPERM, n_problems = 0, ret;
	bool listed = !o->n_netns && !o->n_ifaces;

	for (int i = 0; i < o->n_ifaces; i++) {
		int ifindex;

		if ((ret = vx_iface_resolve(&o->ifaces[i], &ifindex, err, sizeof(err)))) {
			pr_err("%s", err);
			return vx_exit_code(ret);
		}
	}
	n_ns = pick_namespaces(o, names, VX_MAX_NETNS + 1);
	if (n_ns < 0)
		return vx_exit_code(n_ns);

	vx_sysinfo_collect(&si);
	priv = vx_sysinfo_privilege_problem(&si);
	if (!priv) {
		feat_err = vx_features_probe(feat);
		pts_err = probe_points(pts, feat);
	}

	for (int i = 0; i < n_ns; i++) {
		ret = vx_inventory_collect(&inv, names[i]);
		/* A namespace found by listing /run/netns may go (ENOENT) or not
		 * be mounted yet (EINVAL) by the time it is entered: it was
		 * never the user's to ask for. */
		if (listed && (ret == -ENOENT || ret == -EINVAL)) {
			pr_debug("namespace %s went away while doctor listed it", names[i]);
			continue;
		}
		if (ret && ret != -EPERM) {
			pr_err("cannot list VXLAN devices in namespace %s: %s",
			       vx_ns_label_of(names[i]), vx_strerror(ret));
			vx_inventory_free(&inv);
			return VX_EXIT_FAIL;
		}
	}
	for (int i = 0; i < inv.n; i++)
		n_problems += vx_mtu_problem(&inv.devs[i], msg, sizeof(msg));

	if (o->json)
		print_json(&si, feat, feat_err, pts, pts_err, &inv);
	else
		print_text(&si, feat, feat_err, pts, pts_err, &inv, n_problems);
	vx_inventory_free(&inv);

	if (!si.btf) {
		pr_err("%s", vx_sysinfo_btf_problem(&si));
		return VX_EXIT_NOTREADY;
	}
	if (priv) {
		pr_err("%s", priv);
		return VX_EXIT_NOTREADY;
	}
	return n_problems ? VX_EXIT_FINDING : VX_EXIT_OK;
}
