"""process — the programs a test runs, each stopped by its PID when the
test ends.

Ferryd(...) starts the real daemon from $FERRYD on loopback with ports
chosen free, a temporary directory for its config, database and log, and
stops it with SIGTERM, checking that it exits 0.  start_turn_peer() and
start_uclient() run coturn's turnutils_peer and turnutils_uclient as
independent TURN peer and client; run_cmd() runs a command to completion.

FERRYD, FERRYCTL, SRCDIR and BUILDDIR locate the build under test (from
the environment the Makefile gives).  Ferryd reads FERRYD of this module
when it starts: a test may set process.FERRYD to run another binary.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile

from harness import on_cleanup, remove_if_all_pass, wait_for
from net import free_port, port_free, udp_exchange
from stun import stun_parse, stun_request

FERRYD = os.environ.get("FERRYD", os.path.abspath("src/ferryd"))
FERRYCTL = os.environ.get("FERRYCTL", os.path.abspath("src/ferryctl"))
SRCDIR = os.environ.get("FERRY_SRCDIR", os.path.abspath("."))
BUILDDIR = os.environ.get("FERRY_BUILDDIR", os.path.abspath("."))
ARTIFACTS = os.path.join(BUILDDIR, "tests", "artifacts")


def kill_at_cleanup(p):
    """Kill the child process p (if it still runs) when the test ends."""
    def stop():
        if p.poll() is None:
            p.kill()
        p.wait()
    on_cleanup(stop)
    return p


def start_turn_peer():
    """coturn's turnutils_peer (a UDP echo peer) on a free loopback port,
    stopped by PID when the test ends.  Returns the port, once the peer
    holds it."""
    port = free_port()
    p = kill_at_cleanup(subprocess.Popen(
        ["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: not port_free(port) or p.poll() is not None, 5,
             "turnutils_peer to bind")
    assert p.poll() is None, "turnutils_peer exited at start"
    return port


def start_uclient(port, peer_port, args, n=10, z=5):
    """coturn's turnutils_uclient against 127.0.0.1:port, relaying n
    messages every z ms to turnutils_peer on peer_port; args are its flags
    and credentials.  Killed when the test ends (it never frees its
    allocations: give each run its own ferryd)."""
    argv = ["turnutils_uclient", "-p", str(port), "-e", "127.0.0.1",
            "-r", str(peer_port), "-n", str(n), "-z", str(z), "-l", "120",
            *args, "127.0.0.1"]
    return kill_at_cleanup(subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True))


def uclient_result(p, timeout=25):
    """(sent, received, lost, output) of a finished turnutils_uclient;
    (0, 0, None, output) when it could not allocate.  Datagrams the client
    itself failed to send are an error."""
    out, _ = p.communicate(timeout=timeout)
    if "Cannot complete Allocation" in out:
        return 0, 0, None, out
    sent = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", out, re.M)
    lost = re.search(r"Total lost packets (\d+) \(", out)
    dropped = re.search(r"total send dropped (\d+) \(", out)
    assert sent and lost and dropped, "unexpected uclient output:\n" + out[-3000:]
    assert int(dropped.group(1)) == 0, out[-2000:]
    return int(sent[-1][0]), int(sent[-1][1]), int(lost.group(1)), out


class Ferryd:
    """The real ferryd, run in the foreground with a generated config.

    conf: extra config lines (str).  The listen and http-listen lines are
    added unless conf sets them.  .port / .http_port are the chosen ports,
    .dir the temporary directory, .log the path of its stderr."""

    def __init__(self, conf="", listen=True, http=True, start=True,
                 host="127.0.0.1", args=()):
        self.dir = tempfile.mkdtemp(prefix="ferry-test-")
        remove_if_all_pass(self.dir)
        self.host = host
        self.port = free_port(host) if listen else None
        self.http_port = free_port(host) if http else None
        lines = []
        # a "listen" line of conf's own (not tls-listen or https-listen)
        if listen and not re.search(r"^\s*listen\s*=", conf, re.M):
            lines.append(f"listen = {self._fmt(host, self.port)}")
        if http and "http-listen" not in conf:
            lines.append(f"http-listen = {self._fmt(host, self.http_port)}")
        if "database" not in conf:
            lines.append(f"database = {self.dir}/ferry.db")
        if "threads" not in conf:
            lines.append("threads = 2")
        if "log-level" not in conf:
            lines.append("log-level = debug")
        if "web-root" not in conf:
            lines.append("web-root =")
        self.conf_path = os.path.join(self.dir, "ferryd.conf")
        self.write_conf("\n".join(lines) + "\n" + conf + "\n")
        self.log = os.path.join(self.dir, "stderr.log")
        self.args = list(args)
        self.proc = None
        if start:
            self.start()

    @staticmethod
    def _fmt(host, port):
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def write_conf(self, text):
        with open(self.conf_path, "w") as f:
            f.write(text)

    def start(self, wait=True):
        # A restart appends to the same log: wait for a new "started".
        starts = self.read_log().count("started")
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen([FERRYD, "-f", "-c", self.conf_path] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        on_cleanup(self.kill)
        if wait:
            wait_for(lambda: self.read_log().count("started") > starts or
                     self.proc.poll() is not None,
                     10, "ferryd to start")
            if self.proc.poll() is not None:
                raise AssertionError("ferryd exited at start:\n" + self.read_log())
        return self

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code (asserting it exits in time)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("ferryd did not stop within %ss of SIGTERM" % timeout)
        self._logf.close()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "_logf", None):
            self._logf.close()

    @property
    def addr(self):
        return (self.host, self.port)

    def binding(self, timeout=2.0):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        reply = udp_exchange(self.addr, stun_request(), timeout, family=fam)
        return stun_parse(reply)


def run_cmd(argv, timeout=30, input=None, env=None):
    """Run a command to completion within timeout; CompletedProcess (text)."""
    return subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


def have(cmd):
    from shutil import which
    return which(cmd) is not None


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
