/*
 * access — one trapped access to a watched location, as the engine sees it:
 * who, where (pc of the accessing instruction, not the next one), what bytes,
 * read or write, and how the source marked it.
 */
#ifndef RACEWATCH_ACCESS_H
#define RACEWATCH_ACCESS_H

#include <stdint.h>
#include <sys/types.h>

#include "arch.h"

/* How an access was marked (DESIGN.md section 5). */
enum marking {
	MARK_PLAIN,		/* ordinary C access */
	MARK_ONCE,		/* READ_ONCE / WRITE_ONCE / volatile: marked */
	MARK_ATOMIC,		/* LOCK-prefixed, XCHG, _Atomic: marked read-modify-write */
	MARK_DATA_RACE,		/* data_race() or __no_racewatch: never reported */
	MARK_ASSERT_ACCESS,	/* ASSERT_EXCLUSIVE_ACCESS: no concurrent access allowed */
	MARK_ASSERT_WRITER,	/* ASSERT_EXCLUSIVE_WRITER: no concurrent write allowed */
	MARK_COUNT
};

extern const char *const marking_names[MARK_COUNT];

struct access {
	pid_t tid;
	uint64_t pc;		/* first byte of the accessing instruction */
	uint64_t trap_pc;	/* where the thread stopped (next instruction) */
	uint64_t sp;		/* its stack pointer then (tells a signal handler from mainline) */
	uint64_t addr;		/* first accessed byte inside the watched variable */
	unsigned size;		/* bytes accessed inside the watched variable */
	enum access_type type;
	enum marking mark;
	int aligned;		/* the whole operand is naturally aligned */
	int watch;		/* index into proc->watches */
	unsigned site;		/* RWMARK_* kind of the marked site it is in, 0 if none */
	int change;		/* a write: 1 changed the bytes, 0 stored what was there,
				 * -1 unknown (reads: -1) */
	uint64_t old_val, new_val;	/* a write with change >= 0: the bytes before and
					 * after (little-endian, first 8 bytes) */
	int stopped;		/* its thread is stopped at this access right now
				 * (so its stack can be read); 0 for a scope's opening */
	uint64_t time_ns;
	char insn[96];		/* disassembly, "" if not decoded */
};

static inline int access_is_write(const struct access *a)
{
	return a->type & ACCESS_WRITE;
}

#endif
