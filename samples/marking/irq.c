/*
 * irq — rcu-shared-variable-marking.txt, KCSAN Marking Comparison,
 * "Interrupt Handlers", RCU column: "Marked and unmarked accesses as shown
 * above", with CONFIG_KCSAN_INTERRUPT_WATCHER=y (part of the strict
 * settings) checking "data races between mainline code and interrupt
 * handlers".  In user space the interrupt is a signal handler (DESIGN.md
 * section 5) running on the thread it interrupts.
 *
 * ticks belongs to one thread, the "CPU": its mainline code poll_ticks()
 * reads it, and its "timer interrupt" tick_handler() (SIGALRM, sent by a
 * timer thread with pthread_kill()) increments it.  No other thread ever
 * touches ticks.  Both sides are marked: READ_ONCE() in mainline code,
 * WRITE_ONCE() in the handler.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Buggy twin: irq_buggy.c.
 *
 * Usage: irq [INTERRUPTS]
 */
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "marking.h"

int ticks;			/* the "CPU"'s own counter, like jiffies */
RACEWATCH_WATCH(ticks);

static pthread_t cpu;
static int handled;		/* interrupts handled: handshake, not watched */
static int stop;		/* tells the cpu thread to finish */
static long polls;

__named void tick_handler(int sig)
{
	(void)sig;
	WRITE_ONCE(ticks, ticks + 1);
	__atomic_fetch_add(&handled, 1, __ATOMIC_RELEASE);
}

/* Mainline code: the interrupt may arrive between any two instructions. */
__named int poll_ticks(void)
{
	return READ_ONCE(ticks);
}

static void *cpu_thread(void *arg)
{
	wait_start();
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		keep(poll_ticks());
		polls++;
	}
	return arg;
}

/* Raises one interrupt at a time and waits until the handler ran. */
static void *timer_thread(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		pthread_kill(cpu, SIGALRM);
		while (__atomic_load_n(&handled, __ATOMIC_ACQUIRE) <= i)
			sched_yield();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	return arg;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t timer;

	parse_iterations(argc, argv, 300);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	pthread_barrier_init(&start_line, NULL, 2);
	if (pthread_create(&cpu, NULL, cpu_thread, NULL) ||
	    pthread_create(&timer, NULL, timer_thread, NULL)) {
		perror("pthread_create");
		return 1;
	}
	pthread_join(timer, NULL);
	pthread_join(cpu, NULL);
	printf("irq: done ticks=%d\n", ticks);
	return 0;
}
