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
	assert_string_equal(render(escapes),
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
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
