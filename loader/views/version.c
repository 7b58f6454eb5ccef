// SPDX-License-Identifier: GPL-2.0-only
/* `vxray --version` and `vxray version [-j]`: what this binary is, what it
 * runs with, and the hook kinds it carries (which of them this kernel
 * allows is `vxray doctor`'s question). */
#include <stdio.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "cmd.h"
#include "json.h"

#ifndef VXRAY_VERSION
#define VXRAY_VERSION "unknown"
#endif

/* Every backend compiled in, by what it hooks. */
static const struct {
	const char *what, *kinds;
} backends[] = {
	{ "kernel_hooks", "fentry kprobe tracepoint" },
	{ "tc", "tcx netlink" },
	{ "xdp", "native" },
};

const char *vx_version(void)
{
	return VXRAY_VERSION;
}

int cmd_version(struct vx_opts *o)
{
	struct utsname u = {};
	char libbpf[32];
	struct jw j;

	uname(&u);
	/* As vxray_build_info's libbpf label has it. */
	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	if (!o->json) {
		printf("vxray %s\nlibbpf %s\nkernel %s %s\n", VXRAY_VERSION, libbpf, u.release,
		       u.machine);
		for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			printf("%s: %s\n", backends[i].what, backends[i].kinds);
		return VX_EXIT_OK;
	}
	jw_init(&j, stdout);
	jw_record(&j, "version");
	jw_str(&j, "version", VXRAY_VERSION);
	jw_str(&j, "libbpf", libbpf);
	jw_str(&j, "kernel", u.release);
	jw_str(&j, "machine", u.machine);
	jw_obj_open(&j, "backends");
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		jw_str(&j, backends[i].what, backends[i].kinds);
	jw_obj_close(&j);
	jw_obj_close(&j);
	jw_end_line(&j);
	return VX_EXIT_OK;
}
