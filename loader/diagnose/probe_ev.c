// SPDX-License-Identifier: GPL-2.0-only
/* What `vxray diagnose --probe` saw, as evidence (see probe.h): each
 * target's pings, sizes and TCP bytes, and the latency of its replies. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

/* ---- evidence ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q)
{
	int i;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	i = (int)ceil(q * n) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* The full-size pings, the sweep (as inner packet sizes: payload plus IP
 * header), ICMP too-big errors and the TCP exchange, for the PMTU check. */
static void fill_sizes(const struct vx_probe_target *g, struct vx_ev_probe *p)
{
	uint32_t hdr = g->family == AF_INET6 ? 40 : 20;

	p->tun = g->tun;
	p->big_sent = g->big_sent;
	p->big_received = g->big_received;
	p->too_big = g->too_big;
	p->too_big_mtu = g->too_big_mtu;
	p->route_mtu = g->route_mtu;
	p->tcp_sent = g->tcp_sent;
	p->tcp_received = g->tcp_received;
	p->sweep_sent = 0;
	p->sweep_ok = p->sweep_lost = 0;
	for (int k = 0; k < g->n_sw; k++) {
		uint32_t size = g->sw_size[k] + hdr;

		if (!g->sw_sent[k])
			continue;
		p->sweep_sent++;
		if (g->sw_got[k] && size > p->sweep_ok)
			p->sweep_ok = size;
		if (!g->sw_got[k] && (!p->sweep_lost || size < p->sweep_lost))
			p->sweep_lost = size;
	}
	p->sweep_clean = !p->sweep_lost || p->sweep_ok < p->sweep_lost;
}

/* The overlay pings' median round trip, and the remote VTEP's over the
 * underlay when it was pinged. */
static void fill_rtts(const struct vx_probe_target *g, struct vx_ev_probe *p)
{
	double v[VX_PROBE_MAX_RTT];

	memcpy(v, g->rtt_us, sizeof(double) * (size_t)g->n_rtt);
	p->rtt_p50_us = pct(v, g->n_rtt, 0.5);
	p->rtt_samples = (uint32_t)g->n_rtt;
	p->ul_samples = 0;
	p->ul_to[0] = '\0';
	if (!g->ul_family)
		return;
	inet_ntop(g->ul_family, g->ul_dst, p->ul_to, sizeof(p->ul_to));
	memcpy(v, g->ul_rtt_us, sizeof(double) * (size_t)g->n_ul_rtt);
	p->ul_rtt_p50_us = pct(v, g->n_ul_rtt, 0.5);
	p->ul_samples = (uint32_t)g->n_ul_rtt;
}

void vx_probe_fill_probes(const struct vx_probe *pr, struct vx_evidence *ev)
{
	for (int i = 0; i < pr->n_tg && ev->n_probes < VX_EV_MAX_PROBES; i++) {
		struct vx_ev_probe *p = &ev->probes[ev->n_probes++];

		vx_probe_cpy(p->from, sizeof(p->from), pr->tg[i].src_ns);
		vx_probe_target_addr(&pr->tg[i], p->to, sizeof(p->to));
		p->sent = pr->tg[i].sent;
		p->received = pr->tg[i].received;
		fill_sizes(&pr->tg[i], p);
		fill_rtts(&pr->tg[i], p);
	}
}

void vx_probe_fill_latency(const struct vx_probe *pr, struct vx_evidence *ev,
			   const struct vx_baseline *base, const char *baseline)
{
	for (int i = 0; i < pr->n_tg && ev->n_lat < VX_EV_MAX_LAT; i++) {
		const struct vx_probe_target *g = &pr->tg[i];
		/* A user's target outside every diagnosed tunnel is named by its
		 * source namespace and address. */
		const char *netns = g->tun >= 0 ? ev->tun[g->tun].netns : g->src_ns;
		char dev[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];
		struct vx_ev_lat *l;
		double v[VX_PROBE_MAX_RTT];
		int n = g->n_rtt, first = 0;

		if (!n)
			continue;
		if (g->tun >= 0)
			vx_probe_cpy(dev, sizeof(dev), ev->tun[g->tun].device);
		else
			snprintf(dev, sizeof(dev), "to %s",
				 vx_probe_target_addr(g, addr, sizeof(addr)));
		l = &ev->lat[ev->n_lat++];
		vx_probe_cpy(l->netns, sizeof(l->netns), netns);
		vx_probe_cpy(l->device, sizeof(l->device), dev);
		snprintf(l->stage, sizeof(l->stage), "rtt");
		if (base && vx_baseline_lookup(base, l->netns, l->device, "rtt", &l->base_p50_us,
					       &l->base_p90_us)) {
			l->has_base = true;
			snprintf(l->base_from, sizeof(l->base_from), "%s", baseline);
		} else if (n >= 9) {
			/* The window's own first third, in time order. */
			first = n / 3;
			memcpy(v, g->rtt_us, sizeof(double) * (size_t)first);
			l->base_p50_us = pct(v, first, 0.5);
			l->base_p90_us = pct(v, first, 0.9);
			l->has_base = l->base_own = true;
			snprintf(l->base_from, sizeof(l->base_from), "the window's first third");
		}
		memcpy(v, g->rtt_us + first, sizeof(double) * (size_t)(n - first));
		l->p50_us = pct(v, n - first, 0.5);
		l->p90_us = pct(v, n - first, 0.9);
		l->samples = (uint64_t)(n - first);
	}
}
