"""WebRTC through ferry's TURN relay with a real WebRTC stack (aiortc).

Two aiortc RTCPeerConnections in one asyncio loop are given ferryd as their
only TURN server, with REST (draft-uberti-behave-turn-rest-00) credentials
computed here from the shared secret.  Every candidate but `typ relay` is
removed from the offer and the answer, so ICE can only succeed through two
ferry allocations: a data channel and a VP8 video track must then flow
relay to relay.  Run once with TURN over UDP and once over TCP.

Needs Debian's python3-aiortc, which lives in /usr/bin/python3.  The
aiortc there (1.4) has no iceTransportPolicy, hence the SDP filtering.
"""
import asyncio
import base64
import hashlib
import hmac
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, skip, test  # noqa: E402
from process import Ferryd  # noqa: E402
from sdp import relay_only  # noqa: E402

SECRET = "s3cret"
N_MESSAGES = 50
MIN_FRAMES = 10
STEP = 8.0          # seconds any one awaited step may take
CALL = 20.0         # seconds for a whole call (the file must stay under 60 s)

try:
    from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,
                        RTCSessionDescription, VideoStreamTrack)
    from av import VideoFrame
    IMPORT_ERROR = None
except ImportError as e:    # run by an interpreter without aiortc
    IMPORT_ERROR = e
    VideoStreamTrack = object


def rest_credentials(user="aiortc", ttl=600):
    """(username, password) as ferry's REST API would hand them out."""
    username = f"{int(time.time()) + ttl}:{user}"
    mac = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode()


class Pattern(VideoStreamTrack):
    """A synthetic 30 fps video source: frames of a moving grey level."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=160, height=120, format="yuv420p")
        for p in frame.planes:
            p.update(bytes([(self.n * 8) % 256]) * p.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        return frame


def ice_connections(pc):
    """aioice Connections behind pc (data channel and media transports)."""
    seen, out = set(), []
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    for dtls in transports:
        if dtls is None:
            continue
        conn = dtls.transport._connection
        if id(conn) not in seen:
            seen.add(id(conn))
            out.append(conn)
    return out


async def step(aw, what):
    try:
        return await asyncio.wait_for(aw, STEP)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {STEP}s: {what}") from None


async def call(port, transport):
    username, password = rest_credentials()
    config = RTCConfiguration(iceServers=[RTCIceServer(
        urls=[f"turn:127.0.0.1:{port}?transport={transport}"],
        username=username, credential=password)])
    caller = RTCPeerConnection(configuration=config)
    callee = RTCPeerConnection(configuration=config)
    result = {}
    try:
        loop = asyncio.get_running_loop()
        received = []
        all_received = loop.create_future()
        channel_open = loop.create_future()
        remote_track = loop.create_future()

        @callee.on("datachannel")
        def on_datachannel(ch):
            @ch.on("message")
            def on_message(msg):
                received.append(msg)
                if len(received) == N_MESSAGES and not all_received.done():
                    all_received.set_result(True)

        @callee.on("track")
        def on_track(track):
            if track.kind == "video" and not remote_track.done():
                remote_track.set_result(track)

        dc = caller.createDataChannel("chat")

        @dc.on("open")
        def on_open():
            if not channel_open.done():
                channel_open.set_result(True)

        caller.addTrack(Pattern())

        # setLocalDescription gathers every candidate, TURN included.
        await step(caller.setLocalDescription(await caller.createOffer()),
                   "caller gathering")
        offer, offer_cands = relay_only(caller.localDescription.sdp)
        await step(callee.setRemoteDescription(RTCSessionDescription(offer, "offer")),
                   "callee setRemoteDescription")
        await step(callee.setLocalDescription(await callee.createAnswer()),
                   "callee gathering")
        answer, answer_cands = relay_only(callee.localDescription.sdp)
        await step(caller.setRemoteDescription(RTCSessionDescription(answer, "answer")),
                   "caller setRemoteDescription")
        result["candidates"] = offer_cands + answer_cands

        await step(channel_open, "data channel to open")
        for i in range(N_MESSAGES):
            dc.send(f"message {i}")
        await step(all_received, f"{N_MESSAGES} data channel messages")
        result["messages"] = list(received)

        track = await step(remote_track, "the remote video track")
        frames = []
        deadline = loop.time() + STEP
        while len(frames) < MIN_FRAMES and loop.time() < deadline:
            frame = await step(track.recv(), "a video frame")
            frames.append((frame.width, frame.height))
        result["frames"] = frames

        result["pairs"] = []
        for pc in (caller, callee):
            for conn in ice_connections(pc):
                for pair in conn._nominated.values():
                    result["pairs"].append((pair.local_candidate, pair.remote_candidate))
    finally:
        for pc in (caller, callee):
            try:
                await asyncio.wait_for(pc.close(), 3)
            except asyncio.TimeoutError:
                pass
    return result


def flow(transport):
    s = Ferryd(conf=f"relay-ip = 127.0.0.1\nallow-loopback-peers = yes\n"
               f"auth-secret = {SECRET}\nrelay-ports = 50000-50999\n")
    res = asyncio.run(asyncio.wait_for(call(s.port, transport), CALL))

    # Only relay candidates were exchanged, each an address of ferry's.
    assert len(res["candidates"]) >= 2, res["candidates"]
    relays = set()
    for line in res["candidates"]:
        fields = line.split()
        assert fields[7] == "relay", line
        assert fields[2].lower() == "udp", line
        assert fields[4] == "127.0.0.1" and 50000 <= int(fields[5]) <= 50999, line
        relays.add(int(fields[5]))

    assert res["messages"] == [f"message {i}" for i in range(N_MESSAGES)], res["messages"]
    assert len(res["frames"]) >= MIN_FRAMES, res["frames"]
    assert all(wh == (160, 120) for wh in res["frames"]), res["frames"]

    # Both sides nominated a relay-to-relay pair.
    assert len(res["pairs"]) >= 2, res["pairs"]
    for local, remote in res["pairs"]:
        assert local.type == "relay" and remote.type == "relay", (local, remote)
        assert local.port in relays and remote.port in relays, (local, remote)

    # ferryd agrees: it made those allocations for our REST user, over the
    # requested transport, and the clients deleted them on close.
    log = s.read_log()
    made = re.findall(r"allocation for (\d+):aiortc: relay 127\.0\.0\.1:(\d+)", log)
    assert len(made) >= 2, log
    assert relays <= {int(p) for _, p in made}, (relays, made)
    assert s.stop() == 0
    log = s.read_log()
    assert log.count("deleted by client") + log.count("connection closed") >= 2, log


def need_aiortc():
    if IMPORT_ERROR is not None:
        skip(f"aiortc not importable by {sys.executable}: {IMPORT_ERROR}")


@test(timeout=28)
def aiortc_over_turn_udp():
    """aiortc data channel and video flow relay-to-relay via TURN over UDP"""
    need_aiortc()
    flow("udp")


@test(timeout=28)
def aiortc_over_turn_tcp():
    """aiortc data channel and video flow relay-to-relay via TURN over TCP"""
    need_aiortc()
    import inspect
    from aioice import turn
    if "transport" not in inspect.signature(turn.create_turn_endpoint).parameters:
        skip(f"aioice {getattr(turn, '__version__', '')} has no TURN over TCP")
    flow("tcp")


run()
