"""Abuse limits of the TURN side: unauthenticated answers per address
(no amplification), allocations per address."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import turnclient as tc  # noqa: E402
from harness import run, test  # noqa: E402
from httpapi import metric  # noqa: E402
from net import server_closed, udp_exchange  # noqa: E402
from process import Ferryd  # noqa: E402
from stun import stun_parse, stun_request, tcp_read_message  # noqa: E402
import socket  # noqa: E402


@test
def unauthenticated_answers_rate_limited():
    """past unauth-rate, Allocates without credentials from one address go unanswered; others and later ones are served"""
    s = Ferryd(conf="unauth-rate = 10\nthreads = 1\nuser = alice:pw")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.3)
    sent = 100
    for _ in range(sent):
        sock.sendto(tc.build(tc.ALLOCATE, tc.REQUEST, [(tc.REQUESTED_TRANSPORT, tc.u8(17))]),
                    s.addr)
    answers = 0
    try:
        while True:
            data = sock.recv(2048)
            assert tc.parse(data).error == 401
            answers += 1
    except socket.timeout:
        pass
    # a burst of two seconds' worth, plus what refilled meanwhile
    assert 18 <= answers <= 25, answers
    dropped = metric(s.http_port, "ferry_unauthenticated_dropped_total")
    assert dropped == sent - answers, (dropped, sent, answers)
    # anonymous Binding is not limited; an authenticated client still works
    assert stun_parse(udp_exchange(s.addr, stun_request()))[0] == 0x0101
    time.sleep(1.2)
    c = tc.TurnClient(s.addr, "alice", "pw")
    assert c.allocate().ok
    c.close()
    sock.close()
    assert s.stop() == 0


@test
def allocations_per_address():
    """max-allocations-per-address: one more from the same IP gets 486; freeing one lets the next in"""
    s = Ferryd(conf="max-allocations-per-address = 3\nuser = alice:pw\nuser-quota = 0")
    clients = [tc.TurnClient(s.addr, "alice", "pw") for _ in range(4)]
    for c in clients[:3]:
        assert c.allocate().ok
    m = clients[3].allocate()
    assert m.error == 486, m
    assert metric(s.http_port, "ferry_address_limit_rejections_total") == 1
    assert clients[0].refresh(0).ok
    assert clients[3].allocate().ok
    for c in clients:
        c.close()
    assert s.stop() == 0


@test
def tcp_connections_in_all():
    """max-tcp-connections counts connections from every address together"""
    s = Ferryd(conf="max-tcp-connections = 3\nmax-tcp-connections-per-address = 0")
    held = []
    for k in range(3):                 # three addresses, one connection each
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((f"127.0.0.{k + 2}", 0))
        c.settimeout(5)
        c.connect(s.addr)
        c.sendall(stun_request())      # answered: accepted and counted
        assert stun_parse(tcp_read_message(c))[0] == 0x0101
        held.append(c)
    extra = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    extra.bind(("127.0.0.9", 0))
    extra.settimeout(5)
    extra.connect(s.addr)
    assert server_closed(extra), "a fourth connection was kept"
    assert metric(s.http_port, "ferry_tcp_refused_total") == 1
    held.pop().close()
    time.sleep(0.3)
    again = socket.create_connection(s.addr, timeout=5)
    again.sendall(stun_request())
    assert stun_parse(tcp_read_message(again))[0] == 0x0101
    for c in held + [extra, again]:
        c.close()
    assert s.stop() == 0


run()
