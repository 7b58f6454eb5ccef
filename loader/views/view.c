// SPDX-License-Identifier: GPL-2.0-only
/* The preamble and coda every view shares (view.h). */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "view.h"

int vx_view_open(struct vx_view *v, const struct vx_opts *o, unsigned int flags)
{
	const char *why;
	int ret;

	memset(v, 0, sizeof(*v));
	vx_sysinfo_collect(&v->si);
	why = flags & VX_VIEW_BTF_OPTIONAL ? vx_sysinfo_privilege_problem(&v->si) :
					     vx_sysinfo_problem(&v->si);
	if (why) {
		pr_err("%s", why);
		return VX_EXIT_NOTREADY;
	}
	if ((ret = vx_mexport_start(&v->me, o, flags & VX_VIEW_AGENT)))
		return vx_exit_code(ret);
	if ((flags & VX_VIEW_CAPTURE) && vx_capture_open(&v->cap, o)) {
		vx_mexport_stop(v->me);
		v->me = NULL;
		return VX_EXIT_USAGE;
	}
	return VX_EXIT_OK;
}

int vx_exit_code(int err)
{
	switch (-err) {
	case 0: return VX_EXIT_OK;
	case EINVAL:
	case E2BIG: return VX_EXIT_USAGE;
	case ENOENT:
	case ENODEV:
	case EADDRINUSE:
	case EADDRNOTAVAIL: return VX_EXIT_NOTREADY;
	default: return VX_EXIT_FAIL;
	}
}

void vx_view_close(struct vx_view *v, bool ran, uint64_t lost)
{
	if (ran)
		vx_capture_close(v->cap, lost);
	else
		vx_capture_discard(v->cap);
	vx_mexport_stop(v->me);
	v->cap = NULL;
	v->me = NULL;
}
