// SPDX-License-Identifier: GPL-2.0-only
/* PLACEHOLDER: replaced by the real prober. */
#include <errno.h>
#include <string.h>

#include "hookprobe.h"

const char *vx_hook_kind_name(enum vx_hook_kind kind)
{
	static const char *const names[VX_HOOK__MAX] = {
		[VX_HOOK_FENTRY] = "fentry/fexit",
		[VX_HOOK_KPROBE] = "kprobe/kretprobe",
		[VX_HOOK_TP_BTF] = "tp_btf",
		[VX_HOOK_TRACEPOINT] = "tracepoint",
		[VX_HOOK_XDP_NATIVE] = "xdp native",
		[VX_HOOK_XDP_GENERIC] = "xdp generic",
		[VX_HOOK_TC_CLSACT] = "tc clsact",
		[VX_HOOK_TCX] = "tcx link",
		[VX_HOOK_RINGBUF] = "ringbuf",
	};
	return kind < VX_HOOK__MAX ? names[kind] : "?";
}

int vx_features_probe(struct vx_feature out[VX_HOOK__MAX])
{
	memset(out, 0, sizeof(*out) * VX_HOOK__MAX);
	return -ENOSYS;
}
