#!/bin/sh
# run-fuzz.sh TARGET [SECONDS] — fuzz one codec with libFuzzer.
#
# Builds tests/fuzz/targets/fuzz_TARGET.c with clang's libFuzzer, ASan and UBSan
# into a temporary directory, runs it for SECONDS (default $FUZZ_SECONDS,
# else 60) on a copy of tests/fuzz/corpus/TARGET with tests/fuzz/dict/TARGET.dict
# when there is one, and prints one TAP test. On a crash, leak or timeout
# the reproducer is copied to tests/artifacts/fuzz/ (replay it with
# tests/fuzz/replay_TARGET FILE) and the script exits 1.
#
# Works from any directory: the source tree is found from this script's
# path. CLANG overrides the compiler (default /usr/bin/clang); the fuzzer
# runtime comes from Debian's libclang-rt-14-dev.
set -u

usage() {
	echo "usage: $0 TARGET [SECONDS]   (TARGET: stun, ws, jwt, turn, conf, http, signaling)" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
target=$1
secs=${2:-${FUZZ_SECONDS:-60}}
case $secs in
''|*[!0-9]*) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
top=$(cd "$here/../.." && pwd) || exit 2

# The project sources each target links, relative to the top of the tree.
# A new target needs a line here (extra_libs for libraries beyond
# libcrypto, libssl and libjansson) and its targets/fuzz_NAME.c and corpus/NAME/.
# turn and signaling drive whole engines: they link every module but the
# two mains (as the tests link libferry.a), so a module's new dependency
# needs no change here, with the libraries `pkg-config` names.
extra_libs=""
pkgs="libevent_core libevent_extra libevent_pthreads libevent_openssl libssl libcrypto sqlite3 libmicrohttpd jansson"
case $target in
stun)	srcs="src/stun/codes.c src/stun/parse.c src/stun/attr.c src/stun/integrity.c src/stun/build.c src/core/utf8.c src/core/hmac.c" ;;
ws)	srcs="src/http/ws.c src/core/util.c src/core/utf8.c" ;;
jwt)	srcs="src/auth/jwt.c src/core/util.c src/core/hmac.c" ;;
conf)	srcs="src/conf/conf.c src/conf/directives.c src/conf/types.c src/conf/value.c src/conf/defaults.c src/conf/print.c src/conf/reload.c src/conf/report.c src/core/net.c src/core/log.c src/core/util.c src/core/peerfilter.c src/core/names.c" ;;
http)	srcs="src/http/parse.c src/core/names.c" ;;
turn|signaling)
	srcs=$(cd "$top" && ls src/*/*.c | tr '\n' ' ')
	# the engine fixture the turn target shares with tests/unit/turn
	[ "$target" = turn ] && srcs="$srcs tests/lib/turn_fixture.c"
	extra_libs=$(pkg-config --libs $pkgs 2>/dev/null) ||
		extra_libs="-levent_core -levent_extra -levent_pthreads -levent_openssl -lsqlite3 -lmicrohttpd"
	;;
*)	usage ;;
esac

name="fuzz $target for $secs s"
# Show the sanitizer's report from its first line (where the stack trace
# is), else the end of the log.
fail() {
	echo "not ok 1 - $name"
	if [ $# -gt 0 ]; then
		first=$(grep -n -m1 -E 'ERROR: |runtime error|deadly signal|Timeout|out-of-memory' "$1" | cut -d: -f1)
		if [ -n "$first" ]; then
			sed -n "${first},$((first + 30))p" "$1"
		else
			tail -n 30 "$1"
		fi | sed 's/^/# /'
	fi
	echo "1..1"
	exit 1
}

clang=${CLANG:-/usr/bin/clang}
if [ ! -x "$clang" ]; then
	echo "ok 1 - $name # SKIP $clang not found"
	echo "1..1"
	exit 0
fi
[ -f "$here/targets/fuzz_$target.c" ] || fail
[ -d "$here/corpus/$target" ] || fail

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fuzz-$target.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

sources=""
for s in $srcs; do
	sources="$sources $top/$s"
done

# config.h (PACKAGE_VERSION and the like) comes from a configured tree;
# outside one, a stand-in is enough for the fuzzers.
cfgdir="$tmp/cfg"
mkdir -p "$cfgdir"
if [ -f "$top/config.h" ]; then
	cp "$top/config.h" "$cfgdir/config.h"
else
	printf '#define PACKAGE "ferry"\n#define PACKAGE_NAME "ferry"\n#define PACKAGE_VERSION "fuzz"\n#define VERSION "fuzz"\n#define PACKAGE_STRING "ferry fuzz"\n' \
		>"$cfgdir/config.h"
fi
cflags=$(pkg-config --cflags $pkgs 2>/dev/null)

# shellcheck disable=SC2086 # word splitting of the source list is wanted
if ! "$clang" -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -g -O1 -std=c11 -D_GNU_SOURCE -pthread \
	-DFERRY_SYSCONFDIR='"/etc"' -DFERRY_LOCALSTATEDIR='"/var"' \
	-DFERRY_DATADIR='"/usr/share"' $cflags \
	-I "$cfgdir" -I "$top/src" "$here/targets/fuzz_$target.c" $sources \
	-o "$tmp/fuzz_$target" -lcrypto -lssl $extra_libs -ljansson \
	>"$tmp/build.log" 2>&1; then
	echo "# build failed"
	fail "$tmp/build.log"
fi

mkdir -p "$tmp/corpus" "$tmp/artifacts"
cp -R "$here/corpus/$target/." "$tmp/corpus/"
dict=""
[ -f "$here/dict/$target.dict" ] && dict="-dict=$here/dict/$target.dict"

# shellcheck disable=SC2086
(cd "$tmp" && "./fuzz_$target" -max_total_time="$secs" -timeout=25 \
	-print_final_stats=1 -artifact_prefix="$tmp/artifacts/" $dict \
	corpus) >"$tmp/fuzz.log" 2>&1
rc=$?

if [ $rc -ne 0 ] || [ -n "$(ls -A "$tmp/artifacts")" ]; then
	dest="$top/tests/artifacts/fuzz"
	mkdir -p "$dest"
	for f in "$tmp/artifacts"/*; do
		[ -f "$f" ] || continue
		cp "$f" "$dest/$target-$(basename "$f")"
		echo "# reproducer: $dest/$target-$(basename "$f")"
	done
	fail "$tmp/fuzz.log"
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
echo "ok 1 - $name"
echo "# ${runs:-?} inputs executed"
echo "1..1"
