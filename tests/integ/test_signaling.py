"""The signaling protocol (doc/signaling.md) against the real ferryd, with
Debian's python3-websockets as the client and a hand-made RFC 6455 client
(lib/wsclient.RawWS) for frames a library will not send and for clients
that stop reading or answering.  Timing tests run with a 2 s reconnect
grace and a 5 s idle timeout to stay quick."""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from creds import jwt_hs256, turn_rest_password  # noqa: E402
from harness import run, test, wait_for  # noqa: E402
from httpapi import http_request, metric  # noqa: E402
from process import FERRYCTL, Ferryd, run_cmd, vm_rss_kib  # noqa: E402
from wsclient import WS, RawWS, WSClosed  # noqa: E402

TURN_SECRET = "turn-secret"
SIG_SECRET = "sig-secret"
GRACE = 2
IDLE = 5
ERROR_CODES = {"bad-json", "bad-message", "unknown-type", "not-joined",
               "already-joined", "unauthorized", "room-full", "unknown-peer",
               "rate-limited", "server-busy"}

srv = None


def server():
    """The shared server: short grace and idle timeout, small messages."""
    global srv
    if srv is None or not srv.alive():
        srv = Ferryd(conf=f"auth-secret = {TURN_SECRET}\n"
                     f"reconnect-grace = {GRACE}\n"
                     f"signaling-idle-timeout = {IDLE}\n"
                     "signaling-max-message = 2048\n"
                     "room-max-peers = 3\n")
    return srv


def join(s, room, name=None, **extra):
    """A new WebSocket that has joined room: (ws, welcome)."""
    ws = WS(s.http_port)
    msg = {"type": "join", "room": room}
    if name is not None:
        msg["name"] = name
    msg.update(extra)
    ws.send(msg)
    return ws, ws.expect("welcome", room=room)


def expect_error(ws, code, ref=None):
    m = ws.expect("error", code=code)
    assert code in ERROR_CODES
    assert isinstance(m.get("message"), str) and m["message"], m
    if ref is not None:
        assert m.get("ref") == ref, m
    return m


def wait_connections(s, n, timeout=5):
    """Until ferryd counts n open signaling connections (it has noticed a
    dropped socket)."""
    wait_for(lambda: metric(s.http_port, "ferry_signaling_connections") == n,
             timeout, f"{n} signaling connections")


def room_name():
    return "r" + os.urandom(5).hex()


# ---------------------------------------------------------- messages


@test
def welcome_and_peer_joined():
    """welcome has id, room, peers oldest first, iceServers with TURN
    credentials, resume token, reconnectGrace, resumed false; others get
    peer-joined"""
    s = server()
    room = room_name()
    a, wa = join(s, room, "alice")
    assert wa["peers"] == [] and wa["resumed"] is False, wa
    assert wa["reconnectGrace"] == GRACE, wa
    assert isinstance(wa["id"], str) and wa["id"], wa
    assert isinstance(wa["resume"], str) and len(wa["resume"]) >= 16, wa
    b, wb = join(s, room, "bob")
    assert a.expect("peer-joined")["peer"] == {"id": wb["id"], "name": "bob"}
    c, wc = join(s, room)
    assert wc["peers"] == [{"id": wa["id"], "name": "alice"},
                           {"id": wb["id"], "name": "bob"}], wc
    for ws in (a, b):
        assert ws.expect("peer-joined")["peer"] == {"id": wc["id"], "name": ""}
    ids = {wa["id"], wb["id"], wc["id"]}
    assert len(ids) == 3
    assert len({wa["resume"], wb["resume"], wc["resume"]}) == 3

    # iceServers: STUN and TURN urls for this listener, and REST
    # credentials signed with the auth-secret (user part: the peer id).
    ice = wc["iceServers"]
    stun = [u for e in ice for u in e["urls"] if u.startswith("stun:")]
    assert stun == [f"stun:127.0.0.1:{s.port}"], ice
    turn = [e for e in ice if any(u.startswith("turn:") for u in e["urls"])]
    assert len(turn) == 1, ice
    assert f"turn:127.0.0.1:{s.port}?transport=udp" in turn[0]["urls"]
    assert f"turn:127.0.0.1:{s.port}?transport=tcp" in turn[0]["urls"]
    user = turn[0]["username"]
    expiry, _, who = user.partition(":")
    assert int(expiry) > time.time() and who, user
    assert turn[0]["credential"] == turn_rest_password(TURN_SECRET, user)


@test
def relay_offer_answer_candidate_broadcast():
    """offer/answer/candidate (incl. null) reach `to` with `from`;
    broadcast reaches every other peer and not the sender"""
    s = server()
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    c, wc = join(s, room)
    a.expect("peer-joined")
    b.expect("peer-joined")
    a.send({"type": "offer", "to": wb["id"], "sdp": "v=0 offer", "extra": 1})
    b.expect("offer", **{"from": wa["id"], "sdp": "v=0 offer"})
    b.send({"type": "answer", "to": wa["id"], "sdp": "v=0 answer"})
    a.expect("answer", **{"from": wb["id"], "sdp": "v=0 answer"})
    cand = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
            "sdpMid": "0", "sdpMLineIndex": 0}
    a.send({"type": "candidate", "to": wc["id"], "candidate": cand})
    c.expect("candidate", **{"from": wa["id"], "candidate": cand})
    a.send({"type": "candidate", "to": wc["id"], "candidate": None})
    m = c.expect("candidate", **{"from": wa["id"]})
    assert "candidate" in m and m["candidate"] is None, m
    data = {"chat": "hi", "n": [1, 2.5, True, None]}
    b.send({"type": "broadcast", "data": data})
    a.expect("broadcast", **{"from": wb["id"], "data": data})
    c.expect("broadcast", **{"from": wb["id"], "data": data})
    b.silent(0.3)
    # Nothing leaked to the peers a message was not for.
    a.silent(0.1)
    c.silent(0.1)


@test
def leave_and_pings():
    """leave: peer-left `left` to the others and close 1000; ping → pong
    with id (before and after join); a WebSocket ping frame → pong frame"""
    s = server()
    room = room_name()
    a, wa = join(s, room)
    b = WS(s.http_port)
    b.send({"type": "ping", "id": 7})
    b.expect("pong", id=7)
    b.send({"type": "ping", "id": {"x": "y"}})
    b.expect("pong", id={"x": "y"})
    b.send({"type": "ping"})
    assert b.expect("pong").get("id") is None
    assert b.ping_frame(b"are you there")
    b.send({"type": "join", "room": room})
    wb = b.expect("welcome")
    a.expect("peer-joined")
    b.send({"type": "ping", "id": "after"})
    b.expect("pong", id="after")
    b.send({"type": "leave"})
    code, _, msgs = b.expect_close()
    assert code == 1000 and msgs == [], (code, msgs)
    a.expect("peer-left", id=wb["id"], reason="left")


@test
def error_codes():
    """bad-json, bad-message (non-object, no/mistyped type, missing and
    mistyped members, bad room, binary frame), unknown-type, not-joined,
    already-joined, unknown-peer (stranger and self); the socket stays
    open after each"""
    s = server()
    room = room_name()
    ws = WS(s.http_port)
    ws.send_raw("{not json")
    expect_error(ws, "bad-json")
    for text in ("[1,2]", "42", '"join"', "null"):
        ws.send_raw(text)
        expect_error(ws, "bad-message")
    ws.send({"room": room})
    expect_error(ws, "bad-message")
    ws.send({"type": 5})
    expect_error(ws, "bad-message")
    ws.send_raw(b"\x00\x01binary")
    expect_error(ws, "bad-message")
    ws.send({"type": "dance"})
    expect_error(ws, "unknown-type", ref="dance")
    for mtype in ("offer", "answer", "candidate", "broadcast", "leave"):
        ws.send({"type": mtype, "to": "x", "sdp": "y", "candidate": None, "data": 1})
        expect_error(ws, "not-joined", ref=mtype)
    ws.send({"type": "join"})
    expect_error(ws, "bad-message", ref="join")
    ws.send({"type": "join", "room": 12})
    expect_error(ws, "bad-message", ref="join")
    for bad_room in ("", "a b", "x" * 65, "caf\u00e9", "../x"):
        ws.send({"type": "join", "room": bad_room})
        expect_error(ws, "bad-message", ref="join")
    ws.send({"type": "join", "room": room, "name": 3})
    expect_error(ws, "bad-message", ref="join")
    ws.send({"type": "join", "room": room, "name": "n" * 65})
    expect_error(ws, "bad-message", ref="join")
    ws.send({"type": "join", "room": room, "name": "\u00e9" * 64})
    me = ws.expect("welcome")
    ws.send({"type": "join", "room": room})
    expect_error(ws, "already-joined", ref="join")
    other, wo = join(s, room)
    ws.expect("peer-joined")
    for bad in ({"type": "offer", "to": wo["id"]},
                {"type": "offer", "to": wo["id"], "sdp": 1},
                {"type": "answer", "sdp": "x"},
                {"type": "offer", "to": ["x"], "sdp": "x"},
                {"type": "candidate", "to": wo["id"]},
                {"type": "candidate", "to": wo["id"], "candidate": "a=x"},
                {"type": "broadcast"}):
        ws.send(bad)
        expect_error(ws, "bad-message", ref=bad["type"])
    ws.send({"type": "offer", "to": me["id"], "sdp": "x"})
    expect_error(ws, "unknown-peer", ref="offer")
    ws.send({"type": "answer", "to": "nobody-here", "sdp": "x"})
    expect_error(ws, "unknown-peer", ref="answer")
    # a peer of another room is unknown too
    third, w3 = join(s, room_name())
    ws.send({"type": "candidate", "to": w3["id"], "candidate": None})
    expect_error(ws, "unknown-peer", ref="candidate")
    third.silent(0.2)
    other.silent(0.1)
    # still usable after every error
    ws.send({"type": "offer", "to": wo["id"], "sdp": "ok"})
    other.expect("offer", sdp="ok")


@test
def room_full():
    """the join beyond room-max-peers gets room-full; the socket stays
    open and can join elsewhere"""
    s = server()
    room = room_name()
    (a, wa), (b, _), (c, _) = [join(s, room) for _ in range(3)]
    ws = WS(s.http_port)
    ws.send({"type": "join", "room": room})
    expect_error(ws, "room-full", ref="join")
    for p in (a, a, b):
        p.expect("peer-joined")
    a.silent(0.2)                   # the refused join was announced to no one
    ws.send({"type": "join", "room": room_name()})
    ws.expect("welcome")
    # a place freed by leave can be taken
    a.send({"type": "leave"})
    b.expect("peer-left", id=wa["id"], reason="left")
    ws2 = WS(s.http_port)
    ws2.send({"type": "join", "room": room})
    ws2.expect("welcome")


# ---------------------------------------------------------- resume


@test
def resume_within_grace():
    """a dropped peer resumes with its token: same id, resumed true, the
    messages sent meanwhile in order; the others saw no peer-left or
    peer-joined; the token works once"""
    s = server()
    room = room_name()
    a, wa = join(s, room, "a")
    b, wb = join(s, room, "b")
    a.expect("peer-joined")
    # Earlier tests' sockets are closed by now or soon: count only ours,
    # so that the drop of b is what we see.
    wait_connections(s, 2)
    b.abort()
    wait_connections(s, 1)
    a.send({"type": "offer", "to": wb["id"], "sdp": "one"})
    a.send({"type": "broadcast", "data": "two"})
    a.send({"type": "candidate", "to": wb["id"], "candidate": None})
    b2 = WS(s.http_port)
    b2.send({"type": "join", "room": room, "resume": wb["resume"]})
    w2 = b2.expect("welcome", id=wb["id"], resumed=True, room=room)
    assert w2["resume"] != wb["resume"], w2
    assert w2["peers"] == [{"id": wa["id"], "name": "a"}], w2
    b2.expect("offer", sdp="one", **{"from": wa["id"]})
    b2.expect("broadcast", data="two", **{"from": wa["id"]})
    b2.expect("candidate", candidate=None, **{"from": wa["id"]})
    a.silent(0.5)
    # live again
    a.send({"type": "offer", "to": wb["id"], "sdp": "live"})
    b2.expect("offer", sdp="live")
    # the used token makes an ordinary join
    b3 = WS(s.http_port)
    b3.send({"type": "join", "room": room, "resume": wb["resume"]})
    w3 = b3.expect("welcome", resumed=False)
    assert w3["id"] not in (wa["id"], wb["id"]), w3
    assert a.expect("peer-joined")["peer"]["id"] == w3["id"]
    b2.expect("peer-joined")


@test
def resume_replaces_open_socket():
    """a resume while the old socket is open closes it with 4000
    "replaced" and carries on over the new one"""
    s = server()
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    b2 = WS(s.http_port)
    b2.send({"type": "join", "room": room, "resume": wb["resume"]})
    b2.expect("welcome", id=wb["id"], resumed=True)
    code, reason, msgs = b.expect_close()
    assert (code, reason) == (4000, "replaced"), (code, reason, msgs)
    a.send({"type": "offer", "to": wb["id"], "sdp": "x"})
    b2.expect("offer", sdp="x")
    a.silent(0.5)


@test(timeout=20)
def grace_expires():
    """after reconnect-grace the others get peer-left `timeout`, and the
    token no longer resumes"""
    s = server()
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    t0 = time.monotonic()
    b.abort()
    a.expect("peer-left", timeout=GRACE + 3, id=wb["id"], reason="timeout")
    assert time.monotonic() - t0 >= GRACE - 0.5
    b2 = WS(s.http_port)
    b2.send({"type": "join", "room": room, "resume": wb["resume"]})
    w = b2.expect("welcome", resumed=False)
    assert w["id"] != wb["id"]


@test(timeout=30)
def idle_client_dropped():
    """a client that never answers pings is pinged, dropped after
    signaling-idle-timeout, and after the grace the others get peer-left
    `timeout`; a client that answers pings stays"""
    s = server()
    room = room_name()
    a, wa = join(s, room)           # websockets answers pings by itself
    raw = RawWS(s.http_port)
    raw.send_json({"type": "join", "room": room})
    wr = raw.recv_json()
    assert wr["type"] == "welcome", wr
    a.expect("peer-joined")
    t0 = time.monotonic()
    pinged = False
    try:
        while time.monotonic() - t0 < IDLE + 5:
            fin, op, data = raw.recv_frame(IDLE + 5)
            if op == 0x9:
                pinged = True       # and deliberately not answered
            if op == 0x8:
                break
    except (EOFError, ConnectionResetError):
        pass
    dropped = time.monotonic() - t0
    assert pinged, "no ping before the drop"
    assert IDLE - 1 <= dropped <= IDLE + 3, dropped
    a.expect("peer-left", timeout=GRACE + 3, id=wr["id"], reason="timeout")
    # the answering peer is still connected and served
    a.send({"type": "ping", "id": 1})
    a.expect("pong", id=1)


# ------------------------------------------------------- handshake, frames


@test
def handshake_errors():
    """missing Sec-WebSocket-Key → 400, wrong version → 426 with
    Sec-WebSocket-Version: 13, POST /ws → 405, no Upgrade → 426"""
    s = server()
    base = {"Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13"}
    st, h, body = http_request(s.http_port, "GET", "/ws", headers=base)
    assert st == 400, (st, body)
    assert json.loads(body)["error"], body
    st, h, body = http_request(s.http_port, "GET", "/ws", headers=dict(
        base, **{"Sec-WebSocket-Version": "8",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}))
    assert st == 426 and h.get("sec-websocket-version") == "13", (st, h)
    st, h, body = http_request(s.http_port, "POST", "/ws", headers=dict(
        base, **{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}))
    assert st == 405, st
    st, h, body = http_request(s.http_port, "GET", "/ws")
    assert st == 426, st


@test
def frame_violations_close():
    """a header announcing more than signaling-max-message → 1009, invalid
    UTF-8 → 1007, an unmasked frame → 1002"""
    s = server()
    raw = RawWS(s.http_port)
    raw.send_frame(0x1, b"{", length=3000)       # announces 3000 > 2048
    assert raw.expect_close()[0] == 1009
    raw = RawWS(s.http_port)
    raw.send_frame(0x1, b'{"type":"ping","id":"\xff\xfe"}')
    assert raw.expect_close()[0] == 1007
    raw = RawWS(s.http_port)
    raw.send_frame(0x1, b'{"type":"ping"}', mask=False)
    assert raw.expect_close()[0] == 1002
    # at the limit is fine
    raw = RawWS(s.http_port)
    pad = "p" * (2048 - len('{"type":"ping","id":""}'))
    raw.send_json({"type": "ping", "id": pad})
    assert raw.recv_json() == {"type": "pong", "id": pad}


@test
def close_frame_survives_unread_input():
    """a client still sending when refused reads the close frame, then a
    clean end (FIN), not a reset"""
    s = server()
    for _ in range(5):
        raw = RawWS(s.http_port)
        # the refused frame, then 256 KB more that ferryd never parses
        raw.sock.sendall(bytes([0x81, 15]) + b'{"type":"ping"}' +
                         (bytes([0x82, 0xFE, 0x10, 0x00, 0, 0, 0, 0]) + b"z" * 4096) * 64)
        assert raw.expect_close()[0] == 1002
        raw.sock.settimeout(5)
        try:
            rest = raw.buf + raw.sock.recv(65536)
        except ConnectionResetError:
            raise AssertionError("reset after the close frame")
        assert rest == b"", rest


@test
def fragmented_message_with_ping():
    """a message in three fragments with a ping between them is accepted"""
    s = server()
    raw = RawWS(s.http_port)
    text = json.dumps({"type": "ping", "id": "fragmented"}).encode()
    raw.send_frame(0x1, text[:5], fin=False)
    raw.send_frame(0x9, b"mid")
    raw.send_frame(0x0, text[5:12], fin=False)
    raw.send_frame(0x0, text[12:], fin=True)
    fin, op, data = raw.recv_frame()
    assert (op, data) == (0xA, b"mid"), (op, data)
    assert raw.recv_json() == {"type": "pong", "id": "fragmented"}


# ---------------------------------------------------------- volume


@test
def ids_never_reused():
    """200 join/leave cycles give 200 distinct ids"""
    s = server()
    room = room_name()
    ids = set()
    for _ in range(200):
        raw = RawWS(s.http_port)
        raw.send_json({"type": "join", "room": room})
        w = raw.recv_json()
        assert w["type"] == "welcome" and w["peers"] == [], w
        ids.add(w["id"])
        raw.send_json({"type": "leave"})
        assert raw.expect_close()[0] == 1000
        raw.sock.close()
    assert len(ids) == 200


@test
def per_sender_order():
    """200 messages from one sender arrive in the order sent, interleaved
    kinds included"""
    s = server()
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    for i in range(200):
        if i % 2:
            a.send({"type": "offer", "to": wb["id"], "sdp": str(i)})
        else:
            a.send({"type": "broadcast", "data": i})
    for i in range(200):
        m = b.recv()
        got = int(m["sdp"]) if m["type"] == "offer" else m["data"]
        assert got == i, (i, m)


@test(timeout=60)
def slow_reader_disconnected():
    """a peer that stops reading while others broadcast 40 MB is
    disconnected; ferryd's memory stays bounded and the others carry on"""
    # the sender is far beyond any sane rate: this test is about memory
    s = Ferryd(conf="reconnect-grace = 0\nsignaling-rate = 0\n")
    room = room_name()
    slow = RawWS(s.http_port, rcvbuf=4096)
    slow.send_json({"type": "join", "room": room})
    ws = slow.recv_json()
    assert ws["type"] == "welcome"
    a, wa = join(s, room)
    c, wc = join(s, room)
    a.expect("peer-joined")
    rss0 = vm_rss_kib(s.proc.pid)
    blob = "x" * 60000
    left = []
    for i in range(700):
        a.send({"type": "broadcast", "data": [i, blob]})
        m = c.recv(10)                      # c reads everything
        if m["type"] == "peer-left":
            left.append(m)
            m = c.recv(10)
        assert m["type"] == "broadcast" and m["data"][0] == i, m["type"]
    assert [m["id"] for m in left] == [ws["id"]], left
    a.expect("peer-left", timeout=5, id=ws["id"])
    rss1 = vm_rss_kib(s.proc.pid)
    assert rss1 - rss0 < 100 * 1024, (rss0, rss1)
    assert "outbound queue full" in s.read_log()
    a.send({"type": "offer", "to": wc["id"], "sdp": "still here"})
    c.expect("offer", sdp="still here")
    assert s.stop() == 0


@test(timeout=60)
def ping_flood_without_reading_disconnected():
    """a client that sends pings but never reads the pongs is disconnected
    once their queue passes the limit; ferryd's memory stays bounded"""
    s = Ferryd(conf="signaling-rate = 0\n")
    ws = RawWS(s.http_port, rcvbuf=4096)
    rss0 = vm_rss_kib(s.proc.pid)
    # 125-byte pings, masked with a zero key, 1,000 to a write: 131 KB
    ping = bytes([0x89, 0x80 | 125, 0, 0, 0, 0]) + b"p" * 125
    chunk = ping * 1000
    cut = False
    for _ in range(120):                    # at most 15.7 MB
        try:
            ws.sock.sendall(chunk)
        except (ConnectionError, socket.timeout, OSError):
            cut = True
            break
    wait_for(lambda: "outbound queue full" in s.read_log(), 10, "the flood to be cut")
    rss1 = vm_rss_kib(s.proc.pid)
    assert rss1 - rss0 < 20 * 1024, (rss0, rss1)
    print(f"# cut while sending: {cut}; RSS grew {rss1 - rss0} KiB", flush=True)
    assert s.alive()
    assert s.stop() == 0


# ------------------------------------------------------- tokens


def secret_server():
    return Ferryd(conf=f"signaling-secret = {SIG_SECRET}\n"
                  f"auth-secret = {TURN_SECRET}\n")


@test
def tokens():
    """with signaling-secret: a valid token joins (sub becomes the TURN
    user, name claim overrides); missing, bad-signature, expired and
    wrong-room tokens get unauthorized then close 1008"""
    s = secret_server()
    room = room_name()
    exp = int(time.time()) + 300
    cases = {
        "missing": None,
        "bad signature": jwt_hs256({"room": room, "exp": exp}, "not-the-secret"),
        "expired": jwt_hs256({"room": room, "exp": int(time.time()) - 60}, SIG_SECRET),
        "wrong room": jwt_hs256({"room": "elsewhere", "exp": exp}, SIG_SECRET),
        "garbage": "abc.def.ghi",
    }
    for what, tok in cases.items():
        ws = WS(s.http_port)
        msg = {"type": "join", "room": room}
        if tok:
            msg["token"] = tok
        ws.send(msg)
        code, _, msgs = ws.expect_close()
        assert len(msgs) == 1 and msgs[0]["type"] == "error", (what, msgs)
        assert msgs[0]["code"] == "unauthorized", (what, msgs)
        assert code == 1008, (what, code)
    good = jwt_hs256({"room": room, "exp": exp, "sub": "carol", "name": "Carol"},
                     SIG_SECRET)
    a, wa = join(s, room, "ignored", token=good)
    turn = [e for e in wa["iceServers"] if "username" in e]
    assert len(turn) == 1, wa
    assert turn[0]["username"].split(":", 1)[1] == "carol", turn
    assert turn[0]["credential"] == turn_rest_password(TURN_SECRET, turn[0]["username"])
    star = jwt_hs256({"room": "*", "exp": exp}, SIG_SECRET)
    b, wb = join(s, room, "bob", token=star)
    assert wb["peers"] == [{"id": wa["id"], "name": "Carol"}], wb
    assert a.expect("peer-joined")["peer"]["name"] == "bob"
    assert s.stop() == 0


# ------------------------------------------------------- lifecycle


@test
def sigterm_closes_1001():
    """SIGTERM: connected clients get close 1001 and ferryd exits 0"""
    s = Ferryd()
    room = room_name()
    a, _ = join(s, room)
    b = WS(s.http_port)                 # connected, not joined
    s.signal(signal.SIGTERM)
    assert a.expect_close()[0] == 1001
    assert b.expect_close()[0] == 1001
    assert s.stop() == 0


@test
def rooms_persist_across_restart():
    """a room made by join (auto-create) and one made by `ferryctl room
    add --max-peers 2` survive a restart; the third join of the latter
    gets room-full; with auto-create-rooms = no an unknown room is
    refused"""
    s = Ferryd()
    db = os.path.join(s.dir, "ferry.db")
    a, _ = join(s, "madebyjoin")
    r = run_cmd([FERRYCTL, "-d", db, "room", "add", "big", "--max-peers", "2"])
    assert r.returncode == 0, r.stderr
    assert s.stop() == 0
    r = run_cmd([FERRYCTL, "-d", db, "room", "list"])
    assert r.returncode == 0 and "madebyjoin" in r.stdout and "big" in r.stdout, r
    with open(s.conf_path, "a") as f:
        f.write("auto-create-rooms = no\n")
    s.start()
    p1, _ = join(s, "big")
    p2, _ = join(s, "big")
    p3 = WS(s.http_port)
    p3.send({"type": "join", "room": "big"})
    expect_error(p3, "room-full", ref="join")
    j, w = join(s, "madebyjoin")
    assert w["peers"] == [], w          # who was in it is not kept
    u = WS(s.http_port)
    u.send({"type": "join", "room": "never-made"})
    m = u.recv()
    assert m["type"] == "error" and m["code"] in ERROR_CODES and m.get("ref") == "join", m
    try:
        m2 = u.recv(1)
        assert m2["type"] != "welcome", m2
    except (WSClosed, AssertionError):
        pass
    assert s.stop() == 0


@test
def stop_shared():
    """the shared server exits 0 on SIGTERM"""
    assert server().stop() == 0


@test
def rate_limited():
    """past signaling-rate (burst of ten seconds' worth) messages get one rate-limited error a second and are dropped; service resumes"""
    s = Ferryd(conf="signaling-rate = 5\n")
    room = room_name()
    a, wa = join(s, room)
    for i in range(120):                       # burst 50, then refused
        a.send({"type": "ping", "id": i})
    pongs, errors = [], []
    while True:
        try:
            m = a.recv(2)
        except AssertionError:
            break
        (pongs if m["type"] == "pong" else errors).append(m)
    assert 45 <= len(pongs) <= 60, len(pongs)
    assert [e["code"] for e in errors] == ["rate-limited"], errors
    assert [p["id"] for p in pongs] == sorted(p["id"] for p in pongs)
    time.sleep(1.5)                            # about 7 tokens back
    a.send({"type": "ping", "id": "later"})
    assert a.expect("pong")["id"] == "later"
    assert s.stop() == 0


@test
def server_busy_limits():
    """max-rooms and max-signaling-peers refuse joins with server-busy"""
    s = Ferryd(conf="max-rooms = 1\nmax-signaling-peers = 2\n")
    r1 = room_name()
    a, _ = join(s, r1)
    b = WS(s.http_port)
    refused = room_name()
    b.send({"type": "join", "room": refused})
    e = b.expect("error")
    assert e["code"] == "server-busy" and e["ref"] == "join", e
    b.send({"type": "join", "room": r1})
    assert b.expect("welcome")["room"] == r1
    c = WS(s.http_port)
    c.send({"type": "join", "room": r1})
    assert c.expect("error")["code"] == "server-busy"
    # the refused room was never written to the database
    rooms = run_cmd([FERRYCTL, "-d", os.path.join(s.dir, "ferry.db"), "room", "list"])
    assert rooms.returncode == 0 and r1 in rooms.stdout, rooms
    assert refused not in rooms.stdout, rooms.stdout
    assert s.stop() == 0


@test
def queue_memory_bounded():
    """signaling-queue-memory caps what absent peers hold: oldest dropped and counted"""
    s = Ferryd(conf="signaling-queue-memory = 4096\nsignaling-queue = 1000\n"
                    "reconnect-grace = 30\n")
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    b.close()                                  # b is absent, keeps its place
    time.sleep(0.5)
    for i in range(40):                        # 40 x ~300 bytes > 4096
        a.send({"type": "offer", "to": wb["id"], "sdp": "%03d" % i + "x" * 250})
    time.sleep(0.5)
    dropped = metric(s.http_port, "ferry_signaling_messages_total", {"outcome": "dropped"})
    held = metric(s.http_port, "ferry_signaling_queue_bytes")
    assert dropped >= 20, dropped
    assert 0 < held <= 4096, held
    b2 = WS(s.http_port)
    b2.send({"type": "join", "room": room, "resume": wb["resume"]})
    w = b2.expect("welcome")
    assert w["resumed"] is True
    got = []
    while True:
        try:
            got.append(b2.recv(1))
        except AssertionError:
            break
    sdps = [m["sdp"][:3] for m in got if m["type"] == "offer"]
    assert sdps and sdps[-1] == "039" and sdps == sorted(sdps), sdps   # newest kept
    assert s.stop() == 0


@test(timeout=60)
def resume_with_megabytes_queued():
    """a peer that resumes with 1.5 MB queued gets its welcome and every
    message in order: what one turn sends a reader that keeps up is not
    held against it"""
    s = Ferryd(conf="reconnect-grace = 30\nsignaling-rate = 0\n")
    room = room_name()
    a, wa = join(s, room)
    b, wb = join(s, room)
    a.expect("peer-joined")
    b.close()
    time.sleep(0.5)
    blob = "x" * 60000
    for i in range(25):
        a.send({"type": "broadcast", "data": [i, blob]})
    time.sleep(0.5)
    b2 = WS(s.http_port)
    b2.send({"type": "join", "room": room, "resume": wb["resume"]})
    w = b2.expect("welcome", timeout=10)
    assert w["resumed"] is True and w["id"] == wb["id"], w
    got = [b2.expect("broadcast", timeout=10)["data"][0] for _ in range(25)]
    assert got == list(range(25)), got
    assert "outbound queue full" not in s.read_log()
    assert s.stop() == 0


run()
