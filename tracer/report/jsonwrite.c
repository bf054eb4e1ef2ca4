/*
 * jsonwrite — see jsonwrite.h; also json_string and json_argv (report.h),
 * which the SARIF writer prints with: both sinks escape through escape()
 * below, the one place that decides how a string from the program looks
 * in JSON.
 */
#include "jsonwrite.h"
#include "report.h"
#include "util.h"

#include <inttypes.h>
#include <json-c/printbuf.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s, or 0 if s starts an invalid one. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * str as a quoted JSON string appended to pb: quotes, backslashes and
 * control characters (C0, DEL, C1) escaped, valid UTF-8 kept, any other
 * byte as \ufffd.  0, or -1 if pb could not grow.
 */
static int escape(struct printbuf *pb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int bad = printbuf_memappend(pb, "\"", 1) < 0;

	while (*s) {
		unsigned char c = *s;
		const char *esc = NULL;
		char u[8];
		int n;

		switch (c) {
		case '"':  esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		}
		if (esc) {
			bad |= printbuf_memappend(pb, esc, 2) < 0;
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			bad |= printbuf_memappend(pb, u, 6) < 0;
			s++;
		} else if (c < 0x80) {
			bad |= printbuf_memappend(pb, (const char *)s, 1) < 0;
			s++;
		} else if ((n = utf8_len(s)) == 2 && c == 0xc2 && s[1] < 0xa0) {
			/* C1 controls (U+0080-U+009F) steer terminals too. */
			snprintf(u, sizeof(u), "\\u%04x", s[1]);
			bad |= printbuf_memappend(pb, u, 6) < 0;
			s += 2;
		} else if (n > 0) {
			bad |= printbuf_memappend(pb, (const char *)s, n) < 0;
			s += n;
		} else {
			/* Not UTF-8: the replacement character, one per byte. */
			bad |= printbuf_memappend(pb, "\\ufffd", 6) < 0;
			s++;
		}
	}
	bad |= printbuf_memappend(pb, "\"", 1) < 0;
	return bad ? -1 : 0;
}

void json_string(FILE *f, const char *s)
{
	struct printbuf *pb;

	if (!s) {
		fputs("null", f);
		return;
	}
	pb = xnonnull(printbuf_new());
	if (escape(pb, s) < 0)
		xnonnull(NULL);		/* the out-of-memory exit */
	fwrite(pb->buf, 1, (size_t)pb->bpos, f);
	printbuf_free(pb);
}

void json_argv(FILE *f, char *const *argv)
{
	struct json_object *a = jw_argv(argv);

	fputs(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), f);
	json_object_put(a);
}

/* json-c's serializer hook for the strings jw_str makes. */
static int escape_string(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	return escape(pb, json_object_get_string(o));
}

struct json_object *jw_str(const char *s)
{
	struct json_object *o;

	if (!s)
		return NULL;
	o = xnonnull(json_object_new_string(s));
	json_object_set_serializer(o, escape_string, NULL, NULL);
	return o;
}

struct json_object *jw_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return xnonnull(json_object_new_string(buf));
}

struct json_object *jw_secs(double s)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.6f", s);
	return xnonnull(json_object_new_double_s(s, buf));
}

struct json_object *jw_argv(char *const *argv)
{
	struct json_object *a = jw_arr();

	for (int i = 0; argv && argv[i]; i++)
		jw_push(a, jw_str(argv[i]));
	return a;
}

struct json_object *jw_obj(void)
{
	return xnonnull(json_object_new_object());
}

struct json_object *jw_arr(void)
{
	return xnonnull(json_object_new_array());
}

struct json_object *jw_int(int64_t v)
{
	return xnonnull(json_object_new_int64(v));
}

struct json_object *jw_uint(uint64_t v)
{
	return xnonnull(json_object_new_uint64(v));
}

struct json_object *jw_bool(int v)
{
	return xnonnull(json_object_new_boolean(v));
}

void jw_set(struct json_object *o, const char *key, struct json_object *v)
{
	if (json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
				      JSON_C_OBJECT_KEY_IS_CONSTANT) < 0)
		xnonnull(NULL);
}

void jw_push(struct json_object *a, struct json_object *v)
{
	if (json_object_array_add(a, v) < 0)
		xnonnull(NULL);
}

int jw_line(FILE *f, struct json_object *o)
{
	const char *s = xnonnull((void *)json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	int rc = fputs(s, f);

	if (rc != EOF)
		rc = fputc('\n', f);
	json_object_put(o);
	return rc;
}
