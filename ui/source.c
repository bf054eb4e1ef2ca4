/*
 * source — lines of the program's source files for the detail view.  Paths
 * come from the target's DWARF (or a saved report): a file is only read if
 * it is a regular file (a FIFO or device named there must not block the
 * tracer) of at most SOURCE_MAX bytes.  Files are cached, failures too, so
 * redrawing costs no I/O.  Lines come out with tabs expanded and every
 * other control byte escaped.
 */
#include "tui_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOURCE_MAX	(16u << 20)
#define CACHE_FILES	8

struct srcfile {
	char *path;		/* as asked for */
	char *data;		/* the contents, NUL-terminated; NULL if unreadable */
	char why[128];		/* why it is unreadable */
	char **lines;		/* starts of lines (each ends at '\n' or NUL) */
	int nlines;
	uint64_t used;		/* for eviction */
};

static struct srcfile cache[CACHE_FILES];
static uint64_t use_clock;

static void load(struct srcfile *sf, const char *path)
{
	char full[4096];
	struct stat sb;
	ssize_t got = 0, n;
	int fd;

	/* A relative path in a saved report is relative to the traced run's cwd. */
	if (path[0] != '/' && T.cwd && access(path, F_OK) != 0)
		snprintf(full, sizeof(full), "%s/%s", T.cwd, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(sf->why, sizeof(sf->why), "%s", strerror(errno));
		return;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SOURCE_MAX) {
		snprintf(sf->why, sizeof(sf->why), "%s",
			 fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ? "not a regular file" : "too large");
		close(fd);
		return;
	}
	sf->data = xcalloc(1, (size_t)sb.st_size + 1);
	while (got < sb.st_size && (n = read(fd, sf->data + got, (size_t)(sb.st_size - got))) > 0)
		got += n;
	close(fd);
	sf->data[got] = '\0';
	for (char *p = sf->data; p && p < sf->data + got; ) {
		if (!(sf->nlines & 1023))
			sf->lines = xrealloc(sf->lines, (size_t)(sf->nlines + 1024) * sizeof(char *));
		sf->lines[sf->nlines++] = p;
		p = memchr(p, '\n', (size_t)(sf->data + got - p));
		if (p)
			p++;
	}
}

static struct srcfile *lookup(const char *path)
{
	struct srcfile *victim = &cache[0];

	for (int i = 0; i < CACHE_FILES; i++) {
		if (cache[i].path && !strcmp(cache[i].path, path)) {
			cache[i].used = ++use_clock;
			return &cache[i];
		}
		if (cache[i].used < victim->used)
			victim = &cache[i];
	}
	free(victim->path);
	free(victim->data);
	free(victim->lines);
	memset(victim, 0, sizeof(*victim));
	victim->path = xstrdup(path);
	victim->used = ++use_clock;
	load(victim, path);
	return victim;
}

int source_line(const char *file, int n, char *buf, size_t len)
{
	struct srcfile *sf;
	char line[1024];
	const char *p;
	size_t o = 0;

	if (!file) {
		snprintf(buf, len, "no source file known");
		return -1;
	}
	sf = lookup(file);
	if (!sf->data) {
		snprintf(buf, len, "source not available: %s", sf->why);
		return -1;
	}
	if (n < 1 || n > sf->nlines) {
		snprintf(buf, len, "no line %d (the file has %d)", n, sf->nlines);
		return -1;
	}
	/* Tabs to spaces (8 columns), then escape what is left. */
	for (p = sf->lines[n - 1]; *p && *p != '\n' && o + 9 < sizeof(line); p++) {
		if (*p == '\t') {
			do
				line[o++] = ' ';
			while (o % 8);
		} else if (*p != '\r' || (p[1] != '\n' && p[1])) {
			line[o++] = *p;
		}
	}
	line[o] = '\0';
	rw_escape(buf, len, line);
	return 0;
}
