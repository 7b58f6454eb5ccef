// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

uint64_t vx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t vx_mono_to_real(void)
{
	struct timespec rt, mt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	return (uint64_t)(rt.tv_sec - mt.tv_sec) * 1000000000ULL + (uint64_t)rt.tv_nsec -
	       (uint64_t)mt.tv_nsec;
}

void vx_fmt_wallclock(uint64_t real_ns, int digits, char *buf, size_t len)
{
	/* Called once per printed event: the broken-down time is cached per
	 * second (localtime_r takes the time-zone lock) and the digits are
	 * written by hand. */
	static __thread time_t cached_sec = (time_t)-1;
	static __thread int hms[3];
	time_t sec = (time_t)(real_ns / 1000000000ULL);
	uint32_t frac = (uint32_t)(real_ns % 1000000000ULL);
	char out[16], *p = out;

	if (sec != cached_sec) {
		struct tm tm;

		localtime_r(&sec, &tm);
		hms[0] = tm.tm_hour, hms[1] = tm.tm_min, hms[2] = tm.tm_sec;
		cached_sec = sec;
	}
	for (int i = 0; i < 3; i++) {
		*p++ = (char)('0' + hms[i] / 10 % 10);
		*p++ = (char)('0' + hms[i] % 10);
		*p++ = i < 2 ? ':' : '.';
	}
	frac /= digits == 6 ? 1000 : 1000000;
	for (int i = digits == 6 ? 6 : 3; i > 0; i--) {
		p[i - 1] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p += digits == 6 ? 6 : 3;
	*p = '\0';
	if (len) {
		size_t n = (size_t)(p - out) < len ? (size_t)(p - out) : len - 1;

		memcpy(buf, out, n);
		buf[n] = '\0';
	}
}
