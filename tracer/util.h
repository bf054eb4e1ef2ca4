/* util — small helpers every module uses: messages, time, escaping, random. */
#ifndef RACEWATCH_UTIL_H
#define RACEWATCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "racewatch: ..." on stderr, one line.  rw_warn is for things the run survives. */
void rw_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rw_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "racewatch: ..." for what the user should know (start, summary); none
 * with --quiet (rw_quiet). */
extern int rw_quiet;
void rw_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug trace, only with --verbose / RACEWATCH_DEBUG=1. */
extern int rw_verbose;
void rw_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * RACEWATCH_DEBUG, a comma-separated list of switches for testing:
 *   trace (or 1)  the same as --verbose
 *   hw-silent     hardware breakpoints (perf and ptrace) are armed for real,
 *                 but on HW_SILENT_ADDR, a page nothing maps, instead of the
 *                 watched address: the machine then behaves like one whose
 *                 hypervisor never delivers debug-register traps, so the
 *                 fallback, the errors and the tests' skips can be tried on
 *                 any machine.
 *   hw-trust      the hardware is taken as delivering (perf and ptrace)
 *                 without asking the probe: on a machine whose debug
 *                 registers never trap, the perf backend still arms real
 *                 slots, so bench and tests can measure what armed slots
 *                 cost (per context switch) and what the armed-time duty
 *                 cycle saves, and sampling windows arm their watchpoints in
 *                 the other threads.  Nothing is ever detected that way.
 *   armed-always  the perf backend's armed-time duty cycle is off: slots
 *                 stay armed all the time (the budget still thins out hot
 *                 traps), for bench's comparison.
 * rw_debug_init() reads it once (main); the rest ask rw_hw_silent(),
 * rw_hw_trust() or rw_debug_flag().
 */
#define HW_SILENT_ADDR 0x1000ull
void rw_debug_init(void);
int rw_hw_silent(void);
int rw_hw_trust(void);
/* Is this switch in RACEWATCH_DEBUG? */
int rw_debug_flag(const char *word);

void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
/* p, unless it is NULL: then the out-of-memory exit, as for xcalloc.  For
 * what other allocators return (json-c's objects). */
void *xnonnull(void *p);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/*
 * The one rule for bytes that came from the target or a report file, at
 * every sink a terminal may show: a byte that could steer a terminal is
 * never written raw.  That is C0 controls, DEL, and (kept simple) every
 * byte >= 0x80: C1 controls as UTF-8 (C2 80..C2 9F) or bare (0x9b is CSI
 * on some terminals) and broken UTF-8 alike.  Such a byte is shown as \xNN.
 */
static inline int rw_unsafe_byte(unsigned char c)
{
	return c < 0x20 || c >= 0x7f;
}

/*
 * Copy src into dst (size dstlen, always NUL-terminated) with every unsafe
 * byte (rw_unsafe_byte) as \xNN and a backslash as \\, so the result is
 * unambiguous.  Strings from the target (names, paths) go through this
 * before printing.  rw_error/rw_warn/rw_debug apply the same rule to the
 * whole message (without doubling backslashes), whatever it quotes.
 */
void rw_escape(char *dst, size_t dstlen, const char *src);

/* xorshift64* — reproducible with --seed. */
void rand_seed(uint64_t seed);
uint64_t rand_next(void);
/* Uniform in [lo, hi]. */
uint64_t rand_range(uint64_t lo, uint64_t hi);

/* Parse a non-negative decimal or 0x-hex integer; 0 on success. */
int parse_u64(const char *s, uint64_t *out);

#endif
