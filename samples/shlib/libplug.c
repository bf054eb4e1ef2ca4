/*
 * libplug.so — a plugin loaded with dlopen after the program started; its
 * own global is raced on by the threads that call into it.
 */
#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))

long plug_var;
static pthread_mutex_t plug_lock = PTHREAD_MUTEX_INITIALIZER;

EXPORT long plug_work(int locked, int writer)
{
	long v = 0;

	if (locked)
		pthread_mutex_lock(&plug_lock);
	if (writer)
		plug_var += 2;
	else
		v = plug_var;
	if (locked)
		pthread_mutex_unlock(&plug_lock);
	return v;
}
