"""Operations: privilege drop after binding, reload under load, database
changes seen without a reload."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import on_cleanup, run, skip, test, wait_for  # noqa: E402
from net import udp_exchange  # noqa: E402
from process import FERRYCTL, Ferryd, have, run_cmd, start_turn_peer  # noqa: E402
from stun import stun_parse, stun_request  # noqa: E402


def proc_ids(pid):
    """(uid, gid) of a process from /proc."""
    status = open(f"/proc/{pid}/status").read()
    uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    gid = int(re.search(r"^Gid:\s+(\d+)", status, re.M).group(1))
    return uid, gid


@test
def drops_privileges_after_binding():
    """started as root with user-name/group-name, ferryd runs as that user and the database stays writable"""
    if os.geteuid() != 0:
        skip("needs root")
    import grp
    import pwd
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup")
    f = Ferryd(conf="user-name = nobody\ngroup-name = nogroup\nauto-create-rooms = yes")
    os.chmod(f.dir, 0o755)
    assert proc_ids(f.proc.pid) == (nobody.pw_uid, nogroup.gr_gid), proc_ids(f.proc.pid)
    assert "running as uid %d" % nobody.pw_uid in f.read_log()
    # every thread, not only the main one
    for tid in os.listdir(f"/proc/{f.proc.pid}/task"):
        st = open(f"/proc/{f.proc.pid}/task/{tid}/status").read()
        assert re.search(r"^Uid:\s+%d\s" % nobody.pw_uid, st, re.M), st
    assert stun_parse(udp_exchange(f.addr, stun_request()))[0] == 0x0101
    # ferryctl (as root) writes, the unprivileged daemon reads it...
    r = run_cmd([FERRYCTL, "-d", os.path.join(f.dir, "ferry.db"), "room", "add", "ops"])
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "database changed" in f.read_log(), 5, "the change to be seen")
    # ...and the daemon can still write (its health check touches the db)
    body = urllib.request.urlopen(f"http://127.0.0.1:{f.http_port}/healthz", timeout=5).read()
    assert b'"ok"' in body
    assert f.stop() == 0


@test
def unknown_user_refused():
    """a user-name that does not exist stops ferryd with a clear message"""
    if os.geteuid() != 0:
        skip("needs root")
    f = Ferryd(start=False, conf="user-name = no-such-user-ferry")
    f.start(wait=False)
    assert f.proc.wait(10) == 1
    assert "no-such-user-ferry" in f.read_log()


@test(timeout=120)
def allocation_relays_through_reloads():
    """an allocation relaying throughout five SIGHUP reloads loses nothing"""
    if not have("turnutils_uclient"):
        skip("coturn's clients are not installed")
    f = Ferryd(conf="relay-ip = 127.0.0.1\nallow-loopback-peers = yes\n"
                    "user = alice:wonder\nlog-level = info")
    peer_port = start_turn_peer()
    client = subprocess.Popen(
            ["turnutils_uclient", "-u", "alice", "-w", "wonder", "-e", "127.0.0.1",
             "-r", str(peer_port), "-n", "300", "-m", "2", "-l", "170", "-z", "10",
             "-p", str(f.port), "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    on_cleanup(lambda: client.poll() is None and (client.kill(), client.wait()))
    base = re.sub(r"^log-level = .*\n", "", open(f.conf_path).read(), flags=re.M)
    for i in range(5):
        time.sleep(0.6)
        f.write_conf(base + f"log-level = {'debug' if i % 2 else 'info'}\n"
                            f"max-bps = {1000000 + i}\n")
        f.signal(signal.SIGHUP)
    out, _ = client.communicate(timeout=90)
    assert f.read_log().count("reload done") == 5, f.read_log()[-2000:]
    lost = re.findall(r"Total lost packets (\d+)", out)
    sent = re.findall(r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
    assert lost and sent, out[-2000:]
    # the run's final totals: everything sent came back
    assert int(sent[-1][0]) == 600 and sent[-1][0] == sent[-1][1], out[-1500:]
    assert int(lost[-1]) == 0, out[-1500:]
    assert f.stop() == 0


run()
