"""harness — the test runner of ferry's integration tests.

Each test file registers functions with @test and calls run(); they execute
in order and print TAP ("ok N - name" / "not ok N - name", then "1..N"),
which automake's TAP driver counts.  Every test runs under an alarm so that
nothing can hang the suite, and the cleanups a test registered with
on_cleanup() (stopping, by PID, every process it started) run when the
test ends.
"""
import signal
import sys
import time
import traceback

_tests = []
_cleanups = []
_dirs = []          # temporary folders, removed when every test passed


def test(fn=None, *, timeout=60, todo=None):
    """Register fn as a test; it fails by raising (assert) and may take at
    most `timeout` seconds.  todo="reason": a known bug; the result carries
    the TAP "# TODO" directive (a failure is expected and not counted, a
    pass shows as an unexpected pass: then drop the marker)."""
    def reg(f):
        _tests.append((f, timeout, todo))
        return f
    return reg(fn) if fn else reg


def skip(reason):
    raise SkipTest(reason)


class SkipTest(Exception):
    pass


class Timeout(Exception):
    pass


def on_cleanup(fn):
    """Run fn when the current test ends, pass or fail."""
    _cleanups.append(fn)


def remove_if_all_pass(path):
    """Remove the temporary folder path when run() ends with every test
    passed (kept for a look otherwise)."""
    _dirs.append(path)


def _alarm(signum, frame):
    raise Timeout("test took too long")


def run():
    signal.signal(signal.SIGALRM, _alarm)
    failed = 0
    for n, (fn, timeout, todo) in enumerate(_tests, 1):
        name = fn.__name__.replace("_", " ")
        if fn.__doc__:
            name = fn.__doc__.strip().splitlines()[0]
        status, diag = "ok", ""
        signal.alarm(timeout)
        try:
            fn()
        except SkipTest as e:
            status = "ok"
            name += " # SKIP " + str(e)
        except BaseException:  # noqa: B902 - report everything, go on
            status = "not ok"
            diag = traceback.format_exc()
        finally:
            signal.alarm(0)
            while _cleanups:
                try:
                    _cleanups.pop()()
                except BaseException:
                    diag += "cleanup: " + traceback.format_exc()
        if todo and " # SKIP " not in name:
            name += " # TODO " + todo
        elif status != "ok":
            failed += 1
        print(f"{status} {n} - {name}", flush=True)
        for line in diag.splitlines():
            print("#   " + line)
        sys.stdout.flush()
    print(f"1..{len(_tests)}", flush=True)
    if not failed:
        import shutil
        for d in _dirs:
            shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failed else 0)


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
