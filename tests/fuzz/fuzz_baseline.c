// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: `vxray diagnose --baseline FILE` reads a file the user
 * names, so any bytes: vx_baseline_parse() on arbitrary text, then
 * vx_baseline_lookup() for names with and without characters JSON escapes.
 * What must hold: no memory error; a refused text says why in one
 * sentence; a baseline found only with finite values, p50 above zero. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "fuzz.h"
#include "findings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const netns[] = { "vxlab-a", "a\"b", "back\\slash", "", "ns\x01" };
	static const char *const device[] = { "vxlan100", "v\"x", "" };
	static const char *const stage[] = { "rtt", "encap", "decap" };
	char err[512] = "";
	struct vx_baseline *b =
		vx_baseline_parse((const char *)data, size, "f.json", err, sizeof(err));

	if (!b) {
		CHECK(err[0]);
		for (const char *c = err; *c; c++)
			CHECK((unsigned char)*c >= 0x20);
		return 0;
	}
	for (size_t a = 0; a < sizeof(netns) / sizeof(netns[0]); a++) {
		for (size_t d = 0; d < sizeof(device) / sizeof(device[0]); d++) {
			double p50 = -7, p90 = -7;
			size_t s = (a + d) % 3;

			if (vx_baseline_lookup(b, netns[a], device[d], stage[s], &p50, &p90))
				CHECK(isfinite(p50) && isfinite(p90) && p50 > 0 && p90 >= 0);
			else
				CHECK(p50 == -7 && p90 == -7);
		}
	}
	vx_baseline_free(b);
	return 0;
}
