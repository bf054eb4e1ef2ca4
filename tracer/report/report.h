/*
 * report — race records: deduplicated (a pair already reported is counted,
 * not printed again), given both stacks while both threads are still
 * stopped, filtered by --suppressions, and handed to the sinks: KCSAN-style
 * text on stderr, JSON lines (-o, report_json.c), SARIF (--sarif,
 * report_sarif.c, written at exit), gdb command files (--gdb-script,
 * gdbscript.c); the TUI reads the same records through report_get().
 */
#ifndef RACEWATCH_REPORT_H
#define RACEWATCH_REPORT_H

#include <stdio.h>
#include <sys/types.h>

#include "access.h"

struct addrspace;
struct options;

enum race_kind {
	RACE_DATA,		/* two threads, concurrent, the rules say race */
	RACE_UNKNOWN_ORIGIN,	/* value changed in a window, no trapped writer */
	RACE_ASSERT,		/* ASSERT_EXCLUSIVE_* violated */
	RACE_KIND_COUNT
};

/* "data-race", "unknown-origin", "assert": the JSON kind and SARIF rule id. */
extern const char *const race_kind_names[RACE_KIND_COUNT];

#define REPORT_DEFAULT_DEPTH 16		/* --stack-depth default */
#define REPORT_MAX_DEPTH 256		/* --stack-depth maximum */

/*
 * One frame of an access's stack.  Frame 0 is the access itself: its pc
 * and, when the access is in inlined code, one frame per inline level (all
 * with the same pc, inlined = 1 but the last).  Then one physical frame per
 * caller, again with its inline levels: pc is the return address, and the
 * source line is that of the call (looked up at pc - 1).  Strings are as the
 * program's ELF/DWARF give them: escape them before printing (rw_escape,
 * json_string).
 */
struct report_frame {
	uint64_t pc;
	char *func;		/* function name, NULL if unknown */
	char *file;		/* source path as DWARF gives it, NULL if unknown */
	char *module;		/* path of the module (executable or library), NULL if none */
	uint64_t modoff;	/* pc - the module's load bias: its link-time address */
	char *sym;		/* ELF symbol containing pc (the physical function), NULL if none */
	uint64_t symoff;	/* pc - that symbol's start */
	int line;		/* 0 if unknown */
	int inlined;		/* 1: inlined into the next frame */
};

struct race {
	enum race_kind kind;
	pid_t pid;
	char var[192];		/* "foo", "s.b", "foo+4" (escaped) */
	struct access a;	/* the earlier access (the stalled thread) */
	struct access b;	/* the access inside a's window (not for unknown origin) */
	int value_known;	/* old/new below are meaningful */
	unsigned vsize;		/* bytes shown in the value line */
	uint64_t old_val, new_val;
	/* Filled by report_submit for a new race; the caller leaves them 0. */
	struct report_frame *fa, *fb;	/* stacks of a and b, frame 0 on top */
	int nfa, nfb;		/* nfb is 0 for unknown origin */
	/* Filled by report_submit when known: where the variable containing
	 * the address is declared (DWARF decl_file / decl_line), and how the
	 * address was found when not by name ("address read from pointer p
	 * (0x...) when the watch was armed"), escaped; NULL / 0 / "". */
	char *decl_file;
	int decl_line;
	char via[192];
	unsigned id;		/* 1, 2, ... in reporting order; 0 if suppressed */
	unsigned count;		/* times seen */
	uint64_t first_ns, last_ns;	/* CLOCK_MONOTONIC (now_ns) of first / last sighting */
	/* report.c's bookkeeping. */
	int suppressed;		/* matched a --suppressions rule: never shown */
	unsigned json_count;	/* count as last written to -o */
	uint64_t json_ns;	/* when that was (now_ns) */
};

/*
 * Set up the sinks from the options (--stack-depth, -o, --sarif,
 * --suppressions, --gdb-script): loads and checks the suppressions, checks
 * and opens the output files without changing them (outfile.h), and
 * refuses an output that is the program, the suppressions file or another
 * output.  Call once before the program starts.  Returns 0, or -1 after a
 * one-line error (exit status 2: nothing has run yet).
 */
int report_init(const struct options *o);

/*
 * The program runs with its watch set resolved: truncate -o and write its
 * header, write the first (unfinished) SARIF log.  Idempotent.  Called by
 * report_submit at the first race and by report_finish when the program
 * was armed; the engine may call it as soon as the first exec's watch set
 * resolved, so that a killed tracer leaves a fresh SARIF log.
 */
void report_begin(void);

/*
 * Submit a race.  Precondition: the threads of r->a and r->b are stopped
 * (so their stacks can be read; an access with stopped == 0 gets its
 * access frame only).  If the same (kind, variable, pc pair) was seen
 * before, bumps its count and returns 0 without reading anything from the
 * program (repeats stay cheap).  Otherwise takes both stacks, and unless a
 * suppression matches, prints r to every sink and returns 1.
 */
int report_submit(struct race *r, struct addrspace *as);

/*
 * Flush what is only written at the end: final counts to -o (one "update"
 * per race whose count changed since last written, then an "end" record)
 * and the SARIF log.  exit_status is what racewatch exits with (2 = the
 * tracer failed; SARIF says executionSuccessful false).  If the run never
 * began (report_begin), the output files are left as they were.  Returns
 * the status to exit with: exit_status, or 2 if any report file could not
 * be written (its error was printed).  Idempotent; report_init registers
 * it with atexit() too, with status -1 (unknown).
 */
int report_finish(int exit_status);

/*
 * What the run watched and how, filled by the engine before report_finish:
 * the JSON end record and SARIF carry it.  notice, when not empty, says why
 * a run saw nothing (a SARIF tool execution notification).
 */
struct run_summary {
	int watched;		/* variables watched */
	const char *backend;	/* perf, ptrace, code, or NULL before one was chosen */
	char notice[512];
};
extern struct run_summary report_summary;

/* How many distinct races were reported (the exit status depends on it);
 * suppressed races do not count. */
int report_count(void);

/* Reported race i (0 <= i < report_count()), in reporting order. */
const struct race *report_get(int i);

/* Write r as KCSAN-style text (report_text.c); _color with color != 0 adds
 * SGR colour to the title, access and value lines. */
void report_print_text(FILE *f, const struct race *r);
void report_print_text_color(FILE *f, const struct race *r, int color);

/* Colour text reports on f?  --color always / never, or for auto: f is a
 * terminal, NO_COLOR is unset and TERM is not "dumb". */
int report_want_color(int mode, FILE *f);

/* "read", "write (marked)", "assert no writes"...: how the text names an access. */
const char *report_access_verb(const struct access *a);

/* "data-race in read_foo / update_foo": the title line after "BUG: racewatch: ". */
void report_title(char *buf, size_t len, const struct race *r);

/* A source path as reports show it: relative to the working directory
 * when it is under it. */
const char *report_short_path(const char *file);

/* ---- sinks ------------------------------------------------------------------ */

/*
 * Where reports go: text on stderr, JSON lines, SARIF, gdb scripts, the
 * TUI.  report.c keeps the races and calls each registered sink; sinks get
 * everything they need in the call and never call back into report.c.
 * Every operation may be NULL.
 */
struct report_sink {
	const char *name;
	/* The run started (output files may be replaced now).  0, or -1 (printed). */
	int (*begin)(void);
	/* A new race r (reported, not suppressed; its id is set). 0, or -1 (printed). */
	int (*race)(const struct race *r);
	/* r was seen again; its count and last-seen time are updated. */
	void (*repeat)(struct race *r);
	/* The end: races v[0..n-1] in reporting order, racewatch's exit status
	 * (-1 unknown); begun says whether begin ran.  0, or -1 (printed). */
	int (*finish)(struct race *const *v, int n, int exit_status, int begun);
};

/* Add s to the sinks (at most a few; report_init adds those the options ask
 * for, the engine the front end's). */
void report_add_sink(const struct report_sink *s);
/* Remove s (the front end went away). */
void report_remove_sink(const struct report_sink *s);

extern const struct report_sink report_sink_text, report_sink_json, report_sink_sarif,
	report_sink_gdb;

/* ---- the sinks' own entry points (report_json.c, report_sarif.c, gdbscript.c) */

/* s as a JSON string literal with quotes, or null for NULL.  Control
 * characters (C0, DEL and the C1 range U+0080-U+009F), quotes and
 * backslashes are escaped; bytes that are not valid UTF-8 become U+FFFD.
 * The same rule as the strings -o writes through json-c (jsonwrite.c,
 * where both live).  Pure: unit-tested. */
void json_string(FILE *f, const char *s);
/* argv (NULL-terminated; NULL is empty) as a JSON array of json_strings. */
void json_argv(FILE *f, char *const *argv);

/* -o: open path without changing it (outfile_open; "-" is stdout).  argv
 * is the traced command for the header (attach: the process's command line,
 * and attached its pid; 0 for run).  0 or -1 with err. */
int report_json_open(const char *path, char *const *argv, pid_t attached,
		     char *err, size_t errlen);
/* The identity of the -o file: 0, or -1 if there is none. */
int report_json_id(dev_t *dev, ino_t *ino);
/* The run started: truncate the file, write the header.  0, or -1 (printed). */
int report_json_begin(void);
void report_json_race(const struct race *r);
/* A repeat of r was counted: write an "update" record if the count changed
 * and the last write for r is at least REPORT_JSON_UPDATE_NS old. */
void report_json_repeat(struct race *r);
/* Final updates for each race of v[0..n-1] whose count is not on file,
 * then "end" with exit_status (-1: unknown), and close; if the run never
 * began, leave the file as it was.  0, or -1 if a write failed (printed). */
int report_json_close(struct race *const *v, int n, int exit_status);
#define REPORT_JSON_UPDATE_NS 1000000000ull

/* --sarif: check that path can be written, without touching it (*dev /
 * *ino: the existing file, 0 if none).  self is racewatch's own argv
 * (invocations[0].arguments), prog the traced command (a property of the
 * invocation).  0 or -1 with err. */
int report_sarif_open(const char *path, char *const *self, char *const *prog, dev_t *dev,
		      ino_t *ino, char *err, size_t errlen);
/* The unfinished log at the start of the run, the final one at exit.
 * 0, or -1 after a one-line error. */
int report_sarif_begin(void);
int report_sarif_write(int exit_status);

/* --gdb-script: create dir if needed (again on a later call, replacing
 * the first); write dir/race-ID.gdb for r.  report_gdb_race returns 0, or
 * -1 after a one-line warning (a symbolic link or anything but a regular
 * file at that name is never written through). */
int report_gdb_open(const char *dir, char *const *argv, char *err, size_t errlen);
int report_gdb_race(const struct race *r);
/* The one gdb command file writer (--gdb-script and the TUI's g key):
 * r's script to path, argv the traced command for its usage comment.
 * 0, or -1 with errno set. */
int report_gdb_write(const char *path, const struct race *r, char *const *argv);

/* Monotonic time report_init ran (report times are relative to it), and the
 * wall-clock time then (seconds since the epoch). */
extern uint64_t report_start_ns;
extern double report_start_wall;

#endif
