/* Placeholder until the TUI lands: both entry points refuse clearly. */
#include "tui.h"
#include "util.h"

int tui_start(const struct options *o)
{
	(void)o;
	rw_error("--tui: the TUI is not built yet");
	return -1;
}

int tui_view(const char *path)
{
	(void)path;
	rw_error("view: the TUI is not built yet");
	return 2;
}
