/*
 * probe_cli — `racewatch probe`, the cached self-test run and attach use,
 * and the cost of an armed slot per context switch.
 */
#include "probe.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SELFTEST_TRIES 20
#define PROBE_TRIES 100
/* The cache line of the per-switch cost: the boot's, whatever the flags. */
#define SWITCH_FLAGS "any"
#define SWITCH_NAME "context-switch-us"

/* ---- the cache: one line per (boot, flags, mechanism) ------------------- */

static void cache_path(char *out, size_t len)
{
	if (geteuid() == 0)
		snprintf(out, len, "/run/racewatch/probe-%u", (unsigned)getuid());
	else
		snprintf(out, len, "/tmp/racewatch-probe-%u", (unsigned)getuid());
}

/* What the answer depends on: this boot, and the debug switch (flags NULL)
 * or only the boot (flags "any": the cost of a switch is the machine's). */
static void cache_key(char *out, size_t len, const char *flags)
{
	char boot[64] = "unknown";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			snprintf(boot, sizeof(boot), "unknown");
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';
	snprintf(out, len, "%s %s", boot, flags ? flags : rw_hw_silent() ? "hw-silent" : "plain");
}

/* 1/0 from the cache, -1 if it has no answer.  A cache we did not write
 * ourselves (another owner, a symlink) is ignored. */
static int cache_get(const char *flags, const char *name, char *why, size_t whylen)
{
	char path[128], key[128], line[512];
	int fd, ans = -1;
	struct stat st;
	FILE *f;

	cache_path(path, sizeof(path));
	cache_key(key, sizeof(key), flags);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode) ||
	    !(f = fdopen(fd, "r"))) {
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t kl = strlen(key), nl = strlen(name);

		line[strcspn(line, "\n")] = '\0';
		/* "KEY MECH 0|1 REASON" */
		if (strncmp(line, key, kl) || line[kl] != ' ' ||
		    strncmp(line + kl + 1, name, nl) || line[kl + 1 + nl] != ' ')
			continue;
		ans = line[kl + 2 + nl] == '1';
		if (why && line[kl + 3 + nl] == ' ')
			snprintf(why, whylen, "%s", line + kl + 4 + nl);
	}
	fclose(f);
	return ans;
}

/*
 * Record m's answer: the file is rewritten (a temporary file renamed over
 * it, so readers never see half) keeping only this boot's lines for other
 * mechanisms and flags, so it never grows past a few lines.
 */
static void cache_put(const char *flags, const char *name, int ok, const char *why)
{
	char path[128], tmp[160], key[128], line[512], boot[64];
	size_t kl, bl;
	FILE *in, *out;
	int fd;

	cache_path(path, sizeof(path));
	cache_key(key, sizeof(key), flags);
	kl = strlen(key);
	bl = strcspn(key, " ");
	snprintf(boot, sizeof(boot), "%.*s", (int)bl, key);
	if (geteuid() == 0)
		mkdir("/run/racewatch", 0755);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || !(out = fdopen(fd, "w"))) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (in = fdopen(fd, "r"))) {
		while (fgets(line, sizeof(line), in)) {
			size_t nl = strlen(name);
			int same = !strncmp(line, key, kl) && line[kl] == ' ' &&
				   !strncmp(line + kl + 1, name, nl) && line[kl + 1 + nl] == ' ';

			if (!same && !strncmp(line, boot, bl) && line[bl] == ' ')
				fputs(line, out);	/* this boot, another answer: kept */
		}
		fclose(in);
	} else if (fd >= 0) {
		close(fd);
	}
	fprintf(out, "%s %s %d %s\n", key, name, ok, why);
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		rw_debug("probe cache %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

int probe_works(enum probe_mech m, char *why, size_t whylen)
{
	struct probe_result r;
	int ans;
	uint64_t t0 = now_ns();

	/* hw-trust: the hardware is taken at its word (util.h); nothing cached. */
	if (rw_hw_trust() && (m == PROBE_PERF || m == PROBE_DR))
		return 1;
	ans = cache_get(NULL, probe_mech_names[m], why, whylen);
	if (ans >= 0)
		return ans;
	probe_mechanism(m, SELFTEST_TRIES, &r);
	rw_debug("self-test %s: %u of %u in %.2f ms", probe_mech_names[m], r.hits, r.tries,
		 (double)(now_ns() - t0) / 1e6);
	/* A failure to even start (no ptrace, no fork) is not cached. */
	if (r.ok || r.hits || strstr(r.why, "armed") || strstr(r.why, "planted"))
		cache_put(NULL, probe_mech_names[m], r.ok, r.why);
	if (!r.ok && why)
		snprintf(why, whylen, "%s", r.why);
	return r.ok;
}

/* ---- context-switch cost of one armed slot ------------------------------ */

static int ping[2], pong[2];
static volatile pid_t partner_tid;
static volatile long never_touched;

static void *partner(void *arg)
{
	char c;

	(void)arg;
	partner_tid = (pid_t)syscall(SYS_gettid);
	while (read(ping[0], &c, 1) == 1 && c)
		if (write(pong[1], &c, 1) != 1)
			break;
	return NULL;
}

/* Seconds for n round trips between two threads pinned to one CPU. */
static double pingpong(unsigned n)
{
	uint64_t t0 = now_ns();
	char c = 1;

	for (unsigned i = 0; i < n; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return -1;
	return (double)(now_ns() - t0) / 1e9;
}

static int open_silent_slot(pid_t tid)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_RW;
	a.bp_addr = (uint64_t)(uintptr_t)&never_touched;
	a.bp_len = sizeof(long);
	a.exclude_kernel = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* In a child (it pins itself): microseconds per switch per armed slot,
 * the best of `rounds` rounds of n round trips without and with slots. */
static void switch_cost_child(int wfd, unsigned n, int rounds)
{
	double base = 1e9, armed = 1e9, us = -1000;
	cpu_set_t one;
	pthread_t th;
	char zero = 0;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0 && pipe(ping) == 0 && pipe(pong) == 0 &&
	    pthread_create(&th, NULL, partner, NULL) == 0) {
		pingpong(200);	/* warm up */
		for (int round = 0; round < rounds; round++) {
			double b = pingpong(n), t;
			int f1 = open_silent_slot((pid_t)syscall(SYS_gettid));
			int f2 = open_silent_slot(partner_tid);

			t = pingpong(n);
			if (f1 >= 0)
				close(f1);
			if (f2 >= 0)
				close(f2);
			if (f1 < 0 || f2 < 0 || b < 0 || t < 0)
				break;
			base = b < base ? b : base;
			armed = t < armed ? t : armed;
		}
		/* A round trip is two switches; each switch reloads one slot. */
		if (armed < 1e9)
			us = (armed - base) * 1e6 / (2.0 * n);
		if (write(ping[1], &zero, 1) == 1)
			pthread_join(th, NULL);
	}
	if (write(wfd, &us, sizeof(us)) != sizeof(us))
		_exit(1);
	_exit(0);
}

static double switch_cost_us(unsigned n, int rounds)
{
	double us = -1000;
	int p[2], status;
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1000;
	if (pid == 0) {
		close(p[0]);
		switch_cost_child(p[1], n, rounds);
	}
	close(p[1]);
	if (read(p[0], &us, sizeof(us)) != sizeof(us))
		us = -1000;
	close(p[0]);
	waitpid(pid, &status, 0);
	return us;
}

static void cache_switch_cost(double us)
{
	char v[32];

	snprintf(v, sizeof(v), "%.2f", us > 0 ? us : 0.0);
	cache_put(SWITCH_FLAGS, SWITCH_NAME, 1, v);
}

double probe_switch_cost_us(int measure)
{
	static double known = -1;
	uint64_t t0 = now_ns();
	char v[64];
	double us;

	if (known >= 0)
		return known;
	if (cache_get(SWITCH_FLAGS, SWITCH_NAME, v, sizeof(v)) == 1 && sscanf(v, "%lf", &us) == 1 &&
	    us >= 0 && us < 10000)
		return known = us;
	if (!measure)
		return -1;
	/* A quarter of probe's measurement: ~10x noisier, ~4x faster. */
	us = switch_cost_us(1000, 2);
	rw_debug("per-switch cost of an armed slot: %.2f us, measured in %.1f ms", us,
		 (double)(now_ns() - t0) / 1e6);
	if (us <= -999)
		return -1;
	cache_switch_cost(us);
	return known = us > 0 ? us : 0.0;
}

/* ---- racewatch probe ------------------------------------------------------ */

int probe_main(void)
{
	struct probe_result r[PROBE_MECH_COUNT];
	int any = 0, ptrace_ok = 1;
	double us;

	for (int m = 0; m < PROBE_MECH_COUNT; m++) {
		probe_mechanism((enum probe_mech)m, PROBE_TRIES, &r[m]);
		cache_put(NULL, probe_mech_names[m], r[m].ok, r[m].why);
		if (strstr(r[m].why, "needs ptrace"))
			ptrace_ok = 0;
	}
	printf("ptrace: %s\n", ptrace_ok ? "yes" : "no (PTRACE_SEIZE of a child failed)");
	for (int m = 0; m < PROBE_MECH_COUNT; m++) {
		if (r[m].ok)
			printf("%s: yes (%u of %u %s; %.1f us per %s)\n", probe_mech_names[m],
			       r[m].hits, r[m].tries, m >= PROBE_INT3 ? "hits" : "accesses trapped",
			       r[m].us_per_hit, m >= PROBE_INT3 ? "hit" : "trap");
		else
			printf("%s: no (%s)\n", probe_mech_names[m], r[m].why);
		any |= r[m].ok;
	}
	if (r[PROBE_INT3].ok || r[PROBE_UPROBE].ok)
		printf("code-sites: yes (%s%s%s)\n", r[PROBE_INT3].ok ? "int3" : "",
		       r[PROBE_INT3].ok && r[PROBE_UPROBE].ok ? "; uprobe with --code-via uprobe" : "",
		       !r[PROBE_INT3].ok ? "uprobe only: use --code-via uprobe" : "");
	else
		printf("code-sites: no (needs int3 or uprobe)\n");
	us = switch_cost_us(4000, 3);
	if (us > -999)
		cache_switch_cost(us);
	if (us >= 0)
		printf("context-switch: %.2f us extra per switch per armed slot\n", us);
	else if (us > -999)
		printf("context-switch: 0.00 us extra per switch per armed slot (below noise)\n");
	else
		printf("context-switch: not measured (cannot open a breakpoint event in-process)\n");
	if (rw_hw_silent())
		printf("note: RACEWATCH_DEBUG=hw-silent: hardware breakpoints are armed where "
		       "nothing can touch them\n");
	return any ? 0 : 1;
}
