/* racewatch — find data races in running programs with hardware watchpoints. */
#include "engine.h"
#include "options.h"
#include "probe.h"
#include "report.h"
#include "sites.h"
#include "util.h"
#include "tui.h"

#include <stdio.h>
#include <stdlib.h>

static int dispatch(struct options *o);

int main(int argc, char **argv)
{
	struct options o;
	int status;

	rw_debug_init();
	if (options_parse(argc, argv, &o, &status) < 0) {
		free(o.watch);
		return status;
	}
	status = dispatch(&o);
	free(o.watch);
	return status;
}

static int dispatch(struct options *op)
{
	struct options o = *op;
	int status;

	switch (o.cmd) {
	case CMD_RUN:
		/* Sinks and suppressions first: a bad file is exit 2 before anything runs. */
		if (report_init(&o) < 0)
			return 2;
		if (o.tui && tui_start(&o) < 0)
			return 2;
		status = engine_run(&o);
		return report_finish(status);
	case CMD_PROBE:
		return probe_main();
	case CMD_VIEW:
		if (o.view_text)
			tui_view_as_text(report_want_color(o.color, stdout));
		return tui_view(o.view_file);
	case CMD_VARS:
		return sites_vars_main(o.vars_prog, o.vars_pattern);
	case CMD_ATTACH:
		if (report_init(&o) < 0)
			return 2;
		if (o.tui && tui_start(&o) < 0)
			return 2;
		status = engine_attach(&o);
		return report_finish(status);
	}
	return 2;
}
