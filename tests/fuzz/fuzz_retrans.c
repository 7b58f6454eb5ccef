// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the TCP retransmit record (struct vxr_event) as
 * `vxray retrans` decodes and prints it, text and JSON, with and without a
 * tunnel, from arbitrary bytes: any family, state, kind or length. What
 * must hold: a short record refused, the full-size verdict the definition
 * (a retransmit of at least one MSS), one line of output, JSON closed. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "recfmt.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_rec_names n = { .netns = "ns", .device = "" };
	struct vx_vxlan_dev t = {};
	struct vxr_event e;
	bool full;
	uint8_t *rec;
	size_t len;
	char *mem;
	FILE *f;

	rec = malloc(size ? size : 1);
	if (!rec)
		abort();
	memcpy(rec, data, size);
	if (vx_retrans_decode(rec, size, &e, &full)) {
		CHECK(size < sizeof(e));
		free(rec);
		return 0;
	}
	CHECK(full == (e.kind == VXR_RETRANS && e.mss && e.len >= e.mss));
	/* A tunnel from the bytes after the record: families of any value;
	 * a name as the kernel allows them (no white space, no '/' or ':'). */
	if (size - sizeof(e) >= 8 + sizeof(t.local) + sizeof(t.remote)) {
		const uint8_t *p = rec + sizeof(e);

		t.local_family = (int8_t)p[0];
		t.remote_family = (int8_t)p[1];
		memcpy(&t.vni, p + 2, 4);
		t.name[0] = (char)('a' + p[6] % 26);
		t.name[1] = (char)('0' + p[7] % 10);
		memcpy(&t.local, p + 8, sizeof(t.local));
		memcpy(&t.remote, p + 8 + sizeof(t.local), sizeof(t.remote));
	}
	for (int i = 0; i < 4; i++) {
		f = open_memstream(&mem, &len);
		if (!f)
			abort();
		vx_retrans_print(f, i & 1, &e, full, i & 2 ? &t : NULL, &n);
		fclose(f);
		CHECK(len >= 2 && mem[len - 1] == '\n' && memchr(mem, '\n', len) == mem + len - 1);
		if (i & 1)
			CHECK(mem[0] == '{' && mem[len - 2] == '}');
		free(mem);
	}
	free(rec);
	return 0;
}
