#!/bin/sh
# The call app in real browsers (tests/e2e/*.test.mjs), as a TAP test for
# automake: Debian's /usr/bin/chromium driven by npm's playwright-core,
# against the built ferryd on loopback.  Prints node's TAP (top-level
# "ok N - …", plan "1..N", "# pass N", "# fail N").
#
# Installs what is missing: chromium (Debian package, as root), certutil
# (libnss3-tools: tls.test.mjs makes each chromium trust a private CA through
# an NSS database; it skips its tests without it), then tests/e2e/node_modules
# with `npm ci` from the lock file.  When the source
# tree is read-only (distcheck) the e2e files are copied into the build tree
# and installed there.  FERRY_SKIP_BROWSER=1 skips the whole file.
# interop.test.mjs also runs tests/e2e/aiortc-peer.py with /usr/bin/python3
# (Debian's python3-aiortc and python3-websockets; $AIORTC_PYTHON overrides);
# without them its tests are skipped.
#
# Environment: FERRYD, FERRYCTL, FERRY_SRCDIR, FERRY_BUILDDIR (automake sets
# them); CHROMIUM (default /usr/bin/chromium).
set -u

srcdir=${FERRY_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${FERRY_BUILDDIR:-$srcdir}
chromium=${CHROMIUM:-/usr/bin/chromium}
export FERRY_SRCDIR="$srcdir" FERRY_BUILDDIR="$builddir" CHROMIUM="$chromium"
export FERRYD="${FERRYD:-$builddir/src/ferryd}" FERRYCTL="${FERRYCTL:-$builddir/src/ferryctl}"

skip() { echo "1..0 # SKIP $*"; exit 0; }
fail() { echo "1..1"; echo "not ok 1 - $*"; exit 1; }

[ "${FERRY_SKIP_BROWSER:-0}" = 1 ] && skip "FERRY_SKIP_BROWSER=1"

apt_install() {
	[ "$(id -u)" -eq 0 ] || return 1
	echo "# installing $* from Debian" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

if [ ! -x "$chromium" ]; then
	apt_install chromium || skip "$chromium is missing and cannot be installed (not root)"
	[ -x "$chromium" ] || fail "installing chromium did not give $chromium"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	apt_install nodejs npm || skip "node/npm missing and cannot be installed (not root)"
fi
if ! command -v certutil >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	apt_install libnss3-tools openssl ||
		echo "# certutil/openssl missing and not installable: the TLS browser tests will skip" >&2
fi
aiortc_python=${AIORTC_PYTHON:-/usr/bin/python3}
if ! "$aiortc_python" -c 'import aiortc, websockets' >/dev/null 2>&1; then
	apt_install python3-aiortc python3-websockets ||
		echo "# aiortc/websockets missing and not installable: the interop browser tests will skip" >&2
fi
[ -x "$FERRYD" ] || fail "no ferryd at $FERRYD"

# Where to run: the source tree's tests/e2e, or a copy in the build tree.
e2e="$srcdir/tests/e2e"
if [ ! -d "$e2e/node_modules/playwright-core" ] && [ ! -w "$e2e" ]; then
	run="$builddir/tests/e2e-run"
	mkdir -p "$run" || fail "cannot create $run"
	cp "$e2e"/package.json "$e2e"/package-lock.json "$e2e"/*.mjs "$e2e"/*.py "$run"/ ||
		fail "cannot copy $e2e to $run"
	e2e=$run
fi
if [ ! -d "$e2e/node_modules/playwright-core" ]; then
	(cd "$e2e" && timeout 300 npm ci --no-audit --no-fund >&2) ||
		fail "npm ci in $e2e failed (is the npm registry reachable?)"
fi

mkdir -p "$builddir/tests/artifacts"
cd "$e2e" || fail "cannot enter $e2e"
# Bounded as a whole: each test has its own timeout, this is the backstop.
exec timeout -k 10 600 node --test --test-reporter=tap --test-concurrency=1 ./*.test.mjs
