/*
 * symopen — what opening one module's symbols costs, step by step, for
 * bench/startup.sh: sym_open(), then one variable looked up by name, then
 * the frames at one pc (a report's first frame in that module).  Each step
 * is CPU time (user + system) of this process and of the guard's children
 * (symbols_guard.c indexes DWARF in a forked child), and the peak RSS of
 * each.
 *
 *   symopen MODULE [NAME|-] [PC]
 *
 * RACEWATCH_TEST_DWARF=eager (symbols_guard.c) gives the old whole-module
 * index to compare with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "symbols.h"

struct mark {
	double self, kids;	/* CPU ms */
};

static double ms(const struct timeval *t)
{
	return t->tv_sec * 1e3 + t->tv_usec / 1e3;
}

static struct mark now(void)
{
	struct rusage s, c;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	return (struct mark){ ms(&s.ru_utime) + ms(&s.ru_stime),
			      ms(&c.ru_utime) + ms(&c.ru_stime) };
}

static double since(struct mark a, struct mark b)
{
	return (b.self - a.self) + (b.kids - a.kids);
}

int main(int argc, char **argv)
{
	struct sym_frame f[8];
	struct sym_var v;
	struct rusage s, c;
	char err[256];
	struct mark t0, t1, t2, t3;
	struct symtab *st;
	int found = -1, nf = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: symopen MODULE [NAME|-] [PC]\n");
		return 2;
	}
	t0 = now();
	if (!(st = sym_open(argv[1], err, sizeof(err)))) {
		fprintf(stderr, "symopen: %s\n", err);
		return 2;
	}
	t1 = now();
	if (argc > 2 && strcmp(argv[2], "-"))
		found = sym_find_var(st, NULL, argv[2], &v);
	t2 = now();
	if (argc > 3)
		nf = sym_frames_at(st, strtoull(argv[3], NULL, 0), f, 8);
	t3 = now();
	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	printf("open %.1f ms  name %.1f ms (%s)  pc %.1f ms (%s:%d)  total %.1f ms  "
	       "maxrss %ld KB (children %ld KB)\n",
	       since(t0, t1), since(t1, t2), found == 0 ? "found" : "-", since(t2, t3),
	       nf > 0 && f[0].file ? strrchr(f[0].file, '/') ? strrchr(f[0].file, '/') + 1 : f[0].file : "-",
	       nf > 0 ? f[0].line : 0, since(t0, t3), s.ru_maxrss, c.ru_maxrss);
	sym_close(st);
	return 0;
}
