/*
 * racewatch.h — what target programs include to talk to racewatch.
 *
 * The kernel's marking names (see the seeds access-marking.txt and
 * rcu-shared-variable-marking.txt), so code written to them compiles
 * unchanged in user space:
 *
 *   READ_ONCE(x)  WRITE_ONCE(x, v)  data_race(expr)
 *   ASSERT_EXCLUSIVE_ACCESS(x)  ASSERT_EXCLUSIVE_WRITER(x)  and _SCOPED forms
 *   __no_racewatch (the user-space __no_kcsan)
 *   smp_load_acquire(p)  smp_store_release(p, v)  smp_rmb()  smp_wmb()  smp_mb()
 *
 * and what to watch:
 *
 *   RACEWATCH_WATCH(var)                  at file scope: watch this static variable
 *   racewatch_watch(addr, len, name)      at run time: watch a heap object
 *   racewatch_unwatch(addr)               ... and stop watching it
 *
 * Cost without the tracer: the marking macros compile to the access itself
 * plus a compiler barrier (no call, no lock, no fence beyond what the name
 * promises); racewatch_watch/unwatch to one load and a branch.  Nothing is
 * printed, nothing changes the program's behaviour.
 *
 * Works with gcc and clang, -std=c99/gnu99/c11/gnu11 (GNU statement
 * expressions and __typeof__ are used; -pedantic would warn about them).
 *
 * ---- The binary interface with the tracer (keep tracer/marks.c in step) ----
 *
 * 1. Section ".racewatch_marks": one 12-byte record per marked site,
 *       int32  begin - (address of this field)   (pc-relative: no relocation)
 *       uint32 length of the site's code in bytes
 *       uint32 kind (RACEWATCH_MARK_*)
 *    The site's code is bracketed by two `asm volatile` statements with a
 *    "memory" clobber, so the compiler cannot move the marked access out of
 *    the range, nor other memory accesses into it.
 * 2. Section ".racewatch_watch": NUL-terminated names of the variables
 *    RACEWATCH_WATCH registered; the tracer resolves them like -w NAME.
 * 3. Section ".racewatch_exempt": the code of __no_racewatch functions;
 *    no access from inside it is ever reported.
 * 4. Object "racewatch_registry" (struct racewatch_registry, weak, one per
 *    program): while a tracer is attached it sets `active` to its pid.
 *    racewatch_watch() then queues a request and rings the doorbell: it
 *    sends itself RACEWATCH_DOORBELL (SIGURG, whose default action is to
 *    ignore it); the tracer sees the signal stop, takes the queued requests,
 *    arms the new watchpoints and swallows the signal before the call
 *    returns, so no access after the call is missed.  Detaching sets
 *    `active` back to 0.
 */
#ifndef RACEWATCH_H
#define RACEWATCH_H

#include <signal.h>
#include <stddef.h>

#define RACEWATCH_MARK_ONCE		1	/* READ_ONCE/WRITE_ONCE/acquire/release: marked */
#define RACEWATCH_MARK_DATA_RACE	2	/* data_race(): never reported */
#define RACEWATCH_MARK_ASSERT_ACCESS	3	/* ASSERT_EXCLUSIVE_ACCESS */
#define RACEWATCH_MARK_ASSERT_WRITER	4	/* ASSERT_EXCLUSIVE_WRITER */
#define RACEWATCH_MARK_SCOPE_ACCESS	5	/* ASSERT_EXCLUSIVE_ACCESS_SCOPED: scope begins */
#define RACEWATCH_MARK_SCOPE_WRITER	6	/* ASSERT_EXCLUSIVE_WRITER_SCOPED: scope begins */
#define RACEWATCH_MARK_SCOPE_END	7	/* either scoped assertion: scope ends */

#define RACEWATCH_REGISTRY_MAGIC	0x5241434557415443ul	/* "RACEWATC" */
#define RACEWATCH_QUEUE			64
#define RACEWATCH_DOORBELL		SIGURG
#define RACEWATCH_OP_WATCH		1
#define RACEWATCH_OP_UNWATCH		2

struct racewatch_request {
	unsigned long op;		/* RACEWATCH_OP_* */
	const volatile void *addr;
	unsigned long len;
	const char *name;		/* NUL-terminated, at most 127 bytes are read */
};

struct racewatch_registry {
	unsigned long magic;		/* RACEWATCH_REGISTRY_MAGIC */
	volatile unsigned long active;	/* tracer's pid while attached, else 0 */
	volatile unsigned long lock;	/* spinlock for writers in the program */
	volatile unsigned long head;	/* requests queued (written by the program) */
	volatile unsigned long tail;	/* requests taken (written by the tracer) */
	struct racewatch_request req[RACEWATCH_QUEUE];
};

__attribute__((weak)) struct racewatch_registry racewatch_registry = { RACEWATCH_REGISTRY_MAGIC, 0, 0, 0, 0, { { 0, 0, 0, 0 } } };

/* ---- marked ranges -------------------------------------------------------- */

#define __RW_STR(x) #x
#define __RW_XSTR(x) __RW_STR(x)

/* 7771/7772 are local labels; "b" finds the nearest one before, so nested
 * and duplicated (inlined, unrolled) sites each pair up correctly. */
#define __RW_BEGIN() __asm__ __volatile__("7771:" ::: "memory")
#define __RW_END(kind)							\
	__asm__ __volatile__("7772:\n\t"				\
		".pushsection .racewatch_marks,\"a\",@progbits\n\t"	\
		".balign 4\n\t"						\
		".long 7771b - .\n\t"					\
		".long 7772b - 7771b\n\t"				\
		".long " __RW_XSTR(kind) "\n\t"				\
		".popsection" ::: "memory")

/* __typeof__((void)0, (x)): the type of x without const/volatile (the
 * comma makes it an rvalue), so READ_ONCE works on const objects too. */
#define READ_ONCE(x) __extension__ ({					\
	const volatile __typeof__(x) *__rw_p = &(x);			\
	__typeof__((void)0, (x)) __rw_v;				\
	__RW_BEGIN();							\
	__rw_v = *__rw_p;						\
	__RW_END(RACEWATCH_MARK_ONCE);					\
	__rw_v;								\
})

#define WRITE_ONCE(x, val) do {						\
	volatile __typeof__(x) *__rw_p = &(x);				\
	__typeof__(x) __rw_v = (val);					\
	__RW_BEGIN();							\
	*__rw_p = __rw_v;						\
	__RW_END(RACEWATCH_MARK_ONCE);					\
} while (0)

/* Any expression whose value is used; its accesses are never reported. */
#define data_race(expr) __extension__ ({				\
	__typeof__(({ expr; })) __rw_v;					\
	__RW_BEGIN();							\
	__rw_v = (expr);						\
	__RW_END(RACEWATCH_MARK_DATA_RACE);				\
	__rw_v;								\
})

/* The pseudo-access of an assertion: a one-byte read of x the tracer traps. */
#define __RW_ASSERT(x, kind) do {					\
	const volatile char *__rw_p = (const volatile char *)&(x);	\
	__RW_BEGIN();							\
	(void)*__rw_p;							\
	__RW_END(kind);							\
} while (0)

#define ASSERT_EXCLUSIVE_ACCESS(x) __RW_ASSERT(x, RACEWATCH_MARK_ASSERT_ACCESS)
#define ASSERT_EXCLUSIVE_WRITER(x) __RW_ASSERT(x, RACEWATCH_MARK_ASSERT_WRITER)

static __inline__ __attribute__((unused)) const volatile char *
__rw_scope_begin_access(const volatile void *p)
{
	__RW_ASSERT(*(const volatile char *)p, RACEWATCH_MARK_SCOPE_ACCESS);
	return (const volatile char *)p;
}

static __inline__ __attribute__((unused)) const volatile char *
__rw_scope_begin_writer(const volatile void *p)
{
	__RW_ASSERT(*(const volatile char *)p, RACEWATCH_MARK_SCOPE_WRITER);
	return (const volatile char *)p;
}

static __inline__ __attribute__((unused)) void
__rw_scope_end(const volatile char *const *pp)
{
	__RW_ASSERT(**pp, RACEWATCH_MARK_SCOPE_END);
}

#define __RW_CAT2(a, b) a##b
#define __RW_CAT(a, b) __RW_CAT2(a, b)

/* For the rest of the enclosing scope, no other thread may touch / write x. */
#define ASSERT_EXCLUSIVE_ACCESS_SCOPED(x)					\
	const volatile char *__RW_CAT(__rw_scope_, __LINE__)			\
	__attribute__((cleanup(__rw_scope_end), unused)) = __rw_scope_begin_access(&(x))
#define ASSERT_EXCLUSIVE_WRITER_SCOPED(x)					\
	const volatile char *__RW_CAT(__rw_scope_, __LINE__)			\
	__attribute__((cleanup(__rw_scope_end), unused)) = __rw_scope_begin_writer(&(x))

/* ---- exempt functions ----------------------------------------------------- */

#define __no_racewatch __attribute__((noinline, section(".racewatch_exempt")))

/* ---- ordering (x86-64 is TSO: loads are acquire, stores are release) ------- */

#define smp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()	__asm__ __volatile__("" ::: "memory")
#define smp_wmb()	__asm__ __volatile__("" ::: "memory")

#define smp_load_acquire(p) __extension__ ({				\
	__typeof__(*(p)) __rw_a = READ_ONCE(*(p));			\
	__asm__ __volatile__("" ::: "memory");				\
	__rw_a;								\
})

#define smp_store_release(p, v) do {					\
	__asm__ __volatile__("" ::: "memory");				\
	WRITE_ONCE(*(p), (v));						\
} while (0)

/* ---- what to watch -------------------------------------------------------- */

/* At file scope, after var's declaration: watch var when run under racewatch. */
#define RACEWATCH_WATCH(var)							\
	static const char __RW_CAT(__rw_watch_, var)[]				\
	__attribute__((used, section(".racewatch_watch"), aligned(1))) = #var

static __inline__ __attribute__((unused)) void
__rw_request(unsigned long op, const volatile void *addr, unsigned long len, const char *name)
{
	struct racewatch_registry *r = &racewatch_registry;
	unsigned long h;

	if (!r->active)
		return;
	while (__atomic_exchange_n(&r->lock, 1ul, __ATOMIC_ACQUIRE))
		;
	/* The tracer empties the queue at every doorbell; full means it is
	 * gone without clearing `active`: give up rather than wait forever. */
	h = r->head;
	if (h - r->tail < RACEWATCH_QUEUE) {
		r->req[h % RACEWATCH_QUEUE].op = op;
		r->req[h % RACEWATCH_QUEUE].addr = addr;
		r->req[h % RACEWATCH_QUEUE].len = len;
		r->req[h % RACEWATCH_QUEUE].name = name;
		__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->lock, 0ul, __ATOMIC_RELEASE);
	raise(RACEWATCH_DOORBELL);
}

static __inline__ __attribute__((unused)) void
racewatch_watch(const volatile void *addr, unsigned long len, const char *name)
{
	__rw_request(RACEWATCH_OP_WATCH, addr, len, name);
}

static __inline__ __attribute__((unused)) void
racewatch_unwatch(const volatile void *addr)
{
	__rw_request(RACEWATCH_OP_UNWATCH, addr, 0, NULL);
}

#endif /* RACEWATCH_H */
