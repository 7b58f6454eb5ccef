// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: `vxray diagnose --baseline FILE` reads a file the user
 * names, so any bytes: vx_baseline_lookup() on arbitrary text, for names
 * with and without characters JSON escapes. What must hold: no memory
 * error, and a baseline found only with finite values, p50 above zero. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "findings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const netns[] = { "vxlab-a", "a\"b", "back\\slash", "", "ns\x01" };
	static const char *const device[] = { "vxlan100", "v\"x", "" };
	static const char *const stage[] = { "rtt", "encap", "decap" };
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t a = 0; a < sizeof(netns) / sizeof(netns[0]); a++) {
		for (size_t b = 0; b < sizeof(device) / sizeof(device[0]); b++) {
			double p50 = -7, p90 = -7;
			size_t s = (a + b) % 3;

			if (vx_baseline_lookup(text, netns[a], device[b], stage[s], &p50, &p90))
				CHECK(isfinite(p50) && isfinite(p90) && p50 > 0 && p90 >= 0);
			else
				CHECK(p50 == -7 && p90 == -7);
		}
	}
	free(text);
	return 0;
}
