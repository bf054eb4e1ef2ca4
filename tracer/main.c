/* racewatch — find data races in running programs with hardware watchpoints. */
#include "engine.h"
#include "options.h"
#include "probe.h"
#include "util.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct options o;
	int status;

	if (options_parse(argc, argv, &o, &status) < 0)
		return status;
	switch (o.cmd) {
	case CMD_RUN:
		return engine_run(&o);
	case CMD_PROBE:
		return probe_main();
	case CMD_ATTACH:
		rw_error("attach is not implemented yet");
		return 2;
	}
	return 2;
}
