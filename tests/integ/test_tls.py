"""TLS everywhere: TURN over TLS and DTLS (tls-listen, and sniffed on plain
listen ports), HTTPS and wss:// (https-listen), certificate reload on
SIGHUP, start-up and configuration errors, and the DTLS cookie exchange
under a flood.

The certificates are made here with the openssl command: a private CA, a
server certificate for localhost and 127.0.0.1, a "renewed" one with
another serial and subject, and a key that matches neither.  The clients
are independent of ferry: coturn's turnutils_uclient (-t -S and -S),
Debian's `openssl s_client`, Python's ssl module and python3-websockets;
DTLS ClientHellos for the cookie checks are captured from s_client."""
import atexit
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import on_cleanup, run, skip, test, wait_for  # noqa: E402
from net import free_port  # noqa: E402
from process import (FERRYD, Ferryd, have, run_cmd, start_turn_peer, start_uclient,  # noqa: E402
                     uclient_result, vm_rss_kib)
from stun import stun_parse, stun_request, tcp_read_message, xor_addr  # noqa: E402
from wsclient import WS  # noqa: E402

ATTR_XOR_MAPPED = 0x0020
RELAY = """relay-ip = 127.0.0.1
allow-loopback-peers = yes
user = alice:pw
auth-secret = secret
"""


# ------------------------------------------------------------ certificates

class PKI:
    """A private CA and the server material, made once per run."""
    SERIAL_A, CN_A = "1001", "ferry-test-server"
    SERIAL_B, CN_B = "2002", "ferry-test-renewed"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ferry-pki-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.ca = self.path("ca.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.path("ca.key"),
                      "-out", self.ca, "-days", "2", "-subj", "/CN=ferry test CA")
        with open(self.path("ext.cnf"), "w") as f:
            f.write("basicConstraints = CA:FALSE\n"
                    "keyUsage = digitalSignature\n"
                    "extendedKeyUsage = serverAuth\n"
                    "subjectAltName = DNS:localhost, IP:127.0.0.1\n")
        self.cert_a, self.key_a = self._server("a", self.SERIAL_A, self.CN_A)
        self.cert_b, self.key_b = self._server("b", self.SERIAL_B, self.CN_B)
        self.other_key = self.path("other.key")
        self._openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-out", self.other_key)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _openssl(self, *args):
        r = run_cmd(["openssl"] + list(args), timeout=20)
        assert r.returncode == 0, f"openssl {' '.join(args)}:\n{r.stderr}"
        return r.stdout

    def _server(self, name, serial, cn):
        key, csr, cert = (self.path(name + ext) for ext in (".key", ".csr", ".pem"))
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                      self.path("ca.key"), "-set_serial", "0x" + serial, "-days", "2",
                      "-extfile", self.path("ext.cnf"), "-out", cert)
        out = self._openssl("verify", "-CAfile", self.ca, cert)
        assert "OK" in out, out
        return cert, key

    def copy(self, which="a"):
        """A private copy of a cert/key pair (a reload test rewrites it)."""
        d = tempfile.mkdtemp(prefix="ferry-cert-", dir=self.dir)
        cert, key = (self.cert_a, self.key_a) if which == "a" else (self.cert_b, self.key_b)
        shutil.copy(cert, os.path.join(d, "cert.pem"))
        shutil.copy(key, os.path.join(d, "key.pem"))
        return os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")

    def client_ctx(self, alpn=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx


_pki = None


def pki():
    global _pki
    if not have("openssl"):
        skip("openssl not installed")
    if _pki is None:
        _pki = PKI()
    return _pki


def tls_ferryd(tls=True, https=False, extra="", cert=None, key=None, **kw):
    """A ferryd with cert/key, a plain listen port (.port), and optionally
    tls-listen (.tls_port) and https-listen (.https_port)."""
    p = pki()
    if cert is None:
        cert, key = p.copy("a")
    lines = []
    tls_port = https_port = None
    # tls-listen first: the harness looks for "listen =" before it.
    if tls:
        tls_port = free_port()
        lines.append(f"tls-listen = 127.0.0.1:{tls_port}")
    if https:
        https_port = free_port()
        lines.append(f"https-listen = 127.0.0.1:{https_port}")
    lines += [f"cert = {cert}", f"key = {key}", extra]
    s = Ferryd(conf="\n".join(lines) + "\n", **kw)
    s.tls_port, s.https_port, s.cert, s.key = tls_port, https_port, cert, key
    return s


# ------------------------------------------------------------------ clients

def s_client(port, *args, dtls=False, timeout=10, stdin=b""):
    """openssl s_client against 127.0.0.1:port, verifying the chain and the
    IP SAN against our CA: (returncode, stdout+stderr)."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
            pki().ca, "-verify_return_error", "-verify_ip", "127.0.0.1",
            "-nocommands"] + (["-dtls1_2"] if dtls else []) + list(args)
    r = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def handshake_ok(rc, out, proto=None):
    assert rc == 0, out[-2500:]
    assert "Verify return code: 0 (ok)" in out, out[-2500:]
    m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
    assert m and m.group(2) != "(NONE)", out[-2500:]
    if proto and proto.startswith("DTLS"):
        got = re.search(r"Protocol\s*:\s*(\S+)", out)
        assert got and got.group(1) == proto, (proto, out[-2500:])
    elif proto:
        assert m.group(1) == proto, (proto, out[-2500:])
    return m.group(2)


def handshake_refused(rc, out):
    assert rc != 0, out[-2500:]
    assert re.search(r"^New, \(NONE\), Cipher is \(NONE\)", out, re.M), out[-2500:]


def served_cert(out):
    """(serial, subject) of the first certificate s_client printed."""
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                  out, re.S)
    assert m, out[-2500:]
    r = subprocess.run(["openssl", "x509", "-noout", "-serial", "-subject"],
                       input=m.group(0).encode(), capture_output=True, timeout=10)
    text = r.stdout.decode()
    serial = re.search(r"serial=(\w+)", text).group(1)
    subject = re.search(r"subject=(.*)", text).group(1).strip()
    return serial.upper(), subject


def tls_connect(port, alpn=("stun.turn",), hostname="localhost"):
    """A verified Python ssl connection (closed at the end of the test)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    on_cleanup(raw.close)
    s = pki().client_ctx(list(alpn) if alpn else None).wrap_socket(
        raw, server_hostname=hostname)
    on_cleanup(s.close)
    return s


def py_cert(s):
    """(serial, commonName) of the peer certificate of a Python ssl socket."""
    c = s.getpeercert()
    cn = dict(x[0] for x in c["subject"])["commonName"]
    return c["serialNumber"].upper().lstrip("0"), cn


def stream_binding(s):
    """A STUN Binding over a (TLS) stream; the mapped (ip, port)."""
    req = stun_request()
    s.sendall(req)
    mtype, tid, attrs = stun_parse(tcp_read_message(s, 5))
    assert mtype == 0x0101 and tid == req[8:20], hex(mtype)
    return xor_addr(attrs[ATTR_XOR_MAPPED][0], tid)


class DtlsClient:
    """openssl s_client -dtls1_2 as a datagram pipe: each write to its
    stdin is one record; what the server sends comes out on stdout."""

    def __init__(self, port, bind=None, alpn="stun.turn"):
        argv = ["openssl", "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}",
                "-CAfile", pki().ca, "-verify_return_error", "-verify_ip", "127.0.0.1",
                "-quiet", "-nocommands"]
        if alpn:
            argv += ["-alpn", alpn]
        if bind:
            argv += ["-bind", bind]
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        on_cleanup(self.stop)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass

    def binding(self, timeout=8.0):
        """Send Binding requests until one is answered: the mapped address.
        (s_client reads stdin only once its handshake is done.)"""
        tids = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.p.poll() is None, "s_client exited: " + \
                self.p.stderr.read().decode(errors="replace")[-1500:]
            req = stun_request()
            tids.add(req[8:20])
            self.p.stdin.write(req)
            self.p.stdin.flush()
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                data = os.read(self.p.stdout.fileno(), 4096)
                msg = stun_parse(data)
                assert msg and msg[0] == 0x0101 and msg[1] in tids, data.hex()
                return xor_addr(msg[2][ATTR_XOR_MAPPED][0], msg[1])
        raise AssertionError("no Binding response over DTLS")


def capture_dtls_client_hello():
    """The first datagram of `openssl s_client -dtls1_2`: a ClientHello
    without a cookie."""
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(("127.0.0.1", 0))
    fake.settimeout(5)
    p = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-connect",
                          f"127.0.0.1:{fake.getsockname()[1]}"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        ch = fake.recvfrom(4096)[0]
    finally:
        p.kill()
        p.wait()
        p.stdin.close()
        fake.close()
    # record: type 22, DTLS; handshake: ClientHello (1), not fragmented
    assert ch[0] == 22 and ch[1] == 0xFE and ch[13] == 1, ch[:32].hex()
    assert ch[14:17] == ch[22:25] and ch[19:22] == b"\0\0\0", ch[:32].hex()
    return ch


def hello_verify_cookie(data):
    """The cookie of a HelloVerifyRequest record, or None."""
    if len(data) < 28 or data[0] != 22 or data[13] != 3:
        return None
    n = data[27]
    return data[28:28 + n]


def with_cookie(ch, cookie):
    """The ClientHello again with cookie, as the second flight (message
    and record sequence 1)."""
    body = ch[25:]
    off = 2 + 32                       # client_version, random
    off += 1 + body[off]               # session_id
    body = body[:off] + bytes([len(cookie)]) + cookie + body[off + 1 + body[off]:]
    n = len(body).to_bytes(3, "big")
    hs = bytes([1]) + n + (1).to_bytes(2, "big") + b"\0\0\0" + n
    rec = ch[:3] + b"\0\0" + (1).to_bytes(6, "big") + (12 + len(body)).to_bytes(2, "big")
    return rec + hs + body


def is_server_hello(data):
    return len(data) > 13 and data[0] == 22 and data[13] == 2


def drain(sock):
    """Every datagram waiting on sock."""
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except (BlockingIOError, socket.timeout):
            return got


def cookie_exchange(addr, ch, src=("127.0.0.1", 0), wait=1.0):
    """A socket that did the cookie exchange; True when the server went on
    with a ServerHello (it then holds a half-open session)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    on_cleanup(s.close)
    s.bind(src)
    s.settimeout(2)
    s.sendto(ch, addr)
    cookie = hello_verify_cookie(s.recv(4096))
    assert cookie, "no HelloVerifyRequest"
    s.sendto(with_cookie(ch, cookie), addr)
    s.settimeout(wait)
    try:                               # the flight starts with it
        return is_server_hello(s.recv(4096))
    except socket.timeout:
        return False


# ------------------------------------------------------------------ coturn

def start_tls_uclient(port, peer_port, flags, n=20, z=5):
    """uclient as alice, trusting the test CA (-E)."""
    return start_uclient(port, peer_port, ["-E", pki().ca, *flags, "-u", "alice", "-w", "pw"],
                         n=n, z=z)


def tls_uclient_result(p, timeout=40):
    """(sent, received, lost, TLS/DTLS methods used, output)."""
    sent, recvd, lost, out = uclient_result(p, timeout)
    methods = set(re.findall(r"client session connected with cipher \S+, method=(\S+)", out))
    return sent, recvd, lost, methods, out


def need_coturn():
    if not have("turnutils_uclient") or not have("turnutils_peer"):
        skip("coturn's turnutils not installed")


# ------------------------------------------------------------------- tests

@test(timeout=60)
def uclient_over_tls_and_dtls():
    """turnutils_uclient relays with zero loss over TLS (-t -S) and DTLS (-S), on tls-listen and on the plain listen port"""
    need_coturn()
    n = 20
    # name: (which port, flags, methods allowed)
    modes = {
        "tls on tls-listen": ("tls", ["-t", "-S"], {"TLSv1.2", "TLSv1.3"}),
        "dtls on tls-listen": ("tls", ["-S"], {"DTLSv1.2"}),
        "tls sniffed on listen": ("plain", ["-t", "-S"], {"TLSv1.2", "TLSv1.3"}),
        "dtls sniffed on listen": ("plain", ["-S"], {"DTLSv1.2"}),
    }
    runs = {}
    for name, (which, flags, _) in modes.items():
        srv = tls_ferryd(extra=RELAY)     # uclient never frees: one each
        peer = start_turn_peer()
        port = srv.tls_port if which == "tls" else srv.port
        runs[name] = (srv, start_tls_uclient(port, peer, flags, n=n))
    failures = []
    for name, (srv, p) in runs.items():
        sent, recvd, lost, methods, out = tls_uclient_result(p)
        print(f"# {name}: sent {sent}, received {recvd}, lost {lost}, {sorted(methods)}",
              flush=True)
        allowed = modes[name][2]
        if p.returncode != 0 or lost != 0 or sent < n or recvd != sent or \
                not methods or not methods <= allowed:
            failures.append(f"{name}: rc={p.returncode} sent={sent} received={recvd} "
                            f"lost={lost} methods={methods}\n{out[-1500:]}\n"
                            f"ferryd log:\n{srv.read_log()[-1500:]}")
        assert srv.alive(), f"{name}: ferryd died"
        log = srv.read_log()
        if not re.search(r"allocation for alice: relay 127\.0\.0\.1:\d+", log):
            failures.append(f"{name}: no allocation in the log\n{log[-1500:]}")
        if "DTLS" in next(iter(allowed)) and "session established" not in log:
            failures.append(f"{name}: no DTLS session in the log\n{log[-1500:]}")
    assert not failures, "\n".join(failures)
    for name, (srv, _) in runs.items():
        assert srv.stop() == 0, name


@test(timeout=40)
def alpn_and_versions():
    """s_client: ALPN stun.turn negotiated, h2 alone refused, TLS 1.0/1.1 refused, 1.2 and 1.3 served (tls-listen, sniffed listen, https)"""
    s = tls_ferryd(https=True)
    for port in (s.tls_port, s.port):
        rc, out = s_client(port, "-alpn", "stun.turn")
        handshake_ok(rc, out)
        assert "ALPN protocol: stun.turn" in out, out[-2000:]
        rc, out = s_client(port, "-alpn", "h2,stun.turn")
        handshake_ok(rc, out)
        assert "ALPN protocol: stun.turn" in out, out[-2000:]
        rc, out = s_client(port)                  # no ALPN at all: served
        handshake_ok(rc, out)
        assert "No ALPN negotiated" in out, out[-2000:]
        rc, out = s_client(port, "-alpn", "h2")   # only others: refused
        handshake_refused(rc, out)
        assert "ALPN protocol: h2" not in out
    # HTTPS speaks http/1.1 and refuses stun.turn alone, with the alert
    rc, out = s_client(s.https_port, "-alpn", "http/1.1")
    handshake_ok(rc, out)
    assert "ALPN protocol: http/1.1" in out, out[-2000:]
    rc, out = s_client(s.https_port, "-alpn", "stun.turn")
    handshake_refused(rc, out)
    assert "no application protocol" in out, out[-2000:]

    for port in (s.tls_port, s.port, s.https_port):
        for old in ("-tls1", "-tls1_1"):
            # the client must really offer the old version: let it
            rc, out = s_client(port, old, "-cipher", "DEFAULT@SECLEVEL=0", "-msg")
            assert re.search(r">>> TLS 1\.[01], Handshake \[length [0-9a-f]+\], ClientHello",
                             out), out[-2000:]
            handshake_refused(rc, out)
        handshake_ok(*s_client(port, "-tls1_2"), proto="TLSv1.2")
        handshake_ok(*s_client(port, "-tls1_3"), proto="TLSv1.3")
        # no null ciphers among the defaults
        rc, out = s_client(port, "-tls1_2", "-cipher", "eNULL@SECLEVEL=0")
        handshake_refused(rc, out)
    # the independent client sees the certificate it was given
    assert served_cert(s_client(s.tls_port)[1]) == (PKI.SERIAL_A, f"CN = {PKI.CN_A}")
    assert s.alive()
    assert s.stop() == 0


@test(timeout=30)
def stun_over_tls_python():
    """Python ssl: a Binding over TLS gets the client's own address, on tls-listen and sniffed on listen"""
    s = tls_ferryd()
    for port in (s.tls_port, s.port):
        for host in ("localhost", "127.0.0.1"):   # DNS and IP SAN
            c = tls_connect(port, hostname=host)
            assert c.selected_alpn_protocol() == "stun.turn"
            assert c.version() in ("TLSv1.2", "TLSv1.3"), c.version()
            assert py_cert(c) == (PKI.SERIAL_A, PKI.CN_A)
            assert stream_binding(c) == c.getsockname()
            assert stream_binding(c) == c.getsockname()   # same connection again
            c.close()
    # a plain TCP Binding still works on both (sniffing keeps them plain)
    for port in (s.port, s.tls_port):
        t = socket.create_connection(("127.0.0.1", port), timeout=5)
        on_cleanup(t.close)
        assert stream_binding(t) == t.getsockname()
        t.close()
    assert s.stop() == 0


@test(timeout=30)
def garbage_before_client_hello():
    """garbage then a ClientHello: the connection is closed, ferryd goes on serving"""
    s = tls_ferryd()
    ctx = pki().client_ctx(["stun.turn"])
    junk = [b"\xffnot a record at all......",
            b"\x00\x01\x00\x00BADMAGIC0123456789ab",      # STUN with a wrong cookie
            b"\x16\x03\x01\x00\x04junk",                     # a record, not a hello
            b"\x16\x03\x01\x40\x00" + os.urandom(16384)]     # an oversized record
    for port in (s.tls_port, s.port):
        for j in junk:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            on_cleanup(raw.close)
            raw.sendall(j)
            c = ctx.wrap_socket(raw, server_hostname="localhost",
                                do_handshake_on_connect=False)
            t0 = time.monotonic()
            try:
                c.do_handshake()
                raise AssertionError(f"handshake after {j[:8]!r} succeeded")
            except socket.timeout:
                raise AssertionError(f"no close within 5 s after {j[:8]!r}") from None
            except (ssl.SSLError, ConnectionError, OSError):
                pass
            assert time.monotonic() - t0 < 5
            c.close()
            # still serving TLS and plain STUN
            ok = tls_connect(port)
            assert stream_binding(ok) == ok.getsockname()
            ok.close()
    assert s.binding() is not None
    assert s.stop() == 0


@test(timeout=40)
def dtls_with_s_client():
    """s_client -dtls1_2: handshake with ALPN stun.turn, a STUN Binding over DTLS, DTLS 1.0 refused"""
    s = tls_ferryd()
    for port in (s.tls_port, s.port):
        rc, out = s_client(port, "-alpn", "stun.turn", dtls=True)
        handshake_ok(rc, out, proto="DTLSv1.2")
        assert "ALPN protocol: stun.turn" in out, out[-2000:]
        assert served_cert(out) == (PKI.SERIAL_A, f"CN = {PKI.CN_A}")
        rc, out = s_client(port, "-alpn", "h2", dtls=True)
        handshake_refused(rc, out)
        assert "alert no application protocol" in out, out[-2000:]
        lport = free_port()
        d = DtlsClient(port, bind=f"127.0.0.1:{lport}")
        assert d.binding() == ("127.0.0.1", lport)
        d.stop()
        # DTLS 1.0 (the client must really send it)
        r = subprocess.run(["openssl", "s_client", "-dtls1", "-cipher", "DEFAULT@SECLEVEL=0",
                            "-connect", f"127.0.0.1:{port}", "-timeout"],
                           input=b"", capture_output=True, timeout=15)
        out = (r.stdout + r.stderr).decode(errors="replace")
        handshake_refused(r.returncode, out)
    assert "session established" in s.read_log()
    assert s.stop() == 0


@test(timeout=60)
def dtls_cookie_and_limits():
    """DTLS: a ClientHello gets a stateless HelloVerifyRequest; 4000 hellos and 1000 junk datagrams keep RSS flat; half-open handshakes are limited per address and expire"""
    s = tls_ferryd(tls=False, https=True, extra="threads = 1\n")
    addr = ("127.0.0.1", s.port)
    # HTTPS clients that stall in the handshake; checked at the end, when
    # its 10 s limit has passed
    stalled = []
    for first in (b"", b"\x16\x03\x01\x02\x00\x01"):
        t = socket.create_connection(("127.0.0.1", s.https_port), timeout=5)
        on_cleanup(t.close)
        t.sendall(first)
        stalled.append((t, time.monotonic()))
    ch = capture_dtls_client_hello()

    # one hello: a HelloVerifyRequest (record 22, handshake 3) with a cookie
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    on_cleanup(u.close)
    u.bind(("127.0.0.1", 0))
    u.settimeout(2)
    u.sendto(ch, addr)
    hvr = u.recv(4096)
    assert hvr[0] == 22 and hvr[13] == 3, hvr.hex()
    assert len(hello_verify_cookie(hvr)) >= 8, hvr.hex()
    # the cookie is the same for the same source, and not for another
    u.sendto(ch, addr)
    assert hello_verify_cookie(u.recv(4096)) == hello_verify_cookie(hvr)
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    on_cleanup(v.close)
    v.settimeout(2)
    v.sendto(ch, addr)
    assert hello_verify_cookie(v.recv(4096)) != hello_verify_cookie(hvr)
    v.close()

    # warm up, then flood: 2000 hellos from one socket, 2000 from 200
    # source ports, 1000 junk datagrams that look like DTLS
    DtlsClient(s.port).binding()
    time.sleep(0.2)
    rss0 = vm_rss_kib(s.proc.pid)
    u.setblocking(False)
    drain(u)
    answers = 0
    for _ in range(20):
        for _ in range(100):
            u.sendto(ch, addr)
        time.sleep(0.005)
        answers += sum(1 for d in drain(u) if hello_verify_cookie(d))
    socks = []
    for _ in range(200):
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        on_cleanup(m.close)
        m.bind(("127.0.0.1", 0))
        m.setblocking(False)
        socks.append(m)
    for _ in range(10):
        for m in socks:
            m.sendto(ch, addr)
        time.sleep(0.005)
    rnd = random.Random(7)
    for i in range(1000):
        j = bytes([rnd.randint(20, 63)]) + rnd.randbytes(rnd.randint(12, 300))
        socks[i % 200].sendto(j, addr)
    time.sleep(0.5)
    answers += sum(1 for m in socks for d in drain(m) if hello_verify_cookie(d))
    rss1 = vm_rss_kib(s.proc.pid)
    print(f"# HelloVerifyRequests: {answers} of 4000; VmRSS {rss0} -> {rss1} KiB",
          flush=True)
    assert answers >= 2000, answers
    assert rss1 - rss0 < 20 * 1024, (rss0, rss1)
    assert s.alive()
    # no session was kept for any of that: this address is not over its
    # half-open limit, and real clients still get through
    assert "too many DTLS handshakes" not in s.read_log()
    d = DtlsClient(s.port)
    assert d.binding()[0] == "127.0.0.1"
    d.stop()

    # only a returned cookie opens a session (ServerHello), and at most 8
    # half-open ones per source address (one worker here)
    opened = sum(cookie_exchange(addr, ch, wait=0.3) for _ in range(20))
    assert opened == 8, opened
    wait_for(lambda: "too many DTLS handshakes; refused" in s.read_log(), 3,
             "the refusal in the log")
    # another address is not affected
    lport = free_port("127.0.0.2") if _has_127_0_0_2() else None
    if lport:
        d = DtlsClient(s.port, bind=f"127.0.0.2:{lport}")
        assert d.binding() == ("127.0.0.2", lport)
        d.stop()
    # stalled handshakes end within DTLS_HANDSHAKE_SECONDS (10 s)
    wait_for(lambda: s.read_log().count("session ends: handshake timed out") >= 8, 14,
             "half-open handshakes to time out")
    assert cookie_exchange(addr, ch) is True
    for t, since in stalled:
        t.settimeout(max(0.5, since + 13 - time.monotonic()))
        try:
            assert t.recv(100) == b"", "data on a stalled HTTPS handshake"
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise AssertionError("a stalled HTTPS handshake was not closed") from None
    status, _, _ = https_get(s.https_port, "/healthz")
    assert status == 200
    assert s.stop() == 0


def https_get(port, path, host="127.0.0.1"):
    import http.client
    c = http.client.HTTPSConnection(host, port, timeout=5,
                                    context=pki().client_ctx(["http/1.1"]))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def _has_127_0_0_2():
    try:
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.bind(("127.0.0.2", 0))
        t.close()
        return True
    except OSError:
        return False


@test(timeout=40)
def https_api_and_wss():
    """https-listen: /healthz and /api/ice-servers over HTTPS list turns:, wss:// join gets welcome with turns:"""
    import http.client
    s = tls_ferryd(https=True, extra="auth-secret = secret\n")
    want = f"turns:127.0.0.1:{s.tls_port}?transport=tcp"

    def get(path, host="127.0.0.1"):
        ctx = pki().client_ctx(["http/1.1"])
        c = http.client.HTTPSConnection(host, s.https_port, timeout=5, context=ctx)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            assert c.sock.selected_alpn_protocol() == "http/1.1"
            assert py_cert(c.sock) == (PKI.SERIAL_A, PKI.CN_A)
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    status, hdrs, body = get("/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}, (status, body)
    status, hdrs, body = get("/api/ice-servers")
    assert status == 200, (status, body)
    assert hdrs["content-type"].startswith("application/json")
    assert hdrs.get("cache-control") == "no-store"
    ice = json.loads(body)
    urls = [u for srv in ice["iceServers"] for u in srv["urls"]]
    assert want in urls, urls
    assert f"turn:127.0.0.1:{s.port}?transport=udp" in urls, urls
    assert f"stun:127.0.0.1:{s.port}" in urls, urls
    turn = [x for x in ice["iceServers"] if want in x["urls"]][0]
    assert turn["username"] and turn["credential"]
    # the DNS name of the Host header is used too
    status, _, body = get("/api/ice-servers", host="localhost")
    assert f"turns:localhost:{s.tls_port}?transport=tcp" in body.decode(), body
    # the plain HTTP listener lists the same TLS URL
    from httpapi import http_json
    _, _, plain = http_json(s.http_port, "GET", "/api/ice-servers")
    assert want in [u for x in plain["iceServers"] for u in x["urls"]], plain

    # wss://: two peers over TLS, welcome with turns:, a broadcast relayed
    ctx = pki().client_ctx()
    a = WS(s.https_port, ssl_context=ctx)
    a.send({"type": "join", "room": "tls-room", "name": "a"})
    wa = a.expect("welcome", room="tls-room")
    assert want in [u for x in wa["iceServers"] for u in x["urls"]], wa
    b = WS(s.https_port, ssl_context=ctx)
    b.send({"type": "join", "room": "tls-room", "name": "b"})
    wb = b.expect("welcome", room="tls-room")
    assert [p["id"] for p in wb["peers"]] == [wa["id"]], wb
    a.expect("peer-joined")
    b.send({"type": "broadcast", "data": {"over": "tls"}})
    a.expect("broadcast", data={"over": "tls"}, **{"from": wb["id"]})
    a.close()
    b.close()

    # without tls-listen there is no turns: URL
    s2 = tls_ferryd(tls=False, https=True, extra="auth-secret = secret\n")
    from httpapi import http_json as hj
    _, _, plain = hj(s2.http_port, "GET", "/api/ice-servers")
    urls = [u for x in plain["iceServers"] for u in x["urls"]]
    assert urls and not any(u.startswith("turns:") for u in urls), urls
    assert s2.stop() == 0
    assert s.stop() == 0


@test(timeout=60)
def cert_reload_while_relaying():
    """SIGHUP with a renewed certificate while a TLS allocation relays: no loss, new handshakes get the new one; a broken one is refused and the renewed one stays"""
    need_coturn()
    p = pki()
    s = tls_ferryd(https=True, extra=RELAY)
    peer = start_turn_peer()
    old = tls_connect(s.tls_port)              # a connection from before
    assert py_cert(old) == (PKI.SERIAL_A, PKI.CN_A)
    uc = start_tls_uclient(s.tls_port, peer, ["-t", "-S"], n=400, z=10)
    wait_for(lambda: "allocation for alice" in s.read_log(), 15, "the TLS allocation")

    # renew: new files in place, then SIGHUP
    for src, dst in ((p.cert_b, s.cert), (p.key_b, s.key)):
        shutil.copy(src, dst + ".new")
        os.replace(dst + ".new", dst)
    s.signal(signal.SIGHUP)
    wait_for(lambda: "reload done" in s.read_log(), 10, "the reload")
    assert uc.poll() is None, "uclient finished before the reload: make it longer"
    log = s.read_log()
    assert f"certificate: /CN={PKI.CN_B}" in log, log[-2000:]
    new = (PKI.SERIAL_B, PKI.CN_B)
    for port in (s.tls_port, s.port):
        c = tls_connect(port)
        assert py_cert(c) == new
        assert stream_binding(c) == c.getsockname()
        c.close()
    assert served_cert(s_client(s.tls_port, "-alpn", "stun.turn")[1]) == \
        (PKI.SERIAL_B, f"CN = {PKI.CN_B}")
    assert served_cert(s_client(s.port, dtls=True)[1]) == \
        (PKI.SERIAL_B, f"CN = {PKI.CN_B}")
    assert served_cert(s_client(s.https_port)[1]) == (PKI.SERIAL_B, f"CN = {PKI.CN_B}")
    # the connection from before still works, on its old certificate
    assert stream_binding(old) == old.getsockname()
    assert py_cert(old) == (PKI.SERIAL_A, PKI.CN_A)

    sent, recvd, lost, methods, out = tls_uclient_result(uc, timeout=40)
    print(f"# across the reload: sent {sent}, received {recvd}, lost {lost}", flush=True)
    assert uc.returncode == 0 and lost == 0 and sent >= 400 and recvd == sent, out[-2000:]
    assert methods and methods <= {"TLSv1.2", "TLSv1.3"}, methods

    # a broken certificate: refused, logged, the renewed one stays
    with open(s.cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nthis is not base64 @@@\n"
                "-----END CERTIFICATE-----\n")
    s.signal(signal.SIGHUP)
    wait_for(lambda: s.read_log().count("reload done") >= 2, 10, "the second reload")
    log = s.read_log()
    assert re.search(r"reload: cert " + re.escape(s.cert) +
                     r": error:[0-9A-F]{8}:.*; the running certificate stays", log), \
        log[-2000:]
    c = tls_connect(s.tls_port)
    assert py_cert(c) == new
    assert stream_binding(c) == c.getsockname()
    assert served_cert(s_client(s.https_port)[1]) == (PKI.SERIAL_B, f"CN = {PKI.CN_B}")
    assert stream_binding(old) == old.getsockname()
    assert s.alive()
    old.close()
    c.close()
    assert s.stop() == 0


@test(timeout=30)
def tls_stalls_closed():
    """TLS on TURN ports: a stalled ClientHello and an idle session are closed after tcp-idle-timeout"""
    s = tls_ferryd(extra="tcp-idle-timeout = 2\n")
    conns = []
    for port in (s.tls_port, s.port):
        t = socket.create_connection(("127.0.0.1", port), timeout=5)
        on_cleanup(t.close)
        t.sendall(b"\x16\x03\x01\x02\x00\x01")          # half a ClientHello
        conns.append(t)
        c = tls_connect(port)
        assert stream_binding(c) == c.getsockname()         # then silence
        conns.append(c)
    t0 = time.monotonic()
    for c in conns:
        c.settimeout(max(0.5, t0 + 6 - time.monotonic()))
        try:
            assert c.recv(100) == b""
        except (ConnectionResetError, ssl.SSLError):
            pass
        except socket.timeout:
            raise AssertionError("not closed within 6 s of silence") from None
    assert time.monotonic() - t0 >= 1, "closed before tcp-idle-timeout"
    c = tls_connect(s.tls_port)
    assert stream_binding(c) == c.getsockname()
    assert s.stop() == 0


@test(timeout=30)
def tls_refusals_carry_alerts():
    """a refused TURN-over-TLS handshake ends with its alert: no_application_protocol (RFC 7301), protocol_version"""
    s = tls_ferryd()
    missing = []
    for port in (s.tls_port, s.port):
        rc, out = s_client(port, "-alpn", "h2")
        handshake_refused(rc, out)
        if "alert no application protocol" not in out:
            missing.append(f"port {port}, ALPN h2: no no_application_protocol alert")
        rc, out = s_client(port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
        handshake_refused(rc, out)
        if "alert protocol version" not in out:
            missing.append(f"port {port}, TLS 1.0: no protocol_version alert")
    assert not missing, "\n".join(missing)
    assert s.stop() == 0


def start_fails(conf_lines):
    """Start ferryd -f with cert settings that must fail: (rc, output)."""
    s = Ferryd(conf="\n".join(conf_lines) + "\n", start=False)
    r = run_cmd([FERRYD, "-f", "-c", s.conf_path], timeout=10)
    return r.returncode, r.stdout + r.stderr, s


@test(timeout=30)
def start_up_errors():
    """a key that does not match, a garbage cert: ferryd exits 1 naming the file and OpenSSL's reason"""
    p = pki()
    rc, out, s = start_fails([f"tls-listen = 127.0.0.1:{free_port()}",
                              f"cert = {p.cert_a}", f"key = {p.other_key}"])
    assert rc == 1, (rc, out)
    assert re.search(re.escape(p.other_key) + r".*error:[0-9A-F]{8}:.*key values mismatch",
                     out), out
    assert "started" not in out

    garbage = os.path.join(s.dir, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("this is not a certificate\n")
    rc, out, _ = start_fails([f"https-listen = 127.0.0.1:{free_port()}",
                              f"cert = {garbage}", f"key = {p.key_a}"])
    assert rc == 1, (rc, out)
    assert re.search(r"cert " + re.escape(garbage) + r": error:[0-9A-F]{8}:", out), out
    assert "started" not in out

    # a key file that is not a key
    rc, out, _ = start_fails([f"tls-listen = 127.0.0.1:{free_port()}",
                              f"cert = {p.cert_a}", f"key = {p.cert_a}"])
    assert rc == 1, (rc, out)
    assert re.search(r"key " + re.escape(p.cert_a) + r": error:[0-9A-F]{8}:", out), out


def check_config(lines):
    s = Ferryd(conf="\n".join(lines) + "\n", start=False)
    r = run_cmd([FERRYD, "--check-config", "-c", s.conf_path], timeout=10)
    with open(s.conf_path) as f:
        text = f.read().splitlines()
    return r.returncode, r.stdout + r.stderr, s.conf_path, text


def line_of(text, key):
    return next(i for i, t in enumerate(text, 1) if t.startswith(key + " "))


@test(timeout=30)
def config_errors_and_ciphers():
    """tls-ciphers = NOT-A-CIPHER and tls-listen/https-listen without cert are config errors; a tls-ciphers list is obeyed"""
    p = pki()
    rc, out, path, text = check_config([f"cert = {p.cert_a}", f"key = {p.key_a}",
                                        "tls-ciphers = NOT-A-CIPHER"])
    assert rc == 1, (rc, out)
    assert f"{path}:{line_of(text, 'tls-ciphers')}" in out and "tls-ciphers" in out, out
    for key in ("tls-listen", "https-listen"):
        rc, out, path, text = check_config([f"{key} = 127.0.0.1:{free_port()}"])
        assert rc == 1, (rc, out)
        assert f"{path}:{line_of(text, key)}" in out and "cert" in out, out
    rc, out, path, text = check_config([f"cert = {p.cert_a}"])
    assert rc == 1 and "key" in out, out
    rc, out, path, text = check_config([f"tls-listen = 127.0.0.1:{free_port()}",
                                        f"cert = {p.cert_a}",
                                        f"key = {os.path.join(p.dir, 'missing.key')}"])
    assert rc == 1 and "missing.key" in out, out

    want = "ECDHE-ECDSA-AES128-GCM-SHA256"
    rc, out, _, _ = check_config([f"cert = {p.cert_a}", f"key = {p.key_a}",
                                  f"tls-ciphers = {want}"])
    assert rc == 0 and f"tls-ciphers = {want}" in out, out
    s = tls_ferryd(https=True, extra=f"tls-ciphers = {want}\n")
    for port in (s.tls_port, s.port, s.https_port):
        assert handshake_ok(*s_client(port, "-tls1_2"), proto="TLSv1.2") == want
        handshake_refused(*s_client(port, "-tls1_2", "-cipher",
                                    "ECDHE-ECDSA-AES256-GCM-SHA384"))
    assert handshake_ok(*s_client(s.tls_port, dtls=True), proto="DTLSv1.2") == want
    assert s.stop() == 0


run()
