/*
 * jsonread: what `racewatch view` accepts from a report line and what it
 * makes of it.  Each case names the value it expects and the one it must
 * never produce: RFC 8259 exactly (not json-c's extensions), numbers out of
 * range as the caller's default, bounded depth and size, strings decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonread.h"

static struct jr *parse(const char *s)
{
	return jr_parse(s, strlen(s));
}

static void refused(const char *s)
{
	struct jr *v = parse(s);

	if (v)
		fail_msg("accepted: %.60s", s);
}

static void accepted(const char *s)
{
	struct jr *v = parse(s);

	if (!v)
		fail_msg("refused: %.60s", s);
	jr_free(v);
}

/* A racewatch record, as -o writes it, reads back field by field. */
static void test_record(void **state)
{
	const char *line = "{\"type\":\"race\",\"id\":7,\"pid\":4242,\"address\":\"0x7f0000001010\","
			   "\"accesses\":[{\"thread\":43,\"stack\":[{\"inlined\":true,\"line\":null}]}],"
			   "\"value\":{\"size\":4},\"first_seen\":1.500000,\"declared\":null}";
	struct jr *v = parse(line);
	const struct jr *acc;

	assert_non_null(v);
	assert_int_equal(jr_type(v), JR_OBJ);
	assert_string_equal(jr_str(jr_get(v, "type")), "race");
	assert_int_equal(jr_int(jr_get(v, "id"), 0, 100, -1), 7);
	assert_int_equal(jr_int(jr_get(v, "pid"), 0, 1 << 30, -1), 4242);
	assert_true(jr_u64(jr_get(v, "address"), 0) == 0x7f0000001010ull);
	acc = jr_at(jr_get(v, "accesses"), 0);
	assert_int_equal(jr_len(jr_get(v, "accesses")), 1);
	assert_null(jr_at(jr_get(v, "accesses"), 1));
	assert_null(jr_at(jr_get(v, "accesses"), -1));
	assert_int_equal(jr_int(jr_get(acc, "thread"), 0, 1 << 30, -1), 43);
	assert_true(jr_bool(jr_get(jr_at(jr_get(acc, "stack"), 0), "inlined"), 0));
	assert_int_equal(jr_type(jr_get(jr_at(jr_get(acc, "stack"), 0), "line")), JR_NULL);
	assert_int_equal(jr_type(jr_get(v, "value")), JR_OBJ);
	assert_true(jr_num(jr_get(v, "first_seen"), 0) == 1.5);
	assert_null(jr_get(v, "declared"));
	assert_null(jr_get(v, "absent"));
	/* Wrong types answer with the default, never a cast. */
	assert_null(jr_str(jr_get(v, "id")));
	assert_int_equal(jr_int(jr_get(v, "type"), 0, 9, -1), -1);
	assert_int_equal(jr_len(jr_get(v, "value")), 0);
	assert_int_equal(jr_bool(jr_get(v, "id"), 5), 5);
	assert_null(jr_get(jr_get(v, "accesses"), "thread"));
	jr_free(v);
	/* A repeated key: the last one counts. */
	v = parse("{\"a\":1,\"a\":2}");
	assert_int_equal(jr_int(jr_get(v, "a"), 0, 9, -1), 2);
	jr_free(v);
	jr_free(NULL);
}

static void test_numbers(void **state)
{
	struct jr *v;

	refused("1.");
	refused("[1.]");
	refused("01");
	refused(".5");
	refused("1e");
	refused("-");
	refused("+1");
	refused("NaN");
	refused("Infinity");
	refused("[-Infinity]");
	refused("0x10");
	accepted("-0");
	accepted("1.0e+2");
	accepted("[0.5E-3,-7]");
	/* Valid JSON beyond a double: accepted, out of range where an
	 * integer is expected. */
	v = parse("[1e400,-1e400,99999999999999999999999,-99999999999999999999999,1e10]");
	assert_non_null(v);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jr_int(jr_at(v, i), 0, 1 << 30, -1), -1);
		assert_int_equal(jr_int(jr_at(v, i), -(1 << 30), 1 << 30, -1), -1);
		assert_true(jr_u64(jr_at(v, i), 3) == 3);
	}
	assert_true(jr_num(jr_at(v, 0), 0) > 1e308);
	assert_int_equal(jr_int(jr_at(v, 4), 0, 1 << 30, -1), -1);
	assert_true(jr_u64(jr_at(v, 4), 3) == 10000000000ull);
	jr_free(v);
	/* Integers exactly, to 64 bits; fractions cut off; 1.8e19 and up
	 * are not a u64. */
	v = parse("[18000000000000000001,12345678901234567,2.9,-2.9,-1]");
	assert_true(jr_u64(jr_at(v, 0), 3) == 3);
	assert_true(jr_u64(jr_at(v, 1), 3) == 12345678901234567ull);
	assert_int_equal(jr_int(jr_at(v, 2), -9, 9, 0), 2);
	assert_int_equal(jr_int(jr_at(v, 3), -9, 9, 0), -2);
	assert_true(jr_u64(jr_at(v, 4), 3) == 3);
	jr_free(v);
}

static void test_syntax(void **state)
{
	refused("");
	refused("   ");
	refused("{'a':1}");
	refused("[1,]");
	refused("{\"a\":1,}");
	refused("/* c */ 1");
	refused("1 2");
	refused("[1] x");
	refused("TRUE");
	refused("nul");
	refused("[1,,2]");
	refused("{\"a\" 1}");
	accepted(" \t\r\n[true,false,null] \n");
	accepted("{}");
	accepted("\"x\"");
}

/* A line cut anywhere (a tracer killed mid-write) is refused. */
static void test_truncated(void **state)
{
	const char *line = "{\"type\":\"update\",\"id\":1,\"count\":12,\"s\":\"a\\u00e9\",\"t\":true}";
	size_t n = strlen(line);

	for (size_t k = 0; k < n; k++) {
		struct jr *v = jr_parse(line, k);

		if (v)
			fail_msg("accepted the first %zu bytes", k);
	}
	jr_free(jr_parse(line, n));
}

static void test_strings(void **state)
{
	struct jr *v = parse("[\"caf\\u00e9\",\"\\ud83d\\ude00\",\"\\ud800x\",\"\\u0001\\u001b[2J\\u0085\\u009b\","
			     "\"a\\/b\\\\\\\"\",\"raw \xc3\xa9\",\"bad \xff\xfe\"]");

	assert_non_null(v);
	assert_string_equal(jr_str(jr_at(v, 0)), "caf\xc3\xa9");
	assert_string_equal(jr_str(jr_at(v, 1)), "\xf0\x9f\x98\x80");
	assert_string_equal(jr_str(jr_at(v, 2)), "\xef\xbf\xbdx");		/* lone surrogate */
	/* Controls come back decoded: callers escape them (rw_escape). */
	assert_string_equal(jr_str(jr_at(v, 3)), "\x01\x1b[2J\xc2\x85\xc2\x9b");
	assert_string_equal(jr_str(jr_at(v, 4)), "a/b\\\"");
	assert_string_equal(jr_str(jr_at(v, 5)), "raw \xc3\xa9");
	/* Not UTF-8: kept as bytes, for the caller's escaping. */
	assert_string_equal(jr_str(jr_at(v, 6)), "bad \xff\xfe");
	jr_free(v);
	/* NUL, escaped or raw, and raw control characters: refused. */
	refused("\"a\\u0000b\"");
	refused("{\"type\\u0000x\":1}");
	refused("\"\\u0000\"");
	accepted("\"a\\\\u0000b\"");		/* an escaped backslash, then text */
	refused("\"tab\there\"");
	refused("\"esc\x1b[2J\"");
	refused("\"a\\x41\"");
	refused("\"a\\u12G4\"");
	refused("\"unterminated");
	assert_null(jr_parse("\"a\0b\"", 5));
	assert_null(jr_parse("[1]\0", 4));
}

static char *repeat(const char *open, const char *unit, size_t n, const char *close)
{
	size_t lo = strlen(open), lu = strlen(unit), lc = strlen(close);
	char *s = malloc(lo + n * lu + lc + 1), *p = s;

	memcpy(p, open, lo);
	p += lo;
	for (size_t i = 0; i < n; i++, p += lu)
		memcpy(p, unit, lu);
	memcpy(p, close, lc + 1);
	return s;
}

static void test_depth(void **state)
{
	char *s = malloc(2 * 200 + 1);

	for (int depth = JR_MAX_DEPTH - 1; depth <= JR_MAX_DEPTH + 1; depth++) {
		struct jr *v;

		memset(s, '[', (size_t)depth);
		memset(s + depth, ']', (size_t)depth);
		s[2 * depth] = '\0';
		v = parse(s);
		if ((v != NULL) != (depth <= JR_MAX_DEPTH))
			fail_msg("depth %d: %s", depth, v ? "accepted" : "refused");
		jr_free(v);
	}
	memset(s, '[', 200);
	s[200] = '\0';
	refused(s);
	free(s);
}

/* An array of n - 1 numbers is n values. */
static void test_values(void **state)
{
	char *s = repeat("[0", ",0", JR_MAX_VALUES - 2, "]");
	struct jr *v = parse(s);

	assert_non_null(v);
	assert_int_equal(jr_len(v), JR_MAX_VALUES - 1);
	jr_free(v);
	free(s);
	s = repeat("[0", ",0", JR_MAX_VALUES - 1, "]");
	refused(s);
	free(s);
	s = repeat("[", "[],", JR_MAX_VALUES, "0]");
	refused(s);
	free(s);
	/* Commas inside strings are text, not values. */
	s = repeat("[\"", ",,,,", JR_MAX_VALUES, "\"]");
	accepted(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
