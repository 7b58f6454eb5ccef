// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the `--metrics [ADDR:]PORT` parser on arbitrary text,
 * with an address buffer and an error buffer of arbitrary sizes. What must
 * hold: the error always terminated; an accepted value an address that
 * parses as IPv4 or IPv6 and fits, and writing it back ("ADDR:PORT", IPv6
 * in brackets) parses to the same address and port. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *err, *addr, again[128], addr2[64];
	size_t errlen, addrlen;
	unsigned char bin[16];
	uint16_t port = 0, port2 = 0;

	if (size < 2)
		return 0;
	errlen = 1 + data[0] % 96;
	addrlen = 1 + data[1] % 64;
	data += 2;
	size -= 2;
	s = malloc(size + 1);
	err = malloc(errlen);
	addr = malloc(addrlen);
	if (!s || !err || !addr)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', errlen);
	memset(addr, 'y', addrlen);
	if (vx_metrics_parse_listen(s, addr, addrlen, &port, err, errlen)) {
		CHECK(memchr(err, '\0', errlen));
	} else {
		CHECK(memchr(addr, '\0', addrlen));
		CHECK(inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1);
		snprintf(again, sizeof(again), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
		CHECK(!vx_metrics_parse_listen(again, addr2, sizeof(addr2), &port2, err, errlen));
		CHECK(!strcmp(addr, addr2) && port == port2);
	}
	free(s);
	free(err);
	free(addr);
	return 0;
}
