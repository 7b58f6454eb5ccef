/* SPDX-License-Identifier: GPL-2.0-only */
/* What every libFuzzer target here shares: its entry point, and CHECK,
 * which turns a broken promise into a crash libFuzzer saves and reports
 * (__builtin_trap, not assert: NDEBUG must not silence it). */
#ifndef VXRAY_FUZZ_H
#define VXRAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(c)                         \
	do {                             \
		if (!(c))                \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
