/*
 * watchexpr — parse a -w expression and resolve it to bytes in a process.
 * See watchexpr.h for the language.
 *
 * Parsing is a hand-written scanner over the text: the language is a
 * handful of tokens, and every error has to name the column it found.
 * Resolution is in watchexpr_resolve.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addrspace.h"
#include "watchexpr.h"

#define MAX_LEN 4096

struct scan {
	const char *text;
	size_t i;		/* next character */
	size_t end;		/* one past the last non-blank character */
	char *err;
	size_t errlen;
};

/* "<what> at column N in '<text>'"; the text is echoed with anything
 * unprintable replaced, since it may come from anywhere. */
static int fail(struct scan *s, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct scan *s, size_t col, const char *fmt, ...)
{
	char msg[160], shown[96];
	size_t k = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (const char *p = s->text; *p && k < sizeof(shown) - 4; p++)
		shown[k++] = isprint((unsigned char)*p) ? *p : '?';
	if (s->text[k]) {
		memcpy(shown + k, "...", 3);
		k += 3;
	}
	shown[k] = 0;
	snprintf(s->err, s->errlen, "%s at column %zu in '%s'", msg, col + 1, shown);
	return -1;
}

static int at_end(const struct scan *s)
{
	return s->i >= s->end;
}

static int peek(const struct scan *s)
{
	return at_end(s) ? 0 : (unsigned char)s->text[s->i];
}

static int is_id0(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_id(int c)
{
	return is_id0(c) || (c >= '0' && c <= '9');
}

static void skip_blanks(struct scan *s)
{
	while (!at_end(s) && isspace((unsigned char)s->text[s->i]))
		s->i++;
}

/* What is at the cursor, for "unexpected ..." messages. */
static int unexpected(struct scan *s)
{
	int c = peek(s);

	if (isspace(c))
		return fail(s, s->i, "unexpected blank");
	if (isprint(c))
		return fail(s, s->i, "unexpected '%c'", c);
	return fail(s, s->i, "unexpected byte 0x%02x", c);
}

/* A decimal or 0x-hex number. */
static int number(struct scan *s, uint64_t *out, const char *what)
{
	size_t start = s->i;
	uint64_t v = 0;
	int base = 10, digits = 0;

	if (!isdigit(peek(s)))
		return fail(s, s->i, "expected %s", what);
	/* "0x" counts as a prefix only when a hex digit follows it. */
	if (peek(s) == '0' && s->i + 2 < s->end &&
	    (s->text[s->i + 1] == 'x' || s->text[s->i + 1] == 'X') &&
	    isxdigit((unsigned char)s->text[s->i + 2])) {
		base = 16;
		s->i += 2;
	}
	while (!at_end(s)) {
		int c = peek(s), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && isxdigit(c))
			d = tolower(c) - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return fail(s, start, "number too large");
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
		s->i++;
	}
	if (is_id(peek(s)))
		return fail(s, start, "invalid number");
	*out = v;
	return digits ? 0 : fail(s, start, "expected %s", what);
}

static int ident(struct scan *s, char *buf, size_t cap, const char *what)
{
	size_t start = s->i, n;

	if (!is_id0(peek(s)))
		return fail(s, s->i, "expected %s", what);
	while (is_id(peek(s)))
		s->i++;
	n = s->i - start;
	if (n >= cap)
		return fail(s, start, "name too long (at most %zu characters)", cap - 1);
	memcpy(buf, s->text + start, n);
	buf[n] = 0;
	return 0;
}

static int parse_range(struct scan *s, struct wexpr *out)
{
	size_t lencol;

	out->kind = WEXPR_RANGE;
	if (number(s, &out->addr, "an address") < 0)
		return -1;
	if (peek(s) != ':')
		return at_end(s) ? fail(s, s->i, "expected ':LEN' after the address") :
				   unexpected(s);
	s->i++;
	lencol = s->i;
	if (number(s, &out->len, "a length after ':'") < 0)
		return -1;
	if (out->len < 1 || out->len > MAX_LEN)
		return fail(s, lencol, "length %llu out of range 1..%d",
			    (unsigned long long)out->len, MAX_LEN);
	if (!at_end(s))
		return unexpected(s);
	if (out->addr + out->len - 1 < out->addr)
		return fail(s, 0, "range wraps around the address space");
	return 0;
}

/* A file name as the scope of "file.c::name": has a '/' or ends in a
 * C/C++/assembly source suffix.  Anything else before "::" is a function
 * (compiler-made names such as "f.part.0" included). */
static int is_file_scope(const char *t)
{
	static const char *const sfx[] = { ".c", ".h", ".cc", ".cpp", ".cxx", ".c++",
					   ".hh", ".hpp", ".hxx", ".C", ".S", ".s", ".m" };
	size_t n = strlen(t);

	if (strchr(t, '/'))
		return 1;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t k = strlen(sfx[i]);

		if (n > k && !strcmp(t + n - k, sfx[i]))
			return 1;
	}
	return 0;
}

/* Characters of a "SCOPE::" prefix: identifiers, dots, path separators. */
static int is_scope_char(int c)
{
	return is_id(c) || c == '.' || c == '/' || c == '-' || c == '+';
}

/*
 * "SCOPE::" at the cursor: a function ("f", "f.part.0", "main._omp_fn.0")
 * or a source file ("util.c", "src/util.c").  Fills out->func or
 * out->file and moves past "::"; 0 if there is no scope, -1 on error.
 */
static int parse_scope(struct scan *s, struct wexpr *out)
{
	size_t start = s->i, j = s->i, n;

	while (j < s->end && is_scope_char((unsigned char)s->text[j]))
		j++;
	if (j + 1 >= s->end || s->text[j] != ':' || s->text[j + 1] != ':' || j == start)
		return 0;
	n = j - start;
	if (n >= sizeof(out->file))
		return fail(s, start, "name too long");
	/* "liby.so::NAME", "libfoo.so.1::NAME": the shared object to look in. */
	if (n >= 3 && n < sizeof(out->module) && (!memcmp(s->text + j - 3, ".so", 3) ||
						  memmem(s->text + start, n, ".so.", 4))) {
		memcpy(out->module, s->text + start, n);
		out->module[n] = 0;
		s->i = j + 2;
		return 0;
	}
	memcpy(out->file, s->text + start, n);
	out->file[n] = 0;
	if (!is_file_scope(out->file)) {
		if (!is_id0((unsigned char)out->file[0]) || n >= sizeof(out->func))
			return fail(s, start, "expected a function or file name before '::'");
		strcpy(out->func, out->file);
		out->file[0] = 0;
	}
	s->i = j + 2;
	return 0;
}

static int parse_symbol(struct scan *s, struct wexpr *out)
{
	out->kind = WEXPR_SYMBOL;
	if (peek(s) == '*') {
		out->deref = 1;
		s->i++;
		skip_blanks(s);
	}
	if (parse_scope(s, out) < 0)
		return -1;
	if (ident(s, out->name, sizeof(out->name), out->func[0] || out->file[0] ?
		  "a variable name after '::'" : "a variable name") < 0)
		return -1;
	if (peek(s) == ':' && s->i + 1 < s->end && s->text[s->i + 1] == ':')
		return fail(s, s->i, "only one 'function::' or 'file::' prefix is allowed");
	while (!at_end(s)) {
		struct wexpr_step *st = &out->steps[out->nsteps];
		int c = peek(s), arrow = c == '-' && s->i + 1 < s->end && s->text[s->i + 1] == '>';

		if (c != '.' && c != '[' && !arrow)
			return unexpected(s);
		if (out->nsteps == WEXPR_MAX_STEPS)
			return fail(s, s->i, "too many member and index steps "
				    "(at most %d)", WEXPR_MAX_STEPS);
		s->i += arrow ? 2 : 1;
		if (c == '.' || arrow) {
			st->kind = arrow ? WSTEP_ARROW : WSTEP_MEMBER;
			if (ident(s, st->member, sizeof(st->member), arrow ?
				  "a member name after '->'" : "a member name after '.'") < 0)
				return -1;
		} else {
			st->kind = WSTEP_INDEX;
			skip_blanks(s);
			if (number(s, &st->index, "an index") < 0)
				return -1;
			skip_blanks(s);
			if (peek(s) != ']')
				return at_end(s) ? fail(s, s->i, "expected ']'") :
						   fail(s, s->i, "expected ']' instead of '%c'",
							isprint(peek(s)) ? peek(s) : '?');
			s->i++;
		}
		out->nsteps++;
	}
	return 0;
}

int wexpr_parse(const char *text, struct wexpr *out, char *err, size_t errlen)
{
	struct scan s = { text, 0, strlen(text), err, errlen };

	memset(out, 0, sizeof(*out));
	while (s.end > 0 && isspace((unsigned char)text[s.end - 1]))
		s.end--;
	skip_blanks(&s);
	if (at_end(&s)) {
		snprintf(err, errlen, "empty watch expression");
		return -1;
	}
	if (isdigit(peek(&s)))
		return parse_range(&s, out);
	/* "./util.c::x" and "/src/util.c::x" start like no name does. */
	if (!is_id0(peek(&s)) && peek(&s) != '*' &&
	    !((peek(&s) == '.' || peek(&s) == '/') && strstr(text + s.i, "::")))
		return fail(&s, s.i, "expected a variable name or 0xADDR:LEN");
	return parse_symbol(&s, out);
}
