"""The control plane's limits against the real ferryd, tried as a new user
would with signaling-secret set and the documented tools (ferryctl,
curl-like HTTP, a WebSocket client, a raw TURN client): TURN credentials
bound to the identity a token carries, revocation that reaches signaling
and the API as well as TURN, `user del` ending relays at once, a call that
outlives its join token, and the start-up warning for an open credential
endpoint.  The peer filter's holes are tested in test_turn_errors.py."""
import json
import os
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from creds import jwt_hs256, turn_rest_password  # noqa: E402
from harness import run, test, wait_for  # noqa: E402
from httpapi import http_json  # noqa: E402
from process import FERRYCTL, Ferryd, run_cmd  # noqa: E402
from wsclient import WS  # noqa: E402
from turnclient import TurnClient, udp_peer  # noqa: E402

SIG_SECRET = "control-plane-signing-key"
TURN_SECRET = "control-plane-turn-secret"
API_KEY = "backend-key-1"


def server(extra=""):
    return Ferryd(conf=f"signaling-secret = {SIG_SECRET}\n"
                  f"auth-secret = {TURN_SECRET}\n"
                  "relay-ip = 127.0.0.1\nallow-loopback-peers = yes\n" + extra)


def ctl(s, *args):
    r = run_cmd([FERRYCTL, "-c", s.conf_path] + list(args), timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def token(room, sub=None, ttl=300, exp=None):
    claims = {"room": room, "exp": exp if exp is not None else int(time.time()) + ttl}
    if sub is not None:
        claims["sub"] = sub
    return jwt_hs256(claims, SIG_SECRET)


def ice(s, bearer, method="GET", query="", body=None):
    headers = {"Authorization": f"Bearer {bearer}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    return http_json(s.http_port, method, "/api/ice-servers" + query,
                     headers=headers, body=body)


def turn_user(reply):
    """The user part of the TURN credential in an /api/ice-servers or
    welcome iceServers list (asserting the credential is the REST one)."""
    servers = reply["iceServers"] if isinstance(reply, dict) else reply
    turn = [e for e in servers if "username" in e]
    assert len(turn) == 1, servers
    name = turn[0]["username"]
    assert turn[0]["credential"] == turn_rest_password(TURN_SECRET, name), turn
    return name.split(":", 1)[1]


def forbidden(st, body):
    assert st == 403 and body.get("error") == "forbidden" and body.get("message"), (st, body)


def join(s, room, **extra):
    ws = WS(s.http_port)
    ws.send(dict({"type": "join", "room": room}, **extra))
    return ws


def relay_closed(relay, timeout=2.0):
    """True once datagrams to relay are refused (its socket is closed)."""
    probe = udp_peer()
    probe.connect(relay)

    def refused():
        try:
            probe.send(b"anyone?")
            probe.settimeout(0.1)
            probe.recv(100)
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        return False
    try:
        wait_for(refused, timeout, "the relay port to close")
        return True
    finally:
        probe.close()


# ------------------------------------------------- 1. credentials and identity

@test
def token_bearer_gets_its_own_sub_only():
    """a join token as bearer: the credential's user is its sub (a random id
    without one); any other user, by query, POST body or /api/turn, is 403;
    an api-key bearer still names any user"""
    s = server(f"api-key = {API_KEY}\n")
    # ferryctl's own token (no sub), exactly as the curl line
    plain = ctl(s, "token", "r3", "--ttl", "60").strip()
    st, _, body = ice(s, plain, query="?user=victim")
    forbidden(st, body)
    st, _, body = ice(s, plain)
    assert st == 200, body
    first = turn_user(body)
    st, _, body = ice(s, plain)
    assert st == 200 and turn_user(body) != first, "without sub: a fresh random id each time"
    assert first != "victim"
    # a token with a sub gets exactly that sub
    alice = token("r3", sub="alice")
    st, _, body = ice(s, alice)
    assert st == 200 and turn_user(body) == "alice", body
    st, _, body = ice(s, alice, query="?user=alice")
    assert st == 200 and turn_user(body) == "alice", body
    for q in ("?user=victim", "?user=alice2", "?user=Alice"):
        st, _, body = ice(s, alice, query=q)
        forbidden(st, body)
    st, _, body = ice(s, alice, method="POST", body={"user": "victim"})
    forbidden(st, body)
    st, _, body = ice(s, plain, method="POST", body={"user": "victim"})
    forbidden(st, body)
    # the draft's own route, with the token as key
    for key, user in ((alice, "victim"), (plain, "victim")):
        q = urllib.parse.urlencode({"service": "turn", "username": user, "key": key})
        st, _, body = http_json(s.http_port, "GET", "/api/turn?" + q)
        forbidden(st, body)
    q = urllib.parse.urlencode({"service": "turn", "key": alice})
    st, _, body = http_json(s.http_port, "GET", "/api/turn?" + q)
    assert st == 200 and body["username"].split(":", 1)[1] == "alice", body
    # the backend's api-key names whoever it likes
    st, _, body = ice(s, API_KEY, query="?user=victim")
    assert st == 200 and turn_user(body) == "victim", body
    # and signaling's welcome follows the same rule: the sub, else the peer id
    ws = join(s, "r3", token=alice)
    w = ws.expect("welcome")
    assert turn_user(w["iceServers"]) == "alice", w
    ws2 = join(s, "r3", token=plain)
    w2 = ws2.expect("welcome")
    assert turn_user(w2["iceServers"]) == w2["id"], w2
    assert s.stop() == 0


# ------------------------------------------------------------ 2. revocation

@test(timeout=60)
def revoke_reaches_signaling_and_the_api():
    """after `ferryctl revoke user42`: its token gets no credentials (403),
    cannot join (unauthorized, 1008) or resume, and its open sockets are
    kicked within 2 s (error kicked, close 4001, peer-left kicked to the
    others); other users carry on; unrevoke lets it back"""
    s = server("reconnect-grace = 10\n")
    room = "rv" + os.urandom(3).hex()
    t42 = token(room, sub="user42")
    tbob = token(room, sub="bob")
    st, _, body = ice(s, t42)
    assert st == 200 and turn_user(body) == "user42", body
    a = join(s, room, token=t42)
    wa = a.expect("welcome")
    # a second socket of the same user, in another room
    room2 = room + "b"
    a2 = join(s, room2, token=token(room2, sub="user42"))
    a2.expect("welcome")
    b = join(s, room, token=tbob)
    b.expect("welcome")
    assert a.expect("peer-joined")["peer"]["id"]
    ctl(s, "revoke", "user42")
    t0 = time.monotonic()
    code, reason, msgs = a.expect_close(timeout=4)
    took = time.monotonic() - t0
    assert code == 4001, (code, reason, msgs)
    assert [m.get("code") for m in msgs if m.get("type") == "error"] == ["kicked"], msgs
    assert took < 2.5, f"kicked after {took:.2f} s"
    code2, _, msgs2 = a2.expect_close(timeout=3)
    assert code2 == 4001 and any(m.get("code") == "kicked" for m in msgs2), (code2, msgs2)
    b.expect("peer-left", id=wa["id"], reason="kicked")
    # no way back in: credentials, join, resume
    st, _, body = ice(s, t42)
    forbidden(st, body)
    c = join(s, room, token=t42)
    code, _, msgs = c.expect_close()
    assert code == 1008 and msgs and msgs[0].get("code") == "unauthorized", (code, msgs)
    d = join(s, room, resume=wa["resume"], token=t42)
    code, _, msgs = d.expect_close()
    assert code == 1008 and msgs and msgs[0].get("code") == "unauthorized", (code, msgs)
    # bob is untouched
    b.send({"type": "ping", "id": 7})
    b.expect("pong", id=7)
    st, _, body = ice(s, tbob)
    assert st == 200 and turn_user(body) == "bob"
    ctl(s, "unrevoke", "user42")
    wait_for(lambda: ice(s, t42)[0] == 200, 3, "user42 to be let back in")
    e = join(s, room, token=t42)
    e.expect("welcome")
    assert s.stop() == 0


@test(timeout=60)
def revoked_while_absent_cannot_resume():
    """a peer revoked while its socket is down cannot resume its place,
    and the others are told it was kicked"""
    s = server("reconnect-grace = 10\n")
    room = "ab" + os.urandom(3).hex()
    a = join(s, room, token=token(room, sub="user42"))
    wa = a.expect("welcome")
    b = join(s, room, token=token(room, sub="bob"))
    b.expect("welcome")
    a.abort()
    ctl(s, "revoke", "user42")
    b.expect("peer-left", timeout=4, id=wa["id"], reason="kicked")
    c = join(s, room, resume=wa["resume"])
    code, _, msgs = c.expect_close()
    assert code == 1008 and msgs[0].get("code") == "unauthorized", (code, msgs)
    assert s.stop() == 0


# ------------------------------------------------------------- 3. user del

@test(timeout=60)
def user_del_ends_allocations_at_once():
    """`ferryctl user del` ends that user's allocations within 2 s (relay
    port closed, Refresh refused) while other users' go on; a user taken
    out of the file by a reload likewise"""
    s = Ferryd(conf="relay-ip = 127.0.0.1\nallow-loopback-peers = yes\n"
               "user = filed:pw\nuser = stays:pw\n")
    ctl(s, "user", "add", "alice", "--password", "pw")
    wait_for(lambda: TurnClient(s.addr, "alice", "pw").allocate().ok, 3, "alice to work")
    alice = TurnClient(s.addr, "alice", "pw")
    assert alice.allocate().ok
    other = TurnClient(s.addr, "stays", "pw")
    assert other.allocate().ok
    peer = udp_peer()
    paddr = peer.getsockname()
    assert alice.create_permission(paddr).ok and other.create_permission(paddr).ok
    peer.sendto(b"before", alice.relay)
    assert alice.recv_data() == ("ind", paddr, b"before")
    ctl(s, "user", "del", "alice")
    t0 = time.monotonic()
    assert relay_closed(alice.relay, 3)
    assert time.monotonic() - t0 < 2.5, "took longer than 2 s"
    r = alice.refresh()
    assert r is not None and r.error in (401, 437), r
    assert TurnClient(s.addr, "alice", "pw").allocate().error == 401
    peer.sendto(b"still", other.relay)
    assert other.recv_data() == ("ind", paddr, b"still")
    # a file user removed by a reload
    filed = TurnClient(s.addr, "filed", "pw")
    assert filed.allocate().ok
    text = open(s.conf_path).read().replace("user = filed:pw\n", "")
    s.write_conf(text)
    s.signal(signal.SIGHUP)
    assert relay_closed(filed.relay, 3)
    assert other.refresh().ok
    assert s.stop() == 0


# ------------------------------------------------ 5. a call outlives its token

@test(timeout=60)
def resume_after_token_expiry():
    """a peer whose join token expired mid-call resumes within
    reconnect-grace (with the stale token, or none): same id, queued
    messages, no peer-left; a fresh join with that token is refused"""
    s = server("reconnect-grace = 15\n")
    room = "ex" + os.urandom(3).hex()
    exp = int(time.time()) + 2
    short = token(room, sub="carol", exp=exp)
    a = join(s, room, token=short)
    wa = a.expect("welcome")
    b = join(s, room, token=token(room, sub="dan"))
    wb = b.expect("welcome")
    a.expect("peer-joined")
    a.abort()
    wait_for(lambda: time.time() > exp + 1, 5, "the token to expire")
    b.send({"type": "offer", "to": wa["id"], "sdp": "v=0 while away"})
    # the client re-sends its join as it was, with the expired token
    a2 = join(s, room, token=short, resume=wa["resume"])
    w = a2.expect("welcome", id=wa["id"], resumed=True)
    assert turn_user(w["iceServers"]) == "carol", w
    a2.expect("offer", **{"from": wb["id"], "sdp": "v=0 while away"})
    # and once more, without any token
    a2.abort()
    a3 = join(s, room, resume=w["resume"])
    a3.expect("welcome", id=wa["id"], resumed=True)
    b.silent(0.5)
    c = join(s, room, token=short)
    code, _, msgs = c.expect_close()
    assert code == 1008 and msgs[0].get("code") == "unauthorized", (code, msgs)
    assert s.stop() == 0


# ---------------------------------------------- 6. the open endpoint warning

OPEN_WARNING = "/api/ice-servers and /api/turn are open"


@test
def open_endpoint_warned_at_start():
    """ferryd warns at start-up (and on a reload that opens it) when neither
    api-key nor signaling-secret guards /api/ice-servers, and not otherwise"""
    s = Ferryd(conf=f"auth-secret = {TURN_SECRET}\n")
    assert OPEN_WARNING in s.read_log(), s.read_log()
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers?user=anyone")
    assert st == 200 and turn_user(body) == "anyone", "the open endpoint names any user"
    assert s.stop() == 0
    for guard in (f"api-key = {API_KEY}\n", f"signaling-secret = {SIG_SECRET}\n"):
        k = Ferryd(conf=f"auth-secret = {TURN_SECRET}\n" + guard)
        assert OPEN_WARNING not in k.read_log(), (guard, k.read_log())
        k.write_conf(open(k.conf_path).read().replace(guard, ""))
        k.signal(signal.SIGHUP)
        wait_for(lambda: OPEN_WARNING in k.read_log(), 5, "the reload's warning")
        assert k.stop() == 0


run()
