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
import re
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


def _ephemeral_low():
    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError):
        low = 32768
    return min(low, 49152)


def free_port_range(n, even=False):
    """n consecutive UDP ports free on 127.0.0.1 (the first even when
    asked), below the ephemeral range for the reason free_port gives:
    for a relay-ports range that nothing else will take meanwhile."""
    import random
    for _ in range(500):
        first = random.randrange(10000, _ephemeral_low() - n)
        if even:
            first &= ~1
        socks = []
        try:
            for q in range(first, first + n):
                x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(x)
                x.bind(("127.0.0.1", q))
            return first
        except OSError:
            continue
        finally:
            for x in socks:
                x.close()
    raise RuntimeError("no free port range")


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host.

    Chosen below the kernel's ephemeral range (and so below the relay
    range too): a port taken from bind(0) could be handed by the kernel
    to another process's client socket before our server binds it."""
    import random
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    low = _ephemeral_low()
    for _ in range(500):
        port = random.randrange(10000, low)
        u = socket.socket(family, socket.SOCK_DGRAM)
        t = socket.socket(family, socket.SOCK_STREAM)
        try:
            u.bind((host, port))
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def kill_at_cleanup(p):
    """Kill the child process p (if it still runs) when the test ends."""
    def stop():
        if p.poll() is None:
            p.kill()
        p.wait()
    on_cleanup(stop)
    return p


def port_free(port, kind=socket.SOCK_DGRAM):
    """True when nothing holds 127.0.0.1:port (UDP, or kind)."""
    probe = socket.socket(socket.AF_INET, kind)
    try:
        probe.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def start_turn_peer():
    """coturn's turnutils_peer (a UDP echo peer) on a free loopback port,
    stopped by PID when the test ends.  Returns the port, once the peer
    holds it."""
    port = free_port()
    p = kill_at_cleanup(subprocess.Popen(
        ["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: not port_free(port) or p.poll() is not None, 5,
             "turnutils_peer to bind")
    assert p.poll() is None, "turnutils_peer exited at start"
    return port


def start_uclient(port, peer_port, args, n=10, z=5):
    """coturn's turnutils_uclient against 127.0.0.1:port, relaying n
    messages every z ms to turnutils_peer on peer_port; args are its flags
    and credentials.  Killed when the test ends (it never frees its
    allocations: give each run its own ferryd)."""
    argv = ["turnutils_uclient", "-p", str(port), "-e", "127.0.0.1",
            "-r", str(peer_port), "-n", str(n), "-z", str(z), "-l", "120",
            *args, "127.0.0.1"]
    return kill_at_cleanup(subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True))


def uclient_result(p, timeout=25):
    """(sent, received, lost, output) of a finished turnutils_uclient;
    (0, 0, None, output) when it could not allocate.  Datagrams the client
    itself failed to send are an error."""
    out, _ = p.communicate(timeout=timeout)
    if "Cannot complete Allocation" in out:
        return 0, 0, None, out
    sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", out, re.M)
    lost = re.search(r"Total lost packets (\d+) \(", out)
    dropped = re.search(r"total send dropped (\d+) \(", out)
    assert sent and lost and dropped, "unexpected uclient output:\n" + out[-3000:]
    assert int(dropped.group(1)) == 0, out[-2000:]
    return int(sent[-1][0]), int(sent[-1][1]), int(lost.group(1)), out


def relay_only(sdp):
    """The SDP without its non-relay candidates; also the kept lines (a
    WebRTC call forced through the TURN relay)."""
    kept, out = [], []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            if " typ relay" not in line:
                continue
            kept.append(line)
        out.append(line)
    return "\r\n".join(out) + "\r\n", kept


def server_closed(sock, timeout=5.0):
    """True when the server ends sock (FIN or reset) within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


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
        _dirs.append(self.dir)
        self.host = host
        self.port = free_port(host) if listen else None
        self.http_port = free_port(host) if http else None
        lines = []
        # a "listen" line of conf's own (not tls-listen or https-listen)
        if listen and not re.search(r"^\s*listen\s*=", conf, re.M):
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
        # A restart appends to the same log: wait for a new "started".
        starts = self.read_log().count("started")
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen([FERRYD, "-f", "-c", self.conf_path] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        on_cleanup(self.kill)
        if wait:
            wait_for(lambda: self.read_log().count("started") > starts or
                     self.proc.poll() is not None,
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


# ------------------------------------------------------------------ HTTP

def http_request(port, method, path, body=None, headers=None,
                 host="127.0.0.1", timeout=5.0):
    """One HTTP/1.1 request on a fresh connection: (status, headers with
    lower-case names, body bytes).  path is sent as given (no
    normalisation), so it can carry '..' and percent escapes."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def http_json(port, method, path, **kw):
    """http_request() for a JSON endpoint: (status, headers, parsed body),
    asserting the headers every JSON response must carry."""
    import json
    status, hdrs, data = http_request(port, method, path, **kw)
    assert hdrs.get("content-type", "").split(";")[0] == "application/json", \
        (path, status, hdrs)
    assert hdrs.get("cache-control") == "no-store", (path, status, hdrs)
    return status, hdrs, json.loads(data)


def metric(port, name, labels=None):
    """The value of one sample of /metrics (None when absent)."""
    status, _, data = http_request(port, "GET", "/metrics")
    assert status == 200, status
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                   if labels else "")
    for line in data.decode().splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    return None


def jwt_hs256(claims, secret, header=None):
    """A JWT (RFC 7519) signed HS256 with secret, made here independently
    of ferry's own code."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=")
    h = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(secret.encode(), h + b"." + p, hashlib.sha256).digest())
    return (h + b"." + p + b"." + sig).decode()


def turn_rest_password(secret, username):
    """draft-uberti-behave-turn-rest-00: base64(HMAC-SHA1(secret, username))."""
    import base64
    import hashlib
    import hmac
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


# ------------------------------------------------------------- WebSocket

class WSClosed(Exception):
    """The WebSocket was closed; .code and .reason as received (None when
    the TCP connection ended without a close frame)."""
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class WS:
    """A synchronous face on Debian's python3-websockets (10.x, asyncio
    API), an independent RFC 6455 client: its loop runs in a daemon thread
    and every call waits a bounded time.  Answers server pings itself
    (websockets does); sends none of its own."""
    _loop = None

    @classmethod
    def _run(cls, coro, timeout):
        import asyncio
        import threading
        if cls._loop is None:
            cls._loop = asyncio.new_event_loop()
            threading.Thread(target=cls._loop.run_forever, daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, cls._loop).result(timeout)

    def __init__(self, port, path="/ws", host="127.0.0.1", timeout=5.0,
                 ssl_context=None, **kw):
        """ssl_context: an ssl.SSLContext to connect with wss:// instead."""
        import websockets
        scheme = "wss" if ssl_context is not None else "ws"
        if ssl_context is not None:
            kw["ssl"] = ssl_context

        async def connect():
            return await websockets.connect(
                f"{scheme}://{host}:{port}{path}", ping_interval=None, compression=None,
                close_timeout=2, max_size=None, open_timeout=timeout, **kw)
        self.ws = self._run(connect(), timeout + 1)
        on_cleanup(self.abort)

    def send(self, obj):
        import json
        self.send_raw(json.dumps(obj))

    def send_raw(self, data):
        """str: a text frame; bytes: a binary frame."""
        async def send():
            await self.ws.send(data)
        self._run(send(), 5)

    def recv(self, timeout=3.0):
        """The next message, parsed; raises WSClosed, or AssertionError on
        silence."""
        import asyncio
        import concurrent.futures
        import json
        import websockets
        try:
            data = self._run(asyncio.wait_for(self.ws.recv(), timeout), timeout + 2)
        except (asyncio.TimeoutError, concurrent.futures.TimeoutError):
            raise AssertionError(f"no message within {timeout}s") from None
        except websockets.ConnectionClosed as e:
            rc = e.rcvd
            raise WSClosed(rc.code if rc else None, rc.reason if rc else None) from None
        assert isinstance(data, str), f"binary frame from the server: {data!r}"
        return json.loads(data)

    def expect(self, mtype, timeout=3.0, **members):
        """The next message, asserting its type and the given members."""
        m = self.recv(timeout)
        assert m.get("type") == mtype, f"wanted {mtype}, got {m}"
        for k, v in members.items():
            assert m.get(k) == v, f"{mtype}.{k}: wanted {v!r}, got {m}"
        return m

    def silent(self, timeout=0.5):
        """Assert that nothing arrives for timeout seconds."""
        try:
            m = self.recv(timeout)
        except AssertionError:
            return
        raise AssertionError(f"unexpected message {m}")

    def expect_close(self, timeout=5.0):
        """Wait for the server to close; (code, reason).  Messages before
        the close are returned too: (code, reason, [messages])."""
        import time as _t
        got = []
        deadline = _t.monotonic() + timeout
        while True:
            left = deadline - _t.monotonic()
            assert left > 0, f"not closed within {timeout}s (got {got})"
            try:
                got.append(self.recv(left))
            except WSClosed as e:
                return e.code, e.reason, got

    def ping_frame(self, payload=b"hi", timeout=3.0):
        """Send a WebSocket ping frame; True once its pong came back."""
        import asyncio
        waiter = self._run(self.ws.ping(payload), 3)
        self._run(asyncio.wait_for(waiter, timeout), timeout + 2)
        return True

    def close(self, code=1000):
        try:
            self._run(self.ws.close(code), 5)
        except Exception:   # noqa: BLE001 - already gone
            pass

    def abort(self):
        """Drop the TCP connection without a closing handshake."""
        async def _abort():
            self.ws.transport.abort()
        try:
            self._run(_abort(), 2)
        except Exception:   # noqa: BLE001
            pass


class RawWS:
    """A hand-made RFC 6455 client over a blocking socket, for what a
    well-behaved library will not send (unmasked frames, bad UTF-8,
    oversized headers) and for clients that stop reading or answering."""

    def __init__(self, port, host="127.0.0.1", path="/ws", headers=None,
                 rcvbuf=None, timeout=5.0):
        import base64
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        on_cleanup(self.sock.close)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": f"{host}:{port}", "Upgrade": "websocket",
             "Connection": "Upgrade", "Sec-WebSocket-Key": key,
             "Sec-WebSocket-Version": "13"}
        h.update(headers or {})
        req = f"GET {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in h.items() if v is not None) + "\r\n"
        self.sock.sendall(req.encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])
        assert self.status == 101, head

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, length=None):
        """length: the payload length to announce (default: the real one)."""
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | opcode
        m = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, m | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, m | 127, n)
        if mask:
            k = os.urandom(4)
            payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
            hdr += k
        self.sock.sendall(hdr + payload)

    def send_text(self, text):
        self.send_frame(0x1, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        import json
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=5.0):
        """(fin, opcode, payload); EOFError when the connection ends."""
        self.sock.settimeout(timeout)
        b0, b1 = self._need(2)
        assert not b1 & 0x80, "the server masked a frame"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._need(n)

    def recv_json(self, timeout=5.0):
        """The next text message (pings are answered, pongs skipped)."""
        import json
        while True:
            fin, op, data = self.recv_frame(timeout)
            if op == 0x9:
                self.send_frame(0xA, data)
            elif op == 0x1:
                return json.loads(data)
            elif op == 0x8:
                raise WSClosed(*close_payload(data))
            elif op != 0xA:
                raise AssertionError(f"unexpected opcode {op}")

    def expect_close(self, timeout=5.0):
        """Read until a close frame: (code, reason); other frames ignored."""
        import time as _t
        deadline = _t.monotonic() + timeout
        while True:
            left = deadline - _t.monotonic()
            assert left > 0, f"no close frame within {timeout}s"
            fin, op, data = self.recv_frame(left)
            if op == 0x8:
                return close_payload(data)


def close_payload(data):
    if len(data) >= 2:
        return struct.unpack("!H", data[:2])[0], data[2:].decode(errors="replace")
    return None, ""
