#include "options.h"
#include "report.h"
#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"usage: racewatch run    [OPTIONS] -- PROG [ARGS...]\n"
"       racewatch attach [OPTIONS] PID\n"
"       racewatch view   [--text] [--color=WHEN] REPORT.jsonl\n"
"       racewatch probe\n"
"       racewatch vars   PROG [PATTERN]   list PROG's watchable variables\n"
"       racewatch help | --help | --version\n"
"\n"
"  -w, --watch EXPR     watch NAME, NAME.member, NAME[i], func::NAME, file.c::NAME,\n"
"                       lib.so::NAME, *PTR, PTR->member, PTR[i] or 0xADDR:LEN\n"
"                       (repeatable).  Without -w: the variables the program\n"
"                       registers, else samples of its own memory accesses\n"
"      --watch-all      watch every global and file-static variable of the\n"
"                       executable (racewatch vars lists them; code sites)\n"
"      --strict         the strict (RCU) rule set\n"
"      --delay USEC     maximum stall per sampled access (default 200, min 50)\n"
"      --sample N       stall on about 1 in N watched accesses (default 1)\n"
"      --sample-rate N  without -w: sampled accesses per second (default: what\n"
"                       --overhead allows)\n"
"      --modules LIST   without -w: also sample these shared objects (comma-\n"
"                       separated names, e.g. libfoo.so,libbar.so)\n"
"      --overhead PCT   slowdown budget: hot watchpoints are switched off between\n"
"                       traps to stay under it (default 5; 0 = trap every hit)\n"
"      --backend KIND   how accesses are seen: auto (default: the first of perf,\n"
"                       ptrace, code that really delivers here), perf, ptrace\n"
"                       (debug registers) or code (breakpoints on the\n"
"                       instructions that access the watched variables)\n"
"      --code-via HOW   code sites as int3 written by racewatch (default) or as\n"
"                       perf uprobe events (uprobe: nothing is left in the\n"
"                       program if racewatch is killed; slower, needs privilege)\n"
"      --exitcode N     exit status of run when a race was reported (default 66)\n"
"      --follow-fork    trace forked children too\n"
"      --tui            the live TUI (race list, details, watch list) instead of\n"
"                       text reports on stderr\n"
"      --stats          print counters at exit\n"
"      --coverage       at exit, which pairs of ASSERT_EXCLUSIVE_* sites of each\n"
"                       watched variable were seen concurrent, and which never\n"
"      --seed N         seed for the sampler's random choices\n"
"      --stack-depth N  caller frames shown per access (default 16, 0 = access only)\n"
"  -o, --output FILE    also write each race as one JSON line to FILE ('-': stdout)\n"
"      --log-file FILE  text reports, the summary and racewatch's messages go to\n"
"                       FILE instead of stderr (the program's stderr is untouched)\n"
"      --color WHEN     colour text reports: auto (default: on a terminal), always,\n"
"                       never\n"
"      --text           view: print the saved report as KCSAN text, no TUI\n"
"      --sarif FILE     write a SARIF 2.1.0 log of the races to FILE at exit\n"
"      --suppressions FILE  race:, race_top:, var:, file: patterns not to report\n"
"      --gdb-script DIR write DIR/race-N.gdb, a gdb command file per race\n"
"  -q, --quiet          no summary line at exit, no start and end notes, no\n"
"                       warning for a watched variable never accessed\n"
"  -v, --verbose        trace what the engine does\n"
"  -h, --help           this text\n"
"      --version        racewatch's version\n"
"\n"
"RACEWATCH_OPTIONS in the environment holds default options, read before the\n"
"command line (which wins): RACEWATCH_OPTIONS='--log-file rw.log --stats'.\n";

enum {
	OPT_STRICT = 256, OPT_DELAY, OPT_SAMPLE, OPT_BACKEND, OPT_EXITCODE,
	OPT_STATS, OPT_SEED, OPT_FOLLOW_FORK, OPT_TUI, OPT_COVERAGE, OPT_OVERHEAD,
	OPT_STACK_DEPTH, OPT_SARIF, OPT_SUPPRESSIONS, OPT_GDB_SCRIPT, OPT_LOG_FILE,
	OPT_COLOR, OPT_TEXT, OPT_VERSION, OPT_WATCH_ALL, OPT_SAMPLE_RATE, OPT_CODE_VIA, OPT_MODULES,
};

static const struct option longopts[] = {
	{ "watch",       required_argument, NULL, 'w' },
	{ "strict",      no_argument,       NULL, OPT_STRICT },
	{ "delay",       required_argument, NULL, OPT_DELAY },
	{ "sample",      required_argument, NULL, OPT_SAMPLE },
	{ "backend",     required_argument, NULL, OPT_BACKEND },
	{ "exitcode",    required_argument, NULL, OPT_EXITCODE },
	{ "follow-fork", no_argument,       NULL, OPT_FOLLOW_FORK },
	{ "tui",         no_argument,       NULL, OPT_TUI },
	{ "coverage",    no_argument,       NULL, OPT_COVERAGE },
	{ "overhead",    required_argument, NULL, OPT_OVERHEAD },
	{ "stats",       no_argument,       NULL, OPT_STATS },
	{ "seed",        required_argument, NULL, OPT_SEED },
	{ "stack-depth", required_argument, NULL, OPT_STACK_DEPTH },
	{ "output",      required_argument, NULL, 'o' },
	{ "sarif",       required_argument, NULL, OPT_SARIF },
	{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
	{ "gdb-script",  required_argument, NULL, OPT_GDB_SCRIPT },
	{ "log-file",    required_argument, NULL, OPT_LOG_FILE },
	{ "color",       required_argument, NULL, OPT_COLOR },
	{ "text",        no_argument,       NULL, OPT_TEXT },
	{ "version",     no_argument,       NULL, OPT_VERSION },
	{ "watch-all",   no_argument,       NULL, OPT_WATCH_ALL },
	{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
	{ "modules",     required_argument, NULL, OPT_MODULES },
	{ "code-via",    required_argument, NULL, OPT_CODE_VIA },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "verbose",     no_argument,       NULL, 'v' },
	{ "help",        no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Where the words being parsed came from: "" for the command line, else
 * "RACEWATCH_OPTIONS: ", the prefix of every error about them. */
static const char *origin = "";

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rw_error("%s%s", origin, msg);
}

static int number(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (parse_u64(arg, out) || *out < lo || *out > hi) {
		bad("%s: expected a number from %llu to %llu, got '%s'", opt,
		    (unsigned long long)lo, (unsigned long long)hi, arg);
		return -1;
	}
	return 0;
}

/* -w EXPR given twice: watched once, and said so. */
static int watch_seen(const struct options *o, const char *expr)
{
	for (int i = 0; i < o->nwatch; i++)
		if (!strcmp(o->watch[i], expr)) {
			rw_warn("-w %s given twice; watching it once", expr);
			return 1;
		}
	return 0;
}

/* One option c with argument arg into *o.  0, 1 (--help / --version
 * printed: exit 0), or -1 after a one-line error. */
static int one_option(int c, const char *arg, struct options *o)
{
	uint64_t v;

	switch (c) {
	case 'w':
		if (watch_seen(o, arg))
			return 0;
		o->watch = xrealloc(o->watch, sizeof(char *) * (size_t)(o->nwatch + 1));
		o->watch[o->nwatch++] = (char *)arg;
		return 0;
	case OPT_STRICT:
		o->strict = 1;
		return 0;
	case OPT_DELAY:
		if (parse_u64(arg, &v) == 0 && v < DELAY_MIN_US) {
			bad("--delay: %s us is too short: stalls under %d us cannot be "
			    "honoured (a timer overshoots by ~10-20 us)", arg, DELAY_MIN_US);
			return -1;
		}
		if (number("--delay", arg, DELAY_MIN_US, DELAY_MAX_US, &v))
			return -1;
		o->delay_us = (unsigned)v;
		return 0;
	case OPT_SAMPLE:
		if (number("--sample", arg, 1, 1000000000, &v))
			return -1;
		o->sample = (unsigned)v;
		return 0;
	case OPT_BACKEND:
		if (!strcmp(arg, "auto"))
			o->backend = BACKEND_AUTO;
		else if (!strcmp(arg, "code"))
			o->backend = BACKEND_CODE;
		else if (!strcmp(arg, "perf"))
			o->backend = BACKEND_PERF;
		else if (!strcmp(arg, "ptrace"))
			o->backend = BACKEND_PTRACE;
		else {
			bad("--backend: expected auto, perf, ptrace or code, got '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_EXITCODE:
		if (number("--exitcode", arg, 0, 255, &v))
			return -1;
		o->exitcode = (int)v;
		return 0;
	case OPT_TUI:
		o->tui = 1;
		return 0;
	case OPT_COVERAGE:
		o->coverage = 1;
		return 0;
	case OPT_OVERHEAD:
		if (number("--overhead", arg, 0, 100, &v))
			return -1;
		o->overhead_pct = (unsigned)v;
		return 0;
	case OPT_FOLLOW_FORK:
		o->follow_fork = 1;
		return 0;
	case OPT_STATS:
		o->stats = 1;
		return 0;
	case OPT_SEED:
		if (number("--seed", arg, 0, UINT64_MAX, &v))
			return -1;
		o->seed = v;
		return 0;
	case OPT_STACK_DEPTH:
		if (number("--stack-depth", arg, 0, REPORT_MAX_DEPTH, &v))
			return -1;
		o->stack_depth = (int)v;
		return 0;
	case 'o':
		o->json_path = arg;
		return 0;
	case OPT_SARIF:
		o->sarif_path = arg;
		return 0;
	case OPT_SUPPRESSIONS:
		o->suppressions = arg;
		return 0;
	case OPT_GDB_SCRIPT:
		o->gdb_dir = arg;
		return 0;
	case OPT_LOG_FILE:
		o->log_path = arg;
		return 0;
	case OPT_COLOR:
		if (!strcmp(arg, "auto"))
			o->color = COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			o->color = COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			o->color = COLOR_NEVER;
		else {
			bad("--color: expected auto, always or never, got '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_TEXT:
		o->view_text = 1;
		return 0;
	case OPT_WATCH_ALL:
		o->watch_all = 1;
		return 0;
	case OPT_SAMPLE_RATE:
		if (number("--sample-rate", arg, 1, 1000000, &v))
			return -1;
		o->sample_rate = (unsigned)v;
		return 0;
	case OPT_MODULES:
		if (!*arg) {
			bad("--modules: expected shared object names, e.g. libfoo.so");
			return -1;
		}
		o->modules = arg;
		return 0;
	case OPT_CODE_VIA:
		if (strcmp(arg, "int3") && strcmp(arg, "uprobe")) {
			bad("--code-via: expected int3 or uprobe, got '%s'", arg);
			return -1;
		}
		o->code_via_uprobe = arg[0] == 'u';
		return 0;
	case 'q':
		o->quiet = 1;
		rw_quiet = 1;
		return 0;
	case 'v':
		rw_verbose = 1;
		return 0;
	case 'h':
		fputs(usage_text, stdout);
		return 1;
	case OPT_VERSION:
		printf("racewatch %s\n", RACEWATCH_VERSION);
		return 1;
	}
	return -1;
}

/*
 * getopt over argv[1..argc) into *o; argv[0] is not looked at.  Returns
 * the index of the first operand, or -1 after a one-line error, or -2
 * after --help / --version.  '+': stop at the program name so its own
 * options stay its own.
 */
static int parse_words(int argc, char **argv, struct options *o)
{
	int c, r;

	optind = 0;		/* a full reset: this runs twice */
	opterr = 0;
	for (int at = 1; (c = getopt_long(argc, argv, "+:w:o:vqh", longopts, NULL)) != -1;
	     at = optind) {
		if (!o->ignored && c != 'v' && c != 'q' && c != 'h' && c != OPT_TEXT && c != OPT_COLOR &&
		    at > 0 && at < argc)
			o->ignored = argv[at];
		if (c == ':') {
			bad("option '%s' needs an argument", argv[optind - 1]);
			return -1;
		}
		if (c == '?') {
			bad("unknown option '%s' (see racewatch --help)", argv[optind - 1]);
			return -1;
		}
		r = one_option(c, optarg, o);
		if (r)
			return r < 0 ? -1 : -2;
	}
	return optind;
}

/*
 * Split RACEWATCH_OPTIONS into words the way a shell would for plain
 * words: blanks separate, '...' and "..." quote, backslash escapes one
 * character.  Returns a NULL-terminated vector whose [0] is a placeholder
 * (getopt skips it); the words live until the process exits, since
 * struct options points into them.  NULL after an error.
 */
static char **env_words(const char *env, int *n)
{
	char **v = xcalloc(2, sizeof(*v));
	char *buf = xcalloc(1, strlen(env) + 1), *w = buf;
	const char *p = env;
	int k = 1;

	v[0] = "racewatch";
	for (;;) {
		char quote = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		v = xrealloc(v, sizeof(*v) * (size_t)(k + 2));
		v[k++] = w;
		for (; *p && (quote || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (!quote && (*p == '\'' || *p == '"')) {
				quote = *p;
			} else if (quote && *p == quote) {
				quote = 0;
			} else if (*p == '\\' && quote != '\'' && p[1]) {
				*w++ = *++p;
			} else {
				*w++ = *p;
			}
		}
		*w++ = '\0';
		if (quote) {
			bad("unterminated %c quote", quote);
			free(buf);
			free(v);
			return NULL;
		}
	}
	v[k] = NULL;
	*n = k;
	return v;
}

/* RACEWATCH_OPTIONS into *o: options only, no operands.  0, -1, -2 as
 * parse_words. */
static int parse_env(struct options *o)
{
	static char **v;	/* kept: struct options points into the words */
	const char *env = getenv("RACEWATCH_OPTIONS");
	int n, r;

	if (!env || !*env)
		return 0;
	origin = "RACEWATCH_OPTIONS: ";
	v = env_words(env, &n);
	r = v ? parse_words(n, v, o) : -1;
	if (r >= 0 && r < n) {
		bad("'%s' is not an option (programs and process ids go on the "
		    "command line)", v[r]);
		r = -1;
	}
	origin = "";
	return r < 0 ? r : 0;
}

int options_parse(int argc, char **argv, struct options *o, int *exit_status)
{
	uint64_t v;
	int r;

	memset(o, 0, sizeof(*o));
	o->delay_us = 200;
	o->sample = 1;
	o->overhead_pct = 5;
	o->exitcode = 66;
	o->stack_depth = REPORT_DEFAULT_DEPTH;
	o->backend = BACKEND_AUTO;
	o->color = COLOR_AUTO;
	o->self_argv = argv;
	*exit_status = 2;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return -1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help") ||
	    !strcmp(argv[1], "--version")) {
		if (argv[1][2] == 'v')
			printf("racewatch %s\n", RACEWATCH_VERSION);
		else
			fputs(usage_text, stdout);
		*exit_status = 0;
		return -1;
	}
	if (!strcmp(argv[1], "run"))
		o->cmd = CMD_RUN;
	else if (!strcmp(argv[1], "attach"))
		o->cmd = CMD_ATTACH;
	else if (!strcmp(argv[1], "probe"))
		o->cmd = CMD_PROBE;
	else if (!strcmp(argv[1], "view"))
		o->cmd = CMD_VIEW;
	else if (!strcmp(argv[1], "vars"))
		o->cmd = CMD_VARS;
	else {
		rw_error("unknown command '%s' (expected run, attach, view, vars, probe or help; see racewatch --help)", argv[1]);
		return -1;
	}

	/* Defaults from the environment first; the command line wins. */
	if (o->cmd != CMD_PROBE && o->cmd != CMD_VARS && (r = parse_env(o)) < 0) {
		if (r == -2)
			*exit_status = 0;
		return -1;
	}
	argc--;
	argv++;
	r = parse_words(argc, argv, o);
	if (r < 0) {
		if (r == -2)
			*exit_status = 0;
		return -1;
	}
	optind = r;

	/* Options from RACEWATCH_OPTIONS are defaults for run and attach;
	 * on view's or probe's own command line they would be ignored. */
	if ((o->cmd == CMD_VIEW || o->cmd == CMD_PROBE || o->cmd == CMD_VARS) && o->ignored) {
		rw_error("%s: option '%s' does not apply to it (only -v and -h do%s)",
			 o->cmd == CMD_VIEW ? "view" : o->cmd == CMD_VARS ? "vars" : "probe", o->ignored,
			 o->cmd == CMD_VIEW ? ", and --text, --color" : "");
		return -1;
	}
	switch (o->cmd) {
	case CMD_RUN:
		if (optind >= argc) {
			rw_error("run: no program given (racewatch run [OPTIONS] -- PROG [ARGS...])");
			return -1;
		}
		o->argv = argv + optind;
		break;
	case CMD_ATTACH:
		if (optind != argc - 1 || parse_u64(argv[optind], &v) || v == 0 || v > 0x3fffffff) {
			rw_error("attach: expected one process id (racewatch attach [OPTIONS] PID)");
			return -1;
		}
		o->pid = (pid_t)v;
		break;
	case CMD_VIEW:
		if (optind != argc - 1) {
			rw_error("view: expected one report file (racewatch view [--text] REPORT.jsonl)");
			return -1;
		}
		o->view_file = argv[optind];
		break;
	case CMD_PROBE:
		if (optind != argc) {
			rw_error("probe takes no arguments");
			return -1;
		}
		break;
	case CMD_VARS:
		if (optind >= argc || optind + 2 < argc) {
			rw_error("vars: expected a program and an optional pattern (racewatch vars PROG [PATTERN])");
			return -1;
		}
		o->vars_prog = argv[optind];
		o->vars_pattern = optind + 1 < argc ? argv[optind + 1] : NULL;
		break;
	}
	return 0;
}
