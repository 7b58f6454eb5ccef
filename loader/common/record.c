// SPDX-License-Identifier: GPL-2.0-only
/* Ring-buffer records checked and copied out (record.h). */
#include <errno.h>
#include <string.h>

#include "record.h"

int vx_dp_event_decode(const void *data, size_t len, struct vx_event *e)
{
	if (!data || len < sizeof(*e))
		return -EINVAL;
	memcpy(e, data, sizeof(*e));
	return 0;
}

int vx_retrans_decode(const void *data, size_t len, struct vxr_event *e, bool *full_size)
{
	if (!data || len < sizeof(*e))
		return -EINVAL;
	memcpy(e, data, sizeof(*e));
	*full_size = e->kind == VXR_RETRANS && e->mss && e->len >= e->mss;
	return 0;
}

const struct vx_cap *vx_cap_of(const void *rec, size_t base, size_t size, uint16_t snaplen)
{
	const struct vx_cap *cap = (const struct vx_cap *)((const char *)rec + base);

	if (!snaplen || size < base + sizeof(*cap))
		return NULL;
	if (cap->caplen > snaplen || size - base - sizeof(*cap) < cap->caplen)
		return NULL;
	return cap;
}

int vx_nf_drop_decode(const void *data, size_t len, const char *const *syms, int n,
		      struct vx_nf_drop_rec *out)
{
	int i = 0;

	if (!data || len < sizeof(out->ev))
		return -EINVAL;
	memcpy(&out->ev, data, sizeof(out->ev));
	for (; i < n; i++) {
		const char *s = syms[i];

		if (!s || (strncmp(s, "bpf_prog_", 9) && strncmp(s, "bpf_trampoline_", 15) &&
			   strcmp(s, "nf_hook_slow")))
			break;
	}
	out->first_frame = i;
	/* NFPROTO_IPV4 2, NFPROTO_IPV6 10 */
	out->family = out->ev.pf == 2 ? 4 : out->ev.pf == 10 ? 6 : 0;
	out->hook = vx_nf_hook_from_num(out->ev.hook, out->ev.pf);
	return 0;
}
