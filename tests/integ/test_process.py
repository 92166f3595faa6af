"""ferryd as a process: command line, --check-config, signals, reload,
detaching with a pid file, logging."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, test, wait_for  # noqa: E402
from httpapi import http_json  # noqa: E402
from net import free_port, udp_exchange  # noqa: E402
from process import FERRYD, SRCDIR, Ferryd, run_cmd  # noqa: E402
from stun import stun_parse, stun_request  # noqa: E402


@test
def version_and_help():
    """--version and --help exit 0; an unknown option exits 1 with one line"""
    r = run_cmd([FERRYD, "--version"])
    assert r.returncode == 0 and r.stdout.startswith("ferryd "), r
    r = run_cmd([FERRYD, "--help"])
    assert r.returncode == 0 and "--check-config" in r.stdout
    r = run_cmd([FERRYD, "--bogus"])
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "--bogus" in r.stderr, r
    r = run_cmd([FERRYD, "-c"])
    assert r.returncode == 1 and "needs an argument" in r.stderr


@test
def check_config_good():
    """--check-config on a good file prints the effective settings, exit 0"""
    f = Ferryd(start=False, conf="realm = example.org\nuser = alice:wonderland")
    r = run_cmd([FERRYD, "--check-config", "-c", f.conf_path])
    assert r.returncode == 0, r.stderr
    assert f"listen = 127.0.0.1:{f.port}" in r.stdout
    assert "realm = example.org" in r.stdout
    assert "wonderland" not in r.stdout, "a password was printed"
    assert "relay-ports = 49152-65535" in r.stdout   # a default


@test
def check_config_bad_reports_every_error():
    """--check-config on a bad file prints every FILE:LINE error, exit 1"""
    f = Ferryd(start=False, listen=False, http=False)
    f.write_conf("listen = 127.0.0.1:1\nbogus-key = 1\nrelay-ports = 9-8\n"
                 "threads = lots\ncert = /nonexistent/cert.pem\n")
    r = run_cmd([FERRYD, "--check-config", "-c", f.conf_path])
    assert r.returncode == 1
    for line, key in ((2, "bogus-key"), (3, "relay-ports"), (4, "threads"), (5, "cert")):
        assert f"ferryd.conf:{line}: error: {key}" in r.stderr, r.stderr
    assert r.stdout == ""


@test
def missing_file():
    """a missing config file is an error naming it"""
    r = run_cmd([FERRYD, "-f", "-c", "/nonexistent/ferryd.conf"])
    assert r.returncode == 1 and "/nonexistent/ferryd.conf" in r.stderr


@test
def sample_config_checks():
    """etc/ferryd.conf, the installed sample, passes --check-config"""
    r = run_cmd([FERRYD, "--check-config", "-c", os.path.join(SRCDIR, "etc", "ferryd.conf")])
    assert r.returncode == 0, r.stderr


@test
def sigterm_and_sigint_exit_0():
    """SIGTERM and SIGINT stop ferryd with exit status 0"""
    for sig in (signal.SIGTERM, signal.SIGINT):
        f = Ferryd()
        assert f.binding() is not None
        f.signal(sig)
        assert f.proc.wait(10) == 0
        assert "stopping" in f.read_log()


@test
def port_in_use_fails():
    """a listen address already in use stops ferryd with a clear message"""
    a = Ferryd()
    b = Ferryd(start=False, conf=f"listen = 127.0.0.1:{a.port}")
    b.start(wait=False)
    assert b.proc.wait(10) == 1
    assert f"127.0.0.1:{a.port}" in b.read_log() and "bind" in b.read_log()
    assert a.stop() == 0


@test
def reload_applies_and_rejects():
    """SIGHUP applies a valid file and rejects a broken one whole"""
    f = Ferryd()
    base = open(f.conf_path).read()
    f.write_conf(base + "allow-anonymous-stun = no\n")
    f.signal(signal.SIGHUP)
    wait_for(lambda: "reload done" in f.read_log(), 5, "reload")
    mtype, _, _ = stun_parse(udp_exchange(f.addr, stun_request()))
    assert mtype == 0x0111, "the reloaded setting did not apply"

    f.write_conf(base + "allow-anonymous-stun = yes\nnot-a-key = 3\n")
    f.signal(signal.SIGHUP)
    wait_for(lambda: "reload rejected" in f.read_log(), 5, "rejection")
    assert "ferryd.conf:" in f.read_log() and "not-a-key" in f.read_log()
    mtype, _, _ = stun_parse(udp_exchange(f.addr, stun_request()))
    assert mtype == 0x0111, "a rejected file changed the running settings"
    assert f.stop() == 0


@test
def reload_listener_change_needs_restart():
    """a listener change on reload is logged as needing a restart, every
    changed key named, and until then ferryd hands out the addresses it
    has bound while the rest of the file applies"""
    f = Ferryd(conf="auth-secret = s1\n")
    moved = free_port()
    text = open(f.conf_path).read().replace(f"listen = 127.0.0.1:{f.port}",
                                            f"listen = 127.0.0.1:{moved}")
    f.write_conf(text + "relay-ports = 40000-40100\ncredential-ttl = 77\n")
    f.signal(signal.SIGHUP)
    wait_for(lambda: "reload done" in f.read_log(), 5, "the reload")
    log = f.read_log()
    assert "listen, relay-ports changed; it takes effect only after a restart" in log, log[-1500:]
    assert f.binding() is not None, "old listener stopped answering"
    st, _, body = http_json(f.http_port, "GET", "/api/ice-servers")
    assert st == 200 and body["ttl"] == 77, body          # the rest applied
    urls = [u for e in body["iceServers"] for u in e["urls"]]
    assert urls and all(f":{f.port}" in u and f":{moved}" not in u for u in urls), urls
    assert f.stop() == 0


@test
def detaches_with_pid_file():
    """without -f ferryd detaches, writes pid-file, and removes it on stop"""
    f = Ferryd(start=False, conf="log-file = LOG\npid-file = PID")
    logp, pidp = os.path.join(f.dir, "ferryd.log"), os.path.join(f.dir, "ferryd.pid")
    f.write_conf(open(f.conf_path).read().replace("LOG", logp).replace("PID", pidp))
    r = run_cmd([FERRYD, "-c", f.conf_path], timeout=10)
    assert r.returncode == 0, r.stderr
    pid = int(open(pidp).read())
    try:
        os.kill(pid, 0)
        assert udp_exchange(f.addr, stun_request()) is not None
        log = open(logp).read()
        assert " info ferryd: " in log and "started" in log, log
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(pidp), 10, "pid file removal")


@test
def detach_reports_startup_failure():
    """a detaching ferryd whose start fails makes the parent exit 1"""
    a = Ferryd()
    b = Ferryd(start=False, conf=f"listen = 127.0.0.1:{a.port}\nlog-file = {a.dir}/b.log")
    r = run_cmd([FERRYD, "-c", b.conf_path], timeout=10)
    assert r.returncode == 1
    assert a.stop() == 0


@test
def log_lines_lead_with_subject():
    """log lines lead with time, level and subject; debug level honoured"""
    f = Ferryd(conf="log-level = info")
    f.binding()
    f.stop()
    lines = [line for line in f.read_log().splitlines() if line]
    assert lines
    for line in lines:
        parts = line.split(" ")
        assert parts[0].endswith("Z") and parts[1] in ("error", "warn", "info"), line
    assert not any(" debug " in line for line in lines)


run()
