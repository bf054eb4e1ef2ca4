#include "suppress.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * '*' wildcards with backtracking over [p, pend).  Without a leading '^'
 * the pattern may start anywhere in s (an implicit leading '*'); without a
 * trailing '$' it may end anywhere (an implicit trailing '*').  Unlike
 * TSan's TemplateMatch, which commits to the first occurrence of each
 * literal run, this backtracks, so "foo$" matches "foofoo": a superset of
 * what TSan accepts, never less.
 */
static int glob(const char *p, const char *pend, const char *s, int anchor_start, int anchor_end)
{
	const char *star = anchor_start ? NULL : p, *ss = s;

	for (;;) {
		if (p == pend && (!anchor_end || !*s))
			return 1;
		if (p < pend && *p == '*') {
			star = ++p;
			ss = s;
			continue;
		}
		if (*s && p < pend && *p == *s) {
			p++;
			s++;
			continue;
		}
		if (star && *ss) {
			p = star;
			s = ++ss;
			continue;
		}
		return 0;
	}
}

int supp_template_match(const char *pattern, const char *str)
{
	const char *p = pattern, *pend;
	int anchor_start = 0, anchor_end = 0;

	if (!pattern || !str || !*str)
		return 0;
	if (*p == '^') {
		anchor_start = 1;
		p++;
	}
	pend = p + strlen(p);
	if (pend > p && pend[-1] == '$') {
		anchor_end = 1;
		pend--;
	}
	return glob(p, pend, str, anchor_start, anchor_end);
}

/* The types a line may name, with what they mean here. */
static const struct {
	const char *name;
	enum supp_type type;
} supp_types[] = {
	{ "race",            SUPP_RACE },
	{ "race_top",        SUPP_RACE_TOP },
	{ "var",             SUPP_VAR },
	{ "file",            SUPP_FILE },
	/* TSan's, about reports racewatch never makes. */
	{ "thread",          SUPP_IGNORED },
	{ "mutex",           SUPP_IGNORED },
	{ "signal",          SUPP_IGNORED },
	{ "deadlock",        SUPP_IGNORED },
	{ "called_from_lib", SUPP_IGNORED },
};

int supp_parse_line(const char *line, enum supp_type *type, char **pattern,
		    char *err, size_t errlen)
{
	const char *b = line, *e, *colon, *pat;
	size_t tlen;

	while (isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (e == b || *b == '#')
		return 0;
	colon = memchr(b, ':', (size_t)(e - b));
	if (!colon) {
		snprintf(err, errlen, "expected TYPE:PATTERN (race:, race_top:, var: or file:), got '%.*s'",
			 (int)(e - b > 60 ? 60 : e - b), b);
		return -1;
	}
	tlen = (size_t)(colon - b);
	pat = colon + 1;
	while (pat < e && isspace((unsigned char)*pat))
		pat++;
	for (size_t i = 0; i < ARRAY_SIZE(supp_types); i++) {
		if (strlen(supp_types[i].name) != tlen || strncmp(b, supp_types[i].name, tlen))
			continue;
		if (pat == e) {
			snprintf(err, errlen, "%s: empty pattern", supp_types[i].name);
			return -1;
		}
		*type = supp_types[i].type;
		*pattern = xcalloc(1, (size_t)(e - pat) + 1);
		memcpy(*pattern, pat, (size_t)(e - pat));
		return 1;
	}
	snprintf(err, errlen, "unknown suppression type '%.*s' (expected race, race_top, var or file)",
		 (int)(tlen > 40 ? 40 : tlen), b);
	return -1;
}

int supp_add_line(struct supp_set *s, const char *line, int lineno, char *err, size_t errlen)
{
	enum supp_type type;
	char *pat;
	int rc = supp_parse_line(line, &type, &pat, err, errlen);

	if (rc <= 0)
		return rc;
	if (type == SUPP_IGNORED) {
		rw_warn("%s:%d: '%s' is a ThreadSanitizer suppression racewatch has no use for; ignored",
			s->path ? s->path : "suppressions", lineno, line);
		free(pat);
		return 0;
	}
	s->v = xrealloc(s->v, sizeof(*s->v) * (size_t)(s->n + 1));
	s->v[s->n].type = type;
	s->v[s->n].pattern = pat;
	s->v[s->n].line = lineno;
	s->v[s->n].hits = 0;
	s->n++;
	return 1;
}

int supp_load(struct supp_set *s, const char *path, char *err, size_t errlen)
{
	char reason[160];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	FILE *f = fopen(path, "r");
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "--suppressions: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* A directory opens, then reads nothing: not an empty rule set. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--suppressions: %s is a directory, not a file of rules", path);
		fclose(f);
		return -1;
	}
	free(s->path);
	s->path = xstrdup(path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path, lineno);
			rc = -1;
			break;
		}
		if (supp_add_line(s, line, lineno, reason, sizeof(reason)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, reason);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "--suppressions: cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

void supp_free(struct supp_set *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i].pattern);
	free(s->v);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static int frame_match(const char *pat, const struct supp_frame *f)
{
	return supp_template_match(pat, f->func) || supp_template_match(pat, f->file) ||
	       supp_template_match(pat, f->module);
}

static int rule_match(const struct suppression *r, const char *var,
		      const struct supp_frame *const st[], const int n[], int nstacks)
{
	switch (r->type) {
	case SUPP_VAR:
		return supp_template_match(r->pattern, var);
	case SUPP_RACE:
		/* TSan also matches race: against the global's name. */
		if (supp_template_match(r->pattern, var))
			return 1;
		for (int i = 0; i < nstacks; i++)
			for (int j = 0; j < n[i]; j++)
				if (frame_match(r->pattern, &st[i][j]))
					return 1;
		return 0;
	case SUPP_RACE_TOP:
		for (int i = 0; i < nstacks; i++)
			if (n[i] > 0 && frame_match(r->pattern, &st[i][0]))
				return 1;
		return 0;
	case SUPP_FILE:
		for (int i = 0; i < nstacks; i++)
			for (int j = 0; j < n[i]; j++)
				if (supp_template_match(r->pattern, st[i][j].file))
					return 1;
		return 0;
	case SUPP_IGNORED:
		return 0;
	}
	return 0;
}

struct suppression *supp_match(const struct supp_set *s, const char *var,
			       const struct supp_frame *const st[], const int n[],
			       int nstacks)
{
	for (int i = 0; s && i < s->n; i++)
		if (rule_match(&s->v[i], var, st, n, nstacks))
			return &s->v[i];
	return NULL;
}
