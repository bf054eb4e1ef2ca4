/*
 * suppress — --suppressions FILE: ThreadSanitizer's syntax where it applies,
 * plus racewatch's own `var:` (and `file:`, DESIGN.md section 1).
 *
 *   # comment                 blank lines and lines starting with # are skipped
 *   race:PATTERN              any frame of either stack: function, source file
 *                             or module (library) name; or the variable name
 *   race_top:PATTERN          only the top frame (#0) of each stack
 *   var:PATTERN               the variable's name as reports show it
 *   file:PATTERN              the source file of any frame of either stack
 *
 * PATTERN is TSan's template: a substring match ('*' is implicitly prepended
 * and appended), '*' matches any run of characters, a leading '^' anchors at
 * the start of the string and a trailing '$' at its end.  TSan's other
 * types (thread, mutex, signal, deadlock, called_from_lib) are accepted with
 * a warning and ignored, so a TSan file can be reused; anything else is an
 * error naming the file and line.
 *
 * The matcher is pure (no tracer state) and unit-tested in
 * tests/unit/test_suppress.c.
 */
#ifndef RACEWATCH_SUPPRESS_H
#define RACEWATCH_SUPPRESS_H

#include <stddef.h>

enum supp_type {
	SUPP_RACE,		/* race: */
	SUPP_RACE_TOP,		/* race_top: */
	SUPP_VAR,		/* var: */
	SUPP_FILE,		/* file: */
	SUPP_IGNORED,		/* a TSan type that has no meaning here */
};

struct suppression {
	enum supp_type type;
	char *pattern;
	int line;		/* in the file, for messages */
	unsigned long hits;	/* distinct races it suppressed */
};

struct supp_set {
	struct suppression *v;
	int n;
	char *path;		/* the file, for messages */
};

/* One frame as the matcher sees it; any field may be NULL. */
struct supp_frame {
	const char *func;
	const char *file;
	const char *module;
};

/*
 * TSan's template match of pattern against str (see above).  An empty or
 * NULL str never matches (as in TSan: an unknown function is no match).
 */
int supp_template_match(const char *pattern, const char *str);

/*
 * Parse one line of a suppressions file.  Returns 1 and sets *type and
 * *pattern (malloc'd) for a rule, 0 for a blank or comment line, -1 with a
 * reason in err for a bad line.  Leading and trailing white space is
 * ignored.
 */
int supp_parse_line(const char *line, enum supp_type *type, char **pattern,
		    char *err, size_t errlen);

/*
 * Load path into *s (appending).  Returns 0, or -1 with a one-line
 * "FILE:LINE: reason" in err.  Ignored TSan types are reported through
 * rw_warn once per line.
 */
int supp_load(struct supp_set *s, const char *path, char *err, size_t errlen);

/* Add one rule from text (tests, and future command-line use). */
int supp_add_line(struct supp_set *s, const char *line, int lineno, char *err, size_t errlen);

void supp_free(struct supp_set *s);

/*
 * The first suppression of s that matches a race on variable var (may be
 * NULL) whose accesses have the stacks st[0..nstacks-1], each of n[i]
 * frames, frame 0 on top.  NULL if none.
 */
struct suppression *supp_match(const struct supp_set *s, const char *var,
			       const struct supp_frame *const st[], const int n[],
			       int nstacks);

#endif
