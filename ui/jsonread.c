/* jsonread — see jsonread.h.  Recursive descent over a bounded depth. */
#include "jsonread.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct in {
	const char *s, *end;
	int depth;
	long values;		/* parsed so far, up to JR_MAX_VALUES */
};

static void ws(struct in *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int lit(struct in *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
		return -1;
	p->s += n;
	return 0;
}

static int hex4(const char *s, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];

		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string literal at p->s (on its opening quote) into a new buffer. */
static char *string(struct in *p)
{
	const char *s = p->s + 1, *q = s;
	char *out, *o;

	/* The output is never longer than the literal: find its end first. */
	while (q < p->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	out = o = xcalloc(1, (size_t)(q - s) + 1);
	while (s < p->end && *s != '"') {
		unsigned char c = (unsigned char)*s;
		unsigned cp, lo;

		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			*o++ = (char)c;
			s++;
			continue;
		}
		if (++s >= p->end)
			goto bad;
		switch (*s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (p->end - s < 4 || hex4(s, &cp) < 0 || cp == 0)
				goto bad;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && p->end - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
			    hex4(s + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			o += utf8_put(o, cp);
			break;
		default:
			goto bad;
		}
	}
	if (s >= p->end)
		goto bad;
	p->s = s + 1;
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int number(struct in *p, double *out)
{
	const char *s = p->s;
	char buf[64], *end;

	if (s < p->end && *s == '-')
		s++;
	if (s >= p->end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < p->end && s[1] >= '0' && s[1] <= '9'))
		return -1;
	while (s < p->end && strchr("0123456789.eE+-", *s))
		s++;
	if (s - p->s >= (long)sizeof(buf))
		return -1;
	memcpy(buf, p->s, (size_t)(s - p->s));
	buf[s - p->s] = '\0';
	*out = strtod(buf, &end);
	if (*end || !isfinite(*out))
		return -1;
	p->s = s;
	return 0;
}

static int value(struct in *p, struct jr *v);

/* Array or object: elements after the opening bracket. */
static int members(struct in *p, struct jr *v, char close)
{
	int cap = 0;

	if (++p->depth > JR_MAX_DEPTH)
		return -1;
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		p->depth--;
		return 0;
	}
	for (;;) {
		if (v->n == cap) {
			cap = cap ? 2 * cap : 4;
			v->kids = xrealloc(v->kids, (size_t)cap * sizeof(*v->kids));
			if (close == '}')
				v->keys = xrealloc(v->keys, (size_t)cap * sizeof(*v->keys));
		}
		/* Counted before it is parsed, so clear() frees a half-parsed one. */
		memset(&v->kids[v->n], 0, sizeof(v->kids[0]));
		if (close == '}')
			v->keys[v->n] = NULL;
		v->n++;
		ws(p);
		if (close == '}') {
			if (p->s >= p->end || *p->s != '"' || !(v->keys[v->n - 1] = string(p)))
				return -1;
			ws(p);
			if (p->s >= p->end || *p->s++ != ':')
				return -1;
		}
		if (value(p, &v->kids[v->n - 1]) < 0)
			return -1;
		ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			p->depth--;
			return 0;
		}
		return -1;
	}
}

static int value(struct in *p, struct jr *v)
{
	ws(p);
	if (p->s >= p->end || ++p->values > JR_MAX_VALUES)
		return -1;
	switch (*p->s) {
	case '{':
		v->t = JR_OBJ;
		return members(p, v, '}');
	case '[':
		v->t = JR_ARR;
		return members(p, v, ']');
	case '"':
		v->t = JR_STR;
		return (v->str = string(p)) ? 0 : -1;
	case 't':
		v->t = JR_BOOL;
		v->b = 1;
		return lit(p, "true");
	case 'f':
		v->t = JR_BOOL;
		return lit(p, "false");
	case 'n':
		v->t = JR_NULL;
		return lit(p, "null");
	default:
		v->t = JR_NUM;
		return number(p, &v->num);
	}
}

static void clear(struct jr *v)
{
	for (int i = 0; i < v->n; i++) {
		clear(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
}

void jr_free(struct jr *v)
{
	if (v) {
		clear(v);
		free(v);
	}
}

struct jr *jr_parse(const char *s, size_t len)
{
	struct in p = { s, s + len, 0, 0 };
	struct jr *v = xcalloc(1, sizeof(*v));

	if (value(&p, v) < 0) {
		jr_free(v);
		return NULL;
	}
	ws(&p);
	if (p.s != p.end) {
		jr_free(v);
		return NULL;
	}
	return v;
}

const struct jr *jr_get(const struct jr *v, const char *key)
{
	const struct jr *found = NULL;

	if (!v || v->t != JR_OBJ)
		return NULL;
	for (int i = 0; i < v->n; i++)
		if (v->keys[i] && !strcmp(v->keys[i], key))
			found = &v->kids[i];
	return found;
}

const struct jr *jr_at(const struct jr *v, int i)
{
	return v && v->t == JR_ARR && i >= 0 && i < v->n ? &v->kids[i] : NULL;
}

const char *jr_str(const struct jr *v)
{
	return v && v->t == JR_STR ? v->str : NULL;
}

double jr_num(const struct jr *v, double dflt)
{
	return v && v->t == JR_NUM ? v->num : dflt;
}

uint64_t jr_u64(const struct jr *v, uint64_t dflt)
{
	uint64_t x;

	if (v && v->t == JR_NUM && v->num >= 0 && v->num < 1.8e19)
		return (uint64_t)v->num;
	if (v && v->t == JR_STR && parse_u64(v->str, &x) == 0)
		return x;
	return dflt;
}

int64_t jr_int(const struct jr *v, int64_t lo, int64_t hi, int64_t dflt)
{
	if (!v || v->t != JR_NUM || !(v->num >= (double)lo && v->num <= (double)hi))
		return dflt;
	return (int64_t)v->num;
}
