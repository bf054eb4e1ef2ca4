/*
 * libshared.so — a library that keeps shared state of its own: a counter
 * only the library's code touches.  Built -fvisibility=hidden, as libraries
 * that care about their interface are, so its code reaches the counter
 * RIP-relative (a GOT-indirect access would be invisible to code sites).
 */
#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))

int lib_private_counter;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

EXPORT void lib_bump(int locked)
{
	if (locked)
		pthread_mutex_lock(&lib_lock);
	lib_private_counter++;
	if (locked)
		pthread_mutex_unlock(&lib_lock);
}

EXPORT int lib_peek(int locked)
{
	int v;

	if (locked)
		pthread_mutex_lock(&lib_lock);
	v = lib_private_counter;
	if (locked)
		pthread_mutex_unlock(&lib_lock);
	return v;
}
