#include "options.h"
#include "report.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"usage: racewatch run    [OPTIONS] -- PROG [ARGS...]\n"
"       racewatch attach [OPTIONS] PID\n"
"       racewatch view   REPORT.jsonl\n"
"       racewatch probe\n"
"       racewatch vars   PROG [PATTERN]   list PROG's watchable variables\n"
"\n"
"  -w, --watch EXPR     watch NAME, NAME.member, NAME[i], func::NAME or 0xADDR:LEN\n"
"                       (repeatable)\n"
"      --watch-all      watch every global and file-static variable of the\n"
"                       executable (racewatch vars lists them; code sites)\n"
"      --strict         the strict (RCU) rule set\n"
"      --delay USEC     maximum stall per sampled access (default 200, min 50)\n"
"      --sample N       stall on about 1 in N watched accesses (default 1)\n"
"      --sample-rate N  without -w: sampled accesses per second (default: what\n"
"                       --overhead allows)\n"
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
"  -o FILE.jsonl        also write each race as one JSON line to FILE\n"
"      --sarif FILE     write a SARIF 2.1.0 log of the races to FILE at exit\n"
"      --suppressions FILE  race:, race_top:, var:, file: patterns not to report\n"
"      --gdb-script DIR write DIR/race-N.gdb, a gdb command file per race\n"
"  -q, --quiet          no summary line at exit, no start and end notes\n"
"  -v, --verbose        trace what the engine does\n"
"  -h, --help           this text\n";

enum {
	OPT_STRICT = 256, OPT_DELAY, OPT_SAMPLE, OPT_BACKEND, OPT_EXITCODE,
	OPT_STATS, OPT_SEED, OPT_FOLLOW_FORK, OPT_TUI, OPT_COVERAGE, OPT_OVERHEAD,
	OPT_STACK_DEPTH, OPT_SARIF, OPT_SUPPRESSIONS, OPT_GDB_SCRIPT, OPT_WATCH_ALL, OPT_SAMPLE_RATE, OPT_CODE_VIA,
};

static const struct option longopts[] = {
	{ "watch",       required_argument, NULL, 'w' },
	{ "strict",      no_argument,       NULL, OPT_STRICT },
	{ "watch-all",   no_argument,       NULL, OPT_WATCH_ALL },
	{ "code-via",    required_argument, NULL, OPT_CODE_VIA },
	{ "delay",       required_argument, NULL, OPT_DELAY },
	{ "sample",      required_argument, NULL, OPT_SAMPLE },
	{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
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
	{ "verbose",     no_argument,       NULL, 'v' },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "help",        no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int number(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (parse_u64(arg, out) || *out < lo || *out > hi) {
		rw_error("%s: expected a number from %llu to %llu, got '%s'", opt,
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

int options_parse(int argc, char **argv, struct options *o, int *exit_status)
{
	const char *ignored = NULL;	/* first option view/probe would not use */
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->delay_us = 200;
	o->sample = 1;
	o->overhead_pct = 5;
	o->exitcode = 66;
	o->stack_depth = REPORT_DEFAULT_DEPTH;
	o->backend = BACKEND_AUTO;
	*exit_status = 2;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return -1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
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
		rw_error("unknown command '%s' (expected run, attach, view, vars or probe; see racewatch --help)", argv[1]);
		return -1;
	}

	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	/* '+': stop at the program name so its own options stay its own. */
	for (int at = optind; (c = getopt_long(argc, argv, "+:w:o:vqh", longopts, NULL)) != -1;
	     at = optind) {
		if (!ignored && c != 'v' && c != 'q' && c != 'h' && at < argc)
			ignored = argv[at];
		switch (c) {
		case 'w':
			if (watch_seen(o, optarg))
				break;
			o->watch = xrealloc(o->watch, sizeof(char *) * (size_t)(o->nwatch + 1));
			o->watch[o->nwatch++] = optarg;
			break;
		case OPT_STRICT:
			o->strict = 1;
			break;
		case OPT_DELAY:
			if (parse_u64(optarg, &v) == 0 && v < DELAY_MIN_US) {
				rw_error("--delay: %s us is too short: stalls under %d us cannot be "
					 "honoured (a timer overshoots by ~10-20 us)", optarg, DELAY_MIN_US);
				return -1;
			}
			if (number("--delay", optarg, DELAY_MIN_US, DELAY_MAX_US, &v))
				return -1;
			o->delay_us = (unsigned)v;
			break;
		case OPT_SAMPLE_RATE:
			if (number("--sample-rate", optarg, 1, 1000000, &v))
				return -1;
			o->sample_rate = (unsigned)v;
			break;
		case OPT_SAMPLE:
			if (number("--sample", optarg, 1, 1000000000, &v))
				return -1;
			o->sample = (unsigned)v;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "auto"))
				o->backend = BACKEND_AUTO;
			else if (!strcmp(optarg, "code"))
				o->backend = BACKEND_CODE;
			else if (!strcmp(optarg, "perf"))
				o->backend = BACKEND_PERF;
			else if (!strcmp(optarg, "ptrace"))
				o->backend = BACKEND_PTRACE;
			else {
				rw_error("--backend: expected auto, perf, ptrace or code, got '%s'", optarg);
				return -1;
			}
			break;
		case OPT_EXITCODE:
			if (number("--exitcode", optarg, 0, 255, &v))
				return -1;
			o->exitcode = (int)v;
			break;
		case OPT_TUI:
			o->tui = 1;
			break;
		case OPT_COVERAGE:
			o->coverage = 1;
			break;
		case OPT_OVERHEAD:
			if (number("--overhead", optarg, 0, 100, &v))
				return -1;
			o->overhead_pct = (unsigned)v;
			break;
		case OPT_FOLLOW_FORK:
			o->follow_fork = 1;
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_SEED:
			if (number("--seed", optarg, 0, UINT64_MAX, &v))
				return -1;
			o->seed = v;
			break;
		case OPT_STACK_DEPTH:
			if (number("--stack-depth", optarg, 0, REPORT_MAX_DEPTH, &v))
				return -1;
			o->stack_depth = (int)v;
			break;
		case 'o':
			o->json_path = optarg;
			break;
		case OPT_SARIF:
			o->sarif_path = optarg;
			break;
		case OPT_SUPPRESSIONS:
			o->suppressions = optarg;
			break;
		case OPT_GDB_SCRIPT:
			o->gdb_dir = optarg;
			break;
		case 'v':
			rw_verbose = 1;
			break;
		case OPT_CODE_VIA:
			if (!strcmp(optarg, "int3") || !strcmp(optarg, "uprobe")) {
				o->code_via_uprobe = optarg[0] == 'u';
			} else {
				rw_error("--code-via: expected int3 or uprobe, got '%s'", optarg);
				return -1;
			}
			break;
		case OPT_WATCH_ALL:
			o->watch_all = 1;
			break;
		case 'q':
			o->quiet = 1;
			rw_quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			*exit_status = 0;
			return -1;
		case ':':
			rw_error("option '%s' needs an argument", argv[optind - 1]);
			return -1;
		default:
			rw_error("unknown option '%s' (see racewatch --help)", argv[optind - 1]);
			return -1;
		}
	}

	if ((o->cmd == CMD_VIEW || o->cmd == CMD_PROBE) && ignored) {
		rw_error("%s: option '%s' does not apply to it (only -v and -h do)",
			 o->cmd == CMD_VIEW ? "view" : "probe", ignored);
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
			rw_error("view: expected one report file (racewatch view REPORT.jsonl)");
			return -1;
		}
		o->view_file = argv[optind];
		break;
	case CMD_VARS:
		if (optind >= argc || argc - optind > 2) {
			rw_error("vars: expected a program and an optional pattern (racewatch vars PROG [PATTERN])");
			return -1;
		}
		o->vars_prog = argv[optind];
		o->vars_pattern = optind + 1 < argc ? argv[optind + 1] : NULL;
		break;
	case CMD_PROBE:
		if (optind != argc) {
			rw_error("probe takes no arguments");
			return -1;
		}
		break;
	}
	return 0;
}
