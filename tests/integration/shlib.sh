#!/usr/bin/env bash
# shlib.sh — programs as users launch them (issue 17): a racy global that
# lives only in a shared library the program links, a plugin loaded with
# dlopen (and unloaded), and a program started through a #! wrapper and a
# libtool-style wrapper; each with its race-free twin.  Runs on the
# default backend (whatever delivers here).
#
#   reported      the race on the library's variable, named with its object
#   twin          never reported in TWIN_RUNS runs
#   stdout        the program's output is what it is natively
#   waiting       a name not defined yet is one line at start, not an error
#   never         a name nothing defines: at exit one error naming what was
#                 searched, and the program's own exit status
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

RACE_SECS=${RACE_SECS:-30}
TWIN_RUNS=${TWIN_RUNS:-3}
D=$SAMPLES/shlib

# The wrappers, made here: they must name the build directory.
cat >"$TMP/wrapper.sh" <<EOS
#!/bin/sh
exec "$PWD/$D/main_lib-O2" "\$@"
EOS
cat >"$TMP/libtool.sh" <<EOS
#!/bin/sh
# Like the wrappers libtool writes: set up the library path, then exec.
LD_LIBRARY_PATH="$PWD/$D\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
if test -x "$PWD/$D/main_lib-O2"; then exec "$PWD/$D/main_lib-O2" "\$@"; fi
echo "libtool wrapper: program missing" >&2
exit 1
EOS
sed "s/main_lib-O2/main_lib_locked-O2/" "$TMP/wrapper.sh" >"$TMP/wrapper_locked.sh"
chmod +x "$TMP"/*.sh

# reported NAME VAR RE PROG...: retried runs until one reports RE, stdout native.
reported_once() {
	local var=$1 re=$2; shift 2
	trace "$TMP/r" run -w "$var" -- "$@"
	[ "$RC" = 66 ] && grep -Eq "$re" "$TMP/r.err"
}
check_race() {
	local name=$1 var=$2 re=$3; shift 3
	native "$TMP/n" "$@"
	if retry_until "$RACE_SECS" reported_once "$var" "$re" "$@"; then
		if ! cmp -s "$TMP/n.out" "$TMP/r.out"; then
			fail "$name" "stdout differs: $(tail_of "$TMP/r.out")"
		elif ! grep -q "($var (lib[a-z]*\.so))" "$TMP/r.err"; then
			fail "$name" "the variable is not named with its object: $(grep -m1 ' to 0x' "$TMP/r.err")"
		else
			pass "$name"
		fi
	else
		fail "$name" "no report in $RACE_SECS s: $(why_rc "$RC"); $(tail_of "$TMP/r.err")"
	fi
}
check_twin() {
	local name=$1 var=$2; shift 2
	local bad=""
	for i in $(seq "$TWIN_RUNS"); do
		trace "$TMP/t" run -w "$var" -- "$@"
		if [ "$RC" != 0 ] || grep -q 'BUG: racewatch' "$TMP/t.err"; then
			bad="run $i: $(why_rc "$RC"); $(grep -m1 -E 'BUG|racewatch:' "$TMP/t.err")"; break
		fi
		if grep -q ' 0 traps' "$TMP/t.err"; then
			bad="run $i saw no access: $(grep summary "$TMP/t.err")"; break
		fi
	done
	if [ -z "$bad" ]; then pass "$name"; else fail "$name" "$bad"; fi
}

for opt in O1 O2; do
	check_race "shlib/linked-$opt" lib_private_counter 'data-race in lib_bump / lib_peek|data-race in lib_peek / lib_bump' "$D/main_lib-$opt"
	check_twin "shlib/linked-twin-$opt" lib_private_counter "$D/main_lib_locked-$opt"
	check_race "shlib/dlopen-$opt" plug_var 'data-race in plug_work' "$D/dlmain-$opt"
	check_twin "shlib/dlopen-twin-$opt" plug_var "$D/dlmain_locked-$opt"
done
check_race "shlib/wrapper" lib_private_counter 'data-race in lib_(bump|peek)' "$TMP/wrapper.sh"
check_race "shlib/libtool-wrapper" lib_private_counter 'data-race in lib_(bump|peek)' "$TMP/libtool.sh"
check_twin "shlib/wrapper-twin" lib_private_counter "$TMP/wrapper_locked.sh"

# Waiting is one line, not an error.
trace "$TMP/w" run -w plug_var -- "$D/dlmain_locked-O2"
if [ "$(grep -c 'plug_var: not defined by the program or the objects loaded so far; waiting' "$TMP/w.err")" = 1 ]; then
	pass "shlib/waiting-line"
else
	fail "shlib/waiting-line" "$(tail_of "$TMP/w.err")"
fi

# A name nothing defines: the program runs, its status is kept, one error at exit.
native "$TMP/nn" "$TMP/wrapper_locked.sh"
trace "$TMP/nv" run -w lib_counter_nosuch -- "$TMP/wrapper_locked.sh"
if [ "$RC" != "$(cat "$TMP/nn.rc")" ]; then
	fail "shlib/never-defined" "status $RC, natively $(cat "$TMP/nn.rc")"
elif ! grep -q "racewatch: -w lib_counter_nosuch: not found in /usr/bin/dash\|racewatch: -w lib_counter_nosuch: not found in /bin/dash\|racewatch: -w lib_counter_nosuch: not found in .*sh, .*main_lib_locked-O2" "$TMP/nv.err"; then
	fail "shlib/never-defined" "no error naming what was searched: $(tail_of "$TMP/nv.err")"
elif ! grep -q 'libshared.so' "$TMP/nv.err"; then
	fail "shlib/never-defined" "the library was not searched: $(grep 'not found' "$TMP/nv.err")"
else
	pass "shlib/never-defined"
fi

# liby.so::name picks the object.
trace "$TMP/q" run -w libshared.so::lib_private_counter -- "$D/main_lib_locked-O2"
if [ "$RC" = 0 ] && grep -q 'summary: 0 races.*1 watched' "$TMP/q.err" && ! grep -q ' 0 traps' "$TMP/q.err"; then
	pass "shlib/qualified-name"
else
	fail "shlib/qualified-name" "$(why_rc "$RC"); $(tail_of "$TMP/q.err")"
fi
