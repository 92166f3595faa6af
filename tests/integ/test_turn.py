"""TURN relay (RFC 8656) against the real ferryd with a third-party client:
coturn's turnutils_uclient relaying through ferryd to turnutils_peer over
UDP (ChannelData and Send indications), TCP, with long-term and REST
credentials and client to client; then credentials changed with ferryctl
while ferryd runs (users, secrets, revocation), checked with the raw
client of lib/turnclient.py."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, skip, test, wait_for  # noqa: E402
from httpapi import metric  # noqa: E402
from process import (FERRYCTL, Ferryd, have, run_cmd, start_turn_peer, start_uclient,  # noqa: E402
                     uclient_result)
import turnclient as tc  # noqa: E402
from turnclient import TurnClient, udp_peer  # noqa: E402

BASE = """relay-ip = 127.0.0.1
allow-loopback-peers = yes
user = alice:pw
auth-secret = secret
"""
MESSAGES = 10           # -n: messages per session


# name: (uclient flags, credentials, messages expected at least)
MODES = {
    "udp-channel": ([], ["-u", "alice", "-w", "pw"], 2 * MESSAGES),
    "udp-send": (["-s"], ["-u", "alice", "-w", "pw"], 2 * MESSAGES),
    "udp-no-rtcp": (["-c"], ["-u", "alice", "-w", "pw"], MESSAGES),
    "tcp": (["-t"], ["-u", "alice", "-w", "pw"], 2 * MESSAGES),
    "tcp-no-rtcp-send": (["-t", "-c", "-s"], ["-u", "alice", "-w", "pw"], MESSAGES),
    "rest": ([], ["-u", "someuser", "-W", "secret"], 2 * MESSAGES),
    "tcp-rest": (["-t", "-c"], ["-u", "someuser", "-W", "secret"], MESSAGES),
    "client-to-client": (["-y"], ["-u", "alice", "-w", "pw"], 2 * MESSAGES),
    "client-to-client-send": (["-y", "-s", "-c"], ["-u", "alice", "-w", "pw"], MESSAGES),
}


@test(timeout=60)
def uclient_all_modes():
    """turnutils_uclient relays with zero loss: UDP ChannelData/Send, TCP, long-term, REST, client to client"""
    if not have("turnutils_uclient") or not have("turnutils_peer"):
        skip("coturn's turnutils not installed")
    runs = {}
    # All modes at once, each with its own ferryd and peer: uclient spends
    # most of its time waiting, not sending.
    for name, (flags, creds, _) in MODES.items():
        srv = Ferryd(conf=BASE)
        peer = start_turn_peer()
        runs[name] = (srv, start_uclient(srv.port, peer, flags + creds, n=MESSAGES))
    failures = []
    for name, (srv, p) in runs.items():
        sent, recvd, lost, out = uclient_result(p)
        want = MODES[name][2]
        print(f"# {name}: sent {sent}, received {recvd}, lost {lost}", flush=True)
        if p.returncode != 0 or lost != 0 or sent < want or recvd != sent:
            failures.append(f"{name}: rc={p.returncode} sent={sent} received={recvd} "
                            f"lost={lost} (wanted >= {want})\n{out[-1500:]}\n"
                            f"ferryd log:\n{srv.read_log()[-1500:]}")
        assert srv.alive(), f"{name}: ferryd died"
    assert not failures, "\n".join(failures)
    # what ferryd saw matches the modes
    log = runs["rest"][0].read_log()
    assert re.search(r"allocation for \d+:someuser: relay 127\.0\.0\.1:\d+", log), log[-2000:]
    for name, (srv, _) in runs.items():
        assert srv.stop() == 0, name


@test(timeout=60)
def same_address_pairs_stay_in_one_worker():
    """client-to-client from one address: every datagram goes relay to relay in memory, with two workers"""
    if not have("turnutils_uclient") or not have("turnutils_peer"):
        skip("coturn's turnutils not installed")
    srv = Ferryd(conf=BASE + "threads = 2\n")
    peer = start_turn_peer()
    # eight clients (four pairs) from 127.0.0.1, each from its own port:
    # the kernel's own hash would split them over both workers
    p = start_uclient(srv.port, peer, ["-y", "-m", "8", "-u", "alice", "-w", "pw"],
                      n=MESSAGES)
    sent, recvd, lost, out = uclient_result(p)
    assert p.returncode == 0 and lost == 0 and recvd == sent and sent >= 8 * MESSAGES, out[-2000:]
    to_client = metric(srv.http_port, "ferry_relayed_packets_total", {"direction": "to_client"})
    in_memory = metric(srv.http_port, "ferry_relay_in_memory_packets_total")
    print(f"# sent {sent}, to clients {to_client}, in memory {in_memory}", flush=True)
    assert to_client >= sent and in_memory == to_client, (to_client, in_memory)


def ctl(s, *args):
    r = run_cmd([FERRYCTL, "-d", os.path.join(s.dir, "ferry.db")] + list(args), timeout=10)
    assert r.returncode == 0, r.stderr
    return r


@test
def ferryctl_user_and_secret_live():
    """a user and a secret added with ferryctl work within 2 s, with uclient too"""
    s = Ferryd(conf="relay-ip = 127.0.0.1\nallow-loopback-peers = yes\n")
    expect_401 = TurnClient(s.addr, "bob", "x").allocate()
    assert expect_401.error == 401
    eph = tc.ephemeral("fresh-secret", "erin")
    assert TurnClient(s.addr, *eph).allocate().error == 401
    ctl(s, "user", "add", "bob", "--password", "x")
    ctl(s, "secret", "add", "fresh-secret")
    t0 = time.monotonic()
    wait_for(lambda: TurnClient(s.addr, "bob", "x").allocate().ok, 3, "bob to work")
    wait_for(lambda: TurnClient(s.addr, *eph).allocate().ok, 3, "the secret to work")
    assert time.monotonic() - t0 < 2.5, "took longer than 2 s"
    assert TurnClient(s.addr, "bob", "wrong").allocate().error == 401
    # the database keeps both keys, and the name's hash finds it
    assert TurnClient(s.addr, "bob", "x", sha256=True).allocate().ok
    assert TurnClient(s.addr, "bob", "x", use_userhash=True).allocate().ok
    assert TurnClient(s.addr, "bob", "x", use_userhash=True, sha256=True).allocate().ok
    if not have("turnutils_uclient") or not have("turnutils_peer"):
        skip("coturn's turnutils not installed (raw checks passed)")
    peer = start_turn_peer()
    procs = [start_uclient(s.port, peer, ["-c", "-u", "bob", "-w", "x"], n=MESSAGES),
             start_uclient(s.port, peer, ["-c", "-u", "erin", "-W", "fresh-secret"],
                           n=MESSAGES)]
    for p in procs:
        sent, recvd, lost, out = uclient_result(p)
        assert p.returncode == 0 and lost == 0 and sent >= MESSAGES and recvd == sent, out


@test
def ferryctl_revoke_live():
    """ferryctl revoke refuses the user's ephemeral credentials (401) and ends its allocation"""
    s = Ferryd(conf=BASE)
    c = TurnClient(s.addr, *tc.ephemeral("secret", "carol"))
    assert c.allocate().ok
    other = TurnClient(s.addr, *tc.ephemeral("secret", "dave"))
    assert other.allocate().ok
    peer = udp_peer()
    paddr = peer.getsockname()
    assert c.create_permission(paddr).ok and other.create_permission(paddr).ok
    peer.sendto(b"before", c.relay)
    assert c.recv_data() == ("ind", paddr, b"before")
    relay = c.relay
    ctl(s, "revoke", "carol")
    t0 = time.monotonic()
    wait_for(lambda: c.refresh().error == 401, 3, "carol's refresh to be refused")
    assert time.monotonic() - t0 < 2.5
    # ... for new credentials of carol's too
    assert TurnClient(s.addr, *tc.ephemeral("secret", "carol")).allocate().error == 401
    # the allocation is gone: its relay port is closed, and the 5-tuple
    # takes a new allocation with other credentials instead of 437
    probe = udp_peer()
    probe.connect(relay)

    def refused():
        try:
            probe.send(b"anyone?")
            probe.settimeout(0.1)
            probe.recv(100)
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        return False
    wait_for(refused, 2, "the relay port to close")
    assert c.recv_data(0.2) is None
    c.user, c.password = tc.ephemeral("secret", "frank")
    assert c.allocate().ok
    # dave is untouched
    peer.sendto(b"dave", other.relay)
    assert other.recv_data() == ("ind", paddr, b"dave")
    assert other.refresh().ok
    # and unrevoke lets carol back in
    ctl(s, "unrevoke", "carol")
    wait_for(lambda: TurnClient(s.addr, *tc.ephemeral("secret", "carol")).allocate().ok,
             3, "carol to be let back in")


run()
