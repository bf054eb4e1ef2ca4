/* outfile — see outfile.h for the rules every report file follows. */
#include "outfile.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * open(2) for writing that never blocks on a FIFO without a reader (ENXIO
 * instead) and never makes a terminal our controlling one; the descriptor
 * is blocking again on return, so writes to a pipe wait for its reader.
 */
static int open_w(const char *path, int flags)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | flags, 0666);

	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static const char *why(int e)
{
	return e == ENXIO ? "a FIFO with no reader" : strerror(e);
}

int outfile_open(struct outfile *of, const char *opt, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	memset(of, 0, sizeof(*of));
	of->opt = opt;
	/* O_EXCL first, to know whether the file is ours to remove again. */
	fd = open_w(path, O_CREAT | O_EXCL);
	if (fd >= 0)
		of->created = 1;
	else if (errno == EEXIST)
		fd = open_w(path, 0);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot write %s: %s", opt, path, why(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	of->f = fdopen(fd, "w");
	if (!of->f) {
		snprintf(err, errlen, "%s: cannot write %s: %s", opt, path, strerror(errno));
		close(fd);
		return -1;
	}
	of->path = xstrdup(path);
	of->regular = S_ISREG(st.st_mode);
	of->dev = st.st_dev;
	of->ino = st.st_ino;
	return 0;
}

/* The first failure of of: one line, then silence. */
static int failed(struct outfile *of, int e)
{
	if (!of->failed)
		rw_error("%s: cannot write %s: %s; the report is incomplete", of->opt, of->path,
			 strerror(e ? e : EIO));
	of->failed = 1;
	return -1;
}

int outfile_begin(struct outfile *of)
{
	if (of->begun || !of->f)
		return of->failed ? -1 : 0;
	of->begun = 1;
	if (of->regular && ftruncate(fileno(of->f), 0) < 0)
		return failed(of, errno);
	return 0;
}

int outfile_flush(struct outfile *of)
{
	if (!of->f || of->failed)
		return -1;
	if (fflush(of->f) != 0 || ferror(of->f))
		return failed(of, errno);
	return 0;
}

int outfile_close(struct outfile *of)
{
	int rc = outfile_flush(of);

	if (of->f == stdout)	/* -o -: flushed; stdout stays the program's too */
		of->f = NULL;
	if (of->f && fclose(of->f) != 0 && rc == 0)
		rc = failed(of, errno);
	of->f = NULL;
	free(of->path);
	of->path = NULL;
	return rc;
}

void outfile_abandon(struct outfile *of)
{
	struct stat st;

	if (!of->f || of->f == stdout) {
		of->f = NULL;
		return;
	}
	/* Ours, untouched, and still the same file: take it back. */
	if (of->created && fstat(fileno(of->f), &st) == 0 && st.st_size == 0 &&
	    !stat(of->path, &st) && st.st_dev == of->dev && st.st_ino == of->ino)
		unlink(of->path);
	fclose(of->f);
	of->f = NULL;
	free(of->path);
	of->path = NULL;
}

/* The directory part of path, in buf. */
static const char *dir_of(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	return dirname(buf);
}

int outfile_check(const char *opt, const char *path, dev_t *dev, ino_t *ino, char *err,
		  size_t errlen)
{
	char dbuf[PATH_MAX];
	struct stat st;
	const char *dir;

	*dev = 0;
	*ino = 0;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: %s is a directory", opt, path);
			return -1;
		}
		*dev = st.st_dev;
		*ino = st.st_ino;
		dir = dir_of(path, dbuf, sizeof(dbuf));
		if (access(path, W_OK) < 0 && (!S_ISREG(st.st_mode) || access(dir, W_OK | X_OK) < 0)) {
			snprintf(err, errlen, "%s: cannot write %s: %s", opt, path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || !lstat(path, &st)) {
		snprintf(err, errlen, "%s: cannot write %s: %s", opt, path,
			 errno == ENOENT ? "a symbolic link to nowhere" : strerror(errno));
		return -1;
	}
	dir = dir_of(path, dbuf, sizeof(dbuf));
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", opt, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* emit() into an open descriptor; closes it.  0, or -1 with errno set. */
static int write_fd(int fd, void (*emit)(FILE *f, void *arg), void *arg)
{
	FILE *f = fdopen(fd, "w");
	int e;

	if (!f) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	emit(f, arg);
	if (fflush(f) != 0 || ferror(f)) {
		e = errno ? errno : EIO;
		fclose(f);
		errno = e;
		return -1;
	}
	return fclose(f);
}

int outfile_replace(const char *opt, const char *path, void (*emit)(FILE *f, void *arg),
		    void *arg, char *err, size_t errlen)
{
	char real[PATH_MAX], dbuf[PATH_MAX], *tmp;
	const char *target = path, *dir;
	struct stat st;
	mode_t mask;
	size_t n;
	int fd, have = 0;

	/* Through a symbolic link, never over it. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(path, real))
			goto fail;
		target = real;
	}
	if (stat(target, &st) == 0) {
		have = 1;
		if (!S_ISREG(st.st_mode)) {
			/* A device, FIFO or terminal: in place, never replaced. */
			fd = open_w(target, 0);
			if (fd < 0 || write_fd(fd, emit, arg) < 0)
				goto fail;
			return 0;
		}
	} else if (errno != ENOENT) {
		goto fail;
	}
	dir = dir_of(target, dbuf, sizeof(dbuf));
	n = strlen(dir) + strlen(target) + 16;
	tmp = xcalloc(1, n);
	snprintf(tmp, n, "%s/.%s.XXXXXX", dir, strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		/* The directory takes no new file: an existing one is rewritten in place. */
		free(tmp);
		if (!have)
			goto fail;
		fd = open(target, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || write_fd(fd, emit, arg) < 0)
			goto fail;
		return 0;
	}
	/* The mode a plain create would give, or the replaced file's. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, have ? st.st_mode & 07777 : 0666 & ~mask) < 0 ||
	    write_fd(fd, emit, arg) < 0 || rename(tmp, target) < 0) {
		int e = errno;

		unlink(tmp);
		free(tmp);
		errno = e;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot write %s: %s", opt, path, why(errno));
	return -1;
}

int outfile_program_id(const char *prog, dev_t *dev, ino_t *ino)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	struct stat st;

	if (strchr(prog, '/')) {
		if (stat(prog, &st) < 0)
			return -1;
		*dev = st.st_dev;
		*ino = st.st_ino;
		return 0;
	}
	for (path = path ? path : "/usr/local/bin:/usr/bin:/bin"; ; path++) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", prog);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			*dev = st.st_dev;
			*ino = st.st_ino;
			return 0;
		}
		path += len;
		if (!*path)
			return -1;
	}
}
