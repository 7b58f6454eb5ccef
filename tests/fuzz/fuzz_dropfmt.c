// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the drop view's formatting of a ring-buffer record's
 * packet (struct vxd_ip), as text and as JSON, from arbitrary bytes: the
 * kernel side fills it from packets nobody controls. Any family, protocol
 * or port value must format without a memory error, terminated, and the
 * JSON writer must stay balanced. The same bytes also go through the JSON
 * string escaper, which sees interface and namespace names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dropsrc.h"
#include "json.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vxd_ip ip = {};
	size_t outlen;
	char *out;
	char *mem = NULL, *esc;
	size_t memlen = 0, need;
	FILE *f;
	struct jw w;

	if (size < 1)
		return 0;
	outlen = 1 + data[0] % 128;
	memcpy(&ip, data + 1, size - 1 < sizeof(ip) ? size - 1 : sizeof(ip));
	out = malloc(outlen);
	if (!out)
		abort();
	vx_ip_fmt(&ip, out, outlen);
	CHECK(memchr(out, 0, outlen));
	f = open_memstream(&mem, &memlen);
	if (!f)
		abort();
	jw_init(&w, f);
	jw_obj_open(&w, NULL);
	vx_ip_json(&w, "outer", &ip);
	jw_obj_close(&w);
	CHECK(w.depth == 0);
	jw_end_line(&w);
	fclose(f);
	CHECK(memlen >= 2 && mem[0] == '{' && mem[memlen - 2] == '}' && mem[memlen - 1] == '\n');
	free(mem);

	/* The escaper, into a buffer of the size it asked for, then too small. */
	need = jw_escape(NULL, 0, (const char *)data, size);
	esc = malloc(need + 1);
	if (!esc)
		abort();
	CHECK(jw_escape(esc, need + 1, (const char *)data, size) == need);
	CHECK(strlen(esc) == need);
	for (size_t i = 0; i < need; i++)
		CHECK((unsigned char)esc[i] >= 0x20);
	jw_escape(esc, outlen < need + 1 ? outlen : need + 1, (const char *)data, size);
	free(esc);
	free(out);
	return 0;
}
