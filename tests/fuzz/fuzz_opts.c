// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: every command-line value parser in loader/common/opts.c on
 * the same arbitrary string, with an error buffer of arbitrary size. What
 * must hold: no memory error (ASan/UBSan), the message always terminated,
 * and every accepted value inside the range the parser promises. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_iface_spec spec;
	size_t errlen;
	uint64_t ns, raw = 0;
	uint32_t u32;
	uint16_t port;
	char *s, *err, buf[32], host[64], again[64];
	int proto;

	if (size < 1)
		return 0;
	/* First byte: the size of the error buffer (1..64). */
	errlen = 1 + data[0] % 64;
	memcpy(&raw, data + 1, size - 1 < sizeof(raw) ? size - 1 : sizeof(raw));
	data++, size--;
	/* Exact-size heap copies: ASan sees any read or write past them. */
	s = malloc(size + 1);
	err = malloc(errlen);
	if (!s || !err)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	if (vx_parse_duration(s, &ns, err, errlen) == 0) {
		CHECK(ns >= NSEC_PER_MSEC && ns <= VX_MAX_DURATION_NS);
		CHECK(vx_fmt_duration(ns, buf, sizeof(buf)) == buf && memchr(buf, 0, sizeof(buf)));
	} else {
		CHECK(memchr(err, 0, errlen));
	}
	if (vx_parse_iface_spec(s, &spec, err, errlen) == 0) {
		CHECK(spec.name[0] && memchr(spec.name, 0, sizeof(spec.name)));
		CHECK(memchr(spec.netns, 0, sizeof(spec.netns)));
		CHECK(!spec.netns[0] || vx_valid_netns_name(spec.netns));
	} else {
		CHECK(memchr(err, 0, errlen));
	}
	if (vx_parse_vni(s, &u32, err, errlen) == 0)
		CHECK(u32 <= 0xffffff);
	else
		CHECK(memchr(err, 0, errlen));
	if (vx_parse_port(s, &port, err, errlen) == 0)
		CHECK(port >= 1);
	else
		CHECK(memchr(err, 0, errlen));
	if (vx_parse_proto(s, &proto, err, errlen) == 0)
		CHECK(proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
		      proto == IPPROTO_ICMPV6);
	else
		CHECK(memchr(err, 0, errlen));
	if (vx_parse_u32(s, "rate", 1, 1000000, &u32, err, errlen) == 0)
		CHECK(u32 >= 1 && u32 <= 1000000);
	else
		CHECK(memchr(err, 0, errlen));
	/* The canonical form must itself parse, to the same text. */
	if (vx_parse_host(s, host, sizeof(host), err, errlen) == 0) {
		CHECK(memchr(host, 0, sizeof(host)));
		CHECK(vx_parse_host(host, again, sizeof(again), err, errlen) == 0);
		CHECK(!strcmp(host, again));
	} else {
		CHECK(memchr(err, 0, errlen));
	}
	(void)vx_valid_netns_name(s);
	/* The formatter on any value, into a buffer of any size. */
	CHECK(vx_fmt_duration(raw, err, errlen) == err && memchr(err, 0, errlen));

	free(err);
	free(s);
	return 0;
}
