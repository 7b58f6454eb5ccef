// SPDX-License-Identifier: GPL-2.0-only
/* The JSON writer: commas, nesting and escaping must be right for every
 * consumer of `vxray -j`. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static char *render(void (*fn)(struct jw *))
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct jw w;

	assert_non_null(f);
	jw_init(&w, f);
	fn(&w);
	fclose(f);
	return buf;
}

static void nested(struct jw *w)
{
	jw_obj_open(w, NULL);
	jw_str(w, "a", "x");
	jw_arr_open(w, "l");
	jw_int(w, NULL, -1);
	jw_uint(w, NULL, 18446744073709551615ULL);
	jw_obj_open(w, NULL);
	jw_bool(w, "t", true);
	jw_null(w, "n");
	jw_obj_close(w);
	jw_arr_close(w);
	jw_double(w, "d", 0.5);
	jw_obj_close(w);
	jw_end_line(w);
}

static void test_nesting_and_commas(void **state)
{
	assert_string_equal(render(nested),
			    "{\"a\":\"x\",\"l\":[-1,18446744073709551615,{\"t\":true,\"n\":null}],"
			    "\"d\":0.5}\n");
}

static void escapes(struct jw *w)
{
	jw_obj_open(w, NULL);
	jw_str(w, "k\"", "quote\" back\\ nl\n tab\t ctl\x01 del\x7f é");
	jw_obj_close(w);
	jw_end_line(w);
}

static void test_escaping(void **state)
{
	assert_string_equal(
		render(escapes),
		"{\"k\\\"\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 del\\u007f é\"}\n");
}

static void long_string(struct jw *w)
{
	char s[1000];

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	s[500] = '"';
	jw_str(w, NULL, s);
}

static void test_long_string_not_truncated(void **state)
{
	const char *out = render(long_string);

	/* 999 characters, one of them escaped, plus two quotes. */
	assert_int_equal(strlen(out), 999 + 1 + 2);
	assert_non_null(strstr(out, "a\\\"a"));
}

static void nonfinite(struct jw *w)
{
	jw_arr_open(w, NULL);
	jw_double(w, NULL, 0.0 / 0.0);
	jw_double(w, NULL, 1e308 * 10);
	jw_arr_close(w);
}

static void test_nan_is_null(void **state)
{
	assert_string_equal(render(nonfinite), "[null,null]");
}

static void test_escape_truncates_safely(void **state)
{
	char out[5];
	size_t need = jw_escape(out, sizeof(out), "ab\ncd", 5);

	assert_int_equal(need, 6);
	assert_int_equal(strlen(out), 4);
}

static void test_integer_extremes(void **state)
{
	char buf[24], ref[24];
	static const int64_t iv[] = { 0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN };
	static const uint64_t uv[] = { 0, 1, 10, 4294967296ULL, UINT64_MAX };

	for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		snprintf(ref, sizeof(ref), "%" PRId64, iv[i]);
		assert_int_equal(jw_fmt_int(buf, iv[i]), strlen(ref));
		assert_string_equal(buf, ref);
	}
	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
		snprintf(ref, sizeof(ref), "%" PRIu64, uv[i]);
		assert_int_equal(jw_fmt_uint(buf, uv[i]), strlen(ref));
		assert_string_equal(buf, ref);
	}
}

/* Keys and values of every length around the writer's internal buffers,
 * with and without an escape, against a character-by-character reference. */
static void test_lengths_around_buffers(void **state)
{
	static char out[2048], ref[2048];
	char key[400], val[400];

	for (size_t len = 0; len < sizeof(val); len++) {
		for (int esc = 0; esc < 2; esc++) {
			FILE *f = fmemopen(out, sizeof(out), "w");
			struct jw w;
			size_t r = 0;

			assert_non_null(f);
			memset(key, 'k', len);
			memset(val, 'v', len);
			if (esc && len) {
				key[len / 2] = '\n';
				val[len - 1] = '"';
			}
			key[len] = val[len] = '\0';
			jw_init(&w, f);
			jw_obj_open(&w, NULL);
			jw_uint(&w, "n", len);
			jw_str(&w, key, val);
			jw_obj_close(&w);
			fclose(f);

			r += (size_t)sprintf(ref + r, "{\"n\":%zu,\"", len);
			for (size_t i = 0; i < len; i++)
				r += (size_t)sprintf(ref + r, "%s", key[i] == '\n' ? "\\n" : "k");
			r += (size_t)sprintf(ref + r, "\":\"");
			for (size_t i = 0; i < len; i++)
				r += (size_t)sprintf(ref + r, "%s", val[i] == '"' ? "\\\"" : "v");
			sprintf(ref + r, "\"}");
			assert_string_equal(out, ref);
		}
	}
}

/* What the writer must print for @s: quoted, with the escapes JSON needs,
 * spelled out one byte at a time to check the writer's word-at-a-time
 * scan against. Returns the length. */
static size_t ref_quote(char *out, const char *s, size_t len)
{
	size_t n = 0;

	out[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			n += (size_t)sprintf(out + n, "\\%c", c);
		else if (c == '\n')
			n += (size_t)sprintf(out + n, "\\n");
		else if (c == '\r')
			n += (size_t)sprintf(out + n, "\\r");
		else if (c == '\t')
			n += (size_t)sprintf(out + n, "\\t");
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)sprintf(out + n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

/* `[<pad>,{"<key>":"<val>"}]` for a pad of @pad bytes (to start the string
 * anywhere in the writer's line buffer), against the reference. */
static void check_str(const char *key, const char *val, size_t len, size_t pad)
{
	static char out[5 * JW_LINE], ref[5 * JW_LINE], p[JW_LINE];
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct jw w;
	size_t r = 0;

	assert_non_null(f);
	memset(p, 'p', pad);
	jw_init(&w, f);
	jw_arr_open(&w, NULL);
	jw_strn(&w, NULL, p, pad);
	jw_obj_open(&w, NULL);
	jw_strn(&w, key, val, len);
	jw_obj_close(&w);
	jw_arr_close(&w);
	fclose(f);

	ref[r++] = '[';
	r += ref_quote(ref + r, p, pad);
	r += (size_t)sprintf(ref + r, ",{");
	r += ref_quote(ref + r, key, strlen(key));
	ref[r++] = ':';
	r += ref_quote(ref + r, val, len);
	sprintf(ref + r, "}]");
	assert_string_equal(out, ref);
}

/* Every byte value, alone and at every position of strings of 1 to 24
 * bytes (the scan's short, word and multi-word cases), as a value and as a
 * key: control bytes and DEL escaped, bytes from 0x80 passed through. */
static void test_every_byte_at_every_position(void **state)
{
	char s[25], key[25];

	for (int c = 0; c < 256; c++) {
		for (size_t len = 1; len < sizeof(s); len++) {
			for (size_t at = 0; at < len; at++) {
				memset(s, 'a', len);
				s[at] = (char)c;
				check_str("k", s, len, 0);
			}
			if (!c)
				continue; /* a key is a C string */
			memset(key, 'k', len);
			key[len - 1] = (char)c;
			key[len] = '\0';
			check_str(key, "v", 1, 0);
		}
	}
}

/* Clean strings of every length up to three line buffers, starting at
 * several offsets in the buffer, and the same with one escape at the end
 * (the last word of the scan) or at the start: the writer copies clean runs
 * whole and must flush on the way without losing or repeating a byte. */
static void test_lengths_across_the_line_buffer(void **state)
{
	static char s[3 * JW_LINE];
	static const size_t pads[] = { 0, 1, 7, 100, JW_LINE - 20, JW_LINE - 3 };

	for (size_t i = 0; i < sizeof(s); i++)
		s[i] = (char)('a' + i % 26);
	/* Every length up to 80 and near one or two line buffers, every 61st
	 * in between. */
	for (size_t len = 0; len < sizeof(s);
	     len += len < 80 || len % JW_LINE > JW_LINE - 80 || len % JW_LINE < 16 ? 1 : 61) {
		for (size_t p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
			check_str("k", s, len, pads[p]);
			if (!len)
				continue;
			s[len - 1] = '\n';
			check_str("k", s, len, pads[p]);
			s[len - 1] = (char)('a' + (len - 1) % 26);
			s[0] = '\x01';
			check_str("k", s, len, pads[p]);
			s[0] = 'a';
		}
	}
}

/* UTF-8 is passed through byte for byte, whatever the sequence length; a
 * NUL inside a counted string is escaped, a C string ends at it. */
static void utf8_and_nul(struct jw *w)
{
	jw_obj_open(w, NULL);
	jw_str(w, "é", "é ü 日本 🙂 \xff\xfe");
	jw_strn(w, "n", "a\0b", 3);
	jw_str(w, "c", "a\0b");
	jw_str(w, "", "");
	jw_obj_close(w);
}

static void test_utf8_and_nul(void **state)
{
	assert_string_equal(
		render(utf8_and_nul),
		"{\"é\":\"é ü 日本 🙂 \xff\xfe\",\"n\":\"a\\u0000b\",\"c\":\"a\",\"\":\"\"}");
}

/* Every power of ten and its neighbours, as the writer prints them. */
static void test_integers_around_powers_of_ten(void **state)
{
	char buf[24], ref[24];
	uint64_t p = 1;

	for (int i = 0; i < 20; i++, p *= 10) {
		for (int d = -1; d <= 1; d++) {
			uint64_t v = p + (uint64_t)(int64_t)d;

			snprintf(ref, sizeof(ref), "%" PRIu64, v);
			assert_int_equal(jw_fmt_uint(buf, v), strlen(ref));
			assert_string_equal(buf, ref);
			snprintf(ref, sizeof(ref), "%" PRId64, -(int64_t)(v >> 1));
			assert_int_equal(jw_fmt_int(buf, -(int64_t)(v >> 1)), strlen(ref));
			assert_string_equal(buf, ref);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_string_not_truncated),
		cmocka_unit_test(test_nan_is_null),
		cmocka_unit_test(test_escape_truncates_safely),
		cmocka_unit_test(test_integer_extremes),
		cmocka_unit_test(test_lengths_around_buffers),
		cmocka_unit_test(test_every_byte_at_every_position),
		cmocka_unit_test(test_lengths_across_the_line_buffer),
		cmocka_unit_test(test_utf8_and_nul),
		cmocka_unit_test(test_integers_around_powers_of_ten),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
