/* options — the command line, parsed once into struct options. */
#ifndef RACEWATCH_OPTIONS_H
#define RACEWATCH_OPTIONS_H

#include <stdint.h>
#include <sys/types.h>

enum rw_command { CMD_RUN, CMD_ATTACH, CMD_PROBE, CMD_VIEW, CMD_VARS };
/* How accesses are seen.  AUTO: the first that the self-test proves to work
 * (perf, ptrace, code), and code whenever the watch set needs more than the
 * four debug-register slots. */
enum backend_kind { BACKEND_AUTO, BACKEND_PERF, BACKEND_PTRACE, BACKEND_CODE };
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

#define RACEWATCH_VERSION "0.1.0"	/* --version, SARIF's tool.driver.version */
/* The project's home page: SARIF's informationUri and rule helpUri (code
 * scanning links to it).  Override at build time with
 * make EXTRA_CFLAGS='-DRACEWATCH_URL=\"https://...\"'. */
#ifndef RACEWATCH_URL
#define RACEWATCH_URL "https://github.com/racewatch/racewatch"
#endif

#define DELAY_MIN_US 50		/* a timerfd hold overshoots by ~10-20 us; less means nothing */
#define DELAY_MAX_US 1000000

struct options {
	enum rw_command cmd;
	char **watch;		/* -w EXPR, in order */
	int nwatch;
	int strict;		/* --strict: the RCU rule set */
	unsigned delay_us;	/* --delay: maximum stall */
	unsigned sample;	/* --sample N: stall on ~1 in N accesses */
	const char *modules;	/* --modules: shared objects sampled too without -w, comma-separated */
	unsigned sample_rate;	/* --sample-rate N: sampled accesses per second without -w (0: from --overhead) */
	unsigned overhead_pct;	/* --overhead PCT: the duty cycle's budget, 0 = trap every hit */
	int exitcode;		/* --exitcode: status of run when a race was reported */
	enum backend_kind backend;
	int stats;		/* --stats */
	int quiet;		/* --quiet: no summary line, no start/end notes */
	int watch_all;		/* --watch-all: every watchable global and file static */
	int code_via_uprobe;	/* --code-via uprobe: code sites as perf uprobe events, not int3 */
	uint64_t seed;		/* --seed, 0 = from time and pid */
	int follow_fork;	/* --follow-fork */
	int tui;		/* --tui: the live TUI instead of text reports */
	int coverage;		/* --coverage: assertion-site pairs seen concurrent */
	const char *view_file;	/* view: the saved report */
	const char *vars_prog;	/* vars: the program to list */
	const char *ignored;	/* the first option given that view/probe/vars would not use */
	const char *vars_pattern;	/* vars: fnmatch glob on names, NULL = all */
	int stack_depth;	/* --stack-depth: caller frames per access (0 = access frame only) */
	const char *json_path;	/* -o FILE.jsonl, NULL if none */
	const char *sarif_path;	/* --sarif FILE, NULL if none */
	const char *suppressions;	/* --suppressions FILE, NULL if none */
	const char *gdb_dir;	/* --gdb-script DIR, NULL if none */
	const char *log_path;	/* --log-file FILE, NULL: stderr */
	enum color_mode color;	/* --color: of the text reports */
	int view_text;		/* view --text: print KCSAN text, no TUI */
	char **self_argv;	/* racewatch's own argv (SARIF invocations) */
	pid_t pid;		/* attach */
	char **argv;		/* run: PROG ARGS..., NULL-terminated */
};

/*
 * Parse RACEWATCH_OPTIONS (defaults; options only, errors prefixed with
 * "RACEWATCH_OPTIONS: "), then argv, into *o.  Returns 0, or prints a
 * one-line error / the usage / the version and returns -1 with the exit
 * status to use in *exit_status (2 for bad usage, 0 for help and version).
 * Pointers in *o point into argv and into RACEWATCH_OPTIONS's words, which
 * live until exit.
 */
int options_parse(int argc, char **argv, struct options *o, int *exit_status);

#endif
