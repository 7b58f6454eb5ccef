// SPDX-License-Identifier: GPL-2.0-only
/* The JSON writer: commas, nesting and escaping must be right for every
 * consumer of `vxray -j`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_string_not_truncated),
		cmocka_unit_test(test_nan_is_null),
		cmocka_unit_test(test_escape_truncates_safely),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
