/*
 * watchexpr — parse a -w expression and resolve it to bytes in a process.
 * See watchexpr.h for the language.
 *
 * Parsing is a hand-written scanner over the text: the language is a
 * handful of tokens, and every error has to name the column it found.
 * Resolution looks the variable up in the main executable first, then in
 * every other module, and walks members and indices through the DWARF type.
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

	if (c == '-' && s->i + 1 < s->end && s->text[s->i + 1] == '>')
		return fail(s, s->i, "'->' is not supported: racewatch does not "
			    "follow pointers");
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

/*
 * A "liby.so::" prefix: the object's file name, dots and all (a function's
 * name is an identifier and parsed below).  Returns 1 if one was taken.
 */
static int module_prefix(struct scan *s, struct wexpr *out)
{
	const char *t = s->text + s->i, *sep = strstr(t, "::");
	size_t n = sep ? (size_t)(sep - t) : 0;

	if (!sep || n >= sizeof(out->func) || !memmem(t, n, ".so", 3) || memchr(t, '[', n))
		return 0;
	memcpy(out->func, t, n);
	out->func[n] = 0;
	s->i += n + 2;
	return 1;
}

static int parse_symbol(struct scan *s, struct wexpr *out)
{
	out->kind = WEXPR_SYMBOL;
	if (module_prefix(s, out)) {
		if (ident(s, out->name, sizeof(out->name), "a variable name after '::'") < 0)
			return -1;
	} else if (ident(s, out->name, sizeof(out->name), "a variable name") < 0)
		return -1;
	if (peek(s) == ':' && s->i + 1 < s->end && s->text[s->i + 1] == ':') {
		if (strlen(out->name) >= sizeof(out->func))
			return fail(s, 0, "name too long");
		strcpy(out->func, out->name);
		s->i += 2;
		if (ident(s, out->name, sizeof(out->name),
			  "a variable name after '::'") < 0)
			return -1;
		if (peek(s) == ':' && s->i + 1 < s->end && s->text[s->i + 1] == ':')
			return fail(s, s->i, "only one 'function::' prefix is allowed");
	}
	while (!at_end(s)) {
		struct wexpr_step *st = &out->steps[out->nsteps];
		int c = peek(s);

		if (c != '.' && c != '[')
			return unexpected(s);
		if (out->nsteps == WEXPR_MAX_STEPS)
			return fail(s, s->i, "too many member and index steps "
				    "(at most %d)", WEXPR_MAX_STEPS);
		s->i++;
		if (c == '.') {
			st->kind = WSTEP_MEMBER;
			if (ident(s, st->member, sizeof(st->member),
				  "a member name after '.'") < 0)
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
	if (!is_id0(peek(&s)))
		return fail(&s, s.i, "expected a variable name or 0xADDR:LEN");
	return parse_symbol(&s, out);
}

/* ---- resolution ------------------------------------------------------ */

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* Why a variable that exists cannot be watched. */
static int refuse(const struct sym_var *v, const char *shown, char *err, size_t errlen)
{
	switch (v->kind) {
	case SYM_TLS:
		snprintf(err, errlen, "'%s' is thread-local: each thread has its "
			 "own copy, so there is nothing shared to watch", shown);
		break;
	case SYM_REGISTER:
		snprintf(err, errlen, "'%s' is a local variable of %s() kept in "
			 "registers: it has no fixed address to watch", shown,
			 v->func ? v->func : "its function");
		break;
	case SYM_STACK:
		snprintf(err, errlen, "'%s' is a local variable on the stack of %s(): "
			 "it has no fixed address (watch it at run time with "
			 "racewatch_watch())", shown, v->func ? v->func : "its function");
		break;
	case SYM_OPTIMIZED_OUT:
		snprintf(err, errlen, "'%s' was optimized out: the compiler kept "
			 "no storage for it", shown);
		break;
	default:
		snprintf(err, errlen, "'%s' cannot be watched", shown);
	}
	return -1;
}

/* "unknown variable 'x' (did you mean: a, b?)", the executable's names first. */
static int unknown(const char *shown, struct addrspace *as, char *err, size_t errlen)
{
	const char *best[3];
	int nbest = 0;

	for (int i = 0; i < as_module_count(as) && nbest < 3; i++) {
		const char *cand[3];
		struct symtab *st = as_module(as, i, NULL);
		int n = st ? sym_suggest(st, shown, cand, 3) : 0;

		for (int k = 0; k < n && nbest < 3; k++) {
			int dup = 0;

			for (int j = 0; j < nbest; j++)
				dup |= strcmp(best[j], cand[k]) == 0;
			if (!dup)
				best[nbest++] = cand[k];
		}
	}
	snprintf(err, errlen, "unknown variable '%s'", shown);
	if (nbest) {
		append(err, errlen, " (did you mean: ");
		for (int j = 0; j < nbest; j++)
			append(err, errlen, "%s%s", j ? ", " : "", best[j]);
		append(err, errlen, "?)");
	}
	return -1;
}

/* Is q a shared object's name ("liby.so", "libfoo.so.1") rather than a function's? */
static int is_module_name(const char *q)
{
	const char *so = strstr(q, ".so");

	return so && (so[3] == '\0' || so[3] == '.');
}

/* Does module path (a file name) answer to the qualifier q ("liby.so" matches liby.so.1)? */
static int module_matches(const char *path, const char *q)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, q, strlen(q));
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * Find the variable.  The executable's definition wins (a library's global
 * that the executable also defines, or copy-relocates, lives there).
 * Otherwise it must be defined in exactly one library, unless the user
 * picked one with liby.so::name.  Returns 0 with *v, *bias and *mod (the
 * index of the module), 1 if only a definition that cannot be watched was
 * found (*v says why), -1 if none, -2 if ambiguous (err says so).
 */
static int lookup(const struct wexpr *e, struct addrspace *as, struct sym_var *v,
		  uint64_t *bias, int *mod, char *err, size_t errlen)
{
	const char *q = e->func[0] && is_module_name(e->func) ? e->func : NULL;
	const char *func = e->func[0] && !q ? e->func : NULL;
	struct sym_var other, cand;
	int have_other = 0, found = -1;
	char where[512] = "";

	for (int i = 0; i < as_module_count(as); i++) {
		uint64_t b = 0;
		struct symtab *st = as_module(as, i, &b);

		if (!st || (q && !module_matches(sym_path(st), q)) || sym_find_var(st, func, e->name, &cand) < 0)
			continue;
		if (cand.kind != SYM_STATIC) {
			if (!have_other) {
				other = cand;
				have_other = 1;
			}
			continue;
		}
		append(where, sizeof(where), "%s%s", found >= 0 ? ", " : "", base_name(sym_path(st)));
		if (found >= 0 && found != 0) {
			snprintf(err, errlen, "'%s' is defined in several objects (%s): pick one, "
				 "e.g. %s::%s", e->name, where, base_name(sym_path(st)), e->name);
			return -2;
		}
		if (found < 0) {
			*v = cand;
			*bias = b;
			*mod = i;
			found = i;
		}
		if (i == 0)
			break;	/* the executable's own */
	}
	if (found >= 0)
		return 0;
	if (!have_other)
		return -1;
	*v = other;
	return 1;
}

int wexpr_resolve(const struct wexpr *e, struct addrspace *as,
		  struct watch_target *out, char *err, size_t errlen)
{
	const struct sym_type *t;
	struct sym_var v;
	uint64_t bias = 0, off = 0, size;
	char shown[sizeof(out->name)];
	int r, mod = 0;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	if (e->kind == WEXPR_RANGE) {
		out->addr = e->addr;
		out->len = e->len;
		snprintf(out->name, sizeof(out->name), "0x%llx:%llu",
			 (unsigned long long)e->addr, (unsigned long long)e->len);
		return 0;
	}

	shown[0] = 0;
	if (e->func[0])
		append(shown, sizeof(shown), "%s::", e->func);
	append(shown, sizeof(shown), "%s", e->name);
	r = lookup(e, as, &v, &bias, &mod, err, errlen);
	if (r == -2)
		return -1;
	if (r < 0)
		return unknown(shown, as, err, errlen);
	if (r > 0)
		return refuse(&v, shown, err, errlen);

	t = v.type;
	size = v.size;
	out->marked = t ? sym_type_is_marked(t) : 0;
	for (int i = 0; i < e->nsteps; i++) {
		const struct wexpr_step *st = &e->steps[i];
		const struct sym_type *nt;
		char why[192];
		uint64_t o;

		if (!t) {
			snprintf(err, errlen, "'%s' has no type information (built "
				 "without -g): only the whole variable can be watched",
				 shown);
			return -1;
		}
		r = st->kind == WSTEP_MEMBER ?
			sym_type_member(t, st->member, &o, &nt, why, sizeof(why)) :
			sym_type_index(t, st->index, &o, &nt, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "'%s': %s", shown, why);
			return -1;
		}
		off += o;
		t = nt;
		size = sym_type_size(t);
		out->marked |= sym_type_is_marked(t);
		if (st->kind == WSTEP_MEMBER)
			append(shown, sizeof(shown), ".%s", st->member);
		else
			append(shown, sizeof(shown), "[%llu]", (unsigned long long)st->index);
	}
	if (size == 0) {
		snprintf(err, errlen, "'%s' has an unknown size (%s)", shown,
			 sym_type_name(t));
		return -1;
	}
	out->addr = bias + v.addr + off;
	out->len = size;
	/* A library's variable says where it lives, as reports should. */
	if (mod > 0 && !(e->func[0] && is_module_name(e->func))) {
		uint64_t b;
		struct symtab *st = as_module(as, mod, &b);

		if (st)
			append(shown, sizeof(shown), " (%s)", base_name(sym_path(st)));
	}
	snprintf(out->name, sizeof(out->name), "%s", shown);
	return 0;
}
