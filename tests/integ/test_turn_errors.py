"""TURN (RFC 8656) against the real ferryd with a raw client: every error
code the server answers, allocation options (lifetimes, EVEN-PORT and
reservations, dual allocations), the authentication variants (SHA-256,
USERHASH), the data path and its rules (permissions, channels, max-bps,
strict expiry, the peer filter) and a malformed-input battery."""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, skip, test  # noqa: E402
from net import free_port_range  # noqa: E402
from process import Ferryd  # noqa: E402
import turnclient as tc  # noqa: E402
from turnclient import TurnClient, recv_from, udp_peer  # noqa: E402

BASE = """relay-ip = 127.0.0.1
allow-loopback-peers = yes
user = alice:pw
user = bob:pw2
auth-secret = secret
"""
PW_ALGS = b"\x00\x01\x00\x00\x00\x02\x00\x00"


def ferryd(extra=""):
    return Ferryd(conf=BASE + extra)


def client(s, user="alice", password="pw", **kw):
    c = TurnClient(s.addr, user, password, **kw)
    return c


def allocated(s, user="alice", password="pw", **kw):
    c = client(s, user, password, **kw)
    m = c.allocate()
    assert m is not None and m.ok, m
    return c


def have_ipv6():
    try:
        p = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        p.bind(("::1", 0))
        p.close()
        return True
    except OSError:
        return False


def expect(m, code):
    assert m is not None, f"no answer (wanted {code})"
    assert m.error == code, f"wanted {code}, got {m!r}"
    return m


# ------------------------------------------------------------ error codes

@test
def e400_bad_requests():
    """400: no REQUESTED-TRANSPORT, bad channel numbers, no peer, MI without NONCE"""
    s = ferryd()
    c = client(s)
    m = expect(c.request(tc.ALLOCATE, []), 400)
    assert m.verify(c.key), "an authenticated error carries MESSAGE-INTEGRITY"
    assert c.allocate().ok
    peer = ("127.0.0.1", 5000)
    for ch in (0x3FFF, 0x8000, 0x0000, 0xFFFF):
        expect(c.channel_bind(ch, peer), 400)
    expect(c.channel_bind(0x4000, None), 400)
    expect(c.request(tc.CHANNEL_BIND, []), 400)
    expect(c.create_permission(), 400)
    # MESSAGE-INTEGRITY with USERNAME and REALM but no NONCE
    msg = tc.add_integrity(tc.build(tc.REFRESH, tc.REQUEST,
                                    [(tc.USERNAME, b"alice"), (tc.REALM, b"ferry")]),
                           c.key)
    m = expect(c.exchange(msg), 400)
    assert m.get(tc.MESSAGE_INTEGRITY) is None
    # ... and with no USERNAME
    msg = tc.add_integrity(tc.build(tc.REFRESH, tc.REQUEST,
                                    [(tc.REALM, b"ferry"), (tc.NONCE, c.nonce)]), c.key)
    expect(c.exchange(msg), 400)
    # PASSWORD-ALGORITHM without PASSWORD-ALGORITHMS
    msg = tc.build(tc.REFRESH, tc.REQUEST,
                   [(tc.USERNAME, b"alice"), (tc.REALM, b"ferry"), (tc.NONCE, c.nonce),
                    (tc.PASSWORD_ALGORITHM, struct.pack("!HH", 2, 0))])
    expect(c.exchange(tc.add_integrity(msg, c.key)), 400)
    assert c.refresh().ok, "the allocation is still there"


@test
def e401_challenges():
    """401: no MI (REALM, NONCE, PASSWORD-ALGORITHMS), bad password, unknown or expired user"""
    s = ferryd("realm = example.org")
    c = client(s)
    m = expect(c.exchange(tc.build(tc.ALLOCATE, tc.REQUEST,
                                   [(tc.REQUESTED_TRANSPORT, tc.u8(17))])), 401)
    assert m.get(tc.REALM) == b"example.org"
    nonce = m.get(tc.NONCE)
    assert nonce and nonce.startswith(b"obMatJos2"), nonce
    assert m.get(tc.PASSWORD_ALGORITHMS) == PW_ALGS
    assert m.get(tc.MESSAGE_INTEGRITY) is None
    for user, pw in (("alice", "wrong"), ("mallory", "pw"),
                     tc.ephemeral("secret", "carol", expiry=int(time.time()) - 10),
                     tc.ephemeral("not-the-secret", "carol")):
        c2 = client(s, user, pw)
        m = expect(c2.allocate(), 401)
        assert m.get(tc.NONCE) and m.get(tc.REALM) == b"example.org", m
        assert m.get(tc.MESSAGE_INTEGRITY) is None
        c2.close()
    # the controls: the right password, a valid ephemeral credential
    assert client(s).allocate().ok
    assert client(s, *tc.ephemeral("secret", "carol")).allocate().ok


@test
def e403_peer_filter():
    """403: loopback, 0.0.0.0/8, RFC 1918, link-local, CGNAT, multicast; allowed-peer exception; a public address passes"""
    v6 = have_ipv6()
    s = Ferryd(conf="relay-ip = 127.0.0.1\n" + ("relay-ip = ::1\n" if v6 else "") +
               "allow-loopback-peers = no\nallowed-peer = 10.1.2.0/24\nuser = alice:pw\n")
    c = client(s)
    extra = [(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(2))] if v6 else []
    m = c.allocate(extra)
    assert m.ok and len(m.xor_addrs(tc.XOR_RELAYED_ADDRESS)) == (2 if v6 else 1), m
    denied = ["127.0.0.1", "127.9.9.9", "0.0.0.0", "10.0.0.1", "172.16.5.5",
              "192.168.1.1", "169.254.1.1", "100.64.0.1", "224.0.0.1"]
    if v6:
        denied += ["::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
                   "fe80::1", "fc00::1"]
    for ip in denied:
        expect(c.create_permission((ip, 5000)), 403)
        expect(c.channel_bind(0x4000, (ip, 5000)), 403)
    assert c.create_permission(("10.1.2.3", 5000)).ok, "allowed-peer exception"
    # Quad9, globally reachable.  A permission is state in ferryd only:
    # nothing is sent to the peer.
    assert c.create_permission(("9.9.9.9", 5000)).ok, "a public address"
    # all or nothing
    expect(c.create_permission(("9.9.9.9", 5000), ("10.0.0.1", 5000)), 403)


@test
def e403_peer_filter_special_and_embedded():
    """403: the IANA special-purpose blocks (IETF assignments, benchmarking, documentation, reserved) and every IPv6 form embedding a denied IPv4 (6to4, Teredo, NAT64 well-known and local-use, mapped); reachable ones and allowed-peer IPv4s in those forms pass"""
    v6 = have_ipv6()
    s = Ferryd(conf="relay-ip = 127.0.0.1\n" + ("relay-ip = ::1\n" if v6 else "") +
               "allow-loopback-peers = no\nallowed-peer = 10.1.2.0/24\n"
               "denied-peer = 9.9.8.0/24\nuser = alice:pw\n")
    c = client(s)
    extra = [(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(2))] if v6 else []
    m = c.allocate(extra)
    assert m.ok and len(m.xor_addrs(tc.XOR_RELAYED_ADDRESS)) == (2 if v6 else 1), m
    denied = ["192.0.0.1",              # IETF Protocol Assignments
              "192.0.0.170",            # NAT64/DNS64 Discovery
              "198.18.0.1", "198.19.255.255",   # Benchmarking
              "240.0.0.1",              # Reserved
              "203.0.113.1", "192.0.2.1", "198.51.100.1",  # Documentation
              "192.88.99.1",            # deprecated 6to4 relay anycast
              "255.255.255.255",
              "9.9.8.1"]                # the file's denied-peer adds to the table
    if v6:
        denied += ["2002:a00:1::1",                     # 6to4 of 10.0.0.1
                   "2001:0:909:909::f5ff:fffe",         # Teredo, client 10.0.0.1 (obfuscated)
                   "2001:0:a00:1::f6f6:f6f6",           # Teredo, server 10.0.0.1
                   "64:ff9b:1::a00:1",                  # NAT64 local-use, /96 position
                   "64:ff9b:1:a00:0:100::",             # NAT64 local-use, /48 position
                   "64:ff9b::a00:1",                    # NAT64 well-known
                   "::ffff:198.18.0.1",                 # IPv4-mapped benchmarking
                   "::ffff:9.9.8.1", "2002:909:801::1",  # forms of a denied-peer line
                   "2001:db8::1", "3fff::1", "5f00::1", "100::1", "2001:2::1",
                   "2001:10::1"]
    for ip in denied:
        expect(c.create_permission((ip, 5000)), 403)
        expect(c.channel_bind(0x4000, (ip, 5000)), 403)
    # Globally reachable (a permission sends nothing to the peer), and the
    # allowed-peer IPv4 in embedded forms.
    allowed = ["9.9.9.9", "192.0.0.9", "10.1.2.3"]
    if v6:
        allowed += ["::ffff:9.9.9.9", "2002:909:909::1", "64:ff9b::909:909",
                    "2001:0:909:909::f6f6:f6f6", "2001:1::1", "2001:4:112::1",
                    "2002:a01:203::1", "::ffff:10.1.2.3",
                    "2001:0:909:909::f5fe:fdfc"]        # Teredo, client 10.1.2.3
    for ip in allowed:
        m = c.create_permission((ip, 5000))
        assert m is not None and m.ok, f"{ip}: {m!r}"
    if v6:
        # one embedded form with a denied IPv4 among good ones: all refused
        expect(c.create_permission(("2002:909:909::1", 5000), ("2002:a00:1::1", 5000)), 403)


@test
def e420_unknown_attribute():
    """420: an unknown comprehension-required attribute, listed in UNKNOWN-ATTRIBUTES"""
    s = ferryd()
    c = client(s)
    m = expect(c.allocate([(0x7F01, b"abcd"), (0x0031, b"")]), 420)
    assert m.get(tc.UNKNOWN_ATTRIBUTES)[:4] == b"\x7f\x01\x00\x31", m.get(tc.UNKNOWN_ATTRIBUTES)
    assert c.allocate([(0xC0DE, b"optional")]).ok, "optional ones are ignored"


@test
def e437_mismatch():
    """437: Refresh/CreatePermission/ChannelBind without allocation; a second Allocate"""
    s = ferryd()
    c = client(s)
    expect(c.refresh(), 437)
    expect(c.create_permission(("127.0.0.1", 5000)), 437)
    expect(c.channel_bind(0x4000, ("127.0.0.1", 5000)), 437)
    first = c.allocate()
    assert first.ok
    expect(c.allocate(), 437)
    # over TCP too
    t = client(s, tcp=True)
    expect(t.refresh(), 437)
    assert t.allocate().ok
    expect(t.allocate(), 437)


@test
def e438_stale_nonce():
    """438: an altered nonce gets a fresh one, which then works"""
    s = ferryd()
    c = client(s)
    c.learn(c.exchange(tc.build(tc.ALLOCATE, tc.REQUEST)))
    good = c.nonce
    bad = bytearray(good)
    bad[-1] = ord("A") if bad[-1] != ord("A") else ord("B")
    c.nonce = bytes(bad)
    m = expect(c.exchange(c.build_authed(tc.ALLOCATE, [(tc.REQUESTED_TRANSPORT, tc.u8(17))])),
               438)
    assert m.get(tc.NONCE) and m.get(tc.REALM) == b"ferry"
    assert m.get(tc.PASSWORD_ALGORITHMS) == PW_ALGS
    c.nonce = b"not a nonce of ours"
    expect(c.exchange(c.build_authed(tc.ALLOCATE, [(tc.REQUESTED_TRANSPORT, tc.u8(17))])), 438)
    c.learn(m)
    assert c.exchange(c.build_authed(tc.ALLOCATE, [(tc.REQUESTED_TRANSPORT, tc.u8(17))])).ok


@test
def e440_address_family():
    """440: IPv6 without an IPv6 relay-ip, an unknown family"""
    s = ferryd()
    c = client(s)
    expect(c.allocate([(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(2))]), 440)
    expect(c.allocate([(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(3))]), 440)
    m = c.allocate([(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(1))])
    assert m.ok and m.relayed[0] == "127.0.0.1"


@test
def e441_wrong_credentials():
    """441: requests on an allocation with other valid credentials than its Allocate's"""
    s = ferryd()
    c = allocated(s)
    assert c.refresh().ok
    c.user, c.password, c.nonce = "bob", "pw2", None
    expect(c.refresh(), 441)
    expect(c.create_permission(("127.0.0.1", 5000)), 441)
    expect(c.channel_bind(0x4000, ("127.0.0.1", 5000)), 441)
    c.user, c.password = tc.ephemeral("secret", "alice")
    expect(c.refresh(), 441)
    c.user, c.password = "alice", "pw"
    assert c.refresh().ok


@test
def e442_transport():
    """442: REQUESTED-TRANSPORT TCP (RFC 6062 relays are not offered)"""
    s = ferryd()
    c = client(s)
    expect(c.allocate(transport=tc.TCP), 442)
    expect(c.allocate(transport=0), 442)
    assert c.allocate().ok


@test
def e443_peer_family():
    """443: an IPv6 peer on an IPv4 allocation"""
    s = ferryd()
    c = allocated(s)
    expect(c.create_permission(("::1", 5000)), 443)
    expect(c.create_permission(("2001:db8::1", 5000)), 443)
    expect(c.channel_bind(0x4000, ("2001:db8::1", 5000)), 443)
    expect(c.refresh(extra=[(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(2))]), 443)


@test
def e486_quotas():
    """486: user-quota per user, total-quota for all"""
    s = ferryd("user-quota = 1\ntotal-quota = 2")
    a1 = allocated(s)
    expect(client(s).allocate(), 486)
    b1 = allocated(s, "bob", "pw2")
    expect(client(s, *tc.ephemeral("secret", "carol")).allocate(), 486)
    # quota comes back when an allocation ends
    assert a1.refresh(0).ok
    assert client(s).allocate().ok
    assert b1.refresh(0).ok
    assert client(s, *tc.ephemeral("secret", "carol")).allocate().ok


def free_port_pair():
    """Two consecutive UDP ports free on 127.0.0.1 (lower one even)."""
    return free_port_range(2, even=True)


@test
def e508_no_relay_port():
    """508: a relay-ports range of 2 ports and a third allocation; an unknown RESERVATION-TOKEN"""
    p = free_port_pair()
    s = ferryd(f"relay-ports = {p}-{p + 1}")
    c1, c2 = allocated(s), allocated(s)
    assert {c1.relay[1], c2.relay[1]} == {p, p + 1}
    expect(client(s).allocate(), 508)
    assert c1.refresh(0).ok
    c3 = allocated(s)
    assert c3.relay[1] == c1.relay[1]
    expect(client(s).allocate([(tc.RESERVATION_TOKEN, b"12345678")]), 508)


# -------------------------------------------------------- allocations

@test
def retransmitted_allocate():
    """a retransmitted Allocate gets the identical response and makes no second allocation"""
    s = ferryd("user-quota = 1")
    c = client(s)
    first = c.allocate()
    assert first.ok
    again = c.exchange(c.last_sent)
    assert again.raw == first.raw, "not byte-identical"
    # still only one: another socket of the same user is over quota
    expect(client(s).allocate(), 486)
    m = c.refresh(0)
    assert m.ok and m.lifetime == 0
    expect(c.refresh(), 437)
    assert client(s).allocate().ok, "the quota is free again"


@test
def lifetimes():
    """LIFETIME: 600 by default, min(requested, max), never below the default"""
    s = ferryd("max-allocation-lifetime = 3600")
    c = client(s)
    assert c.allocate().lifetime == 600
    assert c.refresh(30).lifetime == 600
    assert c.refresh(3000).lifetime == 3000
    assert c.refresh(100000).lifetime == 3600
    assert c.refresh().lifetime == 600
    assert client(s).allocate(lifetime=1200).lifetime == 1200
    assert client(s).allocate(lifetime=5).lifetime == 600
    assert client(s).allocate(lifetime=99999).lifetime == 3600
    s2 = ferryd("max-allocation-lifetime = 300")
    assert client(s2).allocate().lifetime == 300
    assert client(s2).allocate(lifetime=1000).lifetime == 300


@test
def even_port_and_reservation():
    """EVEN-PORT gives an even port; with R a RESERVATION-TOKEN that gets port+1"""
    s = ferryd()
    m = client(s).allocate([(tc.EVEN_PORT, b"\x00")])
    assert m.ok and m.relayed[1] % 2 == 0 and m.get(tc.RESERVATION_TOKEN) is None
    c = client(s)
    m = c.allocate([(tc.EVEN_PORT, b"\x80")])
    assert m.ok and m.relayed[1] % 2 == 0
    token = m.get(tc.RESERVATION_TOKEN)
    assert token is not None and len(token) == 8
    expect(client(s).allocate([(tc.RESERVATION_TOKEN, token), (tc.EVEN_PORT, b"\x00")]), 400)
    expect(client(s).allocate([(tc.RESERVATION_TOKEN, token[:4])]), 400)
    m2 = client(s).allocate([(tc.RESERVATION_TOKEN, token)])
    assert m2.ok and m2.relayed == ("127.0.0.1", m.relayed[1] + 1), m2.relayed
    # a token is good once
    expect(client(s).allocate([(tc.RESERVATION_TOKEN, token)]), 508)


@test
def dual_allocation():
    """ADDITIONAL-ADDRESS-FAMILY: two relays, or IPv4 and ADDRESS-ERROR-CODE 440"""
    s = ferryd()
    m = client(s).allocate([(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(2))])
    assert m.ok and m.xor_addrs(tc.XOR_RELAYED_ADDRESS)[0][0] == "127.0.0.1"
    assert len(m.all(tc.XOR_RELAYED_ADDRESS)) == 1
    aec = m.get(tc.ADDRESS_ERROR_CODE)
    assert aec is not None and aec[0] == 2 and aec[2] * 100 + aec[3] == 440, aec
    expect(client(s).allocate([(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(1))]), 400)
    expect(client(s).allocate([(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(2)),
                               (tc.REQUESTED_ADDRESS_FAMILY, tc.u8(1))]), 400)
    if not have_ipv6():
        skip("no IPv6 loopback")
    s6 = ferryd("relay-ip = ::1")
    c = client(s6)
    m = c.allocate([(tc.ADDITIONAL_ADDRESS_FAMILY, tc.u8(2))])
    addrs = m.xor_addrs(tc.XOR_RELAYED_ADDRESS)
    assert m.ok and [a[0] for a in addrs] == ["127.0.0.1", "::1"], addrs
    assert m.get(tc.ADDRESS_ERROR_CODE) is None
    m = client(s6).allocate([(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(2))])
    assert m.ok and m.relayed[0] == "::1"
    # both relays carry data
    p4, p6 = udp_peer("127.0.0.1"), udp_peer("::1")
    assert c.create_permission(p4.getsockname()[:2], p6.getsockname()[:2]).ok
    c.send_indication(p4.getsockname()[:2], b"four")
    c.send_indication(p6.getsockname()[:2], b"six")
    assert recv_from(p4) == (b"four", addrs[0])
    assert recv_from(p6) == (b"six", addrs[1])


@test
def sha256_and_userhash():
    """PASSWORD-ALGORITHM SHA-256, MESSAGE-INTEGRITY-SHA256 and USERHASH authenticate"""
    s = ferryd()
    c = client(s, sha256=True)
    m = c.allocate()
    assert m.ok
    assert len(m.get(tc.MESSAGE_INTEGRITY_SHA256)) == 32
    assert m.get(tc.MESSAGE_INTEGRITY) is None
    assert m.verify(tc.key_sha256("alice", "ferry", "pw"), sha256=True)
    assert not m.verify(tc.key_md5("alice", "ferry", "pw"), sha256=True)
    assert c.refresh().ok
    # MESSAGE-INTEGRITY-SHA256 keyed with the MD5 key
    c2 = client(s, mi_sha256=True)
    m = c2.allocate()
    assert m.ok and m.verify(tc.key_md5("alice", "ferry", "pw"), sha256=True)
    # a wrong password under SHA-256
    expect(client(s, "alice", "nope", sha256=True).allocate(), 401)
    # USERHASH, with either key
    assert client(s, use_userhash=True).allocate().ok
    assert client(s, "bob", "pw2", use_userhash=True, sha256=True).allocate().ok
    expect(client(s, "alice", "bad", use_userhash=True).allocate(), 401)
    # ephemeral names cannot be found by their hash
    expect(client(s, *tc.ephemeral("secret", "carol"), use_userhash=True).allocate(), 401)


# --------------------------------------------------------------- data

@test
def data_relay_permissions_and_channels():
    """data flows only through permissions; Data indications, then ChannelData once bound"""
    s = ferryd()
    c = allocated(s)
    relay = c.relay
    peer = udp_peer()
    paddr = peer.getsockname()
    stranger = udp_peer("127.0.0.2")
    # no permission: dropped both ways
    c.send_indication(paddr, b"too early")
    assert recv_from(peer, 0.3) is None
    peer.sendto(b"uninvited", relay)
    assert c.recv_data(0.3) is None
    assert c.create_permission(paddr).ok
    payload = bytes(range(256)) * 4 + b"odd"
    c.send_indication(paddr, payload)
    assert recv_from(peer) == (payload, relay)
    peer.sendto(payload[::-1], relay)
    assert c.recv_data() == ("ind", paddr, payload[::-1])
    # the permission is per IP: another port of 127.0.0.1 passes,
    # 127.0.0.2 does not, either way
    other = udp_peer()
    other.sendto(b"same ip", relay)
    assert c.recv_data() == ("ind", other.getsockname(), b"same ip")
    stranger.sendto(b"not allowed", relay)
    c.send_indication(stranger.getsockname(), b"not allowed")
    assert c.recv_data(0.3) is None and recv_from(stranger, 0.3) is None
    # a channel
    assert c.channel_bind(0x4001, paddr).ok
    peer.sendto(b"x" * 5, relay)
    assert c.recv_data() == ("chan", 0x4001, b"x" * 5)
    c.send_channel(0x4001, b"via channel")
    assert recv_from(peer) == (b"via channel", relay)
    c.send_indication(paddr, b"send still works")
    assert recv_from(peer) == (b"send still works", relay)
    # the other port of the same IP still gets Data indications
    other.sendto(b"no channel", relay)
    assert c.recv_data() == ("ind", other.getsockname(), b"no channel")
    # an empty datagram both ways
    c.send_channel(0x4001, b"")
    assert recv_from(peer) == (b"", relay)
    # ChannelData to an unbound channel is dropped
    c.send_channel(0x4002, b"nobody")
    assert recv_from(peer, 0.3) is None


@test
def channel_bind_rules():
    """ChannelBind: a number or a peer bound elsewhere is 400; rebinding refreshes"""
    s = ferryd()
    c = allocated(s)
    p1, p2 = ("127.0.0.1", 6001), ("127.0.0.1", 6002)
    assert c.channel_bind(0x4000, p1).ok
    expect(c.channel_bind(0x4000, p2), 400)
    expect(c.channel_bind(0x4001, p1), 400)
    assert c.channel_bind(0x4000, p1).ok
    assert c.channel_bind(0x7FFF, p2).ok, "RFC 5766 numbers up to 0x7FFF"
    assert c.channel_bind(0x7FFF, p2).ok


@test(timeout=30)
def max_bps_limits_throughput():
    """max-bps = 20000 lets well under half of 200 KB sent in 1 s through; no limit lets all"""
    results = {}
    for bps in (20000, 0):
        s = ferryd(f"max-bps = {bps}")
        c = allocated(s)
        peer = udp_peer()
        assert c.channel_bind(0x4000, peer.getsockname()).ok
        chunk = b"z" * 1000
        t0 = time.monotonic()
        for i in range(200):
            c.send_channel(0x4000, chunk)
            # pace: 200 KB over about one second
            delay = t0 + (i + 1) * 0.005 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        got = 0
        for _ in range(400):
            r = recv_from(peer, 0.3)
            if r is None:
                break
            assert r[0] == chunk
            got += 1
        results[bps] = got
        s.stop()
    assert 0 < results[20000] < 100, results
    assert results[0] == 200, results


@test(timeout=30)
def strict_expiry():
    """strict-expiry = yes ends an allocation when its credential expires; = no keeps it"""
    runs = {}
    for strict in ("yes", "no"):
        s = ferryd(f"strict-expiry = {strict}")
        c = client(s, *tc.ephemeral("secret", "dave", ttl=3))
        assert c.allocate().ok
        peer = udp_peer()
        assert c.create_permission(peer.getsockname()).ok
        runs[strict] = (s, c, peer)
    time.sleep(5)
    for strict, (s, c, peer) in runs.items():
        peer.sendto(b"still there?", c.relay)
        got = c.recv_data(0.5)
        fresh = tc.ephemeral("secret", "dave")
        c.user, c.password = fresh
        again = c.allocate()
        if strict == "yes":
            assert got is None, got
            assert again.ok, "the old allocation should be gone: %r" % again
        else:
            assert got == ("ind", peer.getsockname(), b"still there?"), got
            expect(again, 437)


@test
def relay_to_own_relay_addresses():
    """two clients relay to each other's relay addresses with allow-loopback-peers = no"""
    s = Ferryd(conf="relay-ip = 127.0.0.1\nallow-loopback-peers = no\nuser = alice:pw\n")
    a, b = allocated(s), allocated(s)
    assert a.create_permission(b.relay).ok
    assert b.create_permission(a.relay).ok
    expect(a.create_permission(("127.0.0.1", 5000)), 403)
    a.send_indication(b.relay, b"a to b")
    assert b.recv_data() == ("ind", a.relay, b"a to b")
    assert b.channel_bind(0x4444, a.relay).ok
    b.send_channel(0x4444, b"b to a")
    assert a.recv_data() == ("ind", b.relay, b"b to a")
    a.send_indication(b.relay, b"a to b again")
    assert b.recv_data() == ("chan", 0x4444, b"a to b again")
    # a socket of another process inside relay-ports on the relay IP is
    # not one of ferry's relays: the deny list keeps it out of reach
    other = None
    for port in range(55000, 55400):
        try:
            other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            other.bind(("127.0.0.1", port))
            break
        except OSError:
            other.close()
            other = None
    assert other is not None, "no free port in the relay range"
    expect(a.create_permission(other.getsockname()), 403)
    expect(a.channel_bind(0x4001, other.getsockname()), 403)
    a.send_indication(other.getsockname(), b"sneaky")
    assert recv_from(other, 0.3) is None
    other.close()
    # and a relay that has ended is no longer ours either
    gone = b.relay
    assert b.refresh(0).ok
    expect(a.create_permission(gone), 403)


@test
def external_ip_mapping():
    """external-ip: XOR-RELAYED-ADDRESS shows the public address; clients relay to each other's public relay addresses"""
    # "public" 127.0.0.2 stands for the NAT's address; the relays bind
    # 127.0.0.1.  Even a broken mapping could only send to loopback.
    s = Ferryd(conf="relay-ip = 127.0.0.1\nexternal-ip = 127.0.0.2/127.0.0.1\n"
                    "allow-loopback-peers = no\nuser = alice:pw\n")
    a, b = allocated(s), allocated(s)
    assert a.relay[0] == "127.0.0.2" and b.relay[0] == "127.0.0.2", (a.relay, b.relay)
    assert "relay 127.0.0.2:" in s.read_log()
    assert a.create_permission(b.relay).ok
    assert b.create_permission(a.relay).ok
    a.send_indication(b.relay, b"a to b")
    # b sees the data coming from a's public relay address
    assert b.recv_data() == ("ind", a.relay, b"a to b")
    assert a.channel_bind(0x4100, b.relay).ok
    a.send_channel(0x4100, b"over a channel")
    assert b.recv_data() == ("ind", a.relay, b"over a channel")
    # the public form of a relay is ferry's own only for ports it holds
    expect(a.create_permission(("127.0.0.2", 5000)), 403)


# ---------------------------------------------------------- malformed

@test
def malformed_turn_battery():
    """bad TURN attribute values, ChannelData cut short or for unknown channels, Send without DATA"""
    s = ferryd()
    c = allocated(s)
    peer = udp_peer()
    paddr = peer.getsockname()
    assert c.channel_bind(0x4000, paddr).ok
    # bad attribute values in requests: 400
    expect(client(s).request(tc.ALLOCATE, [(tc.REQUESTED_TRANSPORT, b"\x11\0\0")]), 400)
    expect(client(s).request(tc.ALLOCATE, [(tc.REQUESTED_TRANSPORT, b"\x11\0\0\0\0")]), 400)
    expect(client(s).allocate([(tc.REQUESTED_ADDRESS_FAMILY, b"\x01")]), 400)
    expect(client(s).allocate([(tc.EVEN_PORT, b"")]), 400)
    expect(client(s).allocate([(tc.ADDITIONAL_ADDRESS_FAMILY, b"\x02\0")]), 400)
    tid = os.urandom(12)
    bad_family = bytearray(tc.xor_addr_value("127.0.0.1", 5000, tid))
    bad_family[1] = 7
    expect(c.request(tc.CREATE_PERMISSION, [(tc.XOR_PEER_ADDRESS, bytes(bad_family))], tid), 400)
    expect(c.request(tc.CREATE_PERMISSION, [(tc.XOR_PEER_ADDRESS, b"\0\1\0")], tid), 400)
    short = tc.xor_addr_value("127.0.0.1", 5000, tid)[:6]
    expect(c.request(tc.CREATE_PERMISSION, [(tc.XOR_PEER_ADDRESS, short)], tid), 400)
    expect(c.request(tc.CHANNEL_BIND, [(tc.CHANNEL_NUMBER, b"\x40\x00"),
                                       (tc.XOR_PEER_ADDRESS,
                                        tc.xor_addr_value(paddr[0], paddr[1], tid))], tid), 400)
    expect(c.request(tc.REFRESH, [(tc.LIFETIME, b"\0\0")]), 400)
    expect(c.request(tc.REFRESH, [(tc.LIFETIME, b"\0\0\0\0\0")]), 400)
    expect(client(s).allocate([(tc.LIFETIME, b"\0\0")]), 400)
    expect(c.request(tc.REFRESH, [(tc.REQUESTED_ADDRESS_FAMILY, tc.u8(9))]), 400)
    expect(c.allocate(), 437)
    # data-path garbage: silently dropped
    c.send_raw(b"\x40\x00\x00\x10short")              # shorter than its length
    c.send_raw(b"\x40\x00")                           # no length at all
    c.send_raw(tc.chandata(0x4001, b"unbound"))       # unknown channel
    c.send_raw(tc.chandata(0x3FFF, b"not a channel")) # STUN-looking garbage
    c.send_raw(b"\x7f\xff\xff\xff" + b"\0" * 8)       # huge length
    tid = os.urandom(12)
    c.send_raw(tc.build(tc.SEND, tc.INDICATION,
                        [(tc.XOR_PEER_ADDRESS, tc.xor_addr_value(paddr[0], paddr[1], tid))],
                        tid))                         # Send without DATA
    c.send_raw(tc.build(tc.SEND, tc.INDICATION, [(tc.DATA_ATTR, b"no peer")]))
    c.send_raw(tc.build(tc.SEND, tc.INDICATION,
                        [(tc.XOR_PEER_ADDRESS, bytes(bad_family)), (tc.DATA_ATTR, b"bad")],
                        tid))
    c.send_raw(tc.build(tc.DATA, tc.INDICATION, [(tc.DATA_ATTR, b"client Data")]))
    c.send_raw(tc.build(tc.ALLOCATE, tc.SUCCESS, []))  # stray response
    # a bound channel used from another 5-tuple, which has no allocation
    intruder = client(s)
    intruder.send_channel(0x4000, b"intruder")
    intruder.send_indication(paddr, b"intruder")
    assert recv_from(peer, 0.3) is None, "garbage reached the peer"
    assert c.recv_data(0.2) is None
    # a ChannelData datagram longer than its length: the extra is padding
    c.send_raw(b"\x40\x00\x00\x03abcXYZ")
    assert recv_from(peer) == (b"abc", c.relay)
    # still alive and relaying
    assert s.alive()
    c.send_channel(0x4000, b"after the battery")
    assert recv_from(peer) == (b"after the battery", c.relay)
    peer.sendto(b"back", c.relay)
    assert c.recv_data() == ("chan", 0x4000, b"back")
    assert client(s).allocate().ok
    assert s.stop() == 0


@test
def tcp_relay_and_split_channel_data():
    """over TCP: Data indications, padded ChannelData both ways, a frame sent byte by byte"""
    s = ferryd()
    c = allocated(s, tcp=True)
    peer = udp_peer()
    paddr = peer.getsockname()
    assert c.create_permission(paddr).ok
    c.send_indication(paddr, b"tcp send")
    assert recv_from(peer) == (b"tcp send", c.relay)
    peer.sendto(b"tcp data!", c.relay)
    assert c.recv_data() == ("ind", paddr, b"tcp data!")
    assert c.channel_bind(0x5000, paddr).ok
    peer.sendto(b"odd", c.relay)
    assert c.recv_data() == ("chan", 0x5000, b"odd")
    frame = tc.chandata(0x5000, b"byte by byte", pad=True) + \
        tc.chandata(0x5000, b"then two", pad=True)
    for i in range(len(frame)):
        c.sock.send(frame[i:i + 1])
        time.sleep(0.003)
    assert recv_from(peer) == (b"byte by byte", c.relay)
    assert recv_from(peer) == (b"then two", c.relay)
    # ChannelData for an unbound channel is dropped; the stream goes on
    c.send_channel(0x5001, b"unbound")
    c.send_channel(0x5000, b"bound")
    assert recv_from(peer) == (b"bound", c.relay)
    # closing the connection ends the allocation
    relay = c.relay
    c.close()
    probe = udp_peer()
    probe.connect(relay)
    ok = False
    for _ in range(20):
        try:
            probe.send(b"anyone?")
            probe.settimeout(0.1)
            probe.recv(100)
        except ConnectionRefusedError:
            ok = True
            break
        except socket.timeout:
            pass
    assert ok, "the relay socket should be closed"


run()
