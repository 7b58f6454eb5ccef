// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: reading the latency map (vxl_hist) as `vxray latency`
 * and the agent do: a key and one struct vx_lat_hist per CPU, of any
 * values (the kernel's counters wrap, slots past the top one are never
 * written but are still in the map), summed over CPUs, then percentiles,
 * the bimodality test, Prometheus buckets and the printed rows. What must
 * hold: no undefined behaviour, percentiles in order and within the
 * samples' range (found here: a top-slot percentile wrapped to 0, and slot
 * totals past 2^64 put percentiles out of order), every slot in exactly one
 * bucket, the JSON row closed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hist.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double qs[] = { 0, 0.5, 0.9, 0.99, 0.999, 1 };
	uint64_t bounds[11], counts[12], prev = 0, lo, hi, in_slots = 0, in_buckets = 0;
	struct vx_lat_hist *cpus, sum;
	struct vx_lat_key k = {};
	size_t len, ncpu;
	char *mem;
	FILE *f;
	struct jw j;

	if (size < sizeof(k))
		return 0;
	memcpy(&k, data, sizeof(k));
	data += sizeof(k);
	size -= sizeof(k);
	/* Whatever is left is per-CPU values; a partial one is zero-filled. */
	ncpu = size / sizeof(*cpus) + 1;
	if (ncpu > 8)
		ncpu = 8;
	cpus = calloc(ncpu, sizeof(*cpus));
	if (!cpus)
		abort();
	memcpy(cpus, data, size < ncpu * sizeof(*cpus) ? size : ncpu * sizeof(*cpus));
	vx_hist_sum(&sum, cpus, (int)ncpu);

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t v = vx_hist_quantile(&sum, qs[i]);

		CHECK(i == 0 || v >= prev);
		if (sum.max_ns)
			CHECK(v <= sum.max_ns);
		prev = v;
	}
	if (vx_hist_bimodal(&sum, &lo, &hi))
		CHECK(lo < hi);
	for (int i = 0; i < 11; i++)
		bounds[i] = 1ULL << (10 + 2 * i);
	vx_hist_buckets(&sum, bounds, 11, counts);
	for (int s = 0; s < VX_HIST_SLOTS; s++)
		in_slots += sum.slot[s];
	for (int b = 0; b < 12; b++)
		in_buckets += counts[b];
	CHECK(in_slots == in_buckets); /* modulo 2^64 alike */
	CHECK(vx_lat_stage_name(k.stage) ? k.stage < VX_ST__MAX : k.stage >= VX_ST__MAX);

	f = open_memstream(&mem, &len);
	if (!f)
		abort();
	jw_init(&j, f);
	vx_lat_row_json(&j, "ns", "vxlan100", k.vni, &sum);
	CHECK(j.depth == 0);
	jw_end_line(&j);
	vx_lat_row_text(f, "ns", "vxlan100", k.vni, &sum);
	fclose(f);
	CHECK(len >= 2 && mem[0] == '{' && !memchr(mem, '\0', len));
	free(mem);
	free(cpus);
	return 0;
}
