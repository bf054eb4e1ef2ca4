/*
 * outfile — the files racewatch writes reports to (-o, --sarif), handled so
 * that a careless command line cannot lose or damage anything:
 *
 *  1. Nothing is truncated or replaced until the run has really started
 *     (outfile_begin): a typo in -w or the program's name leaves
 *     yesterday's report as it was, and a file created only to check that
 *     it can be written is removed again (outfile_abandon).
 *  2. Only a regular file is ever truncated or replaced.  A device, a FIFO
 *     or a terminal is written in place; a symbolic link is written
 *     through, never replaced.
 *  3. A whole-file log (SARIF) goes to a temporary file made by mkstemp()
 *     in the target's own directory (O_EXCL, unpredictable name) and is
 *     renamed over the target only when complete.
 *  4. Every write, flush and close is checked: the first failure is one
 *     line on stderr, and the caller turns it into a non-zero exit.
 */
#ifndef RACEWATCH_OUTFILE_H
#define RACEWATCH_OUTFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* A streamed output (-o): opened at start-up, truncated at outfile_begin. */
struct outfile {
	const char *opt;	/* the option that named it, for messages ("-o") */
	char *path;		/* as given */
	FILE *f;		/* open from outfile_open to outfile_close; NULL otherwise */
	int created;		/* did not exist before outfile_open: removed if never begun */
	int regular;		/* a regular file: truncated at begin; anything else written in place */
	int begun;		/* outfile_begin ran */
	int failed;		/* a write failed; its error was printed */
	dev_t dev;		/* identity, to refuse the program or another output */
	ino_t ino;
};

/*
 * Open path for writing without changing it: created if absent (and then
 * remembered as ours), never truncated, never blocking (a FIFO with no
 * reader is an error).  0, or -1 with a one-line message in err.
 */
int outfile_open(struct outfile *of, const char *opt, const char *path, char *err, size_t errlen);

/* The run started: truncate a regular file.  0, or -1 after an error line. */
int outfile_begin(struct outfile *of);

/*
 * After writing a record: flush and check.  0, or -1 (the first failure
 * prints one error line; later records are dropped).
 */
int outfile_flush(struct outfile *of);

/* Close (checked like outfile_flush).  Precondition: of was opened. */
int outfile_close(struct outfile *of);

/* The run never started: close, and remove the file if outfile_open made it. */
void outfile_abandon(struct outfile *of);

/*
 * --sarif and friends, checked at start-up without touching path: the
 * directory exists and is writable (or path is a writable existing file),
 * path is not a directory or a dangling symbolic link.  On success *dev /
 * *ino identify the existing file (0 / 0 if absent).
 */
int outfile_check(const char *opt, const char *path, dev_t *dev, ino_t *ino, char *err,
		  size_t errlen);

/*
 * Write a whole file: emit(f, arg) produces the content.  A regular file
 * (or an absent one) is replaced atomically through a mkstemp() file in its
 * directory (falling back to writing in place when that directory cannot
 * take one); a symbolic link is followed and its target replaced; anything
 * else is written in place.  0, or -1 with a one-line message in err.
 */
int outfile_replace(const char *opt, const char *path, void (*emit)(FILE *f, void *arg),
		    void *arg, char *err, size_t errlen);

/* The file a command would run: path if it has a '/', else the first
 * regular file of that name in $PATH.  0 with its identity, or -1. */
int outfile_program_id(const char *prog, dev_t *dev, ino_t *ino);

#endif
