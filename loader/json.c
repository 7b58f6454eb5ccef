// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

size_t jw_escape(char *out, size_t size, const char *s, size_t len)
{
	size_t n = 0;

#define PUT(c)                          \
	do {                            \
		if (n + 1 < size)       \
			out[n] = (c);   \
		n++;                    \
	} while (0)
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		static const char hex[] = "0123456789abcdef";

		switch (c) {
		case '"':  PUT('\\'); PUT('"'); break;
		case '\\': PUT('\\'); PUT('\\'); break;
		case '\n': PUT('\\'); PUT('n'); break;
		case '\r': PUT('\\'); PUT('r'); break;
		case '\t': PUT('\\'); PUT('t'); break;
		default:
			/* Control bytes and DEL are escaped; bytes >= 0x80 pass
			 * through (interface names and rule text are UTF-8). */
			if (c < 0x20 || c == 0x7f) {
				PUT('\\'); PUT('u'); PUT('0'); PUT('0');
				PUT(hex[c >> 4]); PUT(hex[c & 0xf]);
			} else {
				PUT((char)c);
			}
		}
	}
#undef PUT
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

static void put_escaped(FILE *f, const char *s, size_t len)
{
	char buf[256];
	size_t off = 0;

	fputc('"', f);
	/* Escape in chunks so arbitrarily long strings need no allocation. */
	while (off < len) {
		size_t chunk = len - off > 40 ? 40 : len - off;

		jw_escape(buf, sizeof(buf), s + off, chunk);
		fputs(buf, f);
		off += chunk;
	}
	fputc('"', f);
}

static void key_prefix(struct jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = true;
	if (key) {
		put_escaped(w->f, key, strlen(key));
		fputc(':', w->f);
	}
}

static void open_container(struct jw *w, const char *key, char c)
{
	key_prefix(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_container(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_open(struct jw *w, const char *key) { open_container(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_container(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_container(w, key, '['); }
void jw_arr_close(struct jw *w) { close_container(w, ']'); }

void jw_strn(struct jw *w, const char *key, const char *val, size_t len)
{
	key_prefix(w, key);
	put_escaped(w->f, val, len);
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	if (!val) {
		jw_null(w, key);
		return;
	}
	jw_strn(w, key, val, strlen(val));
}

void jw_int(struct jw *w, const char *key, int64_t val)
{
	key_prefix(w, key);
	fprintf(w->f, "%" PRId64, val);
}

void jw_uint(struct jw *w, const char *key, uint64_t val)
{
	key_prefix(w, key);
	fprintf(w->f, "%" PRIu64, val);
}

void jw_double(struct jw *w, const char *key, double val)
{
	key_prefix(w, key);
	/* JSON has no NaN or infinity. */
	if (isnan(val) || isinf(val))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.6g", val);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	key_prefix(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	key_prefix(w, key);
	fputs("null", w->f);
}

void jw_end_line(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
	w->depth = 0;
	w->need_comma[0] = false;
}
