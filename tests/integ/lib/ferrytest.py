"""ferrytest — the harness of ferry's integration tests.

Each test file registers functions with @test and calls run(); they execute
in order and print TAP ("ok N - name" / "not ok N - name", then "1..N"),
which automake's TAP driver counts.  Every test runs under an alarm so that
nothing can hang the suite, and every process a test starts is stopped by
its PID when the test ends.

Ferryd(...) starts the real daemon from $FERRYD on loopback with ports
chosen free, a temporary directory for its config, database and log, and
stops it with SIGTERM, checking that it exits 0.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

FERRYD = os.environ.get("FERRYD", os.path.abspath("src/ferryd"))
FERRYCTL = os.environ.get("FERRYCTL", os.path.abspath("src/ferryctl"))
SRCDIR = os.environ.get("FERRY_SRCDIR", os.path.abspath("."))
BUILDDIR = os.environ.get("FERRY_BUILDDIR", os.path.abspath("."))
ARTIFACTS = os.path.join(BUILDDIR, "tests", "artifacts")

_tests = []
_cleanups = []


def test(fn=None, *, timeout=60):
    """Register fn as a test; it fails by raising (assert) and may take at
    most `timeout` seconds."""
    def reg(f):
        _tests.append((f, timeout))
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


def _alarm(signum, frame):
    raise Timeout("test took too long")


def run():
    signal.signal(signal.SIGALRM, _alarm)
    failed = 0
    for n, (fn, timeout) in enumerate(_tests, 1):
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
        if status != "ok":
            failed += 1
        print(f"{status} {n} - {name}", flush=True)
        for line in diag.splitlines():
            print("#   " + line)
        sys.stdout.flush()
    print(f"1..{len(_tests)}", flush=True)
    sys.exit(1 if failed else 0)


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host, outside the relay range."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200):
        u = socket.socket(family, socket.SOCK_DGRAM)
        u.bind((host, 0))
        port = u.getsockname()[1]
        t = socket.socket(family, socket.SOCK_STREAM)
        try:
            t.bind((host, port))
            if port < 49152:
                return port
        except OSError:
            pass
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ------------------------------------------------------------------ STUN

MAGIC = 0x2112A442


def stun_request(method=0x001, attrs=b"", tid=None, cls=0):
    """A STUN message: method with class bits interleaved (RFC 8489 §5)."""
    t = ((method & 0xF80) << 2) | ((method & 0x070) << 1) | (method & 0x00F)
    t |= ((cls & 2) << 7) | ((cls & 1) << 4)
    tid = tid or os.urandom(12)
    return struct.pack("!HHI", t, len(attrs), MAGIC) + tid + attrs


def stun_attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def stun_parse(data):
    """(type, tid, {attr type: [values]}) of a STUN message, or None."""
    if len(data) < 20:
        return None
    mtype, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or length + 20 != len(data):
        return None
    attrs, off = {}, 20
    while off + 4 <= len(data):
        at, al = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(at, []).append(data[off + 4:off + 4 + al])
        off += 4 + al + (4 - al % 4) % 4
    return mtype, data[8:20], attrs


def xor_addr(value, tid):
    """Decode an XOR-*-ADDRESS value into (ip, port)."""
    family = value[1]
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    if family == 1:
        raw = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
        return socket.inet_ntop(socket.AF_INET, raw), port
    key = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(value[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def error_code(attrs):
    v = attrs.get(0x0009, [None])[0]
    if v is None:
        return None
    return (v[2] & 7) * 100 + v[3]


def udp_exchange(addr, msg, timeout=2.0, family=socket.AF_INET, expect=True):
    """Send msg over UDP to addr; the reply's bytes, or None on silence."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, addr)
        try:
            return s.recvfrom(70000)[0]
        except socket.timeout:
            if expect:
                raise AssertionError(f"no UDP answer from {addr}")
            return None
    finally:
        s.close()


def tcp_read_message(s, timeout=2.0):
    """One STUN message from a stream (blocking, bounded by timeout)."""
    s.settimeout(timeout)
    buf = b""
    while len(buf) < 20:
        chunk = s.recv(20 - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    length = struct.unpack("!H", buf[2:4])[0]
    while len(buf) < 20 + length:
        chunk = s.recv(20 + length - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


# ------------------------------------------------------------------ ferryd

class Ferryd:
    """The real ferryd, run in the foreground with a generated config.

    conf: extra config lines (str).  The listen and http-listen lines are
    added unless conf sets them.  .port / .http_port are the chosen ports,
    .dir the temporary directory, .log the path of its stderr."""

    def __init__(self, conf="", listen=True, http=True, start=True,
                 host="127.0.0.1", args=()):
        self.dir = tempfile.mkdtemp(prefix="ferry-test-")
        self.host = host
        self.port = free_port(host) if listen else None
        self.http_port = free_port(host) if http else None
        lines = []
        if listen and "listen =" not in conf.split("tls-listen")[0] and \
                not conf.lstrip().startswith("listen"):
            lines.append(f"listen = {self._fmt(host, self.port)}")
        if http and "http-listen" not in conf:
            lines.append(f"http-listen = {self._fmt(host, self.http_port)}")
        if "database" not in conf:
            lines.append(f"database = {self.dir}/ferry.db")
        if "threads" not in conf:
            lines.append("threads = 2")
        if "log-level" not in conf:
            lines.append("log-level = debug")
        if "web-root" not in conf:
            lines.append("web-root =")
        self.conf_path = os.path.join(self.dir, "ferryd.conf")
        self.write_conf("\n".join(lines) + "\n" + conf + "\n")
        self.log = os.path.join(self.dir, "stderr.log")
        self.args = list(args)
        self.proc = None
        if start:
            self.start()

    @staticmethod
    def _fmt(host, port):
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def write_conf(self, text):
        with open(self.conf_path, "w") as f:
            f.write(text)

    def start(self, wait=True):
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen([FERRYD, "-f", "-c", self.conf_path] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        on_cleanup(self.kill)
        if wait:
            wait_for(lambda: "started" in self.read_log() or self.proc.poll() is not None,
                     10, "ferryd to start")
            if self.proc.poll() is not None:
                raise AssertionError("ferryd exited at start:\n" + self.read_log())
        return self

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code (asserting it exits in time)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("ferryd did not stop within %ss of SIGTERM" % timeout)
        self._logf.close()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "_logf", None):
            self._logf.close()

    @property
    def addr(self):
        return (self.host, self.port)

    def binding(self, timeout=2.0):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        reply = udp_exchange(self.addr, stun_request(), timeout, family=fam)
        return stun_parse(reply)


def run_cmd(argv, timeout=30, input=None, env=None):
    """Run a command to completion within timeout; CompletedProcess (text)."""
    return subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


def have(cmd):
    from shutil import which
    return which(cmd) is not None
