"""stun — STUN messages (RFC 8489) made and read here, independently of
ferry's own code: build a request and its attributes, parse a message,
decode XOR-*-ADDRESS and ERROR-CODE, read one message from a stream."""
import os
import socket
import struct

MAGIC = 0x2112A442


def stun_request(method=0x001, attrs=b"", tid=None, cls=0):
    """A STUN message: method with class bits interleaved (RFC 8489 §5)."""
    t = ((method & 0xF80) << 2) | ((method & 0x070) << 1) | (method & 0x00F)
    t |= ((cls & 2) << 7) | ((cls & 1) << 4)
    tid = tid or os.urandom(12)
    return struct.pack("!HHI", t, len(attrs), MAGIC) + tid + attrs


def stun_attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def stun_parse(data):
    """(type, tid, {attr type: [values]}) of a STUN message, or None."""
    if len(data) < 20:
        return None
    mtype, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or length + 20 != len(data):
        return None
    attrs, off = {}, 20
    while off + 4 <= len(data):
        at, al = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(at, []).append(data[off + 4:off + 4 + al])
        off += 4 + al + (4 - al % 4) % 4
    return mtype, data[8:20], attrs


def xor_addr(value, tid):
    """Decode an XOR-*-ADDRESS value into (ip, port)."""
    family = value[1]
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    if family == 1:
        raw = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
        return socket.inet_ntop(socket.AF_INET, raw), port
    key = struct.pack("!I", MAGIC) + tid
    raw = bytes(a ^ b for a, b in zip(value[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def error_code(attrs):
    v = attrs.get(0x0009, [None])[0]
    if v is None:
        return None
    return (v[2] & 7) * 100 + v[3]


def tcp_read_message(s, timeout=2.0):
    """One STUN message from a stream (blocking, bounded by timeout)."""
    s.settimeout(timeout)
    buf = b""
    while len(buf) < 20:
        chunk = s.recv(20 - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    length = struct.unpack("!H", buf[2:4])[0]
    while len(buf) < 20 + length:
        chunk = s.recv(20 + length - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf
