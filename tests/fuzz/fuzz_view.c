/*
 * libFuzzer harness: a JSON lines report as `racewatch view` reads it.
 * The input is one report file: every line goes through view.c's record
 * reader (jsonread.c over json-c) into the race model, then every race is
 * rendered as the text report, its title and a filtered, sorted list, as
 * the screens and the `e` export would.  view_reset() frees it all, so
 * LeakSanitizer sees any record the reader forgets.
 */
#include "tui_int.h"
#include "report.h"

#include <stdint.h>
#include <stdio.h>

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char title[600];

	if (!sink)
		sink = fopen("/dev/null", "w");
	view_parse((const char *)data, size);
	for (int i = 0; i < model_total(); i++) {
		const struct race *r = model_row(i);

		if (!r)
			break;
		report_title(title, sizeof(title), r);
		report_print_text(sink, r);
	}
	model_set_filter("a");
	(void)model_rows();
	model_cycle_sort();
	(void)model_selected();
	view_reset();
	return 0;
}
