#!/usr/bin/python3
"""Writes the seed corpora for fuzz_ws and fuzz_jwt.

    /usr/bin/python3 tests/fuzz/make-ws-jwt-seeds.py   (from the source tree)

ws seeds are client byte streams (masked frames, a few deliberately bad);
jwt seeds are tokens signed with the secret fuzz_jwt.c verifies against,
at the time it uses as "now".  Files are named after what they hold, so a
rerun rewrites the same set.
"""
import base64
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])	# RFC 6455 §5.7's key

# Must match fuzz_jwt.c.
FUZZ_SECRET = b"ferry-fuzz-secret"
FUZZ_NOW = 1700000000


def frame(opcode, payload=b"", fin=True, masked=True, rsv=0, length=None):
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload) if length is None else length
    m = 0x80 if masked else 0
    if n < 126:
        hdr = bytes([b0, m | n])
    elif n <= 0xFFFF:
        hdr = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if not masked:
        return hdr + payload
    body = bytes(c ^ MASK[i % 4] for i, c in enumerate(payload))
    return hdr + MASK + body


def ws_seeds():
    text, binary, cont, close, ping, pong = 1, 2, 0, 8, 9, 10
    return {
        "text-hello": frame(text, b"Hello"),
        "text-fragmented-ping": frame(text, b"Hel", fin=False)
        + frame(ping, b"p") + frame(cont, b"lo"),
        "text-utf8-split": frame(text, b"\xe2", fin=False)
        + frame(cont, b"\x82\xac"),
        "binary-256": frame(binary, bytes(range(256))),
        "binary-64bit-len": bytes([0x82, 0xFF]) + struct.pack(">Q", 150)
        + MASK + bytes(150),
        "many-frames": frame(text, b"a") + frame(pong, b"")
        + frame(binary, b"\x00\x01") + frame(close, b"\x03\xe8bye"),
        "close-empty": frame(close),
        "close-1-byte": frame(close, b"\x03"),
        "close-bad-code": frame(close, b"\x03\xed"),
        "close-bad-utf8": frame(close, b"\x03\xe8\xff"),
        "unmasked": frame(text, b"Hello", masked=False),
        "rsv1": frame(text, b"x", rsv=4),
        "opcode-3": frame(3, b"x"),
        "ping-fragmented": frame(ping, b"x", fin=False),
        "ping-126": frame(ping, bytes(126)),
        "len-top-bit": bytes([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1]) + MASK,
        "cont-without-start": frame(cont, b"x"),
        "text-inside-fragmented": frame(text, b"a", fin=False)
        + frame(text, b"b"),
        "too-big-header": bytes([0x82, 0xFE, 0x10, 0x00]) + MASK,
        "text-overlong": frame(text, b"\xc0\x80"),
        "text-surrogate": frame(text, b"\xed\xa0\x80"),
        "text-truncated": frame(text, b"ok\xe2\x82"),
        "handshake-key": b"dGhlIHNhbXBsZSBub25jZQ==",
    }


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, claims, secret=FUZZ_SECRET):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64url(sig)


def jwt_seeds():
    hs = {"alg": "HS256", "typ": "JWT"}
    good = {"room": "lobby", "sub": "alice", "exp": FUZZ_NOW + 3600}
    valid = token(hs, good)
    h, p, s = valid.split(".")
    none_h = b64url(b'{"alg":"none"}')
    return {
        "valid": valid,
        "valid-nbf": token(hs, dict(good, nbf=FUZZ_NOW - 10)),
        "expired": token(hs, dict(good, exp=FUZZ_NOW - 1)),
        "no-exp": token(hs, {"room": "lobby"}),
        "nbf-future": token(hs, dict(good, nbf=FUZZ_NOW + 10)),
        "alg-none": none_h + "." + p + ".",
        "alg-hs512": token({"alg": "HS512"}, good),
        "wrong-secret": token(hs, good, b"other"),
        "garbled-sig": h + "." + p + "." + s[::-1],
        "garbled-b64": h + "." + p.replace("e", "+") + "." + s,
        "two-parts": h + "." + p,
        "payload-array": token(hs, [1, 2]),
        "dup-claims": h + "." + b64url(b'{"exp":1,"exp":2}') + "." + s,
        "empty": "",
    }


def write(dirname, seeds):
    d = os.path.join(HERE, "..", "corpus", dirname)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("ws", ws_seeds())
    write("jwt", jwt_seeds())
