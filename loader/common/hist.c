// SPDX-License-Identifier: GPL-2.0-only
/* Log-linear histogram arithmetic for vxray latency. The slot layout (and
 * vx_hist_slot/vx_hist_lower) is in vxray.h, shared with the kernel side. */
#include <string.h>

#include "hist.h"
#include "json.h"
#include "names.h"

static const struct {
	const char *name;
	const char *what;
} stages[VX_ST__MAX] = {
	[VX_ST_ENCAP] = { "encap", "VXLAN egress -> underlay egress" },
	[VX_ST_WIRE] = { "wire", "underlay egress (A) -> underlay ingress (B)" },
	[VX_ST_DECAP] = { "decap", "underlay ingress -> VXLAN ingress" },
	[VX_ST_DELIVERY] = { "delivery", "VXLAN ingress -> TCP receive" },
	[VX_ST_XMIT] = { "xmit", "vxlan_xmit entry -> return" },
	[VX_ST_RCV] = { "rcv", "vxlan_rcv entry -> return" },
};

const char *vx_lat_stage_name(unsigned int stage)
{
	return stage < VX_ST__MAX ? stages[stage].name : NULL;
}

const char *vx_lat_stage_what(unsigned int stage)
{
	return stage < VX_ST__MAX ? stages[stage].what : NULL;
}

/* Slots past VX_HIST_TOP: the kernel never fills them (vx_hist_slot stops
 * at the top slot), but the map has them; what is there counts as the top
 * slot's, whose bounds are the last that fit in 64 bits. */
static uint32_t slot_of(uint32_t i)
{
	return i < VX_HIST_TOP ? i : VX_HIST_TOP;
}

static uint64_t slot_lower(uint32_t i)
{
	return vx_hist_lower(slot_of(i));
}

static uint64_t slot_upper(uint32_t i)
{
	return i < VX_HIST_TOP ? vx_hist_lower(i + 1) : UINT64_MAX;
}

void vx_hist_merge(struct vx_lat_hist *dst, const struct vx_lat_hist *src)
{
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (uint32_t i = 0; i < VX_HIST_SLOTS; i++)
		dst->slot[slot_of(i)] += src->slot[i];
}

void vx_hist_sum(struct vx_lat_hist *dst, const struct vx_lat_hist *percpu, int ncpu)
{
	memset(dst, 0, sizeof(*dst));
	for (int c = 0; c < ncpu; c++)
		vx_hist_merge(dst, &percpu[c]);
}

uint64_t vx_hist_quantile(const struct vx_lat_hist *h, double q)
{
	/* Counts in double: their sum may pass 2^64, and a wrapped total
	 * would put percentiles out of order. */
	double n = 0, seen = 0, want;

	for (int i = 0; i < VX_HIST_SLOTS; i++)
		n += (double)h->slot[i];
	if (n == 0)
		return 0;
	if (!(q >= 0))
		q = 0;
	if (q > 1)
		q = 1;
	want = q * n;
	for (uint32_t i = 0; i < VX_HIST_SLOTS; i++) {
		double c = (double)h->slot[i], frac, dv;
		uint64_t lo, hi, v;

		if (!h->slot[i] || seen + c < want) {
			seen += c;
			continue;
		}
		lo = slot_lower(i);
		hi = slot_upper(i);
		frac = (want - seen) / c;
		if (frac < 0)
			frac = 0;
		if (frac > 1)
			frac = 1;
		/* In double: the top slot reaches UINT64_MAX, which a double
		 * rounds up to 2^64, past what converts back. */
		dv = (double)lo + frac * (double)(hi - lo);
		v = dv >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)dv;
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
		/* In double: a count times 40 can pass 2^64. */
		int bar = (int)((double)h->slot[i] * 40.0 / (double)top);

		vx_fmt_ns(slot_lower((uint32_t)i), a, sizeof(a));
		vx_fmt_ns(slot_upper((uint32_t)i), b, sizeof(b));
		fprintf(f, "%s[%8s, %8s) %8llu |%-40.*s|\n", indent, a, b,
			(unsigned long long)h->slot[i], bar,
			"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	}
}

void vx_hist_buckets(const struct vx_lat_hist *h, const uint64_t *bounds, int n, uint64_t *counts)
{
	memset(counts, 0, (size_t)(n + 1) * sizeof(*counts));
	for (uint32_t s = 0; s < VX_HIST_SLOTS; s++) {
		/* The slot's largest value; past the top slot, nothing. */
		uint64_t top = s < VX_HIST_TOP ? vx_hist_lower(s + 1) - 1 : UINT64_MAX;
		int b = 0;

		while (b < n && top > bounds[b])
			b++;
		counts[b] += h->slot[s];
	}
}

static const double quantiles[] = { 0.5, 0.9, 0.99, 0.999 };
static const char *const q_names[] = { "p50", "p90", "p99", "p99.9" };
static const char *const q_keys[] = { "p50_ns", "p90_ns", "p99_ns", "p999_ns" };
#define N_QUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

void vx_lat_row_json(struct jw *j, const char *netns, const char *device, uint32_t vni,
		     const struct vx_lat_hist *h)
{
	uint64_t lo = 0, hi = 0;
	bool bi = vx_hist_bimodal(h, &lo, &hi);

	jw_obj_open(j, NULL);
	jw_str(j, "netns", netns);
	jw_str(j, "device", device);
	vx_vni_json(j, "vni", vni);
	jw_uint(j, "samples", h->count);
	for (size_t q = 0; q < N_QUANTILES; q++)
		jw_uint(j, q_keys[q], vx_hist_quantile(h, quantiles[q]));
	jw_uint(j, "mean_ns", h->count ? h->sum_ns / h->count : 0);
	jw_uint(j, "max_ns", h->max_ns);
	jw_bool(j, "bimodal", bi);
	if (bi) {
		jw_uint(j, "mode_low_ns", lo);
		jw_uint(j, "mode_high_ns", hi);
	}
	jw_arr_open(j, "buckets");
	for (uint32_t b = 0; b < VX_HIST_SLOTS; b++) {
		if (!h->slot[b])
			continue;
		jw_obj_open(j, NULL);
		jw_uint(j, "lo_ns", slot_lower(b));
		jw_uint(j, "hi_ns", slot_upper(b));
		jw_uint(j, "count", h->slot[b]);
		jw_obj_close(j);
	}
	jw_arr_close(j);
	jw_obj_close(j);
}

void vx_lat_row_text(FILE *f, const char *netns, const char *device, uint32_t vni,
		     const struct vx_lat_hist *h)
{
	char v[16], vb[16];
	uint64_t lo, hi;

	fprintf(f, "  %s %s vni %s: count %llu", netns, device, vx_vni_str(vni, vb, sizeof(vb)),
		(unsigned long long)h->count);
	for (size_t q = 0; q < N_QUANTILES; q++) {
		vx_fmt_ns(vx_hist_quantile(h, quantiles[q]), v, sizeof(v));
		fprintf(f, " %s %s", q_names[q], v);
	}
	vx_fmt_ns(h->max_ns, v, sizeof(v));
	fprintf(f, " max %s\n", v);
	if (vx_hist_bimodal(h, &lo, &hi)) {
		char a[16], b[16];

		vx_fmt_ns(lo, a, sizeof(a));
		vx_fmt_ns(hi, b, sizeof(b));
		fprintf(f,
			"  two groups of packets: one around %s and one around %s, "
			"not a single spread\n",
			a, b);
	}
	vx_hist_print(f, h, "    ");
}
