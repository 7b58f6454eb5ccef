// SPDX-License-Identifier: GPL-2.0-only
/* Learn what this kernel lets vxray do by doing it: load and attach one
 * tiny program of each hook kind, then undo it. Version numbers lie
 * (backports, lockdown, config); attempts do not. The trial programs live
 * with the hook kind they try: bpf/kprobe/vx_trial_hooks.bpf.c (fentry,
 * kprobe, tp_btf, tracepoint), bpf/xdp/vx_trial_xdp.bpf.c (XDP, ring
 * buffer), bpf/tc/vx_trial_tc.bpf.c (clsact, TCX). `vxray doctor` runs the
 * kernel-hook trials again at each view's own targets (vx_hook_trial).
 *
 * Interface-bound kinds run in a forked child inside a fresh network
 * namespace holding a throwaway veth pair, and the classic tracepoint in a
 * child with a private mount namespace (tracefs may need mounting): when
 * the child exits, everything it made goes with it, and the host's links,
 * filters and mount table are never touched. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "hookprobe.h"
#include "vx_trial_hooks.skel.h"
#include "vx_trial_tc.skel.h"
#include "vx_trial_xdp.skel.h"

/* Not in Debian 12's UAPI headers: TCX arrived in 6.6. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif

const char *vx_hook_kind_name(enum vx_hook_kind kind)
{
	static const char *const names[VX_HOOK__MAX] = {
		[VX_HOOK_FENTRY] = "fentry/fexit",   [VX_HOOK_KPROBE] = "kprobe/kretprobe",
		[VX_HOOK_TP_BTF] = "tp_btf",	     [VX_HOOK_TRACEPOINT] = "tracepoint",
		[VX_HOOK_XDP_NATIVE] = "xdp native", [VX_HOOK_XDP_GENERIC] = "xdp generic",
		[VX_HOOK_TC_CLSACT] = "tc clsact",   [VX_HOOK_TCX] = "tcx link",
		[VX_HOOK_RINGBUF] = "ringbuf",
	};
	return kind < VX_HOOK__MAX ? names[kind] : "?";
}

/* Each kind's trial program and the object that holds it, embedded in
 * vxray by its skeleton. */
static const struct trial {
	const char *obj;
	const void *(*elf_bytes)(size_t *sz);
	const char *prog;
} trials[VX_HOOK__MAX] = {
	[VX_HOOK_FENTRY] = { "vx_trial_hooks", vx_trial_hooks__elf_bytes, "hp_fentry" },
	[VX_HOOK_KPROBE] = { "vx_trial_hooks", vx_trial_hooks__elf_bytes, "hp_kprobe" },
	[VX_HOOK_TP_BTF] = { "vx_trial_hooks", vx_trial_hooks__elf_bytes, "hp_tp_btf" },
	[VX_HOOK_TRACEPOINT] = { "vx_trial_hooks", vx_trial_hooks__elf_bytes, "hp_tracepoint" },
	[VX_HOOK_XDP_NATIVE] = { "vx_trial_xdp", vx_trial_xdp__elf_bytes, "hp_xdp" },
	[VX_HOOK_XDP_GENERIC] = { "vx_trial_xdp", vx_trial_xdp__elf_bytes, "hp_xdp" },
	[VX_HOOK_TC_CLSACT] = { "vx_trial_tc", vx_trial_tc__elf_bytes, "hp_tc" },
	[VX_HOOK_TCX] = { "vx_trial_tc", vx_trial_tc__elf_bytes, "hp_tcx" },
	[VX_HOOK_RINGBUF] = { "vx_trial_xdp", vx_trial_xdp__elf_bytes, "hp_ringbuf" },
};

const char *vx_trial_step_name(enum vx_trial_step step)
{
	switch (step) {
	case VX_TRIAL_OPEN: return "open";
	case VX_TRIAL_TARGET: return "target";
	case VX_TRIAL_LOAD: return "load";
	case VX_TRIAL_ATTACH: return "attach";
	}
	return "?";
}

/* Open the trial object of @kind with only its program enabled, with
 * expected attach type @type when non-zero and retargeted at @target
 * (fentry/fexit, tp_btf) when given, and load it. On failure, NULL with
 * the step in *@step and its negative errno in *@err. */
static struct bpf_object *trial_load(enum vx_hook_kind kind, enum bpf_attach_type type,
				     const char *target, struct bpf_program **out,
				     enum vx_trial_step *step, int *err)
{
	const struct trial *t = &trials[kind];
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = t->obj);
	struct bpf_program *p, *want = NULL;
	struct bpf_object *obj;
	const void *elf;
	size_t sz;

	elf = t->elf_bytes(&sz);
	obj = bpf_object__open_mem(elf, sz, &opts);
	if (!obj) {
		*step = VX_TRIAL_OPEN;
		*err = -errno;
		return NULL;
	}
	bpf_object__for_each_program (p, obj) {
		bool on = !strcmp(bpf_program__name(p), t->prog);

		bpf_program__set_autoload(p, on);
		if (on)
			want = p;
	}
	if (type)
		bpf_program__set_expected_attach_type(want, type);
	if (target) {
		*err = bpf_program__set_attach_target(want, 0, target);
		if (*err) {
			*step = VX_TRIAL_TARGET;
			goto fail;
		}
	}
	*err = bpf_object__load(obj);
	if (*err) {
		*step = VX_TRIAL_LOAD;
		goto fail;
	}
	*out = want;
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

int vx_hook_trial(enum vx_hook_kind kind, bool ret, const char *target, enum vx_trial_step *step)
{
	bool btf_target = kind == VX_HOOK_FENTRY || kind == VX_HOOK_TP_BTF;
	enum bpf_attach_type type = kind == VX_HOOK_FENTRY && ret ? BPF_TRACE_FEXIT : 0;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_link *link;
	char cat[64];
	const char *slash;
	int err;

	obj = trial_load(kind, type, btf_target ? target : NULL, &prog, step, &err);
	if (!obj)
		return err;
	if (kind == VX_HOOK_KPROBE) {
		link = bpf_program__attach_kprobe(prog, ret, target ? target : "tcp_v4_rcv");
	} else if (kind == VX_HOOK_TRACEPOINT) {
		if (!target)
			target = "skb/kfree_skb";
		slash = strchr(target, '/');
		snprintf(cat, sizeof(cat), "%.*s", slash ? (int)(slash - target) : 0, target);
		link = bpf_program__attach_tracepoint(prog, cat, slash ? slash + 1 : target);
	} else {
		link = bpf_program__attach(prog);
	}
	err = link ? 0 : -errno;
	*step = VX_TRIAL_ATTACH;
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return err;
}

static void set_fail(struct vx_feature *f, const char *step, int err, const char *why)
{
	f->err = err < 0 ? err : -err;
	snprintf(f->detail, sizeof(f->detail), "%s: %s%s%s", step, strerror(-f->err),
		 why ? " " : "", why ? why : "");
}

/* Open and load the trial program of @kind; a failure is recorded in @f. */
static struct bpf_object *open_one(enum vx_hook_kind kind, enum bpf_attach_type type,
				   struct bpf_program **out, struct vx_feature *f)
{
	enum vx_trial_step step;
	struct bpf_object *obj;
	int err;

	obj = trial_load(kind, type, NULL, out, &step, &err);
	if (!obj) {
		set_fail(f, vx_trial_step_name(step), err, NULL);
		return NULL;
	}
	f->loads = true;
	return obj;
}

static void probe_trace(struct vx_feature *f, enum vx_hook_kind kind)
{
	enum vx_trial_step step;
	int err = vx_hook_trial(kind, false, NULL, &step);
	const char *why = NULL;

	f->loads = !err || step == VX_TRIAL_ATTACH;
	if (!err) {
		f->attaches = true;
		return;
	}
	if (step == VX_TRIAL_ATTACH && kind == VX_HOOK_KPROBE &&
	    access("/sys/bus/event_source/devices/kprobe", F_OK))
		why = "(no kprobe PMU: kernel built without CONFIG_KPROBES)";
	set_fail(f, vx_trial_step_name(step), err, why);
}

static int rb_seen(void *ctx, void *data, size_t len)
{
	*(int *)ctx += len == sizeof(__u64);
	return 0;
}

/* A ring buffer works when a record submitted by a program arrives. */
static void probe_ringbuf(struct vx_feature *f)
{
	char pkt[64] = { [12] = 0x08 };
	struct bpf_program *prog;
	struct bpf_object *obj = open_one(VX_HOOK_RINGBUF, 0, &prog, f);
	struct ring_buffer *rb;
	int seen = 0, err;
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);

	if (!obj)
		return;
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "hp_rb"), rb_seen, &seen, NULL);
	if (!rb) {
		set_fail(f, "ring_buffer__new", -errno, NULL);
		goto out;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &topts);
	if (err) {
		set_fail(f, "test run", err, NULL);
		goto out;
	}
	ring_buffer__consume(rb);
	if (seen == 1)
		f->attaches = true;
	else
		snprintf(f->detail, sizeof(f->detail), "submit: no record arrived");
out:
	ring_buffer__free(rb);
	bpf_object__close(obj);
}

/* RTM_NEWLINK type veth: a pair vxp0 <-> vxp1, inside the child's netns. */
static int send_newlink_veth(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlattr *linkinfo, *data, *peer;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int ret = -EIO;
	ssize_t n;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "vxp0");
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "vxp1");
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n > 0)
		ret = mnl_cb_run(buf, (size_t)n, 0, 0, NULL, NULL) < 0 ? -errno : 0;
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static void probe_xdp(struct vx_feature *f, int ifindex, __u32 flags)
{
	struct bpf_program *prog;
	struct bpf_object *obj = open_one(VX_HOOK_XDP_NATIVE, 0, &prog, f);
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd;

	if (!obj)
		return;
	fd = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		set_fail(f, "attach", fd, NULL);
	} else {
		f->attaches = true;
		close(fd);
	}
	bpf_object__close(obj);
}

static void probe_clsact(struct vx_feature *f, int ifindex)
{
	struct bpf_program *prog;
	struct bpf_object *obj = open_one(VX_HOOK_TC_CLSACT, 0, &prog, f);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	int err;

	if (!obj)
		return;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		set_fail(f, "clsact qdisc", err, NULL);
		goto out;
	}
	opts.prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		set_fail(f, "cls_bpf filter", err, NULL);
	else
		f->attaches = true;
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
out:
	bpf_object__close(obj);
}

static void probe_tcx(struct vx_feature *f, int ifindex)
{
	struct bpf_program *prog;
	struct bpf_object *obj = open_one(VX_HOOK_TCX, BPF_TCX_INGRESS, &prog, f);
	int fd;

	if (!obj)
		return;
	fd = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_TCX_INGRESS, NULL);
	if (fd < 0) {
		set_fail(f, "attach", fd, fd == -EINVAL ? "(no TCX: it arrived in 6.6)" : NULL);
	} else {
		f->attaches = true;
		close(fd);
	}
	bpf_object__close(obj);
}

/* Run @fn in a child; its results come back over a pipe. */
static int in_child(int unshare_flags, void (*fn)(struct vx_feature *), struct vx_feature *res,
		    int n)
{
	int pfd[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (unshare(unshare_flags)) {
			for (int i = 0; i < n; i++)
				set_fail(&res[i], "unshare", -errno, NULL);
		} else {
			fn(res);
		}
		_exit(write(pfd[1], res, sizeof(*res) * (size_t)n) < 0);
	}
	close(pfd[1]);
	got = read(pfd[0], res, sizeof(*res) * (size_t)n);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return got == (ssize_t)(sizeof(*res) * (size_t)n) ? 0 : -EIO;
}

/* res[0..3]: xdp native, xdp generic, clsact, tcx. */
static void netdev_probes(struct vx_feature *res)
{
	int err = send_newlink_veth(), ifindex;

	if (!err && !(ifindex = (int)if_nametoindex("vxp0")))
		err = -ENODEV;
	if (err) {
		for (int i = 0; i < 4; i++)
			set_fail(&res[i], "throwaway veth", err, NULL);
		return;
	}
	probe_xdp(&res[0], ifindex, XDP_FLAGS_DRV_MODE);
	probe_xdp(&res[1], ifindex, XDP_FLAGS_SKB_MODE);
	probe_clsact(&res[2], ifindex);
	probe_tcx(&res[3], ifindex);
}

static bool tracefs_usable(void)
{
	return !access("/sys/kernel/tracing/events/skb", F_OK) ||
	       !access("/sys/kernel/debug/tracing/events/skb", F_OK);
}

static void tracepoint_probe(struct vx_feature *res)
{
	bool mounted_here = false;

	if (!tracefs_usable()) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
			set_fail(res, "mount tracefs", -errno, NULL);
			return;
		}
		mounted_here = true;
	}
	probe_trace(res, VX_HOOK_TRACEPOINT);
	if (res->attaches && mounted_here)
		snprintf(res->detail, sizeof(res->detail),
			 "(tracefs was not mounted: probed with a private mount)");
}

int vx_features_probe(struct vx_feature out[VX_HOOK__MAX])
{
	int err;

	memset(out, 0, sizeof(*out) * VX_HOOK__MAX);
	probe_trace(&out[VX_HOOK_FENTRY], VX_HOOK_FENTRY);
	probe_trace(&out[VX_HOOK_KPROBE], VX_HOOK_KPROBE);
	probe_trace(&out[VX_HOOK_TP_BTF], VX_HOOK_TP_BTF);
	probe_ringbuf(&out[VX_HOOK_RINGBUF]);

	/* The enum keeps these four adjacent for exactly this call. */
	err = in_child(CLONE_NEWNET, netdev_probes, &out[VX_HOOK_XDP_NATIVE], 4);
	if (err)
		return err;
	return in_child(CLONE_NEWNS, tracepoint_probe, &out[VX_HOOK_TRACEPOINT], 1);
}
