"""The README's first command ends in `make demo`: ferryd in the
foreground on loopback with the demo config, its database under the build
tree and the call page on http://127.0.0.1:8080/."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import on_cleanup, run, skip, test, wait_for  # noqa: E402
from net import port_free, udp_exchange  # noqa: E402
from process import BUILDDIR  # noqa: E402
from stun import stun_parse, stun_request  # noqa: E402


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


@test(timeout=60)
def make_demo_serves_the_call_page():
    """make demo runs ferryd with the demo config: call page, TURN credentials, STUN"""
    if not (port_free(8080, socket.SOCK_STREAM) and port_free(3478, socket.SOCK_DGRAM)
            and port_free(3478, socket.SOCK_STREAM)):
        skip("ports 3478 or 8080 are in use on this machine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    log = open(os.path.join(BUILDDIR, "tests", "demo-run.log"), "w+")
    make = subprocess.Popen(["make", "-C", BUILDDIR, "demo"], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env=env)

    def stop():
        for pid in children(make.pid):          # ferryd, started by make
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            make.wait(10)
        except subprocess.TimeoutExpired:
            make.kill()
            make.wait()
    on_cleanup(stop)

    def text():
        log.seek(0)
        return log.read()
    wait_for(lambda: "started" in text() or make.poll() is not None, 30, "the demo to start")
    assert make.poll() is None, text()
    page = urllib.request.urlopen("http://127.0.0.1:8080/", timeout=5)
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert b"<html" in page.read().lower()
    import json
    ice = json.loads(urllib.request.urlopen("http://127.0.0.1:8080/api/ice-servers",
                                            timeout=5).read())
    assert any("credential" in s for s in ice["iceServers"]), ice
    assert stun_parse(udp_exchange(("127.0.0.1", 3478), stun_request()))[0] == 0x0101
    assert os.path.exists(os.path.join(BUILDDIR, "demo", "ferry.db"))
    stop()
    assert make.returncode == 0 or "stopped" in text(), text()
    time.sleep(0.2)


run()
