#!/bin/sh
# Install what racewatch needs to build and test, from Debian's packages.
# libc6-dbg: libc's separate debug info, so stack frames in libc get
# function and file:line (racewatch follows build ids as gdb does).
# Idempotent: when every package is already installed it only runs dpkg-query
# once and exits, so `make test` stays fast on a machine that has them.
set -eu

PKGS="gcc make pkg-config libdwarf-dev libelf-dev libncurses-dev libzydis-dev
libunwind-dev libcmocka-dev libjson-c-dev tmux gdb clang libclang-rt-14-dev libc6-dbg binutils"

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
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "racewatch: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# One update per machine is enough; skip it when the lists are fresh.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	$SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
