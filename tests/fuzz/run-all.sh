#!/bin/sh
# run-all.sh [SECONDS] — fuzz every target in turn with run-fuzz.sh.
#
# Targets: stun ws jwt turn conf http, and signaling when
# tests/fuzz/targets/fuzz_signaling.c exists.  Each runs for SECONDS (default
# $FUZZ_SECONDS, else 60).  Prints TAP, one test per target; the build or
# crash details run-fuzz.sh printed follow a failing line as comments.
# Exits 1 when any target failed (its reproducer is under
# tests/artifacts/fuzz/), 0 otherwise.  Works from any directory.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
secs=${1:-${FUZZ_SECONDS:-60}}
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

targets="stun ws jwt turn conf http"
[ -f "$here/targets/fuzz_signaling.c" ] && targets="$targets signaling"

n=0
failed=0
for t in $targets; do
	n=$((n + 1))
	out=$(FUZZ_SECONDS=$secs sh "$here/run-fuzz.sh" "$t" "$secs" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | grep -m1 -E '^(not )?ok 1 ')
	detail=$(printf '%s\n' "$out" | grep -v -E '^(not )?ok 1 |^1\.\.1$')
	if [ $rc -eq 0 ] && [ -n "$line" ] && [ "${line#not }" = "$line" ]; then
		echo "ok $n - ${line#ok 1 - }"
	else
		failed=$((failed + 1))
		echo "not ok $n - ${line:+${line#not ok 1 - }}${line:-fuzz $t (no result)}"
	fi
	[ -n "$detail" ] && printf '%s\n' "$detail"
done
echo "1..$n"
[ $failed -eq 0 ]
