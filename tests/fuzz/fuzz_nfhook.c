// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the netfilter drop record of nf_hook_slow (struct
 * vxn_event) as `vxray policy` decodes and prints it: the hook and family
 * from any hook and protocol-family number, the frames to skip in a stack
 * of any symbols (some unnamed), then the drop as text and JSON with any
 * flags, headers and stack. What must hold: a short record refused, the
 * caller's frame inside the stack, a known hook name, one record of output
 * (a line, plus one line per stack frame as text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "recfmt.h"
#include "record.h"

/* Symbols a real stack holds, and one that is no symbol (NULL). */
static const char *const names[] = {
	"bpf_prog_6deef7357e7b4530_vxn_fexit",
	"bpf_trampoline_6442525165",
	"nf_hook_slow",
	"ip_local_deliver",
	"ip_rcv",
	"nf_hook_slow_list",
	"br_nf_pre_routing",
	NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vx_rec_names n = { .netns = "ns", .device = "und0" };
	const char *syms[VXD_STACK_DEPTH], *stack[VXD_STACK_DEPTH];
	struct vx_nf_drop_out out = {};
	struct vx_nf_drop_rec r;
	size_t len, nsyms;
	uint8_t *rec;
	char *mem;
	FILE *f;
	int lines;

	/* First byte: the stack depth; then one byte per frame; then the record. */
	if (size < 1)
		return 0;
	nsyms = data[0] % (VXD_STACK_DEPTH + 1);
	if (size < 1 + nsyms)
		return 0;
	for (size_t i = 0; i < nsyms; i++)
		syms[i] = names[data[1 + i] % (sizeof(names) / sizeof(names[0]))];
	data += 1 + nsyms;
	size -= 1 + nsyms;
	rec = malloc(size ? size : 1);
	if (!rec)
		abort();
	memcpy(rec, data, size);
	if (vx_nf_drop_decode(rec, size, syms, (int)nsyms, &r)) {
		CHECK(size < sizeof(r.ev));
		free(rec);
		return 0;
	}
	CHECK(r.first_frame >= 0 && r.first_frame <= (int)nsyms);
	CHECK(r.family == 0 || r.family == 4 || r.family == 6);
	CHECK(vx_nf_hook_name(r.hook) != NULL);
	out.e = &r.ev.d;
	out.hook = r.hook;
	out.family = vx_nf_family_name(r.family, &r.ev.d);
	out.location = nsyms && syms[0] ? syms[0] : "-";
	for (size_t i = 0; i < nsyms; i++)
		stack[i] = syms[i] ? syms[i] : "0xffffffff81000000";
	for (int json = 0; json < 2; json++) {
		out.stack = r.ev.d.flags & 0x80 ? NULL : stack + r.first_frame;
		out.n_stack = out.stack ? (int)nsyms - r.first_frame : 0;
		f = open_memstream(&mem, &len);
		if (!f)
			abort();
		vx_nf_drop_print(f, json, &out, &n);
		fclose(f);
		lines = 0;
		for (size_t i = 0; i < len; i++)
			lines += mem[i] == '\n';
		CHECK(len >= 2 && mem[len - 1] == '\n' && !memchr(mem, '\0', len));
		CHECK(lines == (json ? 1 : 1 + out.n_stack));
		if (json)
			CHECK(mem[0] == '{' && mem[len - 2] == '}');
		free(mem);
	}
	free(rec);
	return 0;
}
