/* SPDX-License-Identifier: GPL-2.0-only */
/* What this kernel really lets vxray do, found by loading and attaching a
 * tiny program of each kind -- never by comparing version numbers. */
#ifndef VXRAY_HOOKPROBE_H
#define VXRAY_HOOKPROBE_H

#include <stdbool.h>

enum vx_hook_kind {
	VX_HOOK_FENTRY,	     /* fentry/fexit (BPF trampoline) */
	VX_HOOK_KPROBE,	     /* kprobe/kretprobe */
	VX_HOOK_TP_BTF,	     /* tp_btf (BTF-typed raw tracepoint) */
	VX_HOOK_TRACEPOINT,  /* classic tracepoint via perf/tracefs */
	VX_HOOK_XDP_NATIVE,  /* XDP in the driver (veth) via bpf_link */
	VX_HOOK_XDP_GENERIC, /* XDP in the stack (skb mode) via bpf_link */
	VX_HOOK_TC_CLSACT,   /* clsact qdisc + cls_bpf filter over netlink */
	VX_HOOK_TCX,	     /* TCX bpf_link (kernel >= 6.6) */
	VX_HOOK_RINGBUF,     /* BPF ring buffer map + reserve/submit */
	VX_HOOK__MAX,
};

struct vx_feature {
	bool loads;	  /* the kernel verified and loaded the program */
	bool attaches;	  /* ... and attached it */
	int err;	  /* negative errno of the first step that failed */
	char detail[160]; /* why, in words: "load: Operation not permitted" */
};

/* The step of a trial that failed. */
enum vx_trial_step {
	VX_TRIAL_OPEN,	 /* open the embedded object */
	VX_TRIAL_TARGET, /* find the target in the kernel's BTF */
	VX_TRIAL_LOAD,	 /* verify and load the program */
	VX_TRIAL_ATTACH, /* attach it */
};

/* Try every hook kind. Runs the interface-bound probes inside a throwaway
 * network namespace so nothing on the host is touched. Returns 0, or a
 * negative errno when probing itself could not run. */
int vx_features_probe(struct vx_feature out[VX_HOOK__MAX]);
const char *vx_hook_kind_name(enum vx_hook_kind kind);

/* One kernel-hook trial: load the tiny program of @kind (VX_HOOK_FENTRY,
 * _KPROBE, _TP_BTF or _TRACEPOINT), attach it at @target and undo both.
 * @target is a kernel function (fentry, kprobe), a tp_btf name or
 * "category/name" (tracepoint); NULL: the program's own, tcp_v4_rcv,
 * kfree_skb or skb/kfree_skb. @ret: fexit or kretprobe instead of fentry
 * or kprobe. Returns 0, or the negative errno of the step that failed,
 * which is stored in *@step. */
int vx_hook_trial(enum vx_hook_kind kind, bool ret, const char *target, enum vx_trial_step *step);
/* "open", "target", "load", "attach". */
const char *vx_trial_step_name(enum vx_trial_step step);

#endif
