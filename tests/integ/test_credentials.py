"""Credentials issued by /api/ice-servers are accepted by ferry's TURN side:
coturn's turnutils_uclient relays with the issued pair (long-term mode,
-u/-w) to turnutils_peer; a secret added with ferryctl while ferryd runs
starts signing within 2 s; aiortc relays a data channel with credentials
fetched from the endpoint (the approach of test_aiortc.py)."""
import asyncio
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from creds import turn_rest_password  # noqa: E402
from harness import run, skip, test, wait_for  # noqa: E402
from httpapi import http_json, metric  # noqa: E402
from process import (FERRYCTL, Ferryd, have, run_cmd, start_turn_peer, start_uclient,  # noqa: E402
                     uclient_result)
from sdp import relay_only  # noqa: E402

RELAY = "relay-ip = 127.0.0.1\nallow-loopback-peers = yes\nrelay-ports = 51000-51999\n"
MESSAGES = 10


def fetch(s, user=None):
    """(username, credential, body) from /api/ice-servers."""
    q = f"?user={user}" if user else ""
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers" + q)
    assert st == 200, body
    turn = [e for e in body["iceServers"] if "username" in e]
    if not turn:
        return None, None, body
    return turn[0]["username"], turn[0]["credential"], body


def uclient(s, peer_port, username, password, flags=()):
    """turnutils_uclient relaying MESSAGES (and their RTCP twins) through
    s to the peer with a long-term username/password; (sent, received,
    lost, output), lost None when it could not allocate."""
    return uclient_result(start_uclient(
        s.port, peer_port, [*flags, "-u", username, "-w", password], n=MESSAGES))


def failures(s):
    """Auth failures of every reason, from /metrics."""
    return sum(metric(s.http_port, "ferry_auth_failures_total", {"reason": r})
               for r in ("bad_integrity", "wrong_credentials", "unknown_user",
                         "expired"))


def need_coturn():
    if not (have("turnutils_uclient") and have("turnutils_peer")):
        skip("coturn's turnutils not installed")


@test(timeout=40)
def issued_credentials_relay():
    """turnutils_uclient -u/-w with a pair from /api/ice-servers relays
    over UDP and TCP with 0 loss; a tampered password is refused"""
    need_coturn()
    s = Ferryd(conf=RELAY + "auth-secret = issuer\nauth-secret = older\n")
    peer = start_turn_peer()
    user, cred, _ = fetch(s, "uclient")
    assert user.endswith(":uclient") and cred == turn_rest_password("issuer", user)
    for flags in ((), ("-t",)):
        sent, recv, lost, out = uclient(s, peer, user, cred, flags)
        assert sent >= 2 * MESSAGES and recv == sent and lost == 0, (flags, out[-1500:])
    assert re.search(r"allocation for \d+:uclient: relay 127\.0\.0\.1:", s.read_log())
    bad = turn_rest_password("wrong", user)
    f0 = failures(s)
    sent, recv, lost, out = uclient(s, peer, user, bad)
    assert (sent, recv, lost) == (0, 0, None), out[-1500:]
    assert failures(s) > f0
    assert s.stop() == 0


@test(timeout=40)
def secret_added_with_ferryctl():
    """no auth-secret in the file: STUN only; `ferryctl secret add V`
    while ferryd runs → credentials signed by V within 2 s, and they
    relay"""
    need_coturn()
    s = Ferryd(conf=RELAY)
    db = os.path.join(s.dir, "ferry.db")
    user, cred, body = fetch(s)
    assert user is None and len(body["iceServers"]) == 1, body
    assert body["iceServers"][0]["urls"] == [f"stun:127.0.0.1:{s.port}"], body
    r = run_cmd([FERRYCTL, "-d", db, "secret", "add", "added-later"])
    assert r.returncode == 0, r.stderr
    t0 = time.monotonic()
    wait_for(lambda: fetch(s)[0] is not None, 3, "a TURN entry")
    assert time.monotonic() - t0 <= 2.5, time.monotonic() - t0
    user, cred, _ = fetch(s, "late")
    assert cred == turn_rest_password("added-later", user), (user, cred)
    peer = start_turn_peer()
    sent, recv, lost, out = uclient(s, peer, user, cred)
    assert sent >= 2 * MESSAGES and recv == sent and lost == 0, out[-1500:]
    assert s.stop() == 0


async def datachannel_call(ice, n=20):
    from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,
                        RTCSessionDescription)
    servers = [RTCIceServer(urls=[u for u in e["urls"] if "transport=udp" in u],
                            username=e["username"], credential=e["credential"])
               for e in ice if "username" in e]
    assert servers, ice
    config = RTCConfiguration(iceServers=servers)
    caller = RTCPeerConnection(configuration=config)
    callee = RTCPeerConnection(configuration=config)
    loop = asyncio.get_running_loop()
    received, done, opened = [], loop.create_future(), loop.create_future()

    @callee.on("datachannel")
    def on_dc(ch):
        @ch.on("message")
        def on_message(msg):
            received.append(msg)
            if len(received) == n and not done.done():
                done.set_result(True)

    dc = caller.createDataChannel("chat")

    @dc.on("open")
    def on_open():
        if not opened.done():
            opened.set_result(True)

    try:
        await asyncio.wait_for(caller.setLocalDescription(await caller.createOffer()), 8)
        offer, c1 = relay_only(caller.localDescription.sdp)
        await asyncio.wait_for(callee.setRemoteDescription(
            RTCSessionDescription(offer, "offer")), 8)
        await asyncio.wait_for(callee.setLocalDescription(await callee.createAnswer()), 8)
        answer, c2 = relay_only(callee.localDescription.sdp)
        await asyncio.wait_for(caller.setRemoteDescription(
            RTCSessionDescription(answer, "answer")), 8)
        await asyncio.wait_for(opened, 8)
        for i in range(n):
            dc.send(f"m{i}")
        await asyncio.wait_for(done, 8)
        return c1 + c2, received
    finally:
        for pc in (caller, callee):
            try:
                await asyncio.wait_for(pc.close(), 3)
            except asyncio.TimeoutError:
                pass


@test(timeout=30)
def aiortc_with_fetched_credentials():
    """aiortc relays a data channel relay-to-relay with credentials
    fetched from /api/ice-servers"""
    try:
        import aiortc  # noqa: F401
    except ImportError as e:
        skip(f"aiortc not importable by {sys.executable}: {e}")
    s = Ferryd(conf=RELAY + "auth-secret = rtc-secret\n")
    user, cred, body = fetch(s, "rtc")
    assert cred == turn_rest_password("rtc-secret", user)
    cands, received = asyncio.run(asyncio.wait_for(
        datachannel_call(body["iceServers"]), 22))
    assert received == [f"m{i}" for i in range(20)], received
    assert len(cands) >= 2, cands
    for line in cands:
        f = line.split()
        assert f[7] == "relay" and f[4] == "127.0.0.1" and 51000 <= int(f[5]) <= 51999, line
    assert len(re.findall(r"allocation for \d+:rtc: relay 127\.0\.0\.1:",
                          s.read_log())) >= 2, s.read_log()[-2000:]
    assert s.stop() == 0


run()
