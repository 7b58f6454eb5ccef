// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->len = 0;
	memset(w->need_comma, 0, sizeof(w->need_comma));
}

static void jw_flush(struct jw *w)
{
	if (w->len)
		fwrite_unlocked(w->line, 1, w->len, w->f);
	w->len = 0;
}

/* Room for @n more bytes in the line buffer, flushing it if need be;
 * NULL when @n exceeds the whole buffer (the caller writes directly). */
static char *room(struct jw *w, size_t n)
{
	if (w->len + n > JW_LINE)
		jw_flush(w);
	return n <= JW_LINE ? w->line + w->len : NULL;
}

static void put(struct jw *w, const char *s, size_t n)
{
	char *d = room(w, n);

	if (d) {
		memcpy(d, s, n);
		w->len += n;
	} else {
		fwrite_unlocked(s, 1, n, w->f);
	}
}

/* A value at depth 0 is a whole record: hand it to the stream. */
static void done_value(struct jw *w)
{
	if (!w->depth)
		jw_flush(w);
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

/* True if @s needs no escaping: the common case, written in one call. */
static bool plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Append the quoted, escaped @s to @out (room for @size); returns the new
 * length, or 0 if it does not fit. */
static size_t quote_into(char *out, size_t size, const char *s, size_t len)
{
	size_t n;

	if (len + 2 > size || !plain(s, len)) {
		if (size < 2)
			return 0;
		n = jw_escape(out + 1, size - 1, s, len);
		if (n + 2 > size)
			return 0;
	} else {
		memcpy(out + 1, s, len);
		n = len;
	}
	out[0] = '"';
	out[n + 1] = '"';
	return n + 2;
}

static void put_escaped(struct jw *w, const char *s, size_t len)
{
	char buf[256];
	size_t off = 0, n;

	n = quote_into(buf, sizeof(buf), s, len);
	if (n) {
		put(w, buf, n);
		return;
	}
	put(w, "\"", 1);
	/* Escape in chunks so arbitrarily long strings need no allocation. */
	while (off < len) {
		size_t chunk = len - off > 40 ? 40 : len - off;

		n = jw_escape(buf, sizeof(buf), s + off, chunk);
		put(w, buf, n);
		off += chunk;
	}
	put(w, "\"", 1);
}

/* The comma and key before a value, into @buf; returns its length. @buf
 * must hold JW_PREFIX_MAX bytes. */
#define JW_PREFIX_MAX 160
static size_t prefix_into(struct jw *w, const char *key, char *buf)
{
	size_t n = 0;

	if (w->need_comma[w->depth])
		buf[n++] = ',';
	w->need_comma[w->depth] = true;
	if (key) {
		size_t k = quote_into(buf + n, JW_PREFIX_MAX - 1 - n, key, strlen(key));

		if (!k) {
			/* A key too long for the buffer: the slow path. */
			put(w, buf, n);
			put_escaped(w, key, strlen(key));
			n = 0;
		} else {
			n += k;
		}
		buf[n++] = ':';
	}
	return n;
}

/* Prefix, then the literal @val. */
static void put_scalar(struct jw *w, const char *key, const char *val, size_t len)
{
	char buf[JW_PREFIX_MAX + 32];
	size_t n = prefix_into(w, key, buf);

	memcpy(buf + n, val, len);
	put(w, buf, n + len);
	done_value(w);
}

/* Decimal digits of @v, right-aligned ending at @end; returns the start. */
static char *utoa_rev(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

size_t jw_fmt_int(char *out, int64_t val)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;
	uint64_t mag = val < 0 ? -(uint64_t)val : (uint64_t)val;
	size_t n;

	p = utoa_rev(mag, end);
	if (val < 0)
		*--p = '-';
	n = (size_t)(end - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

size_t jw_fmt_uint(char *out, uint64_t val)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = utoa_rev(val, end);
	size_t n = (size_t)(end - p);

	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

static void open_container(struct jw *w, const char *key, char c)
{
	char buf[JW_PREFIX_MAX + 1];
	size_t n = prefix_into(w, key, buf);

	buf[n++] = c;
	put(w, buf, n);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_container(struct jw *w, char c)
{
	put(w, &c, 1);
	if (w->depth > 0)
		w->depth--;
	done_value(w);
}

void jw_obj_open(struct jw *w, const char *key) { open_container(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_container(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_container(w, key, '['); }
void jw_arr_close(struct jw *w) { close_container(w, ']'); }

void jw_strn(struct jw *w, const char *key, const char *val, size_t len)
{
	char buf[JW_PREFIX_MAX + 256];
	size_t n = prefix_into(w, key, buf), v;

	v = quote_into(buf + n, sizeof(buf) - n, val, len);
	if (v) {
		put(w, buf, n + v);
	} else {
		put(w, buf, n);
		put_escaped(w, val, len);
	}
	done_value(w);
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
	char num[24];

	put_scalar(w, key, num, jw_fmt_int(num, val));
}

void jw_uint(struct jw *w, const char *key, uint64_t val)
{
	char num[24];

	put_scalar(w, key, num, jw_fmt_uint(num, val));
}

void jw_double(struct jw *w, const char *key, double val)
{
	char num[32];
	int n;

	/* JSON has no NaN or infinity. */
	if (isnan(val) || isinf(val)) {
		put_scalar(w, key, "null", 4);
		return;
	}
	n = snprintf(num, sizeof(num), "%.6g", val);
	put_scalar(w, key, num, n > 0 && (size_t)n < sizeof(num) ? (size_t)n : 0);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	put_scalar(w, key, val ? "true" : "false", val ? 4 : 5);
}

void jw_null(struct jw *w, const char *key)
{
	put_scalar(w, key, "null", 4);
}

void jw_end_line(struct jw *w)
{
	put(w, "\n", 1);
	/* One write per record. A terminal sees each line at once (line
	 * buffered); a file or pipe gets large writes, flushed by the event
	 * loop (loop.c). */
	jw_flush(w);
	w->depth = 0;
	w->need_comma[0] = false;
}
