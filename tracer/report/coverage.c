#include "coverage.h"
#include "addrspace.h"
#include "report.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define MAX_SITES 64		/* per variable: assertion sites are few */

struct var_cov {
	char name[192];
	uint64_t site[MAX_SITES];	/* pcs of the assertion sites that ran */
	pid_t tid[MAX_SITES];		/* the first thread that ran each */
	unsigned char multi[MAX_SITES];	/* ...and whether another did too */
	int nsites;
	unsigned char seen[MAX_SITES][MAX_SITES];	/* pair met concurrently */
};

static struct var_cov *vars;
static int nvars, on;

void coverage_enable(void)
{
	on = 1;
}

static int is_site(const struct access *a)
{
	return a->mark == MARK_ASSERT_ACCESS || a->mark == MARK_ASSERT_WRITER;
}

static struct var_cov *var(const char *name)
{
	for (int i = 0; i < nvars; i++)
		if (!strcmp(vars[i].name, name))
			return &vars[i];
	vars = xrealloc(vars, sizeof(*vars) * (size_t)(nvars + 1));
	memset(&vars[nvars], 0, sizeof(vars[nvars]));
	snprintf(vars[nvars].name, sizeof(vars[nvars].name), "%s", name);
	return &vars[nvars++];
}

static int site(struct var_cov *v, uint64_t pc, pid_t tid)
{
	for (int i = 0; i < v->nsites; i++) {
		if (v->site[i] == pc) {
			v->multi[i] |= tid != v->tid[i];
			return i;
		}
	}
	if (v->nsites == MAX_SITES)
		return -1;
	v->site[v->nsites] = pc;
	v->tid[v->nsites] = tid;
	return v->nsites++;
}

/* A site paired with itself counts only if two threads ran it. */
static int pair_exists(const struct var_cov *v, int i, int j)
{
	return i != j || v->multi[i];
}

void coverage_site(const char *name, const struct access *acc)
{
	if (on && is_site(acc))
		site(var(name), acc->pc, acc->tid);
}

void coverage_pair(const char *name, const struct access *a, const struct access *b)
{
	struct var_cov *v;
	int i, j;

	if (!on || !is_site(a) || !is_site(b))
		return;
	v = var(name);
	i = site(v, a->pc, a->tid);
	j = site(v, b->pc, b->tid);
	if (i >= 0 && j >= 0)
		v->seen[i][j] = v->seen[j][i] = 1;
}

/* "update_foo (samples/x.c:12)" for a site pc; the header's helpers skipped. */
static void name_site(char *buf, size_t len, struct addrspace *as, uint64_t pc)
{
	struct sym_frame f[8];
	char fn[128], file[256];
	int n = as ? as_frames_at(as, pc, f, 8) : 0, k = 0;

	while (k + 1 < n && f[k].func && !strncmp(f[k].func, "__rw_", 5))
		k++;
	if (k >= n || !f[k].func) {
		snprintf(buf, len, "0x%" PRIx64, pc);
		return;
	}
	rw_escape(fn, sizeof(fn), f[k].func);
	/* An inlined helper's caller line is where the assertion is written. */
	rw_escape(file, sizeof(file), report_short_path(f[k].file ? f[k].file : ""));
	snprintf(buf, len, "%s (%s:%d)", fn, file, f[k].line);
}

static char *blind[64];
static int nblind;

void coverage_blind_spot(const char *line)
{
	if (on && nblind < (int)(sizeof(blind) / sizeof(blind[0])))
		blind[nblind++] = xstrdup(line);
}

void coverage_print(FILE *f, struct addrspace *as)
{
	if (!on)
		return;
	for (int i = 0; i < nblind; i++)
		fprintf(f, "racewatch: coverage: %s\n", blind[i]);
	if (!nvars)
		fprintf(f, "racewatch: coverage: no ASSERT_EXCLUSIVE_* site of a watched variable ran\n");
	for (int v = 0; v < nvars; v++) {
		struct var_cov *c = &vars[v];
		char a[400], b[400];
		int pairs = 0, seen = 0;

		for (int i = 0; i < c->nsites; i++)
			for (int j = i; j < c->nsites; j++)
				if (pair_exists(c, i, j)) {
					pairs++;
					seen += c->seen[i][j];
				}
		fprintf(f, "racewatch: coverage of %s: %d assertion site%s, %d of %d pair%s seen concurrent\n",
			c->name, c->nsites, c->nsites == 1 ? "" : "s", seen, pairs, pairs == 1 ? "" : "s");
		for (int i = 0; i < c->nsites; i++)
			for (int j = i; j < c->nsites; j++) {
				if (!pair_exists(c, i, j))
					continue;
				name_site(a, sizeof(a), as, c->site[i]);
				name_site(b, sizeof(b), as, c->site[j]);
				fprintf(f, "racewatch: coverage:   %-6s %s / %s\n",
					c->seen[i][j] ? "seen" : "never", a, b);
			}
	}
}
