/*
 * heap_list — a race reached only through a linked list: main builds a list
 * of nodes on the heap; two threads walk it and bump each node's hit count
 * with a plain increment, no lock.
 *
 * Expected: racewatch with no -w reports a data-race in visit / visit on
 * "heap"; heap_list_locked (HEAP_LOCKED: the walk holds the list's mutex)
 * is never reported.  Its argument: rounds of the walk (400), or seconds
 * as "10s".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "run_for.h"

struct node {
	struct node *next;
	long key;
	long hits;
};

static struct node *head;
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static long rounds = 400;	/* argv[1]: a count, or seconds as "10s" (run_for.h) */

__attribute__((noinline)) static void visit(struct node *n)
{
	n->hits++;
	for (volatile int i = 0; i < 100; i++)
		;
}

static void *walker(void *arg)
{
	(void)arg;
	for (long round = 0; run_more(round, rounds); round++) {
#ifdef HEAP_LOCKED
		pthread_mutex_lock(&list_lock);
#endif
		for (struct node *n = head; n; n = n->next)
			visit(n);
#ifdef HEAP_LOCKED
		pthread_mutex_unlock(&list_lock);
#endif
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t1, t2;
	long total = 0;

	if (argc > 1 && run_parse(argv[0], argv[1], &rounds) < 0)
		return 2;
	for (int i = 0; i < 64; i++) {
		struct node *n = calloc(1, sizeof(*n));

		if (!n)
			return 1;
		n->key = i;
		n->next = head;
		head = n;
	}
	pthread_create(&t1, NULL, walker, NULL);
	pthread_create(&t2, NULL, walker, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	while (head) {
		struct node *n = head;

		total += n->hits > 0;
		head = n->next;
		free(n);
	}
	if (run_secs)
		printf("heap_list: done, %ld nodes visited in %ld s\n", total, run_secs);
	else
		printf("heap_list: done, %ld nodes visited\n", total);
	(void)list_lock;
	return 0;
}
