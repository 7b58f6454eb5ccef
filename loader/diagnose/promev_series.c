// SPDX-License-Identifier: GPL-2.0-only
/* The series behind each finding of `diagnose --prometheus`, with the
 * label selectors of its places, so that the operator can query or graph
 * what the verdict rests on; see promev.h. */
#include <stdio.h>
#include <string.h>

#include "promev.h"

/* "{node=\"a\",netns=\"vt-a\"}" for place @name. */
static const char *selector(const struct vx_promev *pe, const char *name, char *buf, size_t len)
{
	int i = vx_promev_place(pe, name);

	if (i < 0)
		snprintf(buf, len, "{}");
	else
		snprintf(buf, len, "{%s=\"%s\",netns=\"%s\"}", pe->places[i].node_label,
			 pe->places[i].node, pe->places[i].netns);
	return buf;
}

void vx_promev_series(const struct vx_promev *pe, const struct vx_evidence *ev,
		      struct vx_finding *f, int n)
{
	for (int i = 0; i < n; i++) {
		const char *fam[3] = { "vxray_drops_total", NULL, NULL }, *far = NULL;
		char a[256], b[256], line[256];
		size_t len = 0;

		switch (f[i].verdict) {
		case VX_V_HEALTHY: fam[0] = "vxray_tunnel_packets_total"; break;
		case VX_V_ONE_SIDED:
			fam[0] = "vxray_tunnel_packets_total";
			fam[1] = "vxray_netfilter_drops_total";
			break;
		case VX_V_NETFILTER:
		case VX_V_NETFILTER_OVERLAY:
		case VX_V_NETFILTER_UNDERLAY:
			fam[0] = "vxray_netfilter_drops_total";
			fam[1] = "vxray_drops_total";
			break;
		case VX_V_CONNTRACK:
			fam[0] = "vxray_conntrack_entries";
			fam[1] = "vxray_conntrack_entries_max";
			fam[2] = "vxray_conntrack_drops_total";
			break;
		case VX_V_MTU:
			fam[0] = "vxray_vxlan_device_mtu_bytes";
			fam[1] = "vxray_vxlan_underlay_mtu_bytes";
			fam[2] = "vxray_tcp_retransmits_total";
			break;
		case VX_V_LATENCY: fam[0] = "vxray_latency_seconds_bucket"; break;
		default: break;
		}
		/* The tunnel's other end, where the verdict is about both. */
		for (int t = 0; t < ev->n_tun && f[i].placed; t++)
			if (ev->tun[t].peer >= 0 && !strcmp(ev->tun[t].netns, f[i].netns) &&
			    (!f[i].device[0] || !strcmp(ev->tun[t].device, f[i].device)) &&
			    (f[i].verdict == VX_V_ONE_SIDED || f[i].verdict == VX_V_MTU)) {
				far = ev->tun[ev->tun[t].peer].netns;
				break;
			}
		if (f[i].placed)
			selector(pe, f[i].netns, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "%s", "");
		if (far && strcmp(far, f[i].netns))
			selector(pe, far, b, sizeof(b));
		else
			b[0] = '\0';
		line[0] = '\0';
		for (int k = 0; k < 3 && fam[k]; k++) {
			int w = snprintf(line + len, sizeof(line) - len, "%s%s%s%s%s",
					 k ? ", " : "", fam[k], a, b[0] ? " and " : "", b);

			if (w < 0 || (size_t)w >= sizeof(line) - len) {
				line[len] = '\0';
				break;
			}
			len += (size_t)w;
		}
		/* The series must be said: it takes the last line if need be. */
		if (f[i].n_evidence >= VX_FINDING_MAX_EV)
			f[i].n_evidence--;
		vx_evid(&f[i], "series: %s", line);
	}
}
