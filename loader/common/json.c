// SPDX-License-Identifier: GPL-2.0-only
/* `vxray encap -j` formats a record per datapath event, a million a second
 * (bench/run section 3), so every byte goes straight into the line buffer:
 * a string that needs no escape is checked a word at a time and copied
 * whole, integers are formatted two digits at a time, by hand. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

/* The longest escape, \u00XX. */
#define JW_ESC_MAX 6

/* What follows the backslash for each byte JSON needs escaped ('u' for
 * \u00XX), 0 for bytes that pass through. Control bytes and DEL are
 * escaped; bytes >= 0x80 pass through (interface names and rule text are
 * UTF-8). One table serves the writer and jw_escape. */
static const char esc_of[256] = {
	[0x00 ... 0x08] = 'u', ['\t'] = 't', ['\n'] = 'n',  [0x0b ... 0x0c] = 'u', ['\r'] = 'r',
	[0x0e ... 0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\', [0x7f] = 'u',
};

/* The escape of @c (esc_of[c] != 0) at @o; returns its end. */
static char *put_esc(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	*o++ = esc_of[c];
	if (esc_of[c] == 'u') {
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 0xf];
	}
	return o;
}

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

/* Room for @n (<= JW_LINE) more bytes at the end of the line, flushing it
 * if need be; the caller writes there and advances w->len. */
static char *room(struct jw *w, size_t n)
{
	if (w->len + n > JW_LINE)
		jw_flush(w);
	return w->line + w->len;
}

/* A literal of @n (<= JW_LINE) bytes. */
static void put(struct jw *w, const char *s, size_t n)
{
	memcpy(room(w, n), s, n);
	w->len += n;
}

static void put_char(struct jw *w, char c)
{
	*room(w, 1) = c;
	w->len++;
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

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[JW_ESC_MAX], *end = e + 1;

		e[0] = (char)c;
		if (esc_of[c])
			end = put_esc(e, c);
		for (char *p = e; p < end; p++, n++)
			if (n + 1 < size)
				out[n] = *p;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

/* Unaligned loads and stores, compiled to single moves. */
static uint64_t load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

static uint32_t load4(const char *p)
{
	uint32_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

#define BYTES(c) (0x0101010101010101ULL * (uint8_t)(c))

/* Nonzero if one of the eight bytes of @x needs an escape: below 0x20,
 * '"', '\\' or DEL. The "byte less than n" and "zero byte" tricks of Bit
 * Twiddling Hacks: exact about whether such a byte exists. */
static inline uint64_t esc8(uint64_t x)
{
	uint64_t q = x ^ BYTES('"'), b = x ^ BYTES('\\'), d = x ^ BYTES(0x7f);

	return (((x - BYTES(0x20)) & ~x) | ((q - BYTES(1)) & ~q) | ((b - BYTES(1)) & ~b) |
		((d - BYTES(1)) & ~d)) &
	       BYTES(0x80);
}

/* Copy @len bytes of @s to @o, checking them on the way; false if one
 * needs an escape (@o then holds garbage for the caller to overwrite).
 * The strings of a record are short: they go in overlapping words, as
 * libc's memcpy does, so the cost hardly depends on the length and the
 * branches hardly mispredict. */
static inline bool copy_plain(char *o, const char *s, size_t len)
{
	uint64_t a, b, bad;

	if (len < 4) {
		if (!len)
			return true;
		/* Three bytes cover 1 to 3; pad with 'A', which needs no escape. */
		o[0] = s[0];
		o[len / 2] = s[len / 2];
		o[len - 1] = s[len - 1];
		return !esc8((BYTES('A') << 24) | (uint8_t)s[0] |
			     (uint64_t)(uint8_t)s[len / 2] << 8 |
			     (uint64_t)(uint8_t)s[len - 1] << 16);
	}
	if (len < 8) {
		uint32_t h = load4(s), t = load4(s + len - 4);

		memcpy(o, &h, 4);
		memcpy(o + len - 4, &t, 4);
		return !esc8(h | (uint64_t)t << 32);
	}
	bad = 0;
	for (size_t i = 0; i + 8 < len; i += 8) {
		a = load8(s + i);
		memcpy(o + i, &a, 8);
		bad |= esc8(a);
	}
	b = load8(s + len - 8);
	memcpy(o + len - 8, &b, 8);
	return !(bad | esc8(b));
}

/* @s quoted and escaped, byte by byte, flushing the line on the way when
 * it does not fit: the uncommon case, out of line. */
static __attribute__((noinline)) void put_escaped(struct jw *w, const char *s, size_t len)
{
	/* Past @lim there may be no room for one escape and the closing quote. */
	char *lim = w->line + JW_LINE - JW_ESC_MAX - 1, *o = room(w, JW_ESC_MAX + 2);

	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= lim) {
			w->len = (size_t)(o - w->line);
			jw_flush(w);
			o = w->line;
		}
		if (esc_of[c])
			o = put_esc(o, c);
		else
			*o++ = (char)c;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->line);
}

/* @s quoted and escaped after the character @pre (none if 0). Inlined in
 * its two callers, keys and values, so each has its own branch history. */
static inline void put_quoted(struct jw *w, char pre, const char *s, size_t len)
{
	char *o;

	if (len <= JW_LINE - 3) {
		o = room(w, len + 3);
		*o = pre;
		o += pre != 0;
		*o++ = '"';
		if (copy_plain(o, s, len)) {
			o[len] = '"';
			w->len = (size_t)(o + len + 1 - w->line);
			return;
		}
	}
	if (pre)
		put_char(w, pre);
	put_escaped(w, s, len);
}

/* The comma and key before a value. */
static void put_key(struct jw *w, const char *key)
{
	char comma = w->need_comma[w->depth] ? ',' : 0;

	w->need_comma[w->depth] = true;
	if (!key) {
		if (comma)
			put_char(w, comma);
		return;
	}
	put_quoted(w, comma, key, strlen(key));
	put_char(w, ':');
}

/* Prefix, then the literal @val. */
static void put_scalar(struct jw *w, const char *key, const char *val, size_t len)
{
	put_key(w, key);
	put(w, val, len);
	done_value(w);
}

/* The decimal digits of @v at @out (no NUL); returns how many. Two digits
 * per division: nanosecond timestamps have nineteen. */
static size_t put_digits(char *out, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	size_t n = 1;
	uint64_t t = v;
	char *o;

	for (; t >= 100; t /= 100)
		n += 2;
	n += t >= 10;
	for (o = out + n; v >= 100; v /= 100) {
		o -= 2;
		memcpy(o, pairs + v % 100 * 2, 2);
	}
	if (v >= 10)
		memcpy(o - 2, pairs + v * 2, 2);
	else
		o[-1] = (char)('0' + v);
	return n;
}

size_t jw_fmt_int(char *out, int64_t val)
{
	size_t n = 0;

	if (val < 0)
		out[n++] = '-';
	n += put_digits(out + n, val < 0 ? -(uint64_t)val : (uint64_t)val);
	out[n] = '\0';
	return n;
}

size_t jw_fmt_uint(char *out, uint64_t val)
{
	size_t n = put_digits(out, val);

	out[n] = '\0';
	return n;
}

static void open_container(struct jw *w, const char *key, char c)
{
	put_key(w, key);
	put_char(w, c);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_container(struct jw *w, char c)
{
	put_char(w, c);
	if (w->depth > 0)
		w->depth--;
	done_value(w);
}

void jw_obj_open(struct jw *w, const char *key)
{
	open_container(w, key, '{');
}

void jw_record(struct jw *w, const char *type)
{
	jw_obj_open(w, NULL);
	jw_str(w, "type", type);
	jw_uint(w, "schema", VX_JSON_SCHEMA);
}

void jw_obj_close(struct jw *w)
{
	close_container(w, '}');
}
void jw_arr_open(struct jw *w, const char *key)
{
	open_container(w, key, '[');
}
void jw_arr_close(struct jw *w)
{
	close_container(w, ']');
}

void jw_strn(struct jw *w, const char *key, const char *val, size_t len)
{
	put_key(w, key);
	put_quoted(w, 0, val, len);
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
	put_key(w, key);
	w->len += jw_fmt_int(room(w, 21), val);
	done_value(w);
}

void jw_uint(struct jw *w, const char *key, uint64_t val)
{
	put_key(w, key);
	w->len += jw_fmt_uint(room(w, 21), val);
	done_value(w);
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
