#!/usr/bin/python3
"""Write the seed programs for fuzz_turn into tests/fuzz/corpus/turn/.

A seed is a program in the little language fuzz_turn.c reads (see the
comment at its top): requests the harness signs, raw bytes, ChannelData,
Send indications, clock moves, client and transport switches, peer
datagrams.  The seeds walk the TURN state machine the way clients do
(Allocate, CreatePermission, ChannelBind, Send, ChannelData, Refresh),
over UDP and TCP, IPv4 and IPv6, with each credential kind, and into the
error paths (stale nonce, expiry, quota, denied peers, reservations).
Every STUN seed under corpus/stun/ short enough for one raw operation
(the RFC 5769 vectors, the hand-made ones, the captured coturn and aiortc
traffic) also becomes a program: alone, and after an Allocate.  The output is deterministic.

    /usr/bin/python3 tests/fuzz/make-turn-seeds.py [OUTDIR]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# methods (index into fuzz_turn.c's table) and credentials
ALLOCATE, REFRESH, PERM, BIND, BINDING, SEND_REQ, UNKNOWN = 0, 1, 2, 3, 4, 8, 9
ALICE, ALICE_ALGS_MD5, ALICE_SHA256 = 0, 2, 3
EVE, EVE_SHORT, EVE_EXPIRED, REVOKED, MALLORY = 4, 5, 6, 7, 8
# flags
MI, MI256, UNSIGNED = 0, 2, 3
CORRUPT, FP, USERHASH, NO_NONCE, BAD_REALM, DEFAULTS = 4, 8, 16, 32, 64, 128
# peers (pick_peer selectors)
PEER0, PEER1, LO2, OWN_RELAY, PEER6, MAPPED = 0, 2, 3, 4, 5, 6
TESTNET, DOC6, UNSPEC4, RELAY_PORT, BCAST = 7, 8, 9 | 0x80, 10, 11 | 0x80


def msel(method, peer=0):
    """A method byte: method index mod 10, default peer in the high nibble."""
    for x in range(256):
        if x % 10 == method and (x >> 4) % 12 == peer:
            return x
    raise ValueError((method, peer))


def req(method, cred=ALICE, flags=MI | DEFAULTS, attrs=(), peer=0):
    if peer >= 12 and flags & DEFAULTS:
        # not expressible as a default: name the peer (and channel) instead
        flags &= ~DEFAULTS
        attrs = ([channel(0)] if method == BIND else []) + [[2, peer]] + list(attrs)
        peer = 0
    out = [0, msel(method, peer), cred, flags, len(attrs)]
    for a in attrs:
        out += a
    return bytes(out)


# attributes (put_attr selectors)
def transport(v=0):
    return [0, v]


def lifetime(v):
    return [1, v]          # v < 8: table index; v | 0x80: (v & 0x7f) minutes


def peer(sel):
    return [2, sel]


def channel(v):
    return [3, v]


def even_port(v):
    return [4, v]


def token_from_last():
    return [5, 1]


def req_family(f):
    return [6, f - 1 if f in (1, 2) else f]    # 1, 2: that family; else raw


def add_family(f):
    return [7, f - 1 if f in (1, 2) else f]


def dont_fragment():
    return [8, 0]


def data(b):
    return [9, len(b)] + list(b)


def raw_attr(typ, b):
    return [10, typ >> 8, typ & 0xFF, len(b)] + list(b)


def chan(num, payload):
    return bytes([4, num % 4, len(payload)]) + payload


def send(peer_sel, payload, flags=0):
    return bytes([5, peer_sel, flags, len(payload)]) + payload


def clock(v):
    return bytes([6, v])


def client(n):
    return bytes([7, n])


def tr(n):
    return bytes([8, n])


def from_peer(sel, payload):
    return bytes([9, sel, len(payload)]) + payload


def raw(b):
    assert len(b) < 256
    return bytes([3, len(b)]) + b


AGAIN = bytes([10])
NONCE = bytes([11])

LIFE_0, LIFE_600, LIFE_3600, LIFE_MAX = 0, 4, 5, 7


def session(extra=b""):
    """Allocate, permission, channel, data both ways, Refresh, delete."""
    return (req(ALLOCATE) + req(PERM) + req(BIND) +
            send(PEER0, b"hello peer") + chan(0, b"via channel") +
            from_peer(0, b"hello client") + from_peer(0x10, b"other port") +
            extra + clock(100) + req(REFRESH, attrs=[lifetime(LIFE_600)]) +
            req(REFRESH, attrs=[lifetime(LIFE_0)]))


SEEDS = {
    "session-udp": session(),
    "session-tcp": tr(1) + session() + tr(3),
    "session-two-clients": session() + client(1) + session() + client(2) + session(),
    "session-ipv6": client(3) + req(ALLOCATE, attrs=[req_family(2)]) +
        req(PERM, peer=PEER6) + send(PEER6, b"v6") + from_peer(0, b"back"),
    "dual-stack": req(ALLOCATE, attrs=[add_family(2)]) + req(PERM) +
        req(PERM, peer=PEER6) + from_peer(0, b"a") + from_peer(1, b"b") +
        req(REFRESH, attrs=[req_family(2), lifetime(LIFE_0)]),
    "even-port-reserve": req(ALLOCATE, attrs=[even_port(0x80)]) + client(1) +
        req(ALLOCATE, flags=MI, attrs=[transport(), token_from_last()]) +
        client(2) + req(ALLOCATE, attrs=[even_port(0)]),
    "sha256-userhash": req(ALLOCATE, cred=ALICE_SHA256, flags=MI256 | DEFAULTS | FP) +
        req(PERM, cred=ALICE_ALGS_MD5, flags=MI | DEFAULTS | USERHASH) +
        req(BINDING, cred=ALICE_SHA256, flags=MI256 | FP),
    "ephemeral-strict-expiry": req(ALLOCATE, cred=EVE_SHORT) + req(PERM, cred=EVE_SHORT) +
        clock(10) + send(PEER0, b"x") + clock(15) + send(PEER0, b"y"),
    "ephemeral-kinds": req(ALLOCATE, cred=EVE) + req(REFRESH, cred=ALICE) +
        client(1) + req(ALLOCATE, cred=EVE_EXPIRED) + req(ALLOCATE, cred=REVOKED) +
        req(ALLOCATE, cred=MALLORY) + clock(2),
    "lifetimes": req(ALLOCATE, attrs=[lifetime(LIFE_MAX)]) + req(PERM) + clock(239) +
        clock(62) + send(PEER0, b"late") + req(BIND) + clock(255) + clock(255) +
        req(REFRESH) + NONCE + req(REFRESH, attrs=[lifetime(0x81)]),
    "stale-nonce": req(ALLOCATE) + clock(242) + req(REFRESH) + req(REFRESH) +
        req(REFRESH, flags=MI | NO_NONCE) + req(REFRESH, flags=MI | BAD_REALM),
    "retransmit": req(ALLOCATE) + AGAIN + AGAIN + req(ALLOCATE) + req(PERM) + AGAIN +
        req(BIND) + AGAIN,
    "channels": req(ALLOCATE) + req(BIND, attrs=[channel(1), peer(PEER1)]) +
        req(BIND, attrs=[channel(0x80), peer(PEER0)]) +
        req(BIND, attrs=[channel(0x82), peer(PEER0)]) + chan(1, b"c1") +
        chan(0, b"c0") + clock(240) + clock(241) + chan(1, b"expired") +
        req(BIND, attrs=[channel(1), peer(PEER0)]),
    "denied-peers": req(ALLOCATE) + req(PERM, peer=TESTNET) + req(PERM, peer=DOC6) +
        req(PERM, peer=UNSPEC4) + req(PERM, peer=BCAST) + req(PERM, peer=MAPPED) +
        req(BIND, peer=TESTNET) + send(TESTNET, b"no") + send(DOC6, b"no") +
        send(UNSPEC4, b"no") + send(MAPPED, b"yes"),
    "hairpin": req(ALLOCATE) + client(1) + req(ALLOCATE) + req(PERM, peer=OWN_RELAY) +
        send(OWN_RELAY, b"to my other relay") + req(PERM, peer=RELAY_PORT) +
        send(RELAY_PORT, b"port in range") + client(0) + req(PERM, peer=PEER0),
    "quota": req(ALLOCATE) + client(1) + req(ALLOCATE) + client(2) + req(ALLOCATE) +
        client(3) + req(ALLOCATE) + tr(1) + req(ALLOCATE) + tr(2) + req(ALLOCATE),
    "unsigned-and-corrupt": req(ALLOCATE, flags=UNSIGNED | DEFAULTS) +
        req(ALLOCATE, flags=MI | CORRUPT | DEFAULTS) +
        req(ALLOCATE, flags=MI256 | CORRUPT | DEFAULTS) + req(BINDING, flags=UNSIGNED) +
        req(UNKNOWN) + req(SEND_REQ),
    "allocate-errors": req(ALLOCATE, flags=MI) + req(ALLOCATE, flags=MI, attrs=[transport(7)]) +
        req(ALLOCATE, attrs=[req_family(0x85)]) +
        req(ALLOCATE, attrs=[req_family(2), add_family(2)]) +
        req(ALLOCATE, attrs=[even_port(0), token_from_last()]) +
        req(ALLOCATE, attrs=[raw_attr(0x0030, b"\x00\x00\x00\x00")]) +
        req(ALLOCATE, attrs=[raw_attr(0x000D, b"\x00\x00")]),
    "tcp-framing": tr(1) + req(ALLOCATE) + raw(b"GET / HTTP/1.1\r\n\r\n") + req(ALLOCATE) +
        chan(0, b"abc") + tr(2) + req(ALLOCATE) + tr(3) + tr(0) + req(ALLOCATE),
    "send-variants": req(ALLOCATE) + req(PERM) + send(PEER0, b"df", 2) +
        send(PEER0, b"fp", 8) + send(PEER0, b"nopeer", 1) + send(PEER0, b"nodata", 4) +
        send(PEER0, bytes(200)),
    "rate-limit": req(ALLOCATE) + req(PERM) + b"".join(
        send(PEER0, bytes(250)) for _ in range(20)) + clock(1) + send(PEER0, b"after"),
}


def stun_seed_programs():
    d = os.path.join(HERE, "..", "corpus", "stun")
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            b = f.read()
        if 0 < len(b) < 256:
            base = os.path.splitext(name)[0]
            # captured traffic (capture-seeds.py) only after an Allocate:
            # there are many such messages, and alone they meet nothing
            if not base.startswith(("coturn-", "aiortc-")):
                out["raw-" + base] = raw(b)
            out["raw-after-allocate-" + base] = req(ALLOCATE) + raw(b)
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "corpus", "turn")
    os.makedirs(outdir, exist_ok=True)
    seeds = dict(SEEDS)
    seeds.update(stun_seed_programs())
    for name, prog in sorted(seeds.items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(prog)
    print("wrote %d seeds to %s" % (len(seeds), outdir))


if __name__ == "__main__":
    main()
