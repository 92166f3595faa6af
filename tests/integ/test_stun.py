"""STUN Binding over UDP and TCP against the real ferryd, with coturn's
turnutils_stunclient and with raw sockets, plus a malformed-input battery."""
import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, skip, test  # noqa: E402
from net import server_closed, udp_exchange  # noqa: E402
from process import Ferryd, have, run_cmd  # noqa: E402
from stun import (error_code, stun_attr, stun_parse, stun_request, tcp_read_message,  # noqa: E402
                  xor_addr)

ATTR_XOR_MAPPED = 0x0020
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
ATTR_UNKNOWN = 0x000A
ATTR_REALM = 0x0014

srv = None


def server():
    global srv
    if srv is None or not srv.alive():
        srv = Ferryd(conf="tcp-idle-timeout = 3")
    return srv


def with_fingerprint(msg):
    """Append FINGERPRINT (RFC 8489 §14.7) to a message."""
    body = bytearray(msg)
    length = struct.unpack("!H", body[2:4])[0] + 8
    body[2:4] = struct.pack("!H", length)
    crc = (zlib.crc32(bytes(body)) ^ 0x5354554E) & 0xFFFFFFFF
    return bytes(body) + struct.pack("!HHI", ATTR_FINGERPRINT, 4, crc)


@test
def coturn_stunclient():
    """turnutils_stunclient gets our UDP reflexive address"""
    if not have("turnutils_stunclient"):
        skip("turnutils_stunclient not installed")
    s = server()
    r = run_cmd(["turnutils_stunclient", "-p", str(s.port), "127.0.0.1"], timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "UDP reflexive addr: " in r.stdout, r.stdout


@test
def udp_binding_maps_the_source():
    """a UDP Binding gets XOR-MAPPED-ADDRESS of the sender and SOFTWARE"""
    s = server()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    req = stun_request()
    sock.sendto(req, s.addr)
    data, frm = sock.recvfrom(2048)
    assert frm == s.addr, frm
    mtype, tid, attrs = stun_parse(data)
    assert mtype == 0x0101, hex(mtype)
    assert tid == req[8:20]
    assert xor_addr(attrs[ATTR_XOR_MAPPED][0], tid) == sock.getsockname()
    assert attrs[ATTR_SOFTWARE][0].startswith(b"ferry/")
    assert ATTR_FINGERPRINT not in attrs
    sock.close()


@test
def fingerprint_is_echoed():
    """a request with FINGERPRINT gets a response with a valid FINGERPRINT"""
    s = server()
    data = udp_exchange(s.addr, with_fingerprint(stun_request()))
    mtype, tid, attrs = stun_parse(data)
    assert mtype == 0x0101
    fp = attrs[ATTR_FINGERPRINT][0]
    body = data[:-8]
    want = (zlib.crc32(body) ^ 0x5354554E) & 0xFFFFFFFF
    assert struct.unpack("!I", fp)[0] == want


@test
def bad_fingerprint_dropped():
    """a request whose FINGERPRINT is wrong is dropped"""
    s = server()
    msg = bytearray(with_fingerprint(stun_request()))
    msg[-1] ^= 0xFF
    assert udp_exchange(s.addr, bytes(msg), timeout=0.5, expect=False) is None
    assert s.binding() is not None


@test
def unknown_required_attribute_420():
    """an unknown comprehension-required attribute gets 420 naming it"""
    s = server()
    data = udp_exchange(s.addr, stun_request(attrs=stun_attr(0x7F01, b"abcd")))
    mtype, _, attrs = stun_parse(data)
    assert mtype == 0x0111, hex(mtype)
    assert error_code(attrs) == 420
    assert attrs[ATTR_UNKNOWN][0][:2] == b"\x7f\x01"


@test
def unknown_optional_attribute_ignored():
    """an unknown comprehension-optional attribute is ignored"""
    s = server()
    data = udp_exchange(s.addr, stun_request(attrs=stun_attr(0xC0DE, b"xyz")))
    assert stun_parse(data)[0] == 0x0101


@test
def unknown_method_400():
    """a request of an unknown method gets 400"""
    s = server()
    mtype, _, attrs = stun_parse(udp_exchange(s.addr, stun_request(method=0x0FF)))
    assert mtype & 0x0110 == 0x0110
    assert error_code(attrs) == 400


@test
def indication_not_answered():
    """a Binding indication gets no answer"""
    s = server()
    assert udp_exchange(s.addr, stun_request(cls=1), timeout=0.5, expect=False) is None


@test
def ipv6_binding():
    """Binding over UDP on [::1] maps an IPv6 address"""
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        skip("no IPv6 loopback")
    s6 = Ferryd(host="::1")
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::1", 0))
    sock.settimeout(2)
    req = stun_request()
    sock.sendto(req, s6.addr)
    data = sock.recv(2048)
    mtype, tid, attrs = stun_parse(data)
    assert mtype == 0x0101
    ip, port = xor_addr(attrs[ATTR_XOR_MAPPED][0], tid)
    assert (ip, port) == sock.getsockname()[:2]
    sock.close()
    assert s6.stop() == 0


def tcp_connect(s):
    c = socket.create_connection(s.addr, timeout=2)
    return c


@test
def tcp_binding():
    """Binding over TCP maps the connection's address"""
    s = server()
    c = tcp_connect(s)
    req = stun_request()
    c.sendall(req)
    mtype, tid, attrs = stun_parse(tcp_read_message(c))
    assert mtype == 0x0101 and tid == req[8:20]
    assert xor_addr(attrs[ATTR_XOR_MAPPED][0], tid) == c.getsockname()
    c.close()


@test
def tcp_several_messages_in_one_write():
    """three requests in one TCP write get three answers in order"""
    s = server()
    c = tcp_connect(s)
    reqs = [stun_request() for _ in range(3)]
    c.sendall(b"".join(reqs))
    for r in reqs:
        assert stun_parse(tcp_read_message(c))[1] == r[8:20]
    c.close()


@test
def tcp_byte_by_byte():
    """a request sent one byte at a time is answered"""
    s = server()
    c = tcp_connect(s)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = stun_request(attrs=stun_attr(0x8022, b"slow client"))
    for b in req:
        c.send(bytes([b]))
        time.sleep(0.002)
    assert stun_parse(tcp_read_message(c))[1] == req[8:20]
    c.close()


@test
def tcp_bad_framing_closes():
    """bytes that are neither STUN nor ChannelData close the TCP connection"""
    s = server()
    c = tcp_connect(s)
    c.sendall(b"\xff" * 40)
    assert server_closed(c, timeout=3)
    c.close()
    assert s.binding() is not None


@test
def tcp_length_beyond_limit_closes():
    """a TCP STUN header announcing more than 64 KiB closes the connection"""
    s = server()
    c = tcp_connect(s)
    hdr = bytearray(stun_request())
    hdr[2:4] = b"\xff\xfc"
    c.sendall(bytes(hdr))
    assert server_closed(c, timeout=3)
    c.close()


@test(timeout=30)
def tcp_idle_closed():
    """an idle TCP connection is closed after tcp-idle-timeout"""
    s = server()
    c = tcp_connect(s)
    t0 = time.monotonic()
    hdr = bytearray(stun_request())
    hdr[2:4] = b"\x10\x00"          # promises 4096 bytes, sends none
    c.sendall(bytes(hdr))
    assert server_closed(c, timeout=10)
    assert 2 <= time.monotonic() - t0 < 10
    c.close()


@test
def malformed_udp_battery():
    """malformed datagrams are dropped silently and ferryd keeps answering"""
    s = server()
    good = stun_request()
    cases = {
        "empty": b"",
        "truncated header": good[:12],
        "wrong cookie": good[:4] + b"\x21\x12\xa4\x43" + good[8:],
        "top bits set": b"\xc0" + good[1:],
        "length not multiple of 4": good[:2] + b"\x00\x03" + good[4:] + b"abc",
        "length larger than datagram": good[:2] + b"\x00\x40" + good[4:],
        "length smaller than datagram": good + b"\0\0\0\0",
        "attribute overruns": good[:2] + b"\x00\x08" + good[4:] + b"\x80\x22\x00\x40abcd",
        "bad MESSAGE-INTEGRITY size": good[:2] + b"\x00\x08" + good[4:] + b"\x00\x08\x00\x04abcd",
        "64 KiB datagram": good[:2] + b"\xff\xe0" + good[4:] + b"\0" * 65480,
        "random bytes": os.urandom(300),
    }
    for name, data in cases.items():
        r = udp_exchange(s.addr, data, timeout=0.3, expect=False)
        assert r is None, f"{name}: got an answer"
    assert s.binding() is not None, "no answer after the battery"
    assert s.alive()


@test
def anonymous_stun_off_401():
    """allow-anonymous-stun = no refuses Binding without credentials (401)"""
    s2 = Ferryd(conf="allow-anonymous-stun = no\nrealm = test.example")
    mtype, _, attrs = stun_parse(udp_exchange(s2.addr, stun_request()))
    assert mtype == 0x0111
    assert error_code(attrs) == 401
    assert attrs[ATTR_REALM][0] == b"test.example"
    assert s2.stop() == 0


@test
def many_clients_across_workers():
    """200 client sockets across 4 workers all get answers"""
    s4 = Ferryd(conf="threads = 4")
    socks = []
    for _ in range(200):
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        so.bind(("127.0.0.1", 0))
        so.settimeout(2)
        socks.append(so)
    for so in socks:
        so.sendto(stun_request(), s4.addr)
    for so in socks:
        mtype, tid, attrs = stun_parse(so.recv(2048))
        assert xor_addr(attrs[ATTR_XOR_MAPPED][0], tid) == so.getsockname()
        so.close()
    assert s4.stop() == 0


@test
def stops_cleanly():
    """the shared server stops on SIGTERM with exit 0"""
    s = server()
    assert s.stop() == 0


run()
