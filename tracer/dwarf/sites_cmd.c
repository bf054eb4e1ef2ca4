/*
 * sites_cmd — `racewatch vars PROG [PATTERN]`: the watchable variables of
 * PROG (sites_watchable()) with their size, declaration, how many code
 * sites access each and where its address is first taken, one aligned line
 * per variable, sorted by name.  The same numbers --backend code works from,
 * so a user can see beforehand what it will and will not see.
 */
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "sites.h"
#include "util.h"

/* What the sites say about one variable. */
struct row {
	char name[272];		/* "name", or "file.c::name" when the name is not unique */
	char decl[160];		/* "file.c:LINE" or "?" */
	char sites[48];		/* "N (Rr Ww Mrmw)", zero counts left out */
	char taken[192];	/* "no" or "file.c:LINE" (+ how many more) */
	uint64_t size;
	unsigned nacc, nread, nwrite, nrmw, ntaken;
	uint64_t taken_pc;	/* lowest address-taking pc */
};

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

/* Only the line (sym_line_at()): a lazily indexed program reads the line
 * rows of the unit that takes the address, not all of that unit. */
static void where(const struct symtab *st, uint64_t pc, char *buf, size_t len)
{
	const char *file, *fn;
	char esc[128];
	int line;

	if (sym_line_at(st, pc, &file, &line) == 0) {
		rw_escape(esc, sizeof(esc), base_name(file));
		snprintf(buf, len, "%s:%d", esc, line);
	} else if ((fn = sym_func_at(st, pc, NULL, NULL))) {
		rw_escape(esc, sizeof(esc), fn);
		snprintf(buf, len, "%s", esc);
	} else {
		snprintf(buf, len, "0x%llx", (unsigned long long)pc);
	}
}

static void count_sites(struct row *rows, const struct site *s, size_t ns)
{
	for (size_t i = 0; i < ns; i++) {
		struct row *r = &rows[s[i].range];

		if (s[i].addr_taken) {
			if (!r->ntaken++ || s[i].pc < r->taken_pc)
				r->taken_pc = s[i].pc;
			continue;
		}
		r->nacc++;
		r->nread += s[i].type == ACCESS_READ;
		r->nwrite += s[i].type == ACCESS_WRITE;
		r->nrmw += s[i].type == ACCESS_RMW;
	}
}

static void sites_text(const struct row *r, char *buf, size_t len)
{
	int k = snprintf(buf, len, "%u", r->nacc);
	const char *sep = " (";

	if (r->nread)
		k += snprintf(buf + k, len - (size_t)k, "%s%ur", sep, r->nread), sep = " ";
	if (r->nwrite)
		k += snprintf(buf + k, len - (size_t)k, "%s%uw", sep, r->nwrite), sep = " ";
	if (r->nrmw)
		k += snprintf(buf + k, len - (size_t)k, "%s%urmw", sep, r->nrmw), sep = " ";
	if (r->nacc)
		snprintf(buf + k, len - (size_t)k, ")");
}

static void fill_rows(const struct symtab *st, const struct sym_var *v, size_t n,
		      struct row *rows)
{
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		int dup = (i && !strcmp(v[i - 1].name, v[i].name)) ||
			  (i + 1 < n && !strcmp(v[i + 1].name, v[i].name));
		char ename[128], efile[128];

		rw_escape(ename, sizeof(ename), v[i].name);
		rw_escape(efile, sizeof(efile), v[i].decl_file ? base_name(v[i].decl_file) : "?");
		if (dup && v[i].decl_file)
			snprintf(r->name, sizeof(r->name), "%s::%s", efile, ename);
		else
			snprintf(r->name, sizeof(r->name), "%s", ename);
		if (v[i].decl_file && v[i].decl_line)
			snprintf(r->decl, sizeof(r->decl), "%s:%d", efile, v[i].decl_line);
		else
			snprintf(r->decl, sizeof(r->decl), "?");
		r->size = v[i].size;
		sites_text(r, r->sites, sizeof(r->sites));
		if (!r->ntaken) {
			snprintf(r->taken, sizeof(r->taken), "no");
		} else {
			char at[160];

			where(st, r->taken_pc, at, sizeof(at));
			if (r->ntaken > 1)
				snprintf(r->taken, sizeof(r->taken), "%s (+%u)", at, r->ntaken - 1);
			else
				snprintf(r->taken, sizeof(r->taken), "%s", at);
		}
	}
}

static int width(const struct row *rows, size_t n, size_t off, const char *head)
{
	size_t w = strlen(head);

	for (size_t i = 0; i < n; i++)
		if (strlen((const char *)&rows[i] + off) > w)
			w = strlen((const char *)&rows[i] + off);
	return (int)w;
}

static void print_rows(const struct row *rows, size_t n)
{
	int wn = width(rows, n, offsetof(struct row, name), "NAME");
	int wd = width(rows, n, offsetof(struct row, decl), "DECLARED");
	int ws = width(rows, n, offsetof(struct row, sites), "SITES");

	printf("%-*s %8s  %-*s  %-*s  %s\n", wn, "NAME", "SIZE", wd, "DECLARED", ws, "SITES",
	       "ADDRESS TAKEN");
	for (size_t i = 0; i < n; i++)
		printf("%-*s %8llu  %-*s  %-*s  %s\n", wn, rows[i].name,
		       (unsigned long long)rows[i].size, wd, rows[i].decl, ws, rows[i].sites,
		       rows[i].taken);
}

/* Exit status: 0 listed, 1 nothing matched, 2 error. */
int sites_vars_main(const char *prog, const char *pattern)
{
	char err[512];
	struct symtab *st = sym_open(prog, err, sizeof(err));
	struct sym_var *all = NULL, *v = NULL;
	struct site_range *rg = NULL;
	struct site *s = NULL;
	struct row *rows = NULL;
	size_t nall = 0, n = 0, ns = 0;
	int status = 2;

	if (!st) {
		rw_error("vars: %s", err);
		return 2;
	}
	/* A plain name needs only the units that define it. */
	if (sites_watchable_named(st, pattern && !strpbrk(pattern, "*?[\\") ? pattern : NULL,
				  &all, &nall, err, sizeof(err)) < 0) {
		rw_error("vars: %s", err);
		goto done;
	}
	v = xcalloc(nall + 1, sizeof(*v));
	for (size_t i = 0; i < nall; i++)
		if (!pattern || fnmatch(pattern, all[i].name, 0) == 0)
			v[n++] = all[i];
	if (!n) {
		rw_error("vars: no watchable variable%s%s%s in %s", pattern ? " matches '" : "",
			 pattern ? pattern : "", pattern ? "'" : "", prog);
		status = 1;
		goto done;
	}
	rg = xcalloc(n, sizeof(*rg));
	for (size_t i = 0; i < n; i++)
		rg[i] = (struct site_range){ v[i].addr, v[i].size };
	if (sites_find(prog, rg, (int)n, 0, &s, &ns, err, sizeof(err)) < 0) {
		rw_error("vars: %s", err);
		goto done;
	}
	rows = xcalloc(n, sizeof(*rows));
	count_sites(rows, s, ns);
	fill_rows(st, v, n, rows);
	print_rows(rows, n);
	if (!sym_has_dwarf(st))
		printf("(%s has no DWARF: declarations unknown)\n", prog);
	status = 0;
done:
	free(rows);
	free(s);
	free(rg);
	free(v);
	free(all);
	sym_close(st);
	return status;
}
