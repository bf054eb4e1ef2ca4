/*
 * slow_exit — a process whose exit takes a while after its memory is gone.
 *
 * It opens NPAIRS socket pairs (as many as the descriptor limit allows), lets two threads touch memory for ~20 ms,
 * idles ~50 ms and returns.  The kernel releases the address space early in
 * the exit and closes the thousands of descriptors only after that, so for
 * a few milliseconds the process can no longer be written through
 * /proc/PID/mem while its tracer has not yet been told that it exited.
 * libmicrohttpd's benchmark server, with its sockets, exits the same way.
 *
 * Expected outcome under `racewatch run -- slow_exit` (sampling: code sites
 * drawn and re-drawn every 20 ms, so a re-draw falls into that gap now and
 * then): racewatch ends with the program, exit 0, every run.  Before the
 * fix it spun forever re-drawing sites it could not plant: 30 of 30 runs
 * with 10000 pairs, 1 of 30 with 3000.
 *
 * Usage: slow_exit [NPAIRS]   (default 10000; fewer if the fd limit says so).
 * Prints "slow_exit: done" and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile int sink[2];

static void *toucher(void *arg)
{
	long i = (long)arg;

	for (int k = 0; k < 10; k++) {
		sink[i] += k;
		usleep(2000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long npairs = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	struct rlimit rl;
	pthread_t t[2];

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (long i = 0; i < npairs; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			break;	/* the limit: as many as allowed is enough */
	}
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, toucher, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	usleep(50000);
	printf("slow_exit: done\n");
	return 0;
}
