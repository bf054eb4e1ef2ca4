/*
 * json_string: what reaches -o and --sarif from the program (names, paths)
 * must come out as one valid JSON string whatever the bytes: quotes and
 * backslashes escaped, control characters as escapes, valid UTF-8 kept,
 * anything else (stray bytes, overlongs, surrogates, > U+10FFFF) as U+FFFD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"

static char *enc(const char *s)
{
	static char *buf;
	size_t len;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	json_string(f, s);
	fclose(f);
	return buf;
}

static void test_plain_and_null(void **state)
{
	assert_string_equal(enc("update_foo"), "\"update_foo\"");
	assert_string_equal(enc(""), "\"\"");
	assert_string_equal(enc(NULL), "null");
}

static void test_quotes_and_controls(void **state)
{
	assert_string_equal(enc("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(enc("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
	assert_string_equal(enc("\x01\x1b[31m\x7f"), "\"\\u0001\\u001b[31m\\u007f\"");
	assert_string_equal(enc("\b\f"), "\"\\b\\f\"");
	assert_string_equal(enc("/path/"), "\"/path/\"");	/* '/' needs no escape */
}

static void test_utf8(void **state)
{
	/* Valid: 2, 3 and 4-byte sequences pass through unchanged. */
	assert_string_equal(enc("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	assert_string_equal(enc("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
	assert_string_equal(enc("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
	/* Invalid: one U+FFFD per bad byte, the rest kept. */
	assert_string_equal(enc("a\xff" "b"), "\"a\\ufffdb\"");
	assert_string_equal(enc("\xc3"), "\"\\ufffd\"");			/* truncated */
	assert_string_equal(enc("\xc3" "A"), "\"\\ufffdA\"");
	assert_string_equal(enc("\xc0\xaf"), "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	assert_string_equal(enc("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong */
	assert_string_equal(enc("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	assert_string_equal(enc("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* > U+10FFFF */
	assert_string_equal(enc("\x80"), "\"\\ufffd\"");			/* lone continuation */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_null),
		cmocka_unit_test(test_quotes_and_controls),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
