#!/bin/sh
# Install what racewatch needs to build and test, from Debian's packages.
# libc6-dbg: libc's separate debug info, so stack frames in libc get
# function and file:line (racewatch follows build ids as gdb does).
# Idempotent: when every package is already installed it only runs dpkg-query
# once and exits, so `make test` stays fast on a machine that has them.
#
# `deps.sh bench` (make bench) also installs what bench/real.sh needs and
# `make test` does not: wrk (the HTTP load generator), dpkg-dev (apt-get
# source unpacks with dpkg-source), and a deb-src entry for the Debian
# mirror apt is configured with, so that `apt-get source` can fetch the
# real program's source.
set -eu

PKGS="gcc make pkg-config libdwarf-dev libelf-dev libncurses-dev libzydis-dev
libunwind-dev libcmocka-dev libjson-c-dev tmux gdb clang libclang-rt-14-dev libc6-dbg binutils"
BENCH=0
if [ "${1:-}" = bench ]; then
	BENCH=1
	PKGS="$PKGS wrk dpkg-dev"
fi

SUDO=""
need_root() {	# need_root WHAT: sets SUDO, or exits when neither root nor sudo
	[ "$(id -u)" = 0 ] && return 0
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; return 0; fi
	echo "racewatch: need root (or sudo) to $1" >&2
	exit 1
}

# deb-src stanzas for the Debian archives the deb entries name (deb822
# files and one-line sources.list alike); other repositories (vendors'
# packages) are left out: they may publish no sources.
SRC_LIST=/etc/apt/sources.list.d/racewatch-deb-src.sources
have_deb_src() {
	grep -qsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
}
deb_src_stanzas() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)URIs:[^\n]*\/debian(-security)?\/?([[:space:]]|$)/ &&
			/(^|\n)Types:[^\n]*deb/ {
				sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's|^[[:space:]]*deb[[:space:]]\(.*/debian\(-security\)\{0,1\}/\{0,1\}[[:space:]].*\)|deb-src \1|p' "$f"
	done
}
add_deb_src() {
	stanzas=$(deb_src_stanzas)
	if [ -z "$stanzas" ]; then
		echo "racewatch: no Debian archive in apt's sources to add a deb-src entry for" >&2
		return 0	# bench/real.sh then skips with its own reason
	fi
	case $stanzas in Types:*) ;; *) SRC_LIST=${SRC_LIST%.sources}.list ;; esac
	need_root "add $SRC_LIST"
	echo "racewatch: adding deb-src entries for apt-get source: $SRC_LIST" >&2
	printf '# Added by racewatch scripts/deps.sh bench: sources for bench/real.sh\n%s\n' "$stanzas" |
		$SUDO tee "$SRC_LIST" >/dev/null
	$SUDO apt-get update -qq
}
if [ "$BENCH" = 1 ]; then
	have_deb_src || add_deb_src
fi

missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "racewatch: installing build dependencies:$missing" >&2
need_root "install:$missing"
export DEBIAN_FRONTEND=noninteractive
# One update per machine is enough; skip it when the lists are fresh.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	$SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
