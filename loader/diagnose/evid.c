// SPDX-License-Identifier: GPL-2.0-only
/* The words of a finding, shared by every judge (findings.c, pathjudge.c):
 * its verdict's id and its lines of evidence. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "names.h"

static const char *const ids[VX_V__MAX] = {
	[VX_V_HEALTHY] = "healthy",
	[VX_V_ONE_SIDED] = "one_sided_tunnel",
	[VX_V_NETFILTER_OVERLAY] = "netfilter_overlay",
	[VX_V_NETFILTER_UNDERLAY] = "netfilter_underlay",
	[VX_V_CONNTRACK] = "conntrack_exhaustion",
	[VX_V_MTU] = "mtu_mismatch",
	[VX_V_LATENCY] = "underlay_latency",
	[VX_V_DECAP] = "decap_failure",
	[VX_V_ENCAP] = "encap_failure",
	[VX_V_UNREACHABLE] = "probe_unanswered",
	[VX_V_UNDERLAY_PATH] = "underlay_path_loss",
	[VX_V_PMTU_BLACKHOLE] = "pmtu_black_hole",
	[VX_V_OUTER_CSUM] = "outer_udp_checksum",
	[VX_V_NETFILTER] = "netfilter_drop",
};

const char *vx_verdict_id(enum vx_verdict v)
{
	return v >= 0 && v < VX_V__MAX ? ids[v] : "unknown";
}

struct vx_finding *vx_finding_add(struct vx_finding *out, int *n, int max, enum vx_verdict v,
				  const char *netns, const char *device)
{
	struct vx_finding *f;

	if (*n >= max)
		return NULL;
	f = &out[(*n)++];
	memset(f, 0, sizeof(*f));
	f->verdict = v;
	f->placed = netns != NULL;
	snprintf(f->netns, sizeof(f->netns), "%s", netns ? netns : "");
	snprintf(f->device, sizeof(f->device), "%s", device ? device : "");
	return f;
}

const char *vx_ev_vni(const struct vx_ev_tunnel *t, char *buf, size_t len)
{
	if (t->external)
		snprintf(buf, len, "external");
	else
		snprintf(buf, len, "VNI %u", t->vni);
	return buf;
}

void vx_evid(struct vx_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->n_evidence >= VX_FINDING_MAX_EV)
		return;
	va_start(ap, fmt);
	vsnprintf(f->evidence[f->n_evidence++], sizeof(f->evidence[0]), fmt, ap);
	va_end(ap);
}

void vx_drop_evid(struct vx_finding *f, const struct vx_ev_drop *d)
{
	vx_evid(f, "%llu drops in %s: reason %s%s%s%s%s%s%s", (unsigned long long)d->count,
		vx_ns_label_of(d->netns), d->reason, d->location[0] ? " at " : "", d->location,
		d->device[0] ? " on " : "", d->device, d->rule[0] ? ", rule: " : "", d->rule);
}
