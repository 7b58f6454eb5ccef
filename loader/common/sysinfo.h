/* SPDX-License-Identifier: GPL-2.0-only */
/* Facts about the running system that decide what vxray can do. */
#ifndef VXRAY_SYSINFO_H
#define VXRAY_SYSINFO_H

#include <stdbool.h>

struct vx_sysinfo {
	char release[128];
	char machine[32];
	bool btf; /* /sys/kernel/btf/vmlinux parses */
	int btf_err;
	char lockdown[32]; /* "none", "integrity", "confidentiality", "unknown" */
	char tracefs[64];  /* mount point, "" when not mounted */
	bool cap_bpf, cap_net_admin, cap_perfmon, cap_sys_admin;
};

void vx_sysinfo_collect(struct vx_sysinfo *si);
/* True when the process holds what loading and attaching needs. */
bool vx_sysinfo_privileged(const struct vx_sysinfo *si);
/* One sentence for the user when it does not; NULL when it does. */
const char *vx_sysinfo_privilege_problem(const struct vx_sysinfo *si);
/* One sentence when the kernel has no BTF, which every CO-RE program
 * needs; NULL when it has. */
const char *vx_sysinfo_btf_problem(const struct vx_sysinfo *si);
/* The privilege problem, else the BTF one: what a view whose programs all
 * need BTF checks before it touches anything. */
const char *vx_sysinfo_problem(const struct vx_sysinfo *si);

#endif
