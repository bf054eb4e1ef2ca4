/*
 * frontend — how an interactive front end (the TUI in ui/) plugs into the
 * engine without the engine knowing anything about curses.  The engine calls
 * the hooks from its event loop; the front end calls the engine_* commands
 * below from inside those hooks (same thread, never concurrently).
 */
#ifndef RACEWATCH_FRONTEND_H
#define RACEWATCH_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

struct race;

struct frontend {
	/* An fd the loop polls for input (the terminal), or -1. */
	int input_fd;
	/* input_fd is readable.  Must not block. */
	void (*on_input)(void);
	/* A race was reported (is_new) or seen again (count bumped). */
	void (*on_race)(const struct race *r, int is_new);
	/* Called about every tick_ms while the engine runs, idle or not. */
	void (*tick)(void);
	unsigned tick_ms;
	/* The engine is done (detached or the program ended): restore the
	 * terminal.  Also called on every error path.  May block (the TUI
	 * stays up until q once the program has exited on its own). */
	void (*finish)(void);
	/* run: called in the launched child between fork and exec, e.g. to
	 * send its output away from the screen.  NULL: nothing. */
	void (*child_setup)(void);
};

/*
 * Install fe before engine_run/engine_attach (NULL: none).  While a front
 * end is installed, the KCSAN-style text reports are not printed on stderr
 * (they would tear the screen); -o/--sarif still get everything.
 */
void engine_set_frontend(const struct frontend *fe);

/* What the status line shows. */
struct engine_status {
	int threads;		/* traced threads */
	int windows;		/* stall windows open now */
	int slots;		/* debug-register slots in use */
	int paused;		/* engine_pause(1) in force */
	int attached;		/* attach (q detaches) rather than run */
	double traps_per_s;	/* over the last second or so */
	double overhead_pct;	/* estimated slowdown of the program, percent */
	uint64_t races;		/* distinct races reported */
};
void engine_status(struct engine_status *st);

/* The watch list of the main process: count, and entry i (*active: 1 armed,
 * 0 removed, 2 a -w still waiting for the library or exec that defines it). */
int engine_watch_count(void);
int engine_watch_get(int i, const char **expr, const char **name,
		     uint64_t *addr, uint64_t *len, int *active);

/*
 * Add a watch expression (-w syntax) to the running program, or remove
 * watch i.  The watchpoints follow at once on every thread.  0, or -1 with
 * a one-line reason in err.
 */
int engine_watch_add(const char *expr, char *err, size_t errlen);
int engine_watch_remove(int i);

/* How the traced program ended: 1 and its wait status once it has exited
 * or was killed (and the engine did not fail), else 0. */
int engine_program_status(int *wstatus);

/* Pause (disarm every watchpoint; the program runs untouched) or resume. */
void engine_pause(int on);

/* q: detach (attach) or end the run (run: the program gets SIGTERM and the
 * engine ends when it has exited). */
void engine_quit(void);

#endif
