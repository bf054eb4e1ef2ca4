/*
 * heap_struct — a race on a heap object that no -w can name: a struct
 * account is allocated in main and handed to two threads as their argument;
 * both update its balance with a plain read-modify-write, no lock.
 *
 * Expected: racewatch with no -w (sampling) reports a data-race in deposit /
 * deposit (or withdraw) on "heap"; heap_struct_locked (the same code with
 * HEAP_LOCKED: every update under the account's mutex) is never reported.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "run_for.h"

struct account {
	pthread_mutex_t lock;
	long balance;
	long ops;
};

static long iterations = 20000;	/* argv[1]: a count, or seconds as "10s" (run_for.h) */

static void spin(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

__attribute__((noinline)) static void deposit(struct account *a, long amount)
{
#ifdef HEAP_LOCKED
	pthread_mutex_lock(&a->lock);
#endif
	a->balance += amount;
	a->ops++;
#ifdef HEAP_LOCKED
	pthread_mutex_unlock(&a->lock);
#endif
}

__attribute__((noinline)) static void withdraw(struct account *a, long amount)
{
#ifdef HEAP_LOCKED
	pthread_mutex_lock(&a->lock);
#endif
	a->balance -= amount;
	a->ops++;
#ifdef HEAP_LOCKED
	pthread_mutex_unlock(&a->lock);
#endif
}

static void *saver(void *arg)
{
	for (long i = 0; run_more(i, iterations); i++) {
		deposit(arg, 3);
		spin(200);
	}
	return NULL;
}

static void *spender(void *arg)
{
	for (long i = 0; run_more(i, iterations); i++) {
		withdraw(arg, 1);
		spin(200);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct account *a;
	pthread_t t1, t2;

	if (argc > 1 && run_parse(argv[0], argv[1], &iterations) < 0)
		return 2;
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_create(&t1, NULL, saver, a);
	pthread_create(&t2, NULL, spender, a);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	if (run_secs)
		printf("heap_struct: done, %ld s\n", a->ops > 0 ? run_secs : 0L);
	else
		printf("heap_struct: done, %ld operations\n", a->ops > 0 ? 2 * iterations : 0L);
	free(a);
	return 0;
}
