#!/usr/bin/python3
"""Write the seed corpus for fuzz_stun into tests/fuzz/corpus/stun/.

Seeds are the RFC 5769 vectors, well-formed STUN/TURN messages of every
shape the server handles (each integrity attribute, TURN attributes,
ChannelData, a TCP stream) and broken variants near the parser's error
paths. The output is deterministic, so re-running it changes nothing.

    /usr/bin/python3 tests/fuzz/make-stun-seeds.py [OUTDIR]
"""

import binascii
import hashlib
import hmac
import os
import struct
import sys

COOKIE = 0x2112A442
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")

RFC5769 = {
    "rfc5769-request":
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e20746573"
        "7420636c69656e74002400046e0001ff80290008932ff9b151263b3600060009"
        "6576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249"
        "c1b571a280280004e57a3bcf",
    "rfc5769-ipv4-response":
        "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
        "746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f9"
        "2af9ba53f06be7d780280004c07d4c96",
    "rfc5769-ipv6-response":
        "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
        "746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014"
        "a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c",
    "rfc5769-longterm":
        "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383"
        "aae38383e382afe382b900000015001c662f2f3439396b39353464364f4c3334"
        "6f4c394653547679363473410014000b6578616d706c652e6f726700000800"
        "14f67024656dd64a3e02b8e0712e85c9a28ca89666",
}


def msg_type(method, cls):
    return ((method & 0x000F) | (method & 0x0070) << 1 |
            (method & 0x0F80) << 2 | (cls & 1) << 4 | (cls & 2) << 7)


class Msg:
    """A STUN message under construction, mirroring stun_builder."""

    def __init__(self, method, cls, tid=TID):
        self.type = msg_type(method, cls)
        self.tid = tid
        self.body = b""

    def header(self, extra=0):
        return struct.pack("!HHI", self.type, len(self.body) + extra,
                           COOKIE) + self.tid

    def attr(self, atype, value, pad=b"\0"):
        padding = pad * (-len(value) % 4)
        self.body += struct.pack("!HH", atype, len(value)) + value + padding
        return self

    def xor_addr(self, atype, ip, port):
        if ":" in ip:
            raw = bytes(a ^ b for a, b in zip(ip6(ip),
                                              struct.pack("!I", COOKIE) + self.tid))
            fam = 2
        else:
            raw = bytes(a ^ b for a, b in zip(bytes(map(int, ip.split("."))),
                                              struct.pack("!I", COOKIE)))
            fam = 1
        return self.attr(atype, struct.pack("!BBH", 0, fam,
                                            port ^ (COOKIE >> 16)) + raw)

    def integrity(self, key):
        mac = hmac.new(key, self.header(24) + self.body, hashlib.sha1).digest()
        return self.attr(0x0008, mac)

    def integrity_sha256(self, key, size=32):
        mac = hmac.new(key, self.header(4 + size) + self.body,
                       hashlib.sha256).digest()
        return self.attr(0x001C, mac[:size])

    def fingerprint(self):
        crc = binascii.crc32(self.header(8) + self.body) ^ 0x5354554E
        return self.attr(0x8028, struct.pack("!I", crc))

    def bytes(self):
        return self.header() + self.body


def ip6(text):
    import ipaddress
    return ipaddress.IPv6Address(text).packed


def chandata(channel, data, pad=True):
    out = struct.pack("!HH", channel, len(data)) + data
    if pad:
        out += b"\0" * (-len(data) % 4)
    return out


def seeds():
    out = {}
    for name, hexstr in RFC5769.items():
        out[name] = bytes.fromhex(hexstr)

    user, realm, password = b"alice", b"ferry.example", b"secret"
    nonce = b"obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"
    md5key = hashlib.md5(user + b":" + realm + b":" + password).digest()
    shakey = hashlib.sha256(user + b":" + realm + b":" + password).digest()

    out["binding-request-empty"] = Msg(0x001, 0).bytes()
    out["binding-indication"] = Msg(0x001, 1).bytes()
    out["binding-request-fingerprint"] = Msg(0x001, 0).fingerprint().bytes()
    out["binding-success-v6"] = (
        Msg(0x001, 2).attr(0x8022, b"ferry")
        .xor_addr(0x0020, "2001:db8::7", 40000).fingerprint().bytes())
    out["binding-mapped-address"] = (
        Msg(0x001, 2).attr(0x0001, bytes([0, 1, 0x0d, 0x96, 192, 0, 2, 7]))
        .attr(0x8023, bytes([0, 1, 0x0d, 0x96, 192, 0, 2, 8])).bytes())

    out["allocate-requested-transport"] = (
        Msg(0x003, 0).attr(0x0019, bytes([17, 0, 0, 0])).bytes())
    out["allocate-full"] = (
        Msg(0x003, 0).attr(0x0019, bytes([17, 0, 0, 0]))
        .attr(0x000D, struct.pack("!I", 600)).attr(0x001A, b"")
        .attr(0x0018, b"\x80").attr(0x0017, bytes([2, 0, 0, 0]))
        .bytes())
    out["allocate-mi-md5"] = (
        Msg(0x003, 0).attr(0x0019, bytes([17, 0, 0, 0]))
        .attr(0x0006, user).attr(0x0014, realm).attr(0x0015, nonce)
        .integrity(md5key).fingerprint().bytes())
    out["allocate-mi-sha256"] = (
        Msg(0x003, 0).attr(0x0019, bytes([17, 0, 0, 0]))
        .attr(0x0006, user).attr(0x0014, realm).attr(0x0015, nonce)
        .attr(0x001D, struct.pack("!HH", 2, 0))
        .integrity_sha256(shakey).fingerprint().bytes())
    out["allocate-mi-sha256-truncated"] = (
        Msg(0x003, 0).attr(0x0006, user).attr(0x0014, realm)
        .attr(0x0015, nonce).integrity_sha256(shakey, 16).bytes())
    out["allocate-mi-both"] = (
        Msg(0x003, 0).attr(0x0006, user).attr(0x0014, realm)
        .attr(0x0015, nonce).integrity(md5key).integrity_sha256(shakey)
        .fingerprint().bytes())
    out["allocate-userhash"] = (
        Msg(0x003, 0).attr(0x001E, hashlib.sha256(user + b":" + realm).digest())
        .attr(0x0014, realm).attr(0x0015, nonce)
        .attr(0x8002, struct.pack("!HHHH", 2, 0, 1, 0))
        .attr(0x001D, struct.pack("!HH", 2, 0))
        .integrity_sha256(shakey).bytes())
    out["allocate-success"] = (
        Msg(0x003, 2).xor_addr(0x0016, "203.0.113.5", 50000)
        .xor_addr(0x0020, "198.51.100.9", 61000)
        .attr(0x000D, struct.pack("!I", 600))
        .attr(0x0022, bytes(range(8))).integrity(md5key).fingerprint()
        .bytes())
    out["allocate-error-401"] = (
        Msg(0x003, 3).attr(0x0009, bytes([0, 0, 4, 1]) + b"Unauthenticated")
        .attr(0x0014, realm).attr(0x0015, nonce)
        .attr(0x8002, struct.pack("!HHHH", 2, 0, 1, 0)).fingerprint()
        .bytes())
    out["allocate-error-420"] = (
        Msg(0x003, 3).attr(0x0009, bytes([0, 0, 4, 20]) + b"Unknown Attribute")
        .attr(0x000A, struct.pack("!HHH", 0x0031, 0x0032, 0x7FFF)).bytes())
    out["allocate-error-440-address"] = (
        Msg(0x003, 3)
        .attr(0x0009, bytes([0, 0, 4, 40]) + b"Address Family not Supported")
        .attr(0x8001, bytes([2, 0, 4, 40]) + b"x").bytes())
    out["refresh-zero-lifetime"] = (
        Msg(0x004, 0).attr(0x000D, b"\0\0\0\0").integrity(md5key).bytes())
    out["createpermission-two-peers"] = (
        Msg(0x008, 0).xor_addr(0x0012, "192.0.2.10", 0)
        .xor_addr(0x0012, "2001:db8::10", 0).integrity(md5key).bytes())
    out["channelbind"] = (
        Msg(0x009, 0).attr(0x000C, struct.pack("!HH", 0x4001, 0))
        .xor_addr(0x0012, "192.0.2.10", 5000).integrity(md5key).bytes())
    out["send-indication"] = (
        Msg(0x006, 1).xor_addr(0x0012, "192.0.2.10", 5000)
        .attr(0x0013, b"hello peer").attr(0x001A, b"").bytes())
    out["data-indication-icmp"] = (
        Msg(0x007, 1).xor_addr(0x0012, "2001:db8::10", 5000)
        .attr(0x8004, bytes([0, 0, 3, 1, 0, 0, 0, 0])).bytes())
    out["ice-binding"] = (
        Msg(0x001, 0).attr(0x0006, b"abcd:efgh")
        .attr(0x0024, struct.pack("!I", 0x6E0001FF)).attr(0x0025, b"")
        .attr(0x802A, bytes(8)).integrity(b"icepassword").fingerprint()
        .bytes())
    out["alternate-domain"] = (
        Msg(0x003, 3).attr(0x0009, bytes([0, 0, 3, 0]) + b"Try Alternate")
        .attr(0x8023, bytes([0, 1, 0x0d, 0x96, 192, 0, 2, 8]))
        .attr(0x8003, b"turn2.ferry.example").bytes())
    out["attribute-after-fingerprint"] = (
        Msg(0x001, 0).fingerprint().attr(0x8022, b"ignored").bytes())
    out["attribute-after-mi"] = (
        Msg(0x001, 0).attr(0x0006, user).integrity(md5key)
        .attr(0x0014, realm).fingerprint().bytes())
    out["unknown-required"] = (
        Msg(0x001, 0).attr(0x0031, b"?").attr(0x8031, b"!").bytes())

    many = Msg(0x001, 0)
    for _ in range(65):
        many.attr(0x8070, b"")
    out["too-many-attributes"] = many.bytes()
    out["bad-mi-length"] = Msg(0x001, 0).attr(0x0008, bytes(16)).bytes()
    out["bad-mi256-length"] = Msg(0x001, 0).attr(0x001C, bytes(18)).bytes()
    out["bad-fingerprint-length"] = Msg(0x001, 0).attr(0x8028, bytes(8)).bytes()

    cd = chandata(0x4000, b"abcde")
    out["channeldata"] = cd
    out["channeldata-udp-unpadded"] = chandata(0x4FFF, b"abcde", pad=False)
    out["channeldata-empty"] = chandata(0x4001, b"")
    out["channeldata-bad-channel"] = chandata(0x5000, b"abcd")
    out["tcp-stream"] = (out["rfc5769-request"] + cd +
                         out["rfc5769-ipv6-response"] +
                         chandata(0x4002, b"xyz"))

    req = out["rfc5769-request"]
    out["truncated-19"] = req[:19]
    out["truncated-50"] = req[:50]
    out["truncated-header-only"] = req[:20]
    bad = bytearray(req)
    bad[4] ^= 0xFF
    out["wrong-cookie"] = bytes(bad)
    bad = bytearray(req)
    bad[0] |= 0xC0
    out["top-bits-set"] = bytes(bad)
    bad = bytearray(req)
    bad[3] = 0x57
    out["length-unaligned"] = bytes(bad[:-1])
    bad = bytearray(req)
    bad[0x3C + 3] = 0x40
    out["attribute-overrun"] = bytes(bad)
    bad = bytearray(req)
    bad[-1] ^= 1
    out["bad-fingerprint"] = bytes(bad)
    out["empty"] = b""
    # Fixed pseudo-random garbage (an LCG, so the file never changes).
    x, garbage = 12345, bytearray()
    for _ in range(96):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        garbage.append(x >> 16 & 0xFF)
    out["garbage"] = bytes(garbage)
    out["http-get"] = b"GET / HTTP/1.1\r\nHost: ferry\r\n\r\n"
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "..", "corpus", "stun")
    os.makedirs(outdir, exist_ok=True)
    all_seeds = seeds()
    for name, data in sorted(all_seeds.items()):
        with open(os.path.join(outdir, name + ".bin"), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(all_seeds), outdir))


if __name__ == "__main__":
    main()
