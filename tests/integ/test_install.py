"""make install into a DESTDIR, and what it installed: the daemon run from
there, the sample config kept on reinstall, the systemd unit (verified by
systemd-analyze where systemd is installed), the LSB script, man pages."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from harness import run, skip, test  # noqa: E402
from net import udp_exchange  # noqa: E402
from process import BUILDDIR, Ferryd, have, run_cmd  # noqa: E402
from stun import stun_parse, stun_request  # noqa: E402

DEST = tempfile.mkdtemp(prefix="ferry-destdir-")
PREFIX = None


def make(*targets):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "-C", BUILDDIR, *targets, "DESTDIR=" + DEST],
                          capture_output=True, text=True, timeout=300, env=env)


def find(name, under=""):
    """The installed file `name` whose folder ends with `under`."""
    for root, _, files in os.walk(DEST):
        if name in files and root.endswith(under):
            return os.path.join(root, name)
    return None


@test(timeout=300)
def installs_where_a_packager_expects():
    """make install puts sbin/ferryd, bin/ferryctl, etc/ferry/ferryd.conf, share/ferry/www, man pages, the unit"""
    global PREFIX
    r = make("install")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ferryd = find("ferryd", "/sbin")
    assert ferryd, "no sbin/ferryd"
    PREFIX = os.path.dirname(os.path.dirname(ferryd))
    for rel in ("bin/ferryctl", "share/ferry/www/index.html", "share/man/man8/ferryd.8",
                "share/man/man8/ferryctl.8", "share/man/man5/ferryd.conf.5",
                "lib/systemd/system/ferryd.service"):
        assert os.path.isfile(os.path.join(PREFIX, rel)), rel
    assert find("ferryd.conf").endswith("/ferry/ferryd.conf")
    assert os.access(os.path.join(PREFIX, "sbin/ferryd"), os.X_OK)


@test(timeout=300)
def reinstall_keeps_the_operators_config():
    """a second make install does not overwrite an edited ferryd.conf"""
    conf = find("ferryd.conf")
    with open(conf, "a") as f:
        f.write("# edited by the operator\n")
    r = make("install")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "# edited by the operator" in open(conf).read()


@test
def installed_daemon_runs():
    """the installed ferryd answers STUN and serves the installed call page"""
    import urllib.request
    f = Ferryd(start=False, conf="web-root = " + os.path.join(PREFIX, "share/ferry/www"))
    text = open(f.conf_path).read().replace("web-root =\n", "", 1)
    f.write_conf(text)
    import process
    saved = process.FERRYD
    process.FERRYD = os.path.join(PREFIX, "sbin/ferryd")
    try:
        f.start()
    finally:
        process.FERRYD = saved
    mtype, _, _ = stun_parse(udp_exchange(f.addr, stun_request()))
    assert mtype == 0x0101
    page = urllib.request.urlopen(f"http://127.0.0.1:{f.http_port}/", timeout=5).read()
    assert b"<html" in page.lower()
    assert f.stop() == 0


@test
def sample_config_is_valid():
    """the installed sample config passes the installed ferryd --check-config"""
    r = run_cmd([os.path.join(PREFIX, "sbin/ferryd"), "--check-config", "-c", find("ferryd.conf")])
    assert r.returncode == 0, r.stderr


@test(timeout=120)
def systemd_unit_verifies():
    """systemd-analyze verify accepts the generated unit"""
    if not have("systemd-analyze"):
        skip("systemd is not installed")
    unit = open(os.path.join(PREFIX, "lib/systemd/system/ferryd.service")).read()
    assert "Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in unit
    assert "StateDirectory=ferry" in unit and "ProtectSystem=strict" in unit
    # verify wants the binary it names to exist: point it into DESTDIR
    installed_prefix = unit.split("ExecStart=")[1].split("/sbin/ferryd")[0]
    tmp = os.path.join(tempfile.mkdtemp(), "ferryd.service")
    with open(tmp, "w") as f:
        f.write(unit.replace(installed_prefix + "/sbin/ferryd", PREFIX + "/sbin/ferryd"))
    r = run_cmd(["systemd-analyze", "verify", "--man=no", tmp], timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


@test
def lsb_script():
    """the LSB init script is valid shell and reports status 3 when stopped"""
    script = find("ferryd", "/init.d")
    assert script, "no init.d/ferryd installed"
    assert run_cmd(["sh", "-n", script]).returncode == 0
    # it names the daemon by its final path: point that into DESTDIR
    text = open(script).read()
    daemon = text.split("DAEMON=")[1].split("\n")[0]
    local = os.path.join(tempfile.mkdtemp(), "ferryd.init")
    with open(local, "w") as f:
        f.write(text.replace("DAEMON=" + daemon, "DAEMON=" + PREFIX + "/sbin/ferryd"))
    r = run_cmd(["sh", local, "status"])
    assert r.returncode == 3 and "not running" in r.stdout, r


@test
def man_pages_have_no_warnings():
    """man -l renders ferryd(8), ferryd.conf(5) and ferryctl(8) without warnings"""
    if not have("man"):
        skip("man is not installed")
    for page in ("share/man/man8/ferryd.8", "share/man/man5/ferryd.conf.5",
                 "share/man/man8/ferryctl.8"):
        r = subprocess.run(["man", "--warnings", "-l", os.path.join(PREFIX, page)],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, MANWIDTH="80"))
        assert r.returncode == 0 and r.stderr.strip() == "", page + ": " + r.stderr
        assert len(r.stdout) > 500, page


@test(timeout=300)
def uninstall_leaves_nothing():
    """make uninstall removes what install put there (an edited config stays)"""
    conf = find("ferryd.conf")
    r = make("uninstall")
    assert r.returncode == 0, r.stderr[-2000:]
    left = []
    for root, _, files in os.walk(DEST):
        left += [os.path.join(root, f) for f in files]
    assert left == [conf], left
    shutil.rmtree(DEST, ignore_errors=True)


run()
