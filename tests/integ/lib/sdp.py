"""sdp — SDP edits for WebRTC calls driven by the tests."""


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
