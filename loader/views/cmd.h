/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommand table. Each subcommand lives in its own file and exposes
 * one cmd_<name>() entry point; main.c parses options and dispatches. */
#ifndef VXRAY_CMD_H
#define VXRAY_CMD_H

#include "opts.h"

/* Exit codes, documented in --help and the man page (EXIT STATUS). A
 * service manager retries 1 and 4, never 2: the same command line fails
 * the same way (the systemd unit's RestartPreventExitStatus=2). */
enum {
	VX_EXIT_OK = 0,
	VX_EXIT_FAIL = 1,     /* runtime error: attach failed, kernel refused */
	VX_EXIT_USAGE = 2,    /* bad command line */
	VX_EXIT_FINDING = 3,  /* diagnose/doctor found a problem */
	VX_EXIT_NOTREADY = 4, /* environment not ready: privileges, BTF, a port in
			       * use, an interface or namespace not there (yet) */
};

/* The exit code for an engine's negative errno, after its sentence
 * (view.c): EINVAL, E2BIG (a bad or too large request) VX_EXIT_USAGE;
 * ENOENT, ENODEV (a named interface or namespace, or any VXLAN device,
 * is not there), EADDRINUSE, EADDRNOTAVAIL VX_EXIT_NOTREADY; anything
 * else, EPERM from a kernel that refuses a program included,
 * VX_EXIT_FAIL (missing privileges were found by vx_view_open before). */
int vx_exit_code(int err);

/* Bits for the options a subcommand accepts beyond the global ones. */
enum {
	VX_OPT_FILTERS = 1u << 0,  /* --vni --[inner-|outer-]host --port --proto --rate */
	VX_OPT_STACK = 1u << 1,	   /* --stack */
	VX_OPT_DIAG = 1u << 2,	   /* --probe --baseline */
	VX_OPT_BACKEND = 1u << 3,  /* --backend */
	VX_OPT_METRICS = 1u << 4,  /* --metrics */
	VX_OPT_SUMMARY = 1u << 5,  /* --summary: counters only */
	VX_OPT_XDP = 1u << 6,	   /* --xdp: XDP on underlay ingress */
	VX_OPT_PCAP = 1u << 7,	   /* --pcap FILE --snaplen N */
	VX_OPT_ALLNS = 1u << 8,	   /* --all-netns */
	VX_OPT_STATE = 1u << 9,	   /* --state-dir DIR */
	VX_OPT_SAMPLE = 1u << 10,  /* --sample auto|N: latency stamps */
	VX_OPT_XMITLAT = 1u << 11, /* agent --xmit-latency */
};

struct vx_cmd {
	const char *name;
	const char *summary;
	const char *help; /* the subcommand's own paragraph */
	unsigned int opts;
	int (*run)(struct vx_opts *opts);
};

/* Each in its view's file (view_NAME.c, doctor.c). */
int cmd_trace(struct vx_opts *opts);
int cmd_encap(struct vx_opts *opts);
int cmd_drops(struct vx_opts *opts);
int cmd_conntrack(struct vx_opts *opts);
int cmd_retrans(struct vx_opts *opts);
int cmd_policy(struct vx_opts *opts);
int cmd_latency(struct vx_opts *opts);
int cmd_diagnose(struct vx_opts *opts);
int cmd_agent(struct vx_opts *opts);
int cmd_doctor(struct vx_opts *opts);
int cmd_version(struct vx_opts *opts);
/* The version this binary was built from (git describe). */
const char *vx_version(void);

#endif
