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
