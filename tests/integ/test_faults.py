"""Faults: ferryd killed with SIGKILL in the middle of database traffic, the
database's disk full, too few file descriptors, the relay port range used
up, and a burst of SIGHUP reloads under load.  Each test checks that the
fault is reported clearly, that nothing already committed or relayed is
lost, and that service comes back once the fault is gone.

The disk-full test mounts a 1 MiB tmpfs (root only; skipped otherwise),
and the descriptor test runs ferryd under prlimit(1)."""
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import process  # noqa: E402
from harness import on_cleanup, run, skip, test, wait_for  # noqa: E402
from httpapi import http_request, metric  # noqa: E402
from net import free_port_range  # noqa: E402
from process import FERRYCTL, Ferryd, have, run_cmd  # noqa: E402
from stun import stun_parse, stun_request, tcp_read_message  # noqa: E402
from wsclient import WS, WSClosed  # noqa: E402
import turnclient as tc  # noqa: E402
from turnclient import TurnClient, recv_from, udp_peer  # noqa: E402

RELAY = """relay-ip = 127.0.0.1
allow-loopback-peers = yes
user = alice:pw
log-level = info
"""


def ctl(db, *args, timeout=30):
    return run_cmd([FERRYCTL, "-d", db] + list(args), timeout=timeout)


def integrity(db):
    """PRAGMA integrity_check of db, read with Python's own sqlite."""
    con = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def room_rows(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return dict(con.execute("SELECT name, max_peers FROM rooms"))
    finally:
        con.close()


def tcp_binding(addr, timeout=2.0):
    """A STUN Binding over a fresh TCP connection; the response type, or
    None when the connection is refused or closed without an answer."""
    try:
        s = socket.create_connection(addr, timeout=timeout)
    except OSError:
        return None
    try:
        s.sendall(stun_request())
        return stun_parse(tcp_read_message(s, timeout))[0]
    except (OSError, EOFError):
        return None
    finally:
        s.close()


def relay_roundtrip(c, peer, channel, n=10, tag=b""):
    """n ChannelData datagrams client -> peer and n back; all must arrive."""
    for i in range(n):
        payload = tag + b"up %d" % i
        c.send_channel(channel, payload)
        assert recv_from(peer) == (payload, c.relay), f"client->peer {payload!r} lost"
        payload = tag + b"down %d" % i
        peer.sendto(payload, c.relay)
        assert c.recv_data() == ("chan", channel, payload), f"peer->client {payload!r} lost"


# ------------------------------------------------------------- SIGKILL

@test(timeout=60)
def kill9_during_database_traffic():
    """SIGKILL of ferryd while ferryctl writes rooms and ferryd reads and writes: integrity_check ok, every committed row kept"""
    s = Ferryd(conf="log-level = info\nreconnect-grace = 0\nsignaling-rate = 0\n")
    db = os.path.join(s.dir, "ferry.db")
    committed = set()      # rooms whose `ferryctl room add` exited 0
    welcomed = set()       # rooms ferryd created on a join and welcomed into
    failures = []
    lock = threading.Lock()

    for rnd in range(3):
        if rnd:
            s.start()
        stop = threading.Event()

        def writer(tag, rnd=rnd, stop=stop):
            for i in range(300):
                if stop.is_set():
                    return
                name = f"ctl{tag}-{rnd}-{i}"
                r = ctl(db, "room", "add", name, "--max-peers", "7")
                with lock:
                    if r.returncode == 0:
                        committed.add(name)
                    else:
                        failures.append((name, r.returncode, r.stderr.strip()))

        def joiner(rnd=rnd, stop=stop):
            for i in range(300):
                if stop.is_set():
                    return
                name = f"ws-{rnd}-{i}"
                try:
                    ws = WS(s.http_port, timeout=2)
                    ws.send({"type": "join", "room": name})
                    m = ws.recv(2)
                    ws.abort()
                except Exception:   # noqa: BLE001 - ferryd is gone
                    return
                if m.get("type") == "welcome":
                    with lock:
                        welcomed.add(name)

        def reader(stop=stop):
            for _ in range(1000):
                if stop.is_set():
                    return
                try:
                    http_request(s.http_port, "GET", "/healthz", timeout=1)
                except OSError:
                    return

        threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
        threads += [threading.Thread(target=joiner), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        try:
            time.sleep(random.uniform(0.8, 1.6))
            s.proc.send_signal(signal.SIGKILL)
            assert s.proc.wait(5) == -signal.SIGKILL
            time.sleep(0.3)        # ferryctl goes on writing without ferryd
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        s.kill()
        assert integrity(db) == ["ok"], f"round {rnd}: {integrity(db)}"

    assert not failures, f"ferryctl failed: {failures[:5]}"
    assert len(committed) > 20 and len(welcomed) > 5, (len(committed), len(welcomed))
    rows = room_rows(db)
    lost = sorted(committed - rows.keys())
    assert not lost, f"{len(lost)} rooms ferryctl committed are gone: {lost[:10]}"
    assert all(rows[n] == 7 for n in committed)
    lost = sorted(welcomed - rows.keys())
    assert not lost, f"{len(lost)} rooms ferryd created are gone: {lost[:10]}"
    print(f"# {len(committed)} rows by ferryctl and {len(welcomed)} by ferryd "
          f"survived 3 SIGKILLs")
    # ferryd starts on the recovered file and serves what is in it
    s.start()
    r = ctl(db, "room", "list")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == len(rows) + 1, r.stdout[-500:]
    name = sorted(committed)[0]
    ws = WS(s.http_port)
    ws.send({"type": "join", "room": name})
    ws.expect("welcome", room=name)
    assert s.stop() == 0
    assert integrity(db) == ["ok"]


# ------------------------------------------------------------ disk full

def mount_tmpfs(size="1m"):
    """A fresh tmpfs of size, unmounted when the test ends; skips when
    mounting is not permitted here."""
    if os.geteuid() != 0:
        skip("mounting a tmpfs needs root")
    if not have("mount") or not have("umount"):
        skip("mount(8) is not installed")
    mnt = tempfile.mkdtemp(prefix="ferry-tmpfs-")
    r = run_cmd(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", mnt])
    if r.returncode != 0:
        os.rmdir(mnt)
        skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")

    def unmount():
        if run_cmd(["umount", mnt]).returncode != 0:
            run_cmd(["umount", "-l", mnt])
        os.rmdir(mnt)
    on_cleanup(unmount)
    return mnt


def fill(path):
    """Write path until the file system is full; its size."""
    n = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (65536, 4096, 512):
            for _ in range(100000):
                try:
                    n += f.write(b"\0" * chunk)
                except OSError as e:
                    assert e.errno == 28, e
                    break
    return n


@test(timeout=60)
def disk_full():
    """database disk full: ferryctl fails with one line and exit 1, relaying and STUN go on, a join needing a new room gets server-busy; writes work once space is freed"""
    mnt = mount_tmpfs()
    db = os.path.join(mnt, "ferry.db")
    s = Ferryd(conf=RELAY + f"database = {db}\n")   # after the mount: stopped first
    r = ctl(db, "room", "add", "before")
    assert r.returncode == 0, r.stderr
    # an allocation relaying over a channel, a signaling peer in a room
    c = TurnClient(s.addr, "alice", "pw")
    assert c.allocate().ok
    peer = udp_peer()
    assert c.channel_bind(0x4000, peer.getsockname()).ok
    relay_roundtrip(c, peer, 0x4000, 3)
    a = WS(s.http_port)
    a.send({"type": "join", "room": "before", "name": "a"})
    a.expect("welcome", room="before")

    filler = os.path.join(mnt, "filler")
    assert fill(filler) > 0
    assert os.statvfs(mnt).f_bavail == 0

    # (a) writes fail with a one-line message and exit 1; reads still work
    for argv in (["room", "add", "during"], ["user", "add", "zed", "--password", "pw"],
                 ["secret", "add"], ["revoke", "mallory"]):
        r = ctl(db, *argv)
        assert r.returncode == 1, (argv, r.returncode, r.stdout, r.stderr)
        err = r.stderr.strip()
        assert err and "\n" not in err and err.startswith("ferryctl:"), (argv, r.stderr)
        assert "full" in err, (argv, err)
    r = ctl(db, "room", "list")
    assert r.returncode == 0 and "before" in r.stdout and "during" not in r.stdout, r

    # (b) ferryd keeps relaying the allocation, answers STUN, allocates
    relay_roundtrip(c, peer, 0x4000, 10, b"full ")
    assert s.binding()[0] == 0x0101
    assert tcp_binding(s.addr) == 0x0101
    c2 = TurnClient(s.addr, "alice", "pw", tcp=True)
    assert c2.allocate().ok
    assert c.refresh().ok

    # (c) a join that must create a room: server-busy, the socket stays
    b = WS(s.http_port)
    b.send({"type": "join", "room": "fresh", "name": "b"})
    e = b.expect("error", code="server-busy", ref="join")
    assert e.get("message"), e
    b.send({"type": "ping", "id": 1})
    b.expect("pong", id=1)
    assert "disk is full" in s.read_log(), s.read_log()[-2000:]
    # a room already in the database needs no write: that join works
    b.send({"type": "join", "room": "before", "name": "b"})
    w = b.expect("welcome", room="before")
    a.expect("peer-joined", peer={"id": w["id"], "name": "b"})
    a.send({"type": "broadcast", "data": "still talking"})
    b.expect("broadcast", data="still talking")
    st, _, body = http_request(s.http_port, "GET", "/healthz")
    assert st in (200, 503) and body, (st, body)
    print(f"# /healthz on a full disk: {st} {body.decode(errors='replace').strip()}")
    assert s.alive()

    # (d) space freed: writes work again, and ferryd sees them
    os.unlink(filler)
    seen = s.read_log().count("database changed")
    r = ctl(db, "room", "add", "after", "--max-peers", "1")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: s.read_log().count("database changed") > seen, 5,
             "ferryd to see the new room")
    d = WS(s.http_port)
    d.send({"type": "join", "room": "fresh"})
    d.expect("welcome", room="fresh")
    d.send({"type": "join", "room": "after"})   # already joined: refused
    d.expect("error", code="already-joined")
    e1, e2 = WS(s.http_port), WS(s.http_port)
    e1.send({"type": "join", "room": "after"})
    e1.expect("welcome", room="after")
    e2.send({"type": "join", "room": "after"})
    e2.expect("error", code="room-full")        # max-peers 1: the row was read
    relay_roundtrip(c, peer, 0x4000, 3, b"after ")
    for ws in (a, b, d, e1, e2):
        ws.abort()
    c.close()
    c2.close()
    assert s.stop() == 0
    assert integrity(db) == ["ok"]
    rows = room_rows(db)
    assert {"before", "fresh", "after"} <= rows.keys() and "during" not in rows, rows


# -------------------------------------------------------- descriptors

class LimitedFerryd(Ferryd):
    """ferryd run under `prlimit --nofile=N:N` (prlimit execs it: same PID)."""

    def __init__(self, nofile, **kw):
        self.nofile = nofile
        super().__init__(**kw)

    def start(self, wait=True):
        starts = self.read_log().count("started")
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["prlimit", f"--nofile={self.nofile}:{self.nofile}", process.FERRYD,
             "-f", "-c", self.conf_path] + self.args,
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=subprocess.STDOUT)
        on_cleanup(self.kill)
        wait_for(lambda: self.read_log().count("started") > starts or
                 self.proc.poll() is not None, 10, "ferryd to start")
        if self.proc.poll() is not None:
            raise AssertionError("ferryd exited at start:\n" + self.read_log())
        return self


def busy_threads(pid, seconds=1.0):
    """CPU seconds each thread of pid used over the next `seconds`."""
    tick = os.sysconf("SC_CLK_TCK")

    def sample():
        out = {}
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                st = open(f"/proc/{pid}/task/{t}/stat").read()
            except FileNotFoundError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            f = st.rsplit(")", 1)[1].split()
            out[f"{t} {name}" + (" (main)" if int(t) == pid else "")] = int(f[11]) + int(f[12])
        return out
    a = sample()
    time.sleep(seconds)
    b = sample()
    return {k: round((v - a.get(k, 0)) / tick, 2) for k, v in b.items()}


def classify(conns, timeout=3.0):
    """Each connection has been sent a Binding: (served, refused, hung)
    lists, by whether a response, the end of the connection, or nothing
    came within timeout."""
    import selectors
    served, refused = [], []
    sel = selectors.DefaultSelector()
    bufs = {}
    for c in conns:
        c.setblocking(False)
        sel.register(c, selectors.EVENT_READ)
        bufs[c] = b""
    deadline = time.monotonic() + timeout
    while bufs and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
            c = key.fileobj
            try:
                chunk = c.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                bufs[c] += chunk
                if len(bufs[c]) < 20:
                    continue
                assert stun_parse(bufs[c])[0] == 0x0101, bufs[c]
                served.append(c)
            else:
                refused.append(c)
            sel.unregister(c)
            del bufs[c]
    sel.close()
    for c in conns:
        c.setblocking(True)
    return served, refused, list(bufs)


@test(timeout=60)
def descriptor_limit():
    """under prlimit --nofile: past the limit TCP connections are refused (closed at once) and logged, without spinning; STUN over UDP goes on; service recovers when they close, three times over"""
    if not have("prlimit"):
        skip("prlimit(1) is not installed")
    nofile = 48
    s = LimitedFerryd(nofile, conf=RELAY + "threads = 2\n")
    limits = open(f"/proc/{s.proc.pid}/limits").read()
    assert f"Max open files            {nofile}" in limits, limits
    c = TurnClient(s.addr, "alice", "pw")
    for rnd in range(3):
        # a burst of connections, more than there are descriptors: both
        # workers accept at once and reach the limit together
        conns = []
        for _ in range(nofile):
            conn = socket.create_connection(s.addr, timeout=2)
            on_cleanup(conn.close)
            conns.append(conn)
        for conn in conns:
            conn.sendall(stun_request())
        held, refused, hung = classify(conns)
        assert not hung, (f"round {rnd}: {len(hung)} connections neither served nor "
                          f"refused ({len(held)} served, {len(refused)} refused)")
        assert refused and len(held) > 5, (rnd, len(held), len(refused))
        for conn in refused:
            conn.close()
        if rnd == 0:
            wait_for(lambda: "connection refused: out of file descriptors" in s.read_log(),
                     3, "the refusal in the log")
        # at the limit: UDP STUN is answered, and an Allocate (which needs
        # a relay socket) gets an answer, not silence: 508 when no
        # descriptor is left for the relay socket, or a success when a
        # refused connection's descriptor came free meanwhile...
        assert s.binding()[0] == 0x0101
        m = c.allocate()
        assert m is not None and (m.error == 508 or m.ok), m
        if m.ok:
            assert c.refresh(0).ok
        # ...new connections are refused at once, and no thread spins on
        # the listening sockets (idle at the limit, ferryd uses no CPU)
        pending = [socket.create_connection(s.addr, timeout=2) for _ in range(4)]
        for conn in pending:
            on_cleanup(conn.close)
            conn.sendall(stun_request())
        spent = busy_threads(s.proc.pid)
        _, late_refused, late_hung = classify(pending, 1.0)
        assert not late_hung, (f"round {rnd}: {len(late_hung)} of 4 new STUN/TURN "
                               f"connections hang at the limit (CPU: {spent})")
        assert sum(spent.values()) < 0.1, \
            f"round {rnd}: ferryd spins at the limit on TURN TCP: CPU s in 1 s by thread {spent}"
        # the same with a connection pending on the HTTP listener
        web = socket.create_connection(("127.0.0.1", s.http_port), timeout=2)
        on_cleanup(web.close)
        pending.append(web)
        spent = busy_threads(s.proc.pid)
        assert sum(spent.values()) < 0.1, \
            f"round {rnd}: ferryd spins at the limit on HTTP: CPU s in 1 s by thread {spent}"
        assert s.alive()
        # load falls: everything works again
        for conn in held + pending:
            conn.close()
        wait_for(lambda: tcp_binding(s.addr) == 0x0101, 5, "a TCP Binding to be served")
        st, _, _ = http_request(s.http_port, "GET", "/healthz")
        assert st == 200, st
    assert metric(s.http_port, "ferry_tcp_refused_total") >= 3
    assert c.allocate().ok
    t = TurnClient(s.addr, "alice", "pw", tcp=True)
    assert t.allocate().ok
    ws = WS(s.http_port)
    ws.send({"type": "join", "room": "back"})
    ws.expect("welcome", room="back")
    ws.abort()
    t.close()
    c.close()
    assert s.stop() == 0


# ------------------------------------------------------------ relay ports

@test(timeout=40)
def relay_ports_exhausted():
    """relay-ports of 4 ports: the fifth Allocate gets 508 (UDP and TCP clients); ports come back when allocations end"""
    p = free_port_range(4)
    s = Ferryd(conf=RELAY + f"relay-ports = {p}-{p + 3}\n")
    ports = set(range(p, p + 4))
    udp = [TurnClient(s.addr, "alice", "pw") for _ in range(2)]
    tcp = [TurnClient(s.addr, "alice", "pw", tcp=True) for _ in range(2)]
    for c in udp + tcp:
        m = c.allocate()
        assert m is not None and m.ok, m
    assert {c.relay[1] for c in udp + tcp} == ports
    assert metric(s.http_port, "ferry_relay_ports_in_use") == 4
    for extra in ([], [(tc.EVEN_PORT, b"\x80")]):
        for over_tcp in (False, True):
            x = TurnClient(s.addr, "alice", "pw", tcp=over_tcp)
            m = x.allocate(extra)
            assert m is not None and m.error == 508, m
            x.close()
    assert "no free relay port" in s.read_log()
    # allocations in place still relay
    peer = udp_peer()
    assert tcp[0].channel_bind(0x4000, peer.getsockname()).ok
    relay_roundtrip(tcp[0], peer, 0x4000, 3)
    # Refresh with lifetime 0 frees one port...
    freed = udp[0].relay[1]
    assert udp[0].refresh(0).ok
    n1 = TurnClient(s.addr, "alice", "pw")
    assert n1.allocate().ok and n1.relay[1] == freed
    # ...and so does closing a TCP client's connection
    freed = tcp[1].relay[1]
    tcp[1].close()
    n2 = TurnClient(s.addr, "alice", "pw")
    m = wait_for(lambda: (lambda m: m if m is not None and m.ok else None)(n2.allocate()),
                 5, "the TCP client's port to come back")
    assert n2.relay[1] == freed
    # all end: all four come back
    for c in (udp[1], n1, n2, tcp[0]):
        assert c.refresh(0).ok
    wait_for(lambda: metric(s.http_port, "ferry_relay_ports_in_use") == 0, 5,
             "no relay port in use")
    again = [TurnClient(s.addr, "alice", "pw") for _ in range(4)]
    for c in again:
        assert c.allocate().ok
    assert {c.relay[1] for c in again} == ports
    assert s.alive()
    assert s.stop() == 0


# --------------------------------------------------------- SIGHUP burst

@test(timeout=60)
def sighup_burst_under_load():
    """50 SIGHUPs in 5 s while a TURN channel relays both ways and two signaling peers talk: no packet or message lost, no socket closed, 50 reloads done"""
    s = Ferryd(conf=RELAY)
    base = open(s.conf_path).read()
    c = TurnClient(s.addr, "alice", "pw")
    assert c.allocate().ok
    peer = udp_peer()
    peer.setblocking(False)
    assert c.channel_bind(0x4000, peer.getsockname()).ok
    c.sock.setblocking(False)
    a, b = WS(s.http_port, max_queue=None), WS(s.http_port, max_queue=None)
    a.send({"type": "join", "room": "hup", "name": "a"})
    wa = a.expect("welcome")
    b.send({"type": "join", "room": "hup", "name": "b"})
    wb = b.expect("welcome")
    a.expect("peer-joined")

    up, down = [], []                  # what arrived at the peer / client
    sent = 0
    hups = 0
    wsn = 0
    t0 = time.monotonic()
    for tick in range(600):            # 10 ms ticks: about 6 s
        if tick < 500:
            c.send_raw(tc.chandata(0x4000, b"up %d" % tick))
            peer.sendto(b"down %d" % tick, c.relay)
            sent += 1
        if tick % 10 == 5 and hups < 50:
            s.write_conf(base + f"max-bps = {10000000 + hups}\n"
                                f"denied-peer = 203.0.113.{hups}/32\n")
            s.signal(signal.SIGHUP)
            hups += 1
        if tick % 5 == 0 and wsn < 100:
            a.send({"type": "offer", "to": wb["id"], "sdp": f"offer {wsn}"})
            b.send({"type": "answer", "to": wa["id"], "sdp": f"answer {wsn}"})
            wsn += 1
        for _ in range(50):
            try:
                up.append(peer.recv(2048))
            except BlockingIOError:
                break
        for _ in range(50):
            try:
                d = c.sock.recv(2048)
            except BlockingIOError:
                break
            ch, n = struct.unpack("!HH", d[:4])
            assert ch == 0x4000, d
            down.append(d[4:4 + n])
        delay = t0 + (tick + 1) * 0.01 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    assert hups == 50 and wsn == 100
    peer.setblocking(True)
    c.sock.setblocking(True)
    while len(up) < sent:
        r = recv_from(peer, 1.0)
        if r is None:
            break
        up.append(r[0])
    while len(down) < sent:
        r = c.recv_data(1.0)
        if r is None:
            break
        down.append(r[2])
    assert up == [b"up %d" % i for i in range(sent)], \
        f"client->peer: {len(up)} of {sent} arrived"
    assert down == [b"down %d" % i for i in range(sent)], \
        f"peer->client: {len(down)} of {sent} arrived"
    try:
        got_b = [b.expect("offer", timeout=5) for _ in range(100)]
        got_a = [a.expect("answer", timeout=5) for _ in range(100)]
    except WSClosed as e:
        raise AssertionError(f"a WebSocket was closed: {e}") from None
    assert [m["sdp"] for m in got_b] == [f"offer {i}" for i in range(100)]
    assert [m["sdp"] for m in got_a] == [f"answer {i}" for i in range(100)]
    assert all(m["from"] == wa["id"] for m in got_b)
    for ws in (a, b):
        assert ws.ping_frame()
        ws.send({"type": "ping", "id": "after"})
        ws.expect("pong", id="after")
    assert metric(s.http_port, "ferry_signaling_connections") == 2
    assert c.refresh().ok
    log = s.read_log()
    assert log.count("SIGHUP: reloading") == 50, log.count("SIGHUP: reloading")
    assert log.count("reload done") == 50, log.count("reload done")
    assert "reload rejected" not in log
    assert s.stop() == 0


run()
