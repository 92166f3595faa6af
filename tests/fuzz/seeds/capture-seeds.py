#!/usr/bin/python3
"""Capture real STUN/TURN traffic with ferryd as seeds for fuzz_stun.

Starts ferryd on 127.0.0.1 (a free port, a temporary directory), opens an
AF_PACKET socket on `lo` (root only) and records the UDP and TCP payloads
to and from ferryd's port while real clients run against it:

  coturn   turnutils_uclient (-u alice -w pw) against turnutils_peer, over
           UDP with channels, UDP with Send indications, and TCP
  aiortc   two RTCPeerConnections with REST credentials and only relay
           candidates, exchanging data channel messages (UDP and, where
           aioice can, TCP)
  chromium a two-participant call of the call page in Debian's chromium
           (tests/fuzz/seeds/capture-chromium.mjs, through tests/e2e/lib.mjs and
           its node_modules) with ?relay=1: TURN over UDP and TCP, video and
           audio, a chat line, an ICE restart, a `leave`

TCP streams are cut into messages by STUN/ChannelData framing.  STUN
messages carried inside Send/Data indications and ChannelData (the ICE
connectivity checks between relay candidates: Binding requests with
USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE) are taken
out as messages of their own too.  Distinct messages are written to OUTDIR
(default tests/fuzz/corpus/stun) as coturn-NNN, aiortc-NNN and
chromium-NNN: first one of each shape (message type and attribute types),
then more in capture order, at most --max of coturn's and aiortc's (default
100) and --chromium-max of chromium's (default 60).  For chromium the
client-to-server WebSocket frames of the signaling (masked, as sent) are
cut out of the HTTP port's TCP streams as well and written to WSDIR
(default tests/fuzz/corpus/ws) as chromium-NNN, one frame a file, one of
each kind (opcode and JSON `type`) first, at most --ws-max (default 20).
Transaction ids, nonces and MESSAGE-INTEGRITY make each run's messages
different: re-running adds files rather than rewriting them unless the old
ones are removed first; --clients picks which clients run (default all).

    sudo /usr/bin/python3 tests/fuzz/capture-seeds.py [--ferryd PATH] [--max N]
        [--chromium-max N] [--ws-max N] [--ws-outdir WSDIR]
        [--clients coturn,aiortc,chromium] [OUTDIR]

Everything stays on loopback; every process started is ended by its pid.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SECRET = "s3cret"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def free_port(kind=socket.SOCK_DGRAM):
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no free port")


class Sniffer(threading.Thread):
    """Payloads of UDP datagrams and TCP segments to or from port on lo;
    with http_port, also the TCP segments sent to that port."""

    def __init__(self, port, http_port=None):
        super().__init__(daemon=True)
        self.port = port
        self.http_port = http_port
        self.http = {}                      # (label, src) -> {seq: payload}
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.label = None
        self.udp = []                       # (label, payload)
        self.tcp = {}                       # (label, src, dst) -> {seq: payload}
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                frame, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING:  # lo shows each packet twice
                continue
            self.packet(frame)

    def packet(self, frame):
        if len(frame) < 14:
            return
        ethertype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            proto, src, dst = ip[9], ip[12:16], ip[16:20]
            l4 = ip[ihl:total]
        elif ethertype == 0x86DD and len(ip) >= 40:
            plen = struct.unpack("!H", ip[4:6])[0]
            proto, src, dst = ip[6], ip[8:24], ip[24:40]
            l4 = ip[40:40 + plen]
        else:
            return
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            if self.port in (sport, dport) and self.label:
                self.udp.append((self.label, bytes(l4[8:])))
        elif proto == 6 and len(l4) >= 20:
            sport, dport, seq = struct.unpack("!HHI", l4[:8])
            off = (l4[12] >> 4) * 4
            payload = bytes(l4[off:])
            if self.port in (sport, dport) and payload and self.label:
                key = (self.label, src + struct.pack("!H", sport),
                       dst + struct.pack("!H", dport))
                self.tcp.setdefault(key, {})[seq] = payload
            elif dport == self.http_port and payload and self.label:
                key = (self.label, src + struct.pack("!H", sport))
                self.http.setdefault(key, {})[seq] = payload

    def messages(self):
        """(label, message) in capture order: datagrams whole, streams cut."""
        out = list(self.udp)
        for (label, _, _), segs in self.tcp.items():
            stream = b"".join(segs[s] for s in sorted(segs))
            out += [(label, m) for m in frames(stream)]
        return out + [(label, inner) for label, m in out for inner in carried(m)]

    def ws_frames(self):
        """(label, frame) of every client WebSocket frame sent to http_port."""
        out = []
        for (label, _), segs in self.http.items():
            stream = b"".join(segs[s] for s in sorted(segs))
            out += [(label, f) for f in ws_frames(stream)]
        return out


def frames(stream):
    """Cut a TURN-over-TCP byte stream into STUN messages and ChannelData."""
    pos, out = 0, []
    while pos + 4 <= len(stream):
        b0 = stream[pos]
        if b0 & 0xC0 == 0x40:               # ChannelData, padded to 4
            n = 4 + struct.unpack("!H", stream[pos + 2:pos + 4])[0]
            step = (n + 3) & ~3
        elif b0 & 0xC0 == 0:
            n = 20 + struct.unpack("!H", stream[pos + 2:pos + 4])[0]
            step = n
        else:
            break
        if pos + n > len(stream):
            break
        out.append(stream[pos:pos + n])
        pos += step
    return out


def is_stun(msg):
    return (len(msg) >= 20 and msg[0] & 0xC0 == 0 and
            msg[4:8] == b"\x21\x12\xa4\x42" and
            20 + struct.unpack("!H", msg[2:4])[0] == len(msg))


def carried(msg):
    """STUN messages inside a Send/Data indication's DATA or a
    ChannelData's payload (ICE checks between relay candidates)."""
    if len(msg) >= 4 and msg[0] & 0xC0 == 0x40:
        n = struct.unpack("!H", msg[2:4])[0]
        inner = msg[4:4 + n]
        return [inner] if is_stun(inner) else []
    if not is_stun(msg) or struct.unpack("!H", msg[:2])[0] not in (0x0016, 0x0017):
        return []
    pos = 20
    while pos + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[pos:pos + 4])
        if t == 0x0013:                     # DATA
            inner = msg[pos + 4:pos + 4 + n]
            return [inner] if is_stun(inner) else []
        pos += 4 + ((n + 3) & ~3)
    return []


def ws_frames(stream):
    """The WebSocket frames of a client's byte stream after its HTTP
    upgrade request, each as sent (header, mask and masked payload)."""
    head = stream.find(b"\r\n\r\n")
    if not stream.startswith(b"GET ") or head < 0 or \
            b"upgrade: websocket" not in stream[:head].lower():
        return []                           # not a WebSocket (the page's files)
    pos, out = head + 4, []
    while pos + 2 <= len(stream):
        b1 = stream[pos + 1]
        n, hl = b1 & 0x7F, 2
        if n == 126:
            if pos + 4 > len(stream):
                break
            n, hl = struct.unpack("!H", stream[pos + 2:pos + 4])[0], 4
        elif n == 127:
            if pos + 10 > len(stream):
                break
            n, hl = struct.unpack("!Q", stream[pos + 2:pos + 10])[0], 10
        if b1 & 0x80:
            hl += 4
        if pos + hl + n > len(stream):
            break
        out.append(stream[pos:pos + hl + n])
        pos += hl + n
    return out


def ws_shape(frame):
    """A frame's opcode and, for text, the JSON `type` (and whether a
    candidate is null)."""
    opcode, b1 = frame[0] & 0x0F, frame[1]
    n, hl = b1 & 0x7F, 2
    hl += {126: 2, 127: 8}.get(n, 0)
    if not b1 & 0x80:
        return (opcode, None)
    mask = frame[hl:hl + 4]
    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(frame[hl + 4:]))
    if opcode != 1:
        return (opcode, None)
    try:
        msg = json.loads(payload)
    except ValueError:
        return (opcode, "?")
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind == "candidate":
        kind += ":null" if msg.get("candidate") is None else ""
    if kind == "broadcast" and isinstance(msg.get("data"), dict):
        kind += ":" + str(msg["data"].get("kind"))
    return (opcode, kind)


def shape(msg):
    """What a message looks like: STUN type and attribute types, or
    ChannelData (with a length class); None for neither."""
    if msg[0] & 0xC0 == 0x40:
        return ("channeldata", min(len(msg) // 64, 4))
    if msg[0] & 0xC0 or len(msg) < 20:
        return None
    types, pos = [], 20
    while pos + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[pos:pos + 4])
        types.append(t)
        pos += 4 + ((n + 3) & ~3)
    return (struct.unpack("!H", msg[:2])[0], tuple(types))


def pick(messages, per_label, shape=shape):
    """Up to per_label distinct messages of each label (a number, or a
    dict label -> number): first one of each shape, then more in capture
    order, ChannelData at most a tenth."""
    limit = per_label.get if isinstance(per_label, dict) else (lambda _l, _d=per_label: _d)
    chosen, seen, count, cd = [], set(), {}, {}
    for first_pass in (True, False):
        shapes = set()
        for label, msg in messages:
            sh = shape(msg) if len(msg) >= 4 else None
            cap = limit(label, 100)
            if sh is None or msg in seen or count.get(label, 0) >= cap:
                continue
            if first_pass and (label, sh) in shapes:
                continue
            if sh[0] == "channeldata" and cd.get(label, 0) >= max(cap // 10, 1):
                continue
            shapes.add((label, sh))
            seen.add(msg)
            count[label] = count.get(label, 0) + 1
            if sh[0] == "channeldata":
                cd[label] = cd.get(label, 0) + 1
            chosen.append((label, msg))
    return chosen


class Proc:
    """A child process, ended by its pid."""

    def __init__(self, args, log):
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)

    def stop(self, timeout=5):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()


def start_ferryd(ferryd, d, port, http_port):
    conf = os.path.join(d, "ferryd.conf")
    with open(conf, "w") as f:
        f.write(f"listen = 127.0.0.1:{port}\nrelay-ip = 127.0.0.1\n"
                "allow-loopback-peers = yes\nuser = alice:pw\n"
                f"auth-secret = {SECRET}\nrelay-ports = 51000-51999\n"
                f"database = {d}/ferry.db\nthreads = 1\nlog-level = info\n"
                f"http-listen = 127.0.0.1:{http_port}\n"
                f"web-root = {os.path.join(TOP, 'web')}\n")
    log = open(os.path.join(d, "ferryd.log"), "ab")
    p = Proc([ferryd, "-f", "-c", conf], log)
    for _ in range(100):
        if b"started" in open(os.path.join(d, "ferryd.log"), "rb").read():
            return p
        if p.p.poll() is not None:
            break
        time.sleep(0.1)
    p.stop()
    sys.exit("ferryd did not start:\n" +
             open(os.path.join(d, "ferryd.log"), errors="replace").read())


def run_coturn(sniffer, port, d):
    if not shutil.which("turnutils_uclient") or not shutil.which("turnutils_peer"):
        print("# coturn's turnutils not found: skipped")
        return
    peer_port = free_port()
    log = open(os.path.join(d, "coturn.log"), "ab")
    peer = Proc(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)], log)
    time.sleep(0.3)
    sniffer.label = "coturn"
    try:
        for flags in ([], ["-s"], ["-t"], ["-t", "-s"], ["-c", "-G", "-g"]):
            c = Proc(["turnutils_uclient", "-u", "alice", "-w", "pw", "-e", "127.0.0.1",
                      "-r", str(peer_port), "-p", str(port), "-n", "5", "-m", "1",
                      "-l", "60"] + flags + ["127.0.0.1"], log)
            try:
                c.p.wait(15)
            except subprocess.TimeoutExpired:
                pass
            c.stop()
    finally:
        peer.stop()


async def aiortc_call(port, transport):
    from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,
                        RTCSessionDescription)
    username = f"{int(time.time()) + 600}:aiortc"
    password = base64.b64encode(hmac.new(SECRET.encode(), username.encode(),
                                         hashlib.sha1).digest()).decode()
    config = RTCConfiguration(iceServers=[RTCIceServer(
        urls=[f"turn:127.0.0.1:{port}?transport={transport}"],
        username=username, credential=password)])
    a, b = RTCPeerConnection(configuration=config), RTCPeerConnection(configuration=config)

    def relay_only(sdp):
        return "\r\n".join(l for l in sdp.splitlines()
                           if not l.startswith("a=candidate:") or " typ relay" in l) + "\r\n"

    got = asyncio.get_running_loop().create_future()

    @b.on("datachannel")
    def on_dc(ch):
        @ch.on("message")
        def on_message(m):
            if not got.done():
                got.set_result(m)

    dc = a.createDataChannel("seeds")
    opened = asyncio.get_running_loop().create_future()
    dc.on("open", lambda: opened.done() or opened.set_result(True))
    try:
        await a.setLocalDescription(await a.createOffer())
        await b.setRemoteDescription(RTCSessionDescription(
            relay_only(a.localDescription.sdp), "offer"))
        await b.setLocalDescription(await b.createAnswer())
        await a.setRemoteDescription(RTCSessionDescription(
            relay_only(b.localDescription.sdp), "answer"))
        await asyncio.wait_for(opened, 10)
        for i in range(5):
            dc.send(f"seed {i}")
        await asyncio.wait_for(got, 10)
        await asyncio.sleep(0.5)
    finally:
        for pc in (a, b):
            await pc.close()


def run_aiortc(sniffer, port):
    try:
        import aiortc  # noqa: F401
    except ImportError as e:
        print(f"# aiortc not importable: {e}: skipped")
        return
    sniffer.label = "aiortc"
    transports = ["udp"]
    try:
        import inspect
        from aioice import turn
        if "transport" in inspect.signature(turn.create_turn_endpoint).parameters:
            transports.append("tcp")
    except Exception:
        pass
    for t in transports:
        try:
            asyncio.run(asyncio.wait_for(aiortc_call(port, t), 30))
        except Exception as e:          # a failed call still leaves seeds
            print(f"# aiortc over {t}: {type(e).__name__}: {e}")


def run_chromium(sniffer, http_port, d):
    helper = os.path.join(HERE, "capture-chromium.mjs")
    e2e = os.path.join(TOP, "tests", "e2e")
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not node or not os.access(chromium, os.X_OK) or \
            not os.path.isdir(os.path.join(e2e, "node_modules", "playwright-core")):
        print(f"# chromium capture needs node, {chromium} and "
              f"{e2e}/node_modules (npm ci there): skipped")
        return
    sniffer.label = "chromium"
    log = open(os.path.join(d, "chromium.log"), "ab")
    c = subprocess.Popen([node, helper, "--base", f"http://127.0.0.1:{http_port}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    try:
        res, _ = c.communicate(timeout=120)
        print(f"# chromium call: {res.decode(errors='replace').strip()}")
    except subprocess.TimeoutExpired:
        os.kill(c.pid, signal.SIGTERM)
        try:
            c.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(c.pid, signal.SIGKILL)
            c.wait()
        print("# chromium call: timed out after 120 s")


def write_seeds(outdir, chosen):
    """Files label-NNN in outdir, never overwriting; counts per label."""
    os.makedirs(outdir, exist_ok=True)
    seen, counts = set(), {}
    for label, msg in chosen:
        if msg in seen:
            continue
        seen.add(msg)
        counts[label] = counts.get(label, 0) + 1
        name = os.path.join(outdir, f"{label}-{counts[label]:03d}")
        n = counts[label]
        while os.path.exists(name):       # keep what earlier runs wrote
            n += 1000
            name = os.path.join(outdir, f"{label}-{n:03d}")
        with open(name, "wb") as f:
            f.write(msg)
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=os.path.join(HERE, "..", "corpus", "stun"))
    ap.add_argument("--ferryd", default=os.environ.get("FERRYD", "src/ferryd"))
    ap.add_argument("--max", type=int, default=100,
                    help="seeds of coturn's and of aiortc's")
    ap.add_argument("--chromium-max", type=int, default=60, help="seeds of chromium's")
    ap.add_argument("--ws-max", type=int, default=20, help="WebSocket frames of chromium's")
    ap.add_argument("--ws-outdir", default=os.path.join(HERE, "..", "corpus", "ws"))
    ap.add_argument("--clients", default="coturn,aiortc,chromium",
                    help="comma-separated: which clients to run")
    args = ap.parse_args()
    clients = set(args.clients.split(","))
    if clients - {"coturn", "aiortc", "chromium"}:
        sys.exit(f"--clients: unknown {sorted(clients - {'coturn', 'aiortc', 'chromium'})}")
    if os.geteuid() != 0:
        sys.exit("capture-seeds.py needs root (an AF_PACKET socket on lo)")
    ferryd = os.path.abspath(args.ferryd)
    if not os.access(ferryd, os.X_OK):
        sys.exit(f"{ferryd}: not an executable ferryd (see --ferryd)")

    d = tempfile.mkdtemp(prefix="ferry-capture-")
    port = free_port()
    http_port = free_port(socket.SOCK_STREAM)
    sniffer = Sniffer(port, http_port)
    sniffer.start()
    daemon = start_ferryd(ferryd, d, port, http_port)
    try:
        if "coturn" in clients:
            run_coturn(sniffer, port, d)
        if "aiortc" in clients:
            run_aiortc(sniffer, port)
        if "chromium" in clients:
            run_chromium(sniffer, http_port, d)
        time.sleep(0.5)
    finally:
        sniffer.stopping = True
        sniffer.join(2)
        daemon.stop()

    caps = {"coturn": args.max, "aiortc": args.max, "chromium": args.chromium_max}
    counts = write_seeds(args.outdir, pick(sniffer.messages(), caps))
    ws_counts = write_seeds(args.ws_outdir,
                            pick(sniffer.ws_frames(), {"chromium": args.ws_max}, ws_shape))
    shutil.rmtree(d, ignore_errors=True)
    for label in ("coturn", "aiortc", "chromium"):
        if label in clients:
            print(f"{label}: {counts.get(label, 0)} distinct messages")
    print(f"written to {args.outdir}")
    if "chromium" in clients:
        print(f"chromium: {ws_counts.get('chromium', 0)} WebSocket frames, written to {args.ws_outdir}")


if __name__ == "__main__":
    main()
