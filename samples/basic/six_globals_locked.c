/*
 * six_globals_locked — the race-free twin of six_globals.c: the same six
 * globals, threads and functions, with one pthread mutex held around every
 * access of write_all() and read_all().  The code is six_globals.c itself,
 * built with SIX_GLOBALS_LOCKED, so the two cannot drift apart (the
 * Makefile rebuilds this one when six_globals.c changes).
 *
 * Expected outcome under the same commands as six_globals (code sites on
 * the six variables, or --watch-all): never a `BUG: racewatch` report;
 * exit status 0; stdout as without the tracer.
 *
 * Usage: six_globals_locked [ITERATIONS]   (default 3000 per thread).
 */
#define SIX_GLOBALS_LOCKED 1
#include "six_globals.c"
