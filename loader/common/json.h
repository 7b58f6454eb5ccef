/* SPDX-License-Identifier: GPL-2.0-only */
/* A small streaming JSON writer: it tracks nesting so commas are always
 * right, and escapes every string, so no caller ever formats JSON by hand. */
#ifndef VXRAY_JSON_H
#define VXRAY_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

/* Output collects in @line and goes to @f in one write when a record is
 * complete (back at depth 0, or jw_end_line) or the buffer is full. */
#define JW_LINE 4096

struct jw {
	FILE *f;
	int depth;
	bool need_comma[JW_MAX_DEPTH];
	size_t len;
	char line[JW_LINE];
};

/* The version of vxray's JSON output contract (docs/JSON.md, docs/schema):
 * every record carries it as "schema", second after "type". Bumped when a
 * key is removed or renamed or changes type or meaning; adding a key does
 * not bump it (and adds it to the record's schema file). */
#define VX_JSON_SCHEMA 1

void jw_init(struct jw *w, FILE *f);
/* Open a top-level record: {"type":@type,"schema":VX_JSON_SCHEMA. */
void jw_record(struct jw *w, const char *type);
void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_strn(struct jw *w, const char *key, const char *val, size_t len);
void jw_int(struct jw *w, const char *key, int64_t val);
void jw_uint(struct jw *w, const char *key, uint64_t val);
void jw_double(struct jw *w, const char *key, double val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);
/* End one JSON-lines record: newline and flush. */
void jw_end_line(struct jw *w);
/* Escape @s into @out (always NUL-terminated); returns the length needed. */
size_t jw_escape(char *out, size_t size, const char *s, size_t len);
/* Decimal text of @val into @out (24 bytes suffice), NUL-terminated;
 * returns its length. */
size_t jw_fmt_int(char *out, int64_t val);
size_t jw_fmt_uint(char *out, uint64_t val);

#endif
