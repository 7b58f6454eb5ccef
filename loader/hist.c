// SPDX-License-Identifier: GPL-2.0-only
/* Log-linear histogram arithmetic for vxray latency. The slot layout (and
 * vx_hist_slot/vx_hist_lower) is in vxray.h, shared with the kernel side. */
#include <string.h>

#include "hist.h"

void vx_hist_merge(struct vx_lat_hist *dst, const struct vx_lat_hist *src)
{
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (int i = 0; i < VX_HIST_SLOTS; i++)
		dst->slot[i] += src->slot[i];
}

static uint64_t slot_upper(uint32_t i)
{
	return i < VX_HIST_TOP ? vx_hist_lower(i + 1) : UINT64_MAX;
}

uint64_t vx_hist_quantile(const struct vx_lat_hist *h, double q)
{
	uint64_t n = 0, seen = 0;
	double want;

	for (int i = 0; i < VX_HIST_SLOTS; i++)
		n += h->slot[i];
	if (!n)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	want = q * (double)n;
	for (uint32_t i = 0; i < VX_HIST_SLOTS; i++) {
		uint64_t lo, hi, v;
		double frac;

		if (!h->slot[i] || (double)(seen + h->slot[i]) < want) {
			seen += h->slot[i];
			continue;
		}
		lo = vx_hist_lower(i);
		hi = slot_upper(i);
		frac = (want - (double)seen) / (double)h->slot[i];
		v = lo + (uint64_t)(frac * (double)(hi - lo));
		/* The top slot's samples cannot exceed the largest one seen. */
		if (h->max_ns && v > h->max_ns)
			v = h->max_ns;
		return v;
	}
	return h->max_ns;
}

/* Samples per power of two: octave k holds [2^k, 2^(k+1)), 0..3 in 0..1. */
#define OCTAVES (VX_HIST_SLOTS / 4 + 1)

static void octaves(const struct vx_lat_hist *h, uint64_t *o)
{
	memset(o, 0, OCTAVES * sizeof(*o));
	for (uint32_t i = 0; i <= VX_HIST_TOP; i++)
		o[vx_log2_64(vx_hist_lower(i) ? vx_hist_lower(i) : 1)] += h->slot[i];
}

bool vx_hist_bimodal(const struct vx_lat_hist *h, uint64_t *lo, uint64_t *hi)
{
	uint64_t o[OCTAVES], n = 0;
	int p1 = 0, p2 = -1;

	octaves(h, o);
	for (int k = 0; k < OCTAVES; k++) {
		n += o[k];
		if (o[k] > o[p1])
			p1 = k;
	}
	/* Too few samples to tell a second hump from noise. */
	if (n < 20)
		return false;
	for (int k = 0; k < OCTAVES; k++) {
		uint64_t trough = UINT64_MAX;
		int a = k < p1 ? k : p1, b = k < p1 ? p1 : k;

		if (b - a < 2 || o[k] * 10 < n)
			continue;
		for (int m = a + 1; m < b; m++)
			if (o[m] < trough)
				trough = o[m];
		if (trough * 2 >= o[k])
			continue;
		if (p2 < 0 || o[k] > o[p2])
			p2 = k;
	}
	if (p2 < 0)
		return false;
	if (lo)
		*lo = 1ull << (p1 < p2 ? p1 : p2);
	if (hi)
		*hi = 1ull << (p1 < p2 ? p2 : p1);
	return true;
}

void vx_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

void vx_hist_print(FILE *f, const struct vx_lat_hist *h, const char *indent)
{
	int first = -1, last = -1;
	uint64_t top = 0;

	for (int i = 0; i < VX_HIST_SLOTS; i++) {
		if (!h->slot[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (h->slot[i] > top)
			top = h->slot[i];
	}
	for (int i = first; first >= 0 && i <= last; i++) {
		char a[16], b[16];
		int bar = (int)(h->slot[i] * 40 / top);

		vx_fmt_ns(vx_hist_lower((uint32_t)i), a, sizeof(a));
		vx_fmt_ns(slot_upper((uint32_t)i), b, sizeof(b));
		fprintf(f, "%s[%8s, %8s) %8llu |%-40.*s|\n", indent, a, b,
			(unsigned long long)h->slot[i], bar,
			"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	}
}
