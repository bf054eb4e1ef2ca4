/*
 * tui — the terminal's lifecycle and the engine's hooks (tracer/frontend.h).
 *
 * Curses comes up lazily, at the first hook the engine calls from its loop:
 * by then the program has been launched with the terminal as it was, and
 * any error before the loop (no such program, a bad -w) is printed on a
 * normal terminal.  While curses is up, racewatch's own stderr goes to a
 * memfd: warnings would tear the screen.  The last one is shown on the
 * message line, and all of them are copied to the real stderr when the
 * terminal is restored.
 *
 * Never blocking the tracer: input is non-blocking (nodelay), at most
 * KEYS_PER_CALL keys are handled per hook call (a held key cannot starve
 * traps), the model is updated on every race but the screen is only drawn
 * when something changed, at most once per MIN_DRAW_NS.  ESC waits only
 * ESC_DELAY_MS for the rest of a key sequence.
 *
 * Restoring the terminal: the finish hook (every engine exit path, SIGTERM
 * of the tracer included: the engine takes it through its signalfd), atexit,
 * and a handler for the tracer's own fatal signals.
 *
 * When the program exits on its own (not through q, nor killed by a stop
 * signal), the finish hook keeps the screens up -- "program exited with
 * status N - q to quit" -- so the races stay browsable.  The program's
 * stdout and stderr, when they are the terminal, go to a file
 * ($TMPDIR/racewatch-PID.out) named on the message line and again on exit.
 */
#include "tui.h"
#include "tui_int.h"
#include "options.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <term.h>
#include <unistd.h>

#define TICK_MS		200
#define MIN_DRAW_NS	40000000ull	/* at most 25 frames a second */
#define KEYS_PER_CALL	16
#define ESC_DELAY_MS	10

struct tui T;

static struct frontend fe;
static int dirty;			/* TUI_REDRAW / TUI_CLEAR pending */
static uint64_t last_draw_ns;
static int saved_stderr = -1;		/* the real stderr while curses is up */
static int errfd = -1;			/* where stderr goes meanwhile */
static off_t err_seen;			/* bytes of errfd already looked at */
static int ttyfd = -1;			/* the terminal (/dev/tty) */
static FILE *tty;			/* the same, for curses */

/*
 * The controlling terminal, whatever stdin/stdout are: the program's output
 * is usually redirected (it would tear the screen), and with `run` it is
 * racewatch's stdout it inherits.  0, or -1 after a one-line error.
 */
static int open_tty(const char *who)
{
	int err;

	ttyfd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (ttyfd < 0 || !isatty(ttyfd) || !(tty = fdopen(ttyfd, "r+"))) {
		rw_error("%s needs a terminal: cannot open /dev/tty: %s", who, strerror(errno));
		if (ttyfd >= 0)
			close(ttyfd);
		ttyfd = -1;
		return -1;
	}
	/* Is there a terminal description?  (Curses itself comes up later.) */
	if (setupterm(NULL, ttyfd, &err) != OK) {
		rw_error("%s: no terminal description for TERM=%s", who, getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	del_curterm(cur_term);
	return 0;
}

/* Bring the terminal back; idempotent, safe from atexit. */
static void tui_restore(void)
{
	char buf[1024], out[4 * sizeof(buf) + 1];
	ssize_t n;
	off_t off = 0;

	if (T.curses) {
		T.curses = 0;
		endwin();
	}
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
		/* Replayed under the same rule as every message (util.h): lines
		 * stay lines, nothing else unsafe reaches the terminal raw. */
		while (errfd >= 0 && (n = pread(errfd, buf, sizeof(buf), off)) > 0) {
			size_t o = 0;

			for (ssize_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)buf[i];

				if (c != '\n' && rw_unsafe_byte(c))
					o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
				else
					out[o++] = (char)c;
			}
			if (write(2, out, o) != (ssize_t)o)
				break;
			off += n;
		}
	}
	if (errfd >= 0) {
		close(errfd);
		errfd = -1;
	}
}

/* The tracer itself crashed (or, in view, was killed): terminal first. */
static void on_fatal(int sig)
{
	if (T.curses) {
		T.curses = 0;
		endwin();
	}
	if (saved_stderr >= 0)
		dup2(saved_stderr, 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGHUP, SIGINT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	/* Live, SIGTERM/SIGHUP/SIGINT are blocked for the engine's signalfd:
	 * these handlers then only serve view. */
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(tui_restore);
}

/* Curses up (once).  1 if the screen can be used. */
static int tui_up(void)
{
	if (T.curses || T.hungup)
		return T.curses;
	if (T.live) {
		saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
		errfd = memfd_create("racewatch-stderr", MFD_CLOEXEC);
		if (saved_stderr >= 0 && errfd >= 0)
			dup2(errfd, 2);
	}
	if (!newterm(NULL, tty, tty)) {
		tui_restore();
		T.hungup = 1;
		rw_error("--tui: cannot initialise the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		if (T.live)
			engine_quit();
		return 0;
	}
	T.curses = 1;
	raw();			/* ^C is a key (quit), not a signal to the program */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(ESC_DELAY_MS);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_YELLOW, -1);
	}
	dirty = TUI_REDRAW | TUI_CLEAR;
	if (T.live && progout_path())
		tui_message(0, "the program's output goes to %s", progout_path());
	return 1;
}

/* A new line on the captured stderr becomes the message. */
static void check_stderr(void)
{
	struct stat sb;
	char buf[512], *nl, *line;
	off_t from;
	ssize_t n;

	if (errfd < 0 || fstat(errfd, &sb) < 0 || sb.st_size <= err_seen)
		return;
	from = sb.st_size - (off_t)sizeof(buf) + 1 > err_seen ? sb.st_size - (off_t)sizeof(buf) + 1 : err_seen;
	n = pread(errfd, buf, sizeof(buf) - 1, from);
	err_seen = sb.st_size;
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	nl = strrchr(buf, '\n');
	line = nl ? nl + 1 : buf;
	if (!strncmp(line, "racewatch: ", 11))
		line += 11;
	tui_message(1, "%s", line);	/* escapes */
	dirty |= TUI_REDRAW;
}

/* Draw if something changed and the last frame is old enough (or force). */
static void maybe_draw(int force)
{
	uint64_t now = now_ns();

	if (!dirty || !T.curses)
		return;
	if (!force && now - last_draw_ns < MIN_DRAW_NS)
		return;		/* the next tick draws it */
	draw_screen(dirty & TUI_CLEAR);
	last_draw_ns = now;
	dirty = 0;
}

/* Handle up to max waiting keys. */
static void pump_keys(int max)
{
	for (int i = 0; i < max; i++) {
		int ch = getch(), flags;

		if (ch == ERR)
			break;
		flags = tui_handle_key(ch);
		dirty |= flags & (TUI_REDRAW | TUI_CLEAR);
		if ((flags & TUI_QUIT) && T.live && !T.quitting) {
			T.quitting = 1;
			engine_quit();
			tui_message(0, "%s", T.st.attached ? "detaching..." : "ending the run...");
			dirty |= TUI_REDRAW;
		}
	}
}

static void fe_input(void)
{
	struct pollfd p = { .fd = ttyfd, .events = POLLIN };

	/* A hung-up terminal stays readable: stop drawing, and leave. */
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
		if (!T.hungup) {
			T.hungup = 1;
			T.curses = 0;	/* nothing to restore on a terminal that is gone */
			engine_quit();
		}
		return;
	}
	if (!tui_up())
		return;
	pump_keys(KEYS_PER_CALL);
	maybe_draw(0);
}

static void fe_race(const struct race *r, int is_new)
{
	if (is_new)
		model_add(r);
	else
		model_changed();
	dirty |= TUI_REDRAW;
}

static void fe_tick(void)
{
	struct engine_status st;

	if (!tui_up())
		return;
	pump_keys(KEYS_PER_CALL);	/* keys left in curses' queue, KEY_RESIZE */
	check_stderr();
	engine_status(&st);
	if (memcmp(&st, &T.st, sizeof(st)))
		dirty |= TUI_REDRAW;
	T.st = st;
	maybe_draw(1);
}

/*
 * Keys until q with nobody else to serve (view, and live once the program
 * is gone): getch blocks.  Precondition: curses is up.
 */
static void blocking_loop(void)
{
	int flags = 0;

	nodelay(stdscr, FALSE);
	draw_screen(1);
	while (!(flags & TUI_QUIT)) {
		int ch = getch();

		if (ch == ERR) {
			struct pollfd p = { .fd = ttyfd, .events = POLLIN };

			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
				break;	/* the terminal went away */
			continue;
		}
		flags = tui_handle_key(ch);
		if (flags & (TUI_REDRAW | TUI_CLEAR))
			draw_screen(flags & TUI_CLEAR);
	}
}

/* Did the program end by itself (exit, crash), not because it was told to
 * stop (q sends SIGTERM, then SIGKILL; a signal to racewatch is passed on)? */
static int ended_by_itself(int ws)
{
	if (WIFEXITED(ws))
		return 1;
	return WIFSIGNALED(ws) && WTERMSIG(ws) != SIGTERM && WTERMSIG(ws) != SIGKILL &&
	       WTERMSIG(ws) != SIGINT && WTERMSIG(ws) != SIGHUP;
}

/*
 * The program is gone; keep the screens until q.  A blocking loop: the
 * engine has nothing left to serve.  Precondition: curses is up.
 */
static void linger(int ws)
{
	char how[96];

	if (WIFEXITED(ws))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(ws));
	else
		snprintf(how, sizeof(how), "was killed by signal %d (%s)", WTERMSIG(ws),
			 strsignal(WTERMSIG(ws)));
	engine_status(&T.st);
	tui_message(0, "%s %s%s%s - q to quit", T.st.attached ? "process" : "program", how,
		    progout_path() ? "; its output is in " : "", progout_path() ? progout_path() : "");
	blocking_loop();
}

/* One line per race on the restored terminal: the session leaves a trace. */
static void fe_finish(void)
{
	int n = report_count(), ws;

	if (T.live && T.curses && !T.quitting && !T.hungup && engine_program_status(&ws) &&
	    ended_by_itself(ws))
		linger(ws);
	tui_restore();
	for (int i = 0; i < n; i++) {
		const struct race *r = report_get(i);
		char title[600];

		report_title(title, sizeof(title), r);
		fprintf(stderr, "racewatch: race %u: %s on %s, seen %u time%s\n",
			r->id, title, r->var, r->count, r->count == 1 ? "" : "s");
	}
	progout_close();
}

const char *tui_gdb_dir;
char *const *tui_argv;

int tui_start(const struct options *o)
{
	if (open_tty("--tui") < 0)
		return -1;
	T.live = 1;
	T.view = &list_view;
	T.exit_status = -1;
	tui_gdb_dir = o->gdb_dir;
	tui_argv = o->argv;
	if (o->cmd == CMD_RUN)
		progout_open();
	install_handlers();
	fe.input_fd = ttyfd;
	fe.on_input = fe_input;
	fe.on_race = fe_race;
	fe.tick = fe_tick;
	fe.tick_ms = TICK_MS;
	fe.finish = fe_finish;
	fe.child_setup = progout_child;
	engine_set_frontend(&fe);
	return 0;
}

static int view_text = -1;		/* view --text: its colour (0/1); -1: the TUI */

void tui_view_as_text(int color)
{
	view_text = color != 0;
}

/* view --text: the races as the live text sink prints them. */
static int print_view_text(void)
{
	const struct race *r;

	for (int i = 0; (r = model_nth(i)) != NULL; i++)
		report_print_text_color(stdout, r, view_text);
	if (T.malformed)
		rw_warn("%s: %d malformed line%s skipped", T.path, T.malformed,
			T.malformed == 1 ? "" : "s");
	return fflush(stdout) == 0 ? 0 : 2;
}

/* view: the same screens, a blocking loop (there is no tracer to serve). */
int tui_view_terminal(void)
{
	if (view_text >= 0)
		return 0;	/* --text: stdout, no terminal needed */
	return ttyfd >= 0 ? 0 : open_tty("view");
}

int tui_run_view(void)
{
	if (view_text >= 0)
		return print_view_text();

	if (tui_view_terminal() < 0)
		return 2;
	T.view = &list_view;
	install_handlers();
	if (!tui_up())
		return 2;
	blocking_loop();
	tui_restore();
	return 0;
}
