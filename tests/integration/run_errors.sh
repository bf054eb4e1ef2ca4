#!/usr/bin/env bash
# run_errors.sh — every way `racewatch run` can be misused ends the same way:
# exactly one line "racewatch: ..." on stderr, nothing on stdout, a non-zero
# status (2 for bad usage or a bad watch expression, 127 when the program
# does not exist, 126 when it cannot be executed), the program never ran, and
# no process is left behind.
#
# What "not an ELF file" means for `run`: the tracer reads the image the
# kernel actually loaded.  A `#!` script is a valid program whose image is
# its interpreter, so
#   - `run -- script` just runs it (run_passthrough.sh checks that), and
#   - `run -w foo -- script` runs it, foo waiting for a program the script
#     execs (issue 17); at exit one error names where foo was looked for
#     (case script-without-var below);
# while a file that the kernel refuses to load (here: executable, starting
# with the ELF magic but truncated) is "cannot execute", status 126, like a
# file without execute permission.
#
# None of this is about a backend: every case runs under the default
# (auto), and none needs a trap to be delivered.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

# The processes this script started that are still around: anything whose
# command line names a file in $TMP (every program below lives there).
# The pattern goes through the environment so that awk's own command line
# does not match it.
strays() {
	ps -eo pid=,stat=,args= | T="$TMP/" awk 'index($0, ENVIRON["T"]) && $2 !~ /^Z/ { print $1 }'
}
no_strays() { [ -z "$(strays)" ]; }

# err_case NAME WANT_RC PATTERN ARGS...: `racewatch ARGS` exits WANT_RC with
# exactly one stderr line "racewatch: ..." that matches PATTERN (grep -Ei),
# prints nothing on stdout, never runs the program, leaves no process.
err_case() {
	local t=errors/$1 want=$2 pat=$3 rc lines why="" s
	shift 3
	rm -f "$TMP/ran"
	( rw "$@" </dev/null >"$TMP/e.out" 2>"$TMP/e.err"; echo $? >"$TMP/e.rc" ) 2>/dev/null
	rc=$(cat "$TMP/e.rc")
	lines=$(grep -c '' "$TMP/e.err")
	if [ "$rc" != "$want" ]; then
		why="$(why_rc "$rc"), want $want"
	elif [ "$lines" != 1 ]; then
		why="$lines lines on stderr, want 1"
	elif ! grep -q '^racewatch: ' "$TMP/e.err"; then
		why="stderr line does not start with 'racewatch: '"
	elif [ -n "$pat" ] && ! grep -Eiq -- "$pat" "$TMP/e.err"; then
		why="message does not match /$pat/"
	elif [ -s "$TMP/e.out" ] || [ -e "$TMP/ran" ]; then
		why="the program ran (stdout: $(head -c 100 "$TMP/e.out" | tr '\n' '|'))"
	fi
	if ! retry_until 3 no_strays; then
		s=$(strays)
		why="${why:+$why; }left behind: $(ps -o pid=,stat=,args= -p "$(echo $s | tr ' ' ,)" | tr '\n' '|' | cut -c1-200)"
		# shellcheck disable=SC2086
		kill -9 $s 2>/dev/null
	fi
	if [ -n "$why" ]; then
		fail "$t" "$why; stderr: $(head -n 3 "$TMP/e.err" | tr '\n' '|' | cut -c1-300)"
	else
		pass "$t"
	fi
}

if [ ! -x "$RW" ]; then
	fail errors/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
case "$PROBE_OUT" in
*"ptrace: "*) ;;
*) fail errors/probe "racewatch probe printed no 'ptrace:' line: $(printf '%s' "$PROBE_OUT" | tr '\n' ' ')"; exit 0 ;;
esac
if [ "$HAVE_PTRACE" != 1 ]; then
	skip errors "ptrace is not allowed here ($(probe_line ptrace | cut -c1-120))"
	exit 0
fi
if [ ! -x "$SAMPLES/basic/race_rw-O2" ]; then
	fail errors/samples "samples not built ($SAMPLES/basic/race_rw-O2)"
	exit 0
fi

# A private copy of the racy sample, so that a stray is recognisable by its
# path.  Told to loop for seconds: if it were started and abandoned, it would
# still be there to be seen.
P=$TMP/race_rw-errors
cp "$SAMPLES/basic/race_rw-O2" "$P"
LONG=2000000000

err_case unknown-variable 2 'did you mean.*\<foo\>' run -w fooo -- "$P" $LONG
err_case malformed-expression 2 'foo\[' run -w 'foo[' -- "$P" $LONG
err_case tls-variable 2 'tls_var.*thread|thread.*tls_var' run -w tls_var -- "$P" $LONG
err_case bad-range-expression 2 '' run -w '0x1000:0' -- "$P" $LONG

err_case nonexistent-program 127 'no-such-program' run -- "$TMP/no-such-program" x
err_case nonexistent-in-path 127 'rw-no-such-command' run -- rw-no-such-command x

# Not executable: no execute permission.
cp "$P" "$TMP/not-executable"
chmod 644 "$TMP/not-executable"
err_case not-executable 126 'not-executable' run -- "$TMP/not-executable" $LONG

# Not an ELF the kernel will load: ELF magic, truncated (see the header).
printf '\177ELF\002\001\001\000truncated\n' >"$TMP/not-elf"
chmod 755 "$TMP/not-elf"
err_case not-elf 126 'not-elf' run -- "$TMP/not-elf"

# A #! script: its image is /bin/sh, which has no foo.  Wrappers exec the
# program that defines the name, so the name waits (issue 17): the script
# runs as it would, and at exit one error says where foo was looked for.
printf '#!/bin/sh\necho ran >%s\necho script ran\n' "$TMP/ran" >"$TMP/script-without-var"
chmod 755 "$TMP/script-without-var"
rm -f "$TMP/ran"
trace "$TMP/sw" run -q -w foo -- "$TMP/script-without-var"
if [ "$RC" = 0 ] && [ -e "$TMP/ran" ] && grep -q '^script ran$' "$TMP/sw.out" &&
   [ "$(grep -c '' "$TMP/sw.err")" = 1 ] && grep -Eq '^racewatch: -w foo: not found in .*sh' "$TMP/sw.err"; then
	pass errors/script-without-var
else
	fail errors/script-without-var "$(why_rc "$RC"); stderr: $(tail_of "$TMP/sw.err")"
fi

# Usage errors.
err_case unknown-option 2 'bogus' run --bogus -w foo -- "$P" $LONG
err_case option-without-argument 2 '' run -w
err_case no-program 2 '' run -w foo
err_case no-program-after-dashes 2 '' run -w foo --
err_case bogus-backend 2 'bogus' run --backend bogus -w foo -- "$P" $LONG
err_case delay-0 2 'delay' run --delay 0 -w foo -- "$P" $LONG
err_case sample-0 2 'sample' run --sample 0 -w foo -- "$P" $LONG
err_case exitcode-256 2 'exitcode' run --exitcode 256 -w foo -- "$P" $LONG
err_case unknown-command 2 'bogus' bogus -- "$P" $LONG
exit 0
