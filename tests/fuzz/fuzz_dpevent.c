// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: a datapath ring-buffer record (struct vx_event) as
 * `vxray encap` prints it and `vxray trace` words it, text and JSON, from arbitrary
 * bytes of arbitrary length: the programs fill it from packets nobody
 * controls, and a record of another layout must be refused, not read past.
 * What must hold: no memory error or undefined behaviour (ASan/UBSan), a
 * short record refused, every output one line, JSON an object that the
 * writer closed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"
#include "recfmt.h"
#include "record.h"

/* One record printed to memory: exactly one line; JSON as an object. */
static void check_line(const char *mem, size_t len, bool json)
{
	CHECK(len >= 2 && mem[len - 1] == '\n');
	CHECK(memchr(mem, '\n', len) == mem + len - 1);
	CHECK(!memchr(mem, '\0', len));
	if (json)
		CHECK(mem[0] == '{' && mem[len - 2] == '}');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_rec_names n = { .netns = "ns", .device = "vxlan100" };
	struct vx_event e;
	uint8_t *rec;
	size_t len;
	char *mem;
	FILE *f;

	/* The first bytes steer: the wall-clock offset, then the record. */
	if (size < 8)
		return 0;
	memcpy(&n.mono_to_real, data, 8);
	data += 8;
	size -= 8;
	/* An exact-size copy: ASan sees any read past the record. */
	rec = malloc(size ? size : 1);
	if (!rec)
		abort();
	memcpy(rec, data, size);
	if (vx_dp_event_decode(rec, size, &e)) {
		CHECK(size < sizeof(e));
		free(rec);
		return 0;
	}
	for (int json = 0; json < 2; json++) {
		f = open_memstream(&mem, &len);
		if (!f)
			abort();
		vx_encap_print(f, json, &e, &n);
		fclose(f);
		check_line(mem, len, json);
		free(mem);
	}
	/* trace's pieces: bounded, terminated text whatever the record. */
	{
		char in[160], a[48];

		memset(in, 'x', sizeof(in));
		vx_dp_fmt_inner(&e.pkt, in, sizeof(in));
		CHECK(memchr(in, '\0', sizeof(in)) && !strchr(in, '\n'));
		vx_addr_str(e.pkt.outer_family, e.pkt.outer_src, a, sizeof(a));
		CHECK(memchr(a, '\0', sizeof(a)));
	}
	CHECK(vx_at_what(e.at) != NULL && vx_at_path(e.at) != NULL);
	free(rec);
	return 0;
}
