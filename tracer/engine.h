/*
 * engine — the tracer's event loop.  One loop, readable in one screen: wait
 * for the next event (a ptrace stop, a window's timer, a signal to the
 * tracer), dispatch it, repeat.
 */
#ifndef RACEWATCH_ENGINE_H
#define RACEWATCH_ENGINE_H

#include "options.h"

/*
 * `racewatch run`: launch o->argv under the tracer, trace it to the end and
 * return the exit status racewatch itself should exit with.
 */
int engine_run(const struct options *o);

/*
 * `racewatch attach`: seize every thread of process o->pid, trace it until
 * it exits or we are told to stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT), then
 * detach leaving no watchpoint, perf event, stopped thread or pending
 * SIGTRAP of ours behind.  Returns racewatch's exit status.
 */
int engine_attach(const struct options *o);

#endif
