/*
 * dlmain — loads a plugin (libplug.so, beside the executable) with dlopen
 * after it started, races on the plugin's own global from two threads,
 * then unloads it and runs on.
 *
 * Expected: `racewatch run -w plug_var` waits for the plugin (one line at
 * start), reports a data-race in plug_work / plug_work on plug_var
 * (libplug.so), and the program ends as natively; dlmain_locked never.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef LOCKED
#define LOCKED 0
#endif

static long (*work)(int locked, int writer);

static void *run(void *arg)
{
	int writer = arg != NULL;

	for (int i = 0; i < 3000; i++) {
		work(LOCKED, writer);
		for (volatile int k = 0; k < 300; k++)
			;
	}
	return NULL;
}

int main(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	pthread_t a, b;
	void *h;

	if (n <= 0)
		return 1;
	path[n] = '\0';
	strcpy(strrchr(path, '/') + 1, "libplug.so");
	h = dlopen(path, RTLD_NOW);
	if (!h || !(*(void **)&work = dlsym(h, "plug_work"))) {
		fprintf(stderr, "dlmain: %s\n", dlerror());
		return 1;
	}
	pthread_create(&a, NULL, run, (void *)1);
	pthread_create(&b, NULL, run, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	dlclose(h);
	printf("dlmain: done, plugin unloaded\n");
	return 0;
}
