/*
 * main_lib — races on a global that lives only in a shared library it
 * links (libshared.so: lib_private_counter): one thread bumps it, another
 * reads it, both through the library's functions, no lock.
 *
 * Expected: `racewatch run -w lib_private_counter` reports a data-race in
 * lib_bump / lib_peek on lib_private_counter (libshared.so);
 * main_lib_locked (every call locked) never.
 */
#include <pthread.h>
#include <stdio.h>

#ifndef LOCKED
#define LOCKED 0
#endif

void lib_bump(int locked);
int lib_peek(int locked);

static void spin(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

static void *writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3000; i++) {
		lib_bump(LOCKED);
		spin(300);
	}
	return NULL;
}

static void *reader(void *arg)
{
	long sum = 0;

	(void)arg;
	for (int i = 0; i < 3000; i++) {
		sum += lib_peek(LOCKED);
		spin(300);
	}
	return (void *)sum;
}

int main(void)
{
	pthread_t a, b;

	pthread_create(&a, NULL, writer, NULL);
	pthread_create(&b, NULL, reader, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("main_lib: done, counter %d\n", lib_peek(0) == 3000 ? 3000 : -1);
	return 0;
}
