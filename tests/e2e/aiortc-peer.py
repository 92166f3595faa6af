#!/usr/bin/python3
"""A non-browser WebRTC peer in a ferry room: Debian's aiortc (1.4) behind
the WebSocket protocol of doc/signaling.md, media only through TURN.

    /usr/bin/python3 tests/e2e/aiortc-peer.py --url ws://127.0.0.1:PORT/ws \
        --room R [--name aiortc] [--timeout 60] [--min-frames 10] [--exit-after-frames N]

Signaling (websockets 10.4, asyncio API): `join`, then `welcome` with the
iceServers and fresh TURN credentials for this peer.  As the spec
recommends, whoever is already in the room offers: on `peer-joined` this
peer creates an RTCPeerConnection for the newcomer and sends it an `offer`;
when it is the newcomer it waits for the others' offers and answers them.
`candidate` messages carry RTCIceCandidate.toJSON() objects
({candidate, sdpMid, sdpMLineIndex}, `null` for the end of candidates) both
ways; `peer-left` closes that peer's connection.  It also broadcasts its
media state ({kind: 'state', audio: false, video: true}) as the call page
does, so the page shows it with video and a muted microphone.

Media: one synthetic video track (160x120, moving grey level, VP8 or
whatever the other side prefers) is sent; every remote track is read, video
frames are counted (decoded by aiortc).  Audio from the other side is read
and dropped.

Relay only: aiortc 1.4 has no iceTransportPolicy, so this peer
  - uses only the `turn:` URLs of the welcome (with its username and
    credential; aiortc takes the first one, UDP),
  - sends SDP without any `a=candidate` line and trickles its `typ relay`
    candidates as `candidate` messages, then `null` (non-relay ones are
    never sent),
  - removes the `a=candidate` lines that are not `typ relay` from SDP it
    receives and ignores non-relay trickled candidates.
Since the offer proposes BUNDLE, an offerer trickles the candidates of the
first m-line at once and those of other m-lines only if the answer does not
bundle them (the call page's max-bundle always does).

Output on stdout, one JSON object a line:
  {"event": "welcome", "id", "room", "peers", "turnUsername"}
  {"event": "connected", "peer", "pair": {...}}       ICE+DTLS up
  {"event": "frames", "peer", "frames"}               at 1, 10, 30, 100, …
  {"event": "peer-left", "peer", "reason"}
  {"event": "result", ...}                            the last line, always
The result: id, room, turnUsername, ok (every peer that was met sent at
least --min-frames decoded frames and its nominated pair is relay-relay),
peers: {peerId: {name, role (offerer|answerer), framesReceived, frameSize,
audioFrames, sentCandidates, receivedCandidates, ignoredCandidates,
endOfCandidates, pairs: [{local, remote, localAddr, remoteAddr}], state}},
and error (a string, or null).

It ends, sending `leave` and closing its connections (which deletes its
TURN allocations), on SIGTERM or SIGINT, when stdin reaches end of file
(with --stdin), after --exit-after-frames frames from every peer, or after
--timeout seconds.  Every network step is bounded.  Exit status 0 when ok.
"""
import argparse
import asyncio
import json
import signal
import sys
import time

from aiortc import (RTCConfiguration, RTCIceServer, RTCPeerConnection,
                    RTCSessionDescription, VideoStreamTrack)
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.sdp import candidate_from_sdp, candidate_to_sdp
from av import VideoFrame
import websockets

STEP = 10.0        # seconds for any one awaited network step

# aiortc 1.4 offers RTP header extension id 2 for ssrc-audio-level in the
# audio m-line and for abs-send-time in the video one; in a BUNDLE group an
# id must name one extension, and Chromium refuses such an offer ("A BUNDLE
# group contains a codec collision for header extension id=2").  Give every
# extension an id of its own (later aiortc versions do).  As the answerer
# aiortc takes the offer's ids anyway.
def unique_extension_ids():
    ids = {}
    for kind in ("audio", "video"):
        for ext in HEADER_EXTENSIONS[kind]:
            ext.id = ids.setdefault(ext.uri, len(ids) + 1)


unique_extension_ids()


def out(obj):
    print(json.dumps(obj), flush=True)


def log(*args):
    print("#", *args, file=sys.stderr, flush=True)


def relay_only(sdp):
    """The SDP without its non-relay candidate lines."""
    lines = [l for l in sdp.splitlines()
             if not l.startswith("a=candidate:") or " typ relay" in l]
    return "\r\n".join(lines) + "\r\n"


def without_candidates(sdp):
    """The SDP without any candidate line: candidates are trickled."""
    lines = [l for l in sdp.splitlines()
             if not l.startswith("a=candidate:") and l != "a=end-of-candidates"]
    return "\r\n".join(lines) + "\r\n"


def media_sections(sdp):
    """[(mid, [candidate lines without 'a=']), ...] per m-line, in order."""
    sections = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append([None, []])
        elif sections and line.startswith("a=mid:"):
            sections[-1][0] = line[6:].strip()
        elif sections and line.startswith("a=candidate:"):
            sections[-1][1].append(line[2:])
    return [tuple(s) for s in sections]


def bundle_group(sdp):
    for line in sdp.splitlines():
        if line.startswith("a=group:BUNDLE"):
            return line.split()[1:]
    return []


class Pattern(VideoStreamTrack):
    """A synthetic 30 fps video source: frames of a moving grey level."""

    def __init__(self):
        super().__init__()
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=160, height=120, format="yuv420p")
        level = 16 + (self.n * 4) % 220
        for i, p in enumerate(frame.planes):
            p.update(bytes([level if i == 0 else 128]) * p.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        return frame


def ice_connections(pc):
    """The aioice Connections in use behind pc."""
    seen, conns = set(), []
    for t in pc.getTransceivers():
        dtls = t.receiver.transport
        if dtls is None:
            continue
        conn = dtls.transport._connection
        if id(conn) not in seen:
            seen.add(id(conn))
            conns.append(conn)
    return conns


class Peer:
    """Our RTCPeerConnection towards one remote peer."""

    def __init__(self, client, pid, name, offerer):
        self.client = client
        self.id = pid
        self.name = name
        self.offerer = offerer
        self.pc = RTCPeerConnection(configuration=client.rtc_config())
        self.pending = []              # remote candidates before the description
        self.tasks = []
        self.frames = 0
        self.frame_size = None
        self.audio_frames = 0
        self.sent = []                 # candidate lines we trickled
        self.received = []             # relay candidate lines we accepted
        self.ignored = []              # non-relay candidates dropped
        self.end_of_candidates = False
        self.held = []                 # (mid, index, lines) until the answer
        self.connected = False
        self.closed = False
        self.pc.on("track", self.on_track)
        self.pc.on("connectionstatechange", self.on_state)
        self.pc.addTrack(Pattern())
        if offerer:
            # Nothing to send, but ask for the other side's audio too.
            self.pc.addTransceiver("audio", direction="recvonly")

    def on_state(self):
        state = self.pc.connectionState
        if state == "connected" and not self.connected:
            self.connected = True
            out({"event": "connected", "peer": self.id, "pairs": self.pairs()})
        elif state == "failed":
            log(f"connection to {self.id} failed")

    def on_track(self, track):
        self.tasks.append(asyncio.ensure_future(self.consume(track)))

    async def consume(self, track):
        marks = {1, 10, 30, 100, 300, 1000}
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.frames += 1
                    self.frame_size = [frame.width, frame.height]
                    if self.frames in marks:
                        out({"event": "frames", "peer": self.id, "frames": self.frames,
                             "size": self.frame_size})
                    self.client.frames_changed()
                else:
                    self.audio_frames += 1
        except Exception:           # MediaStreamError: the track ended
            pass

    def pairs(self):
        res = []
        for conn in ice_connections(self.pc):
            for pair in conn._nominated.values():
                lc, rc = pair.local_candidate, pair.remote_candidate
                res.append({"local": lc.type, "remote": rc.type,
                            "localAddr": f"{lc.host}:{lc.port}",
                            "remoteAddr": f"{rc.host}:{rc.port}"})
        return res

    # ------------------------------------------------------------ candidates

    async def trickle(self, mid, index, lines):
        for line in lines:
            if " typ relay" not in line:
                continue
            cand = candidate_from_sdp(line[len("candidate:"):])
            text = "candidate:" + candidate_to_sdp(cand)
            self.sent.append(text)
            await self.client.send({"type": "candidate", "to": self.id, "candidate": {
                "candidate": text, "sdpMid": mid, "sdpMLineIndex": index,
                "usernameFragment": None}})

    async def trickle_local(self, answer_sdp=None):
        """Trickle the relay candidates of our local description: as the
        offerer, those of the BUNDLE tag now and the others once the answer
        shows they are not bundled; as the answerer, those of the m-lines
        our answer does not bundle."""
        local = self.pc.localDescription.sdp
        sections = media_sections(local)
        if answer_sdp is None:
            group = bundle_group(local)
            for index, (mid, lines) in enumerate(sections):
                if group and mid in group[1:]:
                    if self.offerer:          # the answer may not bundle it
                        self.held.append((mid, index, lines))
                    continue                  # our answer bundled it
                await self.trickle(mid, index, lines)
            if not self.held:
                await self.end_candidates()
        else:
            bundled = bundle_group(answer_sdp)[1:]
            for mid, index, lines in self.held:
                if mid not in bundled:
                    await self.trickle(mid, index, lines)
            self.held = []
            await self.end_candidates()

    async def end_candidates(self):
        await self.client.send({"type": "candidate", "to": self.id, "candidate": None})

    async def on_candidate(self, cand):
        if self.pc.remoteDescription is None:
            self.pending.append(cand)
            return
        await self.add_candidate(cand)

    async def add_candidate(self, cand):
        if cand is None:
            self.end_of_candidates = True
            # aiortc 1.4: addIceCandidate(None) is not supported; tell the
            # ICE transports in use directly.
            for t in self.pc.getTransceivers():
                dtls = t.receiver.transport
                if dtls is not None and not t._bundled:
                    await dtls.transport.addRemoteCandidate(None)
            return
        text = cand.get("candidate") or ""
        if not text:
            return                      # an empty candidate: end of a generation
        body = text[len("candidate:"):] if text.startswith("candidate:") else text
        if " typ relay" not in f" {body} ":
            self.ignored.append(text)
            return
        ice = candidate_from_sdp(body)
        ice.sdpMid = cand.get("sdpMid")
        ice.sdpMLineIndex = cand.get("sdpMLineIndex")
        if ice.sdpMid is None and ice.sdpMLineIndex is not None:
            mids = [m for m, _ in media_sections(self.pc.remoteDescription.sdp)]
            if 0 <= ice.sdpMLineIndex < len(mids):
                ice.sdpMid = mids[ice.sdpMLineIndex]
        # aiortc files a candidate under the transceiver of its mid; one of a
        # bundled m-line goes to the BUNDLE tag's transport instead.
        group = bundle_group(self.pc.remoteDescription.sdp)
        if group and ice.sdpMid in group[1:]:
            ice.sdpMid = group[0]
        self.received.append(text)
        await self.pc.addIceCandidate(ice)

    async def flush(self):
        pending, self.pending = self.pending, []
        for c in pending:
            await self.add_candidate(c)

    # ------------------------------------------------------------ negotiation

    async def offer(self):
        await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createOffer()), STEP)
        await self.client.send({"type": "offer", "to": self.id,
                                "sdp": without_candidates(self.pc.localDescription.sdp)})
        await self.trickle_local()

    async def on_offer(self, sdp):
        await asyncio.wait_for(self.pc.setRemoteDescription(
            RTCSessionDescription(relay_only(sdp), "offer")), STEP)
        await self.flush()
        await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createAnswer()), STEP)
        await self.client.send({"type": "answer", "to": self.id,
                                "sdp": without_candidates(self.pc.localDescription.sdp)})
        await self.trickle_local()

    async def on_answer(self, sdp):
        if self.pc.signalingState != "have-local-offer":
            return
        await asyncio.wait_for(self.pc.setRemoteDescription(
            RTCSessionDescription(relay_only(sdp), "answer")), STEP)
        await self.flush()
        await self.trickle_local(answer_sdp=sdp)

    async def close(self):
        if self.closed:
            return
        self.closed = True
        self.final_pairs = self.pairs()
        try:
            await asyncio.wait_for(self.pc.close(), 5)
        except Exception as e:
            log(f"closing the connection to {self.id}: {e}")
        for t in self.tasks:
            t.cancel()

    def report(self):
        pairs = self.final_pairs if self.closed else self.pairs()
        return {"name": self.name, "role": "offerer" if self.offerer else "answerer",
                "state": self.pc.connectionState if not self.closed else "closed",
                "connected": self.connected,
                "framesReceived": self.frames, "frameSize": self.frame_size,
                "audioFrames": self.audio_frames,
                "sentCandidates": self.sent, "receivedCandidates": self.received,
                "ignoredCandidates": self.ignored,
                "endOfCandidates": self.end_of_candidates, "pairs": pairs}


class Client:
    def __init__(self, args):
        self.args = args
        self.ws = None
        self.id = None
        self.ice_servers = []
        self.turn_username = None
        self.peers = {}                # id -> Peer (also the ones gone)
        self.done = asyncio.Event()
        self.reason = None
        self.error = None

    def rtc_config(self):
        return RTCConfiguration(iceServers=self.ice_servers)

    async def send(self, msg):
        await asyncio.wait_for(self.ws.send(json.dumps(msg)), STEP)

    def stop(self, reason):
        if not self.done.is_set():
            self.reason = reason
            self.done.set()

    def frames_changed(self):
        n = self.args.exit_after_frames
        live = [p for p in self.peers.values() if not p.closed]
        if n and live and all(p.frames >= n for p in live):
            self.stop(f"{n} frames from every peer")

    def on_welcome(self, msg):
        self.id = msg["id"]
        for server in msg.get("iceServers") or []:
            urls = server.get("urls")
            urls = [urls] if isinstance(urls, str) else (urls or [])
            turn = [u for u in urls if u.startswith("turn:")]
            if turn:
                self.ice_servers.append(RTCIceServer(
                    urls=turn, username=server.get("username"),
                    credential=server.get("credential")))
                self.turn_username = server.get("username")
        if not self.ice_servers:
            raise RuntimeError(f"no turn: URL in the welcome's iceServers: {msg.get('iceServers')}")
        out({"event": "welcome", "id": self.id, "room": msg.get("room"),
             "peers": msg.get("peers"), "turnUsername": self.turn_username})
        # As the newcomer we wait for the offers of the peers listed.
        for p in msg.get("peers") or []:
            self.peers[p["id"]] = Peer(self, p["id"], p.get("name", ""), offerer=False)

    async def handle(self, msg):
        kind = msg.get("type")
        if kind == "peer-joined":
            info = msg["peer"]
            old = self.peers.get(info["id"])
            if old:
                await old.close()
            peer = Peer(self, info["id"], info.get("name", ""), offerer=True)
            self.peers[peer.id] = peer
            await self.broadcast_state()
            await peer.offer()
        elif kind == "offer":
            peer = self.peers.get(msg["from"])
            if peer is None or peer.closed:
                peer = Peer(self, msg["from"], "", offerer=False)
                self.peers[peer.id] = peer
            await peer.on_offer(msg["sdp"])
        elif kind == "answer":
            peer = self.peers.get(msg["from"])
            if peer and not peer.closed:
                await peer.on_answer(msg["sdp"])
        elif kind == "candidate":
            peer = self.peers.get(msg["from"])
            if peer and not peer.closed:
                await peer.on_candidate(msg.get("candidate"))
        elif kind == "peer-left":
            peer = self.peers.get(msg["id"])
            out({"event": "peer-left", "peer": msg["id"], "reason": msg.get("reason")})
            if peer:
                await peer.close()
        elif kind == "error":
            log(f"server error: {msg}")
            if msg.get("ref") == "join" or msg.get("code") in ("room-full", "unauthorized"):
                raise RuntimeError(f"join refused: {msg.get('code')}: {msg.get('message')}")

    async def broadcast_state(self):
        await self.send({"type": "broadcast",
                         "data": {"kind": "state", "audio": False, "video": True}})

    async def receive(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg.get("type") == "welcome":
                self.on_welcome(msg)
                await self.broadcast_state()
                continue
            try:
                await self.handle(msg)
            except Exception as e:
                log(f"handling {msg.get('type')}: {type(e).__name__}: {e}")
                if msg.get("type") == "error":
                    raise
        raise RuntimeError("the server closed the WebSocket")

    async def run(self):
        join = {"type": "join", "room": self.args.room, "name": self.args.name}
        if self.args.token:
            join["token"] = self.args.token
        self.ws = await asyncio.wait_for(websockets.connect(
            self.args.url, open_timeout=STEP, close_timeout=3, max_size=2 ** 20), STEP)
        await self.send(join)
        receiver = asyncio.ensure_future(self.receive())
        waiter = asyncio.ensure_future(self.done.wait())
        try:
            done, _ = await asyncio.wait({receiver, waiter}, timeout=self.args.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                receiver.result()              # raises what ended it
            if not done:
                self.reason = f"timeout after {self.args.timeout} s"
        finally:
            for t in (receiver, waiter):
                t.cancel()

    async def finish(self):
        for p in list(self.peers.values()):
            await p.close()
        if self.ws is not None:
            try:
                await self.send({"type": "leave"})
                await asyncio.wait_for(self.ws.wait_closed(), 3)
            except Exception:
                pass
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:
                pass

    def result(self):
        peers = {pid: p.report() for pid, p in self.peers.items()}
        met = [r for r in peers.values() if r["connected"] or r["framesReceived"]]
        ok = bool(met) and self.error is None and all(
            r["framesReceived"] >= self.args.min_frames and r["pairs"] and
            all(x["local"] == "relay" and x["remote"] == "relay" for x in r["pairs"])
            for r in met)
        return {"event": "result", "id": self.id, "room": self.args.room,
                "turnUsername": self.turn_username, "ok": ok, "ended": self.reason,
                "error": self.error, "peers": peers}


async def main_async(args):
    client = Client(args)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, client.stop, signal.Signals(sig).name)
    if args.stdin:
        def eof():
            if not sys.stdin.buffer.read1(4096):
                loop.remove_reader(sys.stdin.fileno())
                client.stop("end of stdin")
        loop.add_reader(sys.stdin.fileno(), eof)
    try:
        await client.run()
    except Exception as e:
        client.error = f"{type(e).__name__}: {e}"
    try:
        await asyncio.wait_for(client.finish(), 10)
    except Exception as e:
        log(f"leaving: {type(e).__name__}: {e}")
    res = client.result()
    out(res)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="ws://HOST:PORT/ws")
    ap.add_argument("--room", required=True)
    ap.add_argument("--name", default="aiortc")
    ap.add_argument("--token", default="", help="a signaling JWT, when the server needs one")
    ap.add_argument("--timeout", type=float, default=60, help="leave after this many seconds")
    ap.add_argument("--min-frames", type=int, default=10, help="frames per peer for ok")
    ap.add_argument("--exit-after-frames", type=int, default=0,
                    help="leave once every peer sent this many frames (0: never)")
    ap.add_argument("--stdin", action="store_true", help="leave at end of stdin")
    args = ap.parse_args()
    started = time.monotonic()
    res = asyncio.run(main_async(args))
    log(f"ran {time.monotonic() - started:.1f} s")
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
