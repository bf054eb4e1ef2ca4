/*
 * progout — under `run --tui`, the program's own output must neither tear
 * the screen nor be lost.  When its stdout or stderr is the terminal, that
 * stream goes to $TMPDIR/racewatch-PID.out instead (output already
 * redirected elsewhere stays where it is); the TUI names the file on its
 * message line and again on the restored terminal.  A file nothing was
 * written to is removed at the end.
 */
#include "tui_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int outfd = -1;			/* the file, open for the child to inherit */
static char out_path[4096];

void progout_open(void)
{
	const char *dir = getenv("TMPDIR");

	if (!isatty(1) && !isatty(2))
		return;
	snprintf(out_path, sizeof(out_path), "%s/racewatch-%d.out", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	/* Close-on-exec: only the dup2 copies in the child survive its exec. */
	outfd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (outfd < 0)
		rw_warn("--tui: cannot create %s (%s): the program's output will tear the screen",
			out_path, strerror(errno));
}

const char *progout_path(void)
{
	return outfd >= 0 ? out_path : NULL;
}

void progout_child(void)
{
	if (outfd < 0)
		return;
	if (isatty(1))
		dup2(outfd, 1);
	if (isatty(2))
		dup2(outfd, 2);
}

void progout_close(void)
{
	struct stat sb;

	if (outfd < 0)
		return;
	if (fstat(outfd, &sb) == 0 && sb.st_size > 0)
		fprintf(stderr, "racewatch: the program's output is in %s\n", out_path);
	else
		unlink(out_path);
	close(outfd);
	outfd = -1;
}
