/*
 * jsonread — see jsonread.h.  json-c parses; lex_check() refuses first what
 * json-c would take but RFC 8259 does not, and what could make json-c
 * allocate without bound.  It is a lexer only (strings, numbers, the bytes
 * between them): nesting, commas, escapes and UTF-16 pairs are json-c's.
 */
#include "jsonread.h"
#include "util.h"

#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* struct jr is never defined: a struct jr * is a json_object *. */
static struct json_object *J(const struct jr *v)
{
	return (struct json_object *)v;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Length of the JSON number at s[0..n) (RFC 8259 section 6), or 0 if the
 * run of number characters there is not one: `1.`, `01`, `.5`, `1e`, `-`
 * are refused here (json-c takes the first).  Precondition: s[0] is '-'
 * or a digit.
 */
static size_t number_len(const char *s, size_t n)
{
	size_t i = 0, run = 0;

	while (run < n && (digit(s[run]) || (s[run] && strchr(".eE+-", s[run]))))
		run++;
	if (s[i] == '-')
		i++;
	if (i < run && s[i] == '0')
		i++;
	else if (i < run && digit(s[i]))
		while (i < run && digit(s[i]))
			i++;
	else
		return 0;
	if (i < run && s[i] == '.') {
		if (++i >= run || !digit(s[i]))
			return 0;
		while (i < run && digit(s[i]))
			i++;
	}
	if (i < run && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < run && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= run || !digit(s[i]))
			return 0;
		while (i < run && digit(s[i]))
			i++;
	}
	return i == run ? run : 0;
}

/*
 * Index just past the closing quote of the string whose body starts at
 * s[i], or 0 if it has a raw control character (NUL included), a \u0000,
 * or no end.  Other escapes are left for json-c to check.
 */
static size_t string_end(const char *s, size_t len, size_t i)
{
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (i + 1 >= len)
				return 0;
			if (s[i + 1] == 'u' && len - i >= 6 && !memcmp(s + i + 2, "0000", 4))
				return 0;
			i += 2;
			continue;
		}
		i++;
	}
	return 0;
}

/*
 * 0 if s[0..len) is made of RFC 8259 tokens only (strings as string_end
 * takes them, numbers as number_len does, the literals' letters, the six
 * structural characters and white space) and holds at most JR_MAX_VALUES
 * values, else -1.  Every value but the outermost follows a '[', ',' or
 * ':', so 1 + their count bounds the values (an object's members count
 * twice, an array's elements once).
 */
static int lex_check(const char *s, size_t len)
{
	size_t i = 0, values = 1;

	while (i < len) {
		char c = s[i];

		if (c == '"') {
			if (!(i = string_end(s, len, i + 1)))
				return -1;
		} else if (c == '-' || digit(c)) {
			size_t n = number_len(s + i, len - i);

			if (!n)
				return -1;
			i += n;
		} else if (c && strchr("[,:", c)) {
			if (++values > JR_MAX_VALUES)
				return -1;
			i++;
		} else if (c && strchr("{}] \t\n\rtruefalsn", c)) {
			i++;	/* literals: json-c checks the spelling */
		} else {
			return -1;
		}
	}
	return 0;
}

static bool only_space(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	return !len;
}

struct jr *jr_parse(const char *s, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	if (len > JR_MAX_BYTES || lex_check(s, len) < 0)
		return NULL;
	tok = xnonnull(json_tokener_new_ex(JR_MAX_DEPTH));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A number or a literal at the very end waits for what
		 * follows: the terminator says there is nothing. */
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	json_tokener_free(tok);
	if (o && (end > len || !only_space(s + end, len - end))) {
		json_object_put(o);
		o = NULL;
	}
	return (struct jr *)o;
}

void jr_free(struct jr *v)
{
	json_object_put(J(v));
}

enum jr_type jr_type(const struct jr *v)
{
	switch (json_object_get_type(J(v))) {
	case json_type_boolean:
		return JR_BOOL;
	case json_type_double:
	case json_type_int:
		return JR_NUM;
	case json_type_string:
		return JR_STR;
	case json_type_array:
		return JR_ARR;
	case json_type_object:
		return JR_OBJ;
	default:
		return JR_NULL;
	}
}

int jr_len(const struct jr *v)
{
	return jr_type(v) == JR_ARR ? (int)json_object_array_length(J(v)) : 0;
}

const struct jr *jr_get(const struct jr *v, const char *key)
{
	struct json_object *m = NULL;

	/* json-c keeps one member a key: the last one written wins. */
	return json_object_object_get_ex(J(v), key, &m) ? (const struct jr *)m : NULL;
}

const struct jr *jr_at(const struct jr *v, int i)
{
	return i >= 0 && i < jr_len(v) ? (const struct jr *)json_object_array_get_idx(J(v), (size_t)i)
				       : NULL;
}

const char *jr_str(const struct jr *v)
{
	return jr_type(v) == JR_STR ? json_object_get_string(J(v)) : NULL;
}

int jr_bool(const struct jr *v, int dflt)
{
	return jr_type(v) == JR_BOOL ? json_object_get_boolean(J(v)) : dflt;
}

double jr_num(const struct jr *v, double dflt)
{
	return jr_type(v) == JR_NUM ? json_object_get_double(J(v)) : dflt;
}

/*
 * An integer json-c read from the text: *i, or *u when it is above
 * INT64_MAX (json-c keeps those as unsigned).  false for one json-c
 * clamped (beyond 64 bits, or exactly at a limit: the two look alike).
 */
static bool integer(const struct jr *v, int64_t *i, uint64_t *u)
{
	*i = json_object_get_int64(J(v));
	*u = json_object_get_uint64(J(v));
	return *i != INT64_MIN && *u != UINT64_MAX;
}

uint64_t jr_u64(const struct jr *v, uint64_t dflt)
{
	int64_t i;
	uint64_t u;
	double d;

	switch (json_object_get_type(J(v))) {
	case json_type_int:
		return integer(v, &i, &u) && i >= 0 && u < 18000000000000000000ull ? u : dflt;
	case json_type_double:
		d = json_object_get_double(J(v));
		return d >= 0 && d < 1.8e19 ? (uint64_t)d : dflt;
	case json_type_string:
		return parse_u64(jr_str(v), &u) == 0 ? u : dflt;
	default:
		return dflt;
	}
}

int64_t jr_int(const struct jr *v, int64_t lo, int64_t hi, int64_t dflt)
{
	int64_t i;
	uint64_t u;
	double d;

	switch (json_object_get_type(J(v))) {
	case json_type_int:
		/* |lo|, |hi| <= 2^53: a clamped value is out of range anyway. */
		return integer(v, &i, &u) && i >= lo && i <= hi ? i : dflt;
	case json_type_double:
		d = json_object_get_double(J(v));
		return d >= (double)lo && d <= (double)hi ? (int64_t)d : dflt;
	default:
		return dflt;
	}
}
