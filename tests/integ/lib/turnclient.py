"""turnclient — a small raw TURN client (RFC 8656) for ferry's tests.

Stdlib only.  It builds requests attribute by attribute (so tests can make
them wrong on purpose), does the long-term credential dance of RFC 8489
§9.2 (401 → retry with USERNAME or USERHASH, REALM, NONCE and
MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256, optionally
PASSWORD-ALGORITHM SHA-256; 438 → retry once with the new nonce), checks
the integrity of authenticated responses, and speaks ChannelData and
Send/Data indications over UDP or TCP.

Every receive is bounded by a timeout; nothing here loops without bound.
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import time
import zlib

from stun import MAGIC, xor_addr


# methods
BINDING, ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION, CHANNEL_BIND = \
    0x001, 0x003, 0x004, 0x006, 0x007, 0x008, 0x009
# classes
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

# attributes
MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
PASSWORD_ALGORITHM = 0x001D
USERHASH = 0x001E
XOR_MAPPED_ADDRESS = 0x0020
RESERVATION_TOKEN = 0x0022
ADDITIONAL_ADDRESS_FAMILY = 0x8000
ADDRESS_ERROR_CODE = 0x8001
PASSWORD_ALGORITHMS = 0x8002
SOFTWARE = 0x8022
FINGERPRINT = 0x8028

UDP = 17
TCP = 6


# ------------------------------------------------------------------ codec

def msg_type(method, cls):
    t = ((method & 0xF80) << 2) | ((method & 0x070) << 1) | (method & 0x00F)
    return t | ((cls & 2) << 7) | ((cls & 1) << 4)


def attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def u32(v):
    return struct.pack("!I", v)


def u8(v):
    """An 8-bit value and 24 reserved bits (REQUESTED-TRANSPORT, families)."""
    return struct.pack("!B3x", v)


def xor_addr_value(ip, port, tid):
    """XOR-*-ADDRESS value for (ip, port); family from the address text."""
    if ":" in ip:
        raw = socket.inet_pton(socket.AF_INET6, ip)
        key = struct.pack("!I", MAGIC) + tid
        return struct.pack("!BBH", 0, 2, port ^ (MAGIC >> 16)) + \
            bytes(a ^ b for a, b in zip(raw, key))
    raw = socket.inet_pton(socket.AF_INET, ip)
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + \
        bytes(a ^ b for a, b in zip(raw, struct.pack("!I", MAGIC)))


def build(method, cls, attrs=(), tid=None):
    """A message from a list of (type, value) pairs or ready-made bytes."""
    tid = tid or os.urandom(12)
    body = b"".join(a if isinstance(a, bytes) else attr(*a) for a in attrs)
    return struct.pack("!HHI", msg_type(method, cls), len(body), MAGIC) + tid + body


def _append_hmac(msg, atype, key, digest, size):
    body = bytearray(msg)
    length = struct.unpack("!H", body[2:4])[0] + 4 + size
    body[2:4] = struct.pack("!H", length)
    mac = hmac.new(key, bytes(body), digest).digest()[:size]
    return bytes(body) + struct.pack("!HH", atype, size) + mac


def add_integrity(msg, key):
    return _append_hmac(msg, MESSAGE_INTEGRITY, key, hashlib.sha1, 20)


def add_integrity_sha256(msg, key):
    return _append_hmac(msg, MESSAGE_INTEGRITY_SHA256, key, hashlib.sha256, 32)


def add_fingerprint(msg):
    body = bytearray(msg)
    body[2:4] = struct.pack("!H", struct.unpack("!H", body[2:4])[0] + 8)
    crc = (zlib.crc32(bytes(body)) ^ 0x5354554E) & 0xFFFFFFFF
    return bytes(body) + struct.pack("!HHI", FINGERPRINT, 4, crc)


def chandata(channel, data, pad=False):
    out = struct.pack("!HH", channel, len(data)) + data
    if pad:
        out += b"\0" * ((4 - len(data) % 4) % 4)
    return out


class Msg:
    """A parsed STUN message; attrs keeps order and repeats."""

    def __init__(self, raw):
        self.raw = raw
        t, length, magic = struct.unpack("!HHI", raw[:8])
        if magic != MAGIC or length + 20 != len(raw):
            raise ValueError("not a STUN message")
        self.type = t
        self.method = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)
        self.cls = ((t >> 7) & 2) | ((t >> 4) & 1)
        self.tid = raw[8:20]
        self.attrs = []
        self.offsets = []
        off = 20
        while off + 4 <= len(raw):
            at, al = struct.unpack("!HH", raw[off:off + 4])
            self.attrs.append((at, raw[off + 4:off + 4 + al]))
            self.offsets.append(off)
            off += 4 + al + (4 - al % 4) % 4

    def get(self, atype):
        for t, v in self.attrs:
            if t == atype:
                return v
        return None

    def all(self, atype):
        return [v for t, v in self.attrs if t == atype]

    @property
    def error(self):
        """ERROR-CODE as an int, None on success."""
        v = self.get(ERROR_CODE)
        return None if v is None else (v[2] & 7) * 100 + v[3]

    @property
    def ok(self):
        return self.cls == SUCCESS

    def xor_addrs(self, atype):
        return [xor_addr(v, self.tid) for v in self.all(atype)]

    @property
    def relayed(self):
        """The first XOR-RELAYED-ADDRESS as (ip, port)."""
        addrs = self.xor_addrs(XOR_RELAYED_ADDRESS)
        return addrs[0] if addrs else None

    @property
    def lifetime(self):
        v = self.get(LIFETIME)
        return None if v is None else struct.unpack("!I", v)[0]

    def verify(self, key, sha256=False):
        """True when the MESSAGE-INTEGRITY(-SHA256) verifies with key."""
        want = MESSAGE_INTEGRITY_SHA256 if sha256 else MESSAGE_INTEGRITY
        for (t, v), off in zip(self.attrs, self.offsets):
            if t != want:
                continue
            body = bytearray(self.raw[:off])
            body[2:4] = struct.pack("!H", off - 20 + 4 + len(v))
            digest = hashlib.sha256 if sha256 else hashlib.sha1
            return hmac.compare_digest(hmac.new(key, bytes(body), digest).digest()[:len(v)], v)
        return False

    def __repr__(self):
        return "<Msg method=0x%03x cls=%d error=%s attrs=%s>" % (
            self.method, self.cls, self.error, [hex(t) for t, _ in self.attrs])


def parse(raw):
    try:
        return Msg(raw)
    except (ValueError, struct.error):
        return None


# ------------------------------------------------------------ credentials

def key_md5(user, realm, password):
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).digest()


def key_sha256(user, realm, password):
    return hashlib.sha256(f"{user}:{realm}:{password}".encode()).digest()


def userhash(user, realm):
    return hashlib.sha256(f"{user}:{realm}".encode()).digest()


def ephemeral(secret, user="", ttl=3600, expiry=None):
    """(username, password) as draft-uberti-behave-turn-rest-00 makes them."""
    expiry = int(time.time()) + ttl if expiry is None else expiry
    name = f"{expiry}:{user}" if user else f"{expiry}"
    pw = base64.b64encode(hmac.new(secret.encode(), name.encode(),
                                   hashlib.sha1).digest()).decode()
    return name, pw


# ---------------------------------------------------------------- client

class TurnClient:
    """One client 5-tuple: a UDP socket, or a TCP connection, to server.

    user/password: long-term credentials (None: send requests bare).
    sha256: authenticate with PASSWORD-ALGORITHM SHA-256 and
    MESSAGE-INTEGRITY-SHA256; mi_sha256: MESSAGE-INTEGRITY-SHA256 with the
    MD5 key; use_userhash: USERHASH instead of USERNAME."""

    def __init__(self, server, user=None, password=None, tcp=False,
                 local=None, sha256=False, mi_sha256=False,
                 use_userhash=False, fingerprint=False, timeout=2.0):
        self.server = server
        self.user, self.password = user, password
        self.tcp = tcp
        self.sha256, self.mi_sha256 = sha256, mi_sha256 or sha256
        self.use_userhash = use_userhash
        self.fingerprint = fingerprint
        self.timeout = timeout
        self.realm = self.nonce = self.algorithms = None
        self.last = None             # the last response to a request
        self.last_sent = None        # the bytes of the last request sent
        self.pending = []            # data that arrived while waiting
        self.buf = b""
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        if tcp:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            if local:
                self.sock.bind(local)
            self.sock.connect(server)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.bind(local or (("::1" if family == socket.AF_INET6
                                      else "127.0.0.1"), 0))

    def close(self):
        self.sock.close()

    @property
    def key(self):
        if self.sha256:
            return key_sha256(self.user, self.realm, self.password)
        return key_md5(self.user, self.realm, self.password)

    # ---- raw I/O

    def send_raw(self, data):
        if self.tcp:
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, self.server)

    def _recv_frame(self, timeout):
        """One datagram, or one STUN/ChannelData frame from the stream;
        None when nothing comes within timeout."""
        deadline = time.monotonic() + timeout
        if not self.tcp:
            self.sock.settimeout(max(timeout, 0.001))
            try:
                return self.sock.recvfrom(70000)[0]
            except (socket.timeout, BlockingIOError):
                return None
        while True:
            need = None
            if len(self.buf) >= 4:
                if self.buf[0] & 0xC0 == 0x40:
                    n = struct.unpack("!H", self.buf[2:4])[0]
                    need = 4 + n + (4 - n % 4) % 4
                else:
                    need = 20 + struct.unpack("!H", self.buf[2:4])[0]
            if need is not None and len(self.buf) >= need:
                frame, self.buf = self.buf[:need], self.buf[need:]
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(70000)
            except socket.timeout:
                return None
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk

    def recv_msg(self, tid, timeout=None):
        """The response with this transaction id; data is kept aside."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            frame = self._recv_frame(left)
            if frame is None:
                return None
            m = None if frame[0] & 0xC0 else parse(frame)
            if m is not None and m.tid == tid and m.cls in (SUCCESS, ERROR):
                return m
            self.pending.append(frame)

    def exchange(self, data, timeout=None):
        """Send request bytes, return the parsed response (None: silence)."""
        self.last_sent = data
        self.send_raw(data)
        self.last = self.recv_msg(data[8:20], timeout)
        return self.last

    # ---- requests with credentials

    def _auth_attrs(self):
        out = []
        if self.use_userhash:
            out.append((USERHASH, userhash(self.user, self.realm)))
        else:
            out.append((USERNAME, self.user.encode()))
        out += [(REALM, self.realm.encode()), (NONCE, self.nonce)]
        if self.sha256:
            out += [(PASSWORD_ALGORITHMS, self.algorithms),
                    (PASSWORD_ALGORITHM, struct.pack("!HH", 2, 0))]
        return out

    def build_authed(self, method, attrs=(), tid=None, key=None):
        msg = build(method, REQUEST, list(attrs) + self._auth_attrs(), tid)
        k = key if key is not None else self.key
        msg = add_integrity_sha256(msg, k) if self.mi_sha256 else add_integrity(msg, k)
        return add_fingerprint(msg) if self.fingerprint else msg

    def learn(self, m):
        """Take REALM, NONCE and PASSWORD-ALGORITHMS from a 401/438."""
        if m is not None and m.error in (401, 438) and m.get(NONCE):
            self.realm = m.get(REALM).decode()
            self.nonce = m.get(NONCE)
            self.algorithms = m.get(PASSWORD_ALGORITHMS)

    def request(self, method, attrs=(), tid=None):
        """Send an authenticated request (getting a nonce first when we
        have none, and retrying once on 401/438 with a fresh one)."""
        if self.user is None:
            return self.exchange(build(method, REQUEST, attrs, tid))
        if self.nonce is None:
            self.learn(self.exchange(build(method, REQUEST, attrs)))
            if self.nonce is None:
                return self.last
        m = self.exchange(self.build_authed(method, attrs, tid))
        if m is not None and m.error in (401, 438) and m.get(NONCE) and \
                m.get(NONCE) != self.nonce:
            self.learn(m)
            m = self.exchange(self.build_authed(method, attrs, tid))
        if m is not None and m.cls == SUCCESS and \
                not m.verify(self.key, self.mi_sha256):
            raise AssertionError("response integrity does not verify: %r" % m)
        return m

    # ---- TURN methods

    def allocate(self, extra=(), transport=UDP, lifetime=None, tid=None):
        attrs = [(REQUESTED_TRANSPORT, u8(transport))] if transport is not None else []
        if lifetime is not None:
            attrs.append((LIFETIME, u32(lifetime)))
        m = self.request(ALLOCATE, attrs + list(extra), tid)
        if m is not None and m.ok:
            self.relay = m.relayed
        return m

    def refresh(self, lifetime=None, extra=()):
        attrs = [] if lifetime is None else [(LIFETIME, u32(lifetime))]
        return self.request(REFRESH, attrs + list(extra))

    def create_permission(self, *peers, extra=()):
        tid = os.urandom(12)
        attrs = [(XOR_PEER_ADDRESS, xor_addr_value(ip, port, tid))
                 for ip, port in peers]
        return self.request(CREATE_PERMISSION, attrs + list(extra), tid)

    def channel_bind(self, channel, peer, extra=()):
        tid = os.urandom(12)
        attrs = [(CHANNEL_NUMBER, struct.pack("!HH", channel, 0))]
        if peer is not None:
            attrs.append((XOR_PEER_ADDRESS, xor_addr_value(peer[0], peer[1], tid)))
        return self.request(CHANNEL_BIND, attrs + list(extra), tid)

    def send_indication(self, peer, data):
        tid = os.urandom(12)
        self.send_raw(build(SEND, INDICATION,
                            [(XOR_PEER_ADDRESS, xor_addr_value(peer[0], peer[1], tid)),
                             (DATA_ATTR, data)], tid))

    def send_channel(self, channel, data):
        self.send_raw(chandata(channel, data, pad=self.tcp))

    def recv_data(self, timeout=1.0):
        """Next relayed datagram: ('chan', channel, data) or
        ('ind', (ip, port), data); None when nothing comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            if self.pending:
                frame = self.pending.pop(0)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                frame = self._recv_frame(left)
                if frame is None:
                    return None
            if frame[0] & 0xC0 == 0x40:
                ch, n = struct.unpack("!HH", frame[:4])
                return ("chan", ch, frame[4:4 + n])
            m = parse(frame)
            if m is not None and m.method == DATA and m.cls == INDICATION:
                peer = m.xor_addrs(XOR_PEER_ADDRESS)
                return ("ind", peer[0] if peer else None, m.get(DATA_ATTR))
            # anything else (a late response) is skipped

    def drain(self, timeout=0.2):
        """Everything relayed within timeout, as recv_data gives it."""
        out = []
        for _ in range(100000):
            d = self.recv_data(timeout)
            if d is None:
                break
            out.append(d)
        return out


def udp_peer(host="127.0.0.1"):
    """A bound UDP socket to act as a peer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return s


def recv_from(sock, timeout=1.0):
    """(data, addr) or None."""
    sock.settimeout(timeout)
    try:
        d, a = sock.recvfrom(70000)
        return d, a[:2]
    except socket.timeout:
        return None
    except ConnectionRefusedError:
        return None
