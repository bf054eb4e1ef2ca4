/* tui_fixture.c: the source the TUI golden screens show (tests/integration/tui.sh).
 * Line 11 holds an ESC byte and a tab: the detail view must show them escaped. */
int counter;

void bump(void)
{
	counter++;	/* FIXTURE-WRITE */
}

/* the next line has a control character in a comment */
/* [31mred */
int peek(void)
{
	return counter;	/* FIXTURE-READ */
}
