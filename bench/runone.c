/*
 * runone — run one command for the bench and measure what run.sh needs,
 * reading the command's stderr as it streams.
 *
 * Usage: runone [-t TIMEOUT_S] [-p PATTERN]... [-o OUTFILE] [-e ERRFILE] -- CMD [ARGS...]
 *
 * The command runs in its own process group with stdin from /dev/null,
 * stdout to OUTFILE and stderr through a pipe, copied to ERRFILE.  Each
 * stderr line is checked for every PATTERN (a plain substring); the first
 * line that holds one gives the time to first report.  At the timeout the
 * command gets SIGTERM (racewatch passes it to the program and prints its
 * stats), and 3 s later its whole process group gets SIGKILL.
 *
 * Prints one line on stdout, times in seconds from the fork:
 *   wall=S status=exit:N|signal:N|timeout first=S|- hwm_kb=N maxrss_kb=N user=S sys=S
 * hwm_kb is the command's own peak RSS (VmHWM of its pid, sampled every
 * 10 ms while it runs: a tracer's peak without its program's); maxrss_kb is
 * wait4's figure, which also counts the children it reaped (a tracer's
 * program, valgrind's tool process).  user and sys: CPU seconds of the
 * command and every descendant it reaped (a tracer and its program).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATTERNS 8
#define KILL_GRACE_NS 3000000000ull
#define SAMPLE_MS 10

static const char *patterns[MAX_PATTERNS];
static int npatterns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: runone [-t TIMEOUT_S] [-p PATTERN]... [-o OUTFILE] [-e ERRFILE] -- CMD [ARGS...]\n");
	exit(2);
}

/* VmHWM of pid in kB, or 0 once it is gone (a zombie has no mm). */
static long read_hwm(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int line_matches(const char *line)
{
	for (int i = 0; i < npatterns; i++)
		if (strstr(line, patterns[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *outfile = "/dev/null", *errfile = "/dev/null";
	double timeout_s = 0;
	int pipefd[2], errfd, c, status = 0, timed_out = 0, killed = 0, open_pipe = 1, exited = 0;
	uint64_t start, deadline = 0, first = 0, end = 0;
	char line[4096];
	size_t linelen = 0;
	long hwm = 0, v;
	struct rusage ru;
	pid_t pid;

	while ((c = getopt(argc, argv, "+t:p:o:e:")) != -1) {
		switch (c) {
		case 't': timeout_s = atof(optarg); break;
		case 'p':
			if (npatterns == MAX_PATTERNS)
				usage();
			patterns[npatterns++] = optarg;
			break;
		case 'o': outfile = optarg; break;
		case 'e': errfile = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (errfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		perror("runone: setup");
		return 2;
	}

	start = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("runone: fork");
		return 2;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY), out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "runone: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides: no race with the first kill */
	close(pipefd[1]);
	if (timeout_s > 0)
		deadline = start + (uint64_t)(timeout_s * 1e9);

	/*
	 * Until the command has exited and its stderr is closed (a child it left
	 * may still hold the pipe: the timeout covers that too).
	 */
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		uint64_t t = now_ns();

		if (!exited) {
			if ((v = read_hwm(pid)) > hwm)
				hwm = v;
			if (waitpid(pid, &status, WNOHANG) == pid) {
				exited = 1;
				end = t;
			}
		}
		if (exited && !open_pipe)
			break;
		if (deadline && t >= deadline && !timed_out) {
			timed_out = 1;
			kill(exited ? -pid : pid, SIGTERM);
		}
		if (timed_out && !killed && t >= deadline + KILL_GRACE_NS) {
			killed = 1;
			kill(-pid, SIGKILL);
		}
		if (!open_pipe) {
			usleep(1000);	/* stderr closed: the exit is near */
			continue;
		}
		if (poll(&pfd, 1, SAMPLE_MS) < 0 && errno != EINTR)
			break;
		if (pfd.revents & (POLLIN | POLLHUP)) {
			char buf[8192];
			ssize_t n = read(pipefd[0], buf, sizeof(buf));
			uint64_t when = now_ns();

			if (n <= 0) {
				open_pipe = 0;
				continue;
			}
			if (write(errfd, buf, (size_t)n) < 0)
				perror("runone: write");
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] != '\n' && linelen < sizeof(line) - 1) {
					line[linelen++] = buf[i];
					continue;
				}
				line[linelen] = 0;
				if (!first && line_matches(line))
					first = when;
				linelen = 0;
			}
		}
	}
	if (linelen && !first) {
		line[linelen] = 0;
		if (line_matches(line))
			first = end;
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	kill(-pid, SIGKILL);	/* anything the command left behind in its group */

	printf("wall=%.3f status=", (end - start) / 1e9);
	if (timed_out)
		printf("timeout");
	else if (WIFSIGNALED(status))
		printf("signal:%d", WTERMSIG(status));
	else
		printf("exit:%d", WEXITSTATUS(status));
	if (first)
		printf(" first=%.3f", (first - start) / 1e9);
	else
		printf(" first=-");
	printf(" hwm_kb=%ld maxrss_kb=%ld user=%.3f sys=%.3f\n", hwm, ru.ru_maxrss,
	       (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}
