#!/usr/bin/python3
"""ferryctl against a temporary database: every command, its exit status,
its one-line errors, --json output, column alignment, a password on stdin
and at a terminal prompt, -c and -d, and concurrent writers.

Prints TAP.  The binary comes from $FERRYCTL (set by `make check`).
"""

import hashlib
import json
import os
import pty
import select
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import termios
import time

TIMEOUT = 10  # seconds for any one ferryctl run

FERRYCTL = os.environ.get("FERRYCTL")
n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, name))
    if not cond:
        failed += 1
        if diag is not None:
            for line in str(diag).splitlines():
                print("#   " + line)
    sys.stdout.flush()
    return cond


def run(*args, stdin=None, db=None):
    """Run ferryctl -d DB ARGS; returns (status, stdout, stderr)."""
    argv = [FERRYCTL]
    if db is not False:
        argv += ["-d", db or DB]
    argv += list(args)
    try:
        p = subprocess.run(argv, input=stdin if stdin is not None else "",
                           capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, "", "(timed out after %d s)" % TIMEOUT
    return p.returncode, p.stdout, p.stderr


def succeeds(name, *args, **kw):
    rc, out, err = run(*args, **kw)
    ok(rc == 0 and err == "", name, "status %d, stderr %r" % (rc, err))
    return out


def fails(name, *args, expect=None, **kw):
    """Exit 1, nothing on stdout, exactly one 'ferryctl: ...' line on
    stderr, containing expect when given."""
    rc, out, err = run(*args, **kw)
    one_line = err.endswith("\n") and err.count("\n") == 1 and \
        err.startswith("ferryctl: ")
    good = rc == 1 and one_line and out == "" and \
        (expect is None or expect in err)
    ok(good, name, "status %d, stdout %r, stderr %r" % (rc, out, err))
    return err


def b64url_decode(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_claims(token, secret):
    """The claims of an HS256 JWT whose signature checks, else None."""
    import base64
    import hmac
    try:
        head, body, sig = token.split(".")
        mac = hmac.new(secret, (head + "." + body).encode(), hashlib.sha256).digest()
        if base64.urlsafe_b64encode(mac).rstrip(b"=").decode() != sig:
            return None
        if json.loads(b64url_decode(head)).get("alg") != "HS256":
            return None
        return json.loads(b64url_decode(body))
    except ValueError:
        return None


def rest_password(secret, username):
    import base64
    import hmac
    return base64.b64encode(hmac.new(secret, username.encode(), hashlib.sha1).digest()).decode()


def columns_aligned(text, header):
    """The first line is the header; every row's cells start where the
    header's titles start, and no line has trailing blanks."""
    lines = text.rstrip("\n").split("\n")
    if not lines or lines[0].split() != header:
        return False
    starts = [lines[0].index(h) for h in header]
    for line in lines:
        if line != line.rstrip():
            return False
        for i, s in enumerate(starts):
            if s > 0 and not (line[s - 1] == " " and line[s] != " "):
                return False
            if i + 1 < len(starts) and line[s:starts[i + 1]].rstrip() == "":
                return False
    return True


def prompt_at_terminal(args, answers):
    """Run ferryctl on a pseudo-terminal, answering each prompt; returns
    (status, everything it wrote to the terminal)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(FERRYCTL, [FERRYCTL] + args)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + TIMEOUT
    pending = list(answers)
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if pending and out.count(b"assword:") > len(answers) - len(pending):
            os.write(fd, pending.pop(0).encode() + b"\n")
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def interrupted_prompt_restores_echo(args):
    """Ctrl-C at the password prompt: ferryctl dies of SIGINT and the
    terminal has echo on again."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(FERRYCTL, [FERRYCTL] + args)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and b"assword:" not in out:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 1024)
            except OSError:
                break
    echo_off = not termios.tcgetattr(fd)[3] & termios.ECHO
    os.write(fd, b"\x03")
    for _ in range(int(TIMEOUT / 0.1)):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
        return False
    echo_back = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
    os.close(fd)
    return echo_off and echo_back and os.WIFSIGNALED(status) and \
        os.WTERMSIG(status) == 2


def main():
    global DB
    if not FERRYCTL:
        print("1..0 # SKIP FERRYCTL is not set (run through make check)")
        return 0
    if not os.access(FERRYCTL, os.X_OK):
        ok(False, "ferryctl is at %s" % FERRYCTL)
        print("1..%d" % n)
        return 1
    tmp = tempfile.mkdtemp(prefix="test_ferryctl.")
    DB = os.path.join(tmp, "ferry.db")
    try:
        tests(tmp)
    finally:
        if not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# files kept in " + tmp)
    print("1..%d" % n)
    return 1 if failed else 0


def tests(tmp):
    # ----------------------------------------------------------- usage
    rc, out, err = run("--help", db=False)
    ok(rc == 0 and "Usage: ferryctl" in out and err == "", "--help exits 0 with usage")
    rc, out, err = run("room", "add", "--help")
    ok(rc == 0 and "Usage: ferryctl" in out, "a command's --help exits 0")
    fails("no command", expect="no command given", db=False)
    fails("unknown command", "frobnicate", expect="unknown command 'frobnicate'")
    fails("unknown subcommand", "user", "rename", expect="unknown subcommand")
    fails("missing subcommand", "room")
    fails("unknown global option", "-x", "user", "list", db=False)
    fails("-c and -d together", "-c", "/nonexistent", "user", "list")
    fails("unknown command option", "user", "list", "--colour")
    fails("missing argument", "user", "del", expect="missing NAME")
    fails("extra argument", "room", "del", "a", "b", expect="unexpected argument 'b'")
    fails("option value missing", "room", "add", "r", "--max-peers")
    fails("database folder missing", "-d", os.path.join(tmp, "no", "x.db"),
          "user", "list", db=False, expect="folder does not exist")

    # ----------------------------------------------------------- users
    succeeds("user add --password", "user", "add", "alice", "--password", "s3cret")
    st = os.stat(DB)
    ok(stat.S_IMODE(st.st_mode) == 0o600, "database created with mode 0600",
       oct(st.st_mode))
    succeeds("user add --password=P", "user", "add", "bob", "--password=pw with spaces")
    succeeds("user add, password on stdin", "user", "add", "carol", stdin="from-stdin\n")
    succeeds("user add, UTF-8 name", "user", "add", "zoë", "--password", "x")
    fails("user add duplicate", "user", "add", "alice", "--password", "x",
          expect="user alice already exists")
    fails("user add, nothing on stdin", "user", "add", "dave", stdin="",
          expect="no password")
    fails("user add, empty password", "user", "add", "dave", "--password", "",
          expect="must not be empty")
    fails("user add, ':' in name", "user", "add", "a:b", "--password", "x",
          expect="invalid user name")
    fails("user add, 256-byte name", "user", "add", "u" * 256, "--password", "x")
    succeeds("user add, 255-byte name", "user", "add", "u" * 255, "--password", "x")
    succeeds("user del", "user", "del", "u" * 255)
    fails("user del missing", "user", "del", "nobody", expect="user nobody does not exist")

    # The stored keys are RFC 8489's, with the default realm; no password.
    con = sqlite3.connect(DB, timeout=5)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT name, realm, key_md5, key_sha256 FROM users")}
    con.close()
    for name, pw in (("alice", "s3cret"), ("bob", "pw with spaces"),
                     ("carol", "from-stdin")):
        material = ("%s:ferry:%s" % (name, pw)).encode()
        r = rows.get(name)
        ok(r is not None and r[0] == "ferry"
           and r[1] == hashlib.md5(material).digest()
           and r[2] == hashlib.sha256(material).digest(),
           "keys of %s are MD5/SHA-256(name:realm:password)" % name)
    with open(DB, "rb") as f:
        ok(b"s3cret" not in f.read(), "the password itself is not in the file")

    out = succeeds("user list", "user", "list")
    ok(columns_aligned(out, ["NAME", "REALM", "CREATED"]), "user list columns align",
       out)
    ok([l.split()[0] for l in out.splitlines()[1:]] == ["alice", "bob", "carol", "zoë"],
       "user list in name order", out)
    out = succeeds("user list --json", "user", "list", "--json")
    try:
        users = json.loads(out)
    except ValueError:
        users = None
    ok(isinstance(users, list) and [u["name"] for u in users] ==
       ["alice", "bob", "carol", "zoë"] and all(u["realm"] == "ferry" for u in users)
       and all(isinstance(u["created"], int) for u in users),
       "user list --json is an array of {name, realm, created}", out)

    # A terminal prompt: asked twice without echo.
    status, screen = prompt_at_terminal(["-d", DB, "user", "add", "erin"],
                                        ["tty-pass", "tty-pass"])
    ok(status == 0 and screen.count("assword:") == 2 and "tty-pass" not in screen,
       "user add prompts twice at a terminal, without echo", repr(screen))
    status, screen = prompt_at_terminal(["-d", DB, "user", "add", "fay"],
                                        ["one", "two"])
    ok(status == 1 and "do not match" in screen, "mismatched passwords refused",
       repr(screen))
    ok(interrupted_prompt_restores_echo(["-d", DB, "user", "add", "gil"]),
       "Ctrl-C at the prompt puts echo back")
    out = succeeds("prompted user stored", "user", "list", "--json")
    ok("erin" in [u["name"] for u in json.loads(out)] and
       "fay" not in [u["name"] for u in json.loads(out)],
       "only the matching prompt added a user")

    # --------------------------------------------------------- secrets
    out = succeeds("secret add (generated)", "secret", "add")
    parts = out.split()
    ok(len(parts) == 3 and parts[0] == "secret" and parts[1] == "1:" and
       len(parts[2]) == 43, "prints 'secret ID: VALUE' with a 43-character value", out)
    generated = parts[2] if len(parts) == 3 else ""
    out = succeeds("secret add VALUE", "secret", "add", "my-shared-secret")
    ok(out == "secret 2: my-shared-secret\n", "prints the given value and its id", out)
    fails("secret add duplicate", "secret", "add", "my-shared-secret",
          expect="already stored")
    fails("secret add with a space", "secret", "add", "a b", expect="invalid secret")
    out = succeeds("secret list", "secret", "list")
    ok(columns_aligned(out, ["ID", "SECRET", "CREATED"]), "secret list columns align",
       out)
    ok(generated and generated in out and "my-shared-secret" in out,
       "secret list shows the values", out)
    out = succeeds("secret list --json", "secret", "list", "--json")
    secrets = json.loads(out)
    ok([(s["id"], s["value"]) for s in secrets] == [(1, generated),
                                                  (2, "my-shared-secret")],
       "secret list --json is an array of {id, value, created}", out)
    succeeds("secret del", "secret", "del", "1")
    fails("secret del again", "secret", "del", "1", expect="secret 1 does not exist")
    fails("secret del, not a number", "secret", "del", "one", expect="invalid id")
    fails("secret del 0", "secret", "del", "0", expect="invalid id")
    out = succeeds("secret add after a delete", "secret", "add", "third")
    ok(out == "secret 3: third\n", "ids are not reused", out)

    # --------------------------------------------------------- revoked
    succeeds("revoke", "revoke", "mallory")
    fails("revoke twice", "revoke", "mallory", expect="already revoked")
    fails("revoke a full ephemeral username", "revoke", "1732230000:mallory",
          expect="invalid user name")
    con = sqlite3.connect(DB, timeout=5)
    ok([r[0] for r in con.execute("SELECT user FROM revoked")] == ["mallory"],
       "revocation stored")
    con.close()
    succeeds("unrevoke", "unrevoke", "mallory")
    fails("unrevoke again", "unrevoke", "mallory", expect="not revoked")

    # ----------------------------------------------------------- rooms
    succeeds("room add (default max-peers)", "room", "add", "lobby")
    succeeds("room add --max-peers", "room", "add", "team.A_1-b", "--max-peers", "4")
    succeeds("room add --max-peers 1000", "room", "add", "big", "--max-peers=1000")
    succeeds("room add, 64 characters", "room", "add", "r" * 64)
    fails("room add, 65 characters", "room", "add", "r" * 65, expect="invalid room name")
    fails("room add, bad character", "room", "add", "a/b", expect="invalid room name")
    fails("room add --max-peers 0", "room", "add", "z", "--max-peers", "0",
          expect="--max-peers")
    fails("room add --max-peers 1001", "room", "add", "z", "--max-peers", "1001")
    fails("room add --max-peers x", "room", "add", "z", "--max-peers", "x")
    fails("room add duplicate", "room", "add", "lobby", expect="room lobby already exists")
    out = succeeds("room list", "room", "list")
    ok(columns_aligned(out, ["NAME", "MAX-PEERS", "CREATED"]), "room list columns align",
       out)
    rooms = json.loads(succeeds("room list --json", "room", "list", "--json"))
    ok({r["name"]: r["maxPeers"] for r in rooms} ==
       {"lobby": 16, "team.A_1-b": 4, "big": 1000, "r" * 64: 16},
       "room list --json has names and max-peers", rooms)
    succeeds("room del", "room", "del", "lobby")
    fails("room del again", "room", "del", "lobby", expect="room lobby does not exist")
    out = succeeds("empty list prints its header", "user", "list", db=os.path.join(tmp, "e.db"))
    ok(out == "NAME  REALM  CREATED\n", "header only", out)
    out = succeeds("empty --json list", "room", "list", "--json",
                   db=os.path.join(tmp, "e.db"))
    ok(json.loads(out) == [], "empty array")

    # ------------------------------------------------ token, credentials
    tconf = os.path.join(tmp, "tokens.conf")
    tdb = os.path.join(tmp, "tokens.db")
    with open(tconf, "w") as f:
        f.write("database = %s\nsignaling-secret = s1gn\nlisten = 127.0.0.1:3478\n"
                "web-root =\ncredential-ttl = 600\n" % tdb)
    before = int(time.time())
    out = succeeds("token ROOM --name --ttl", "-c", tconf, "token", "lobby",
                   "--name", "Ann", "--ttl", "60", db=False)
    claims = jwt_claims(out.strip(), b"s1gn")
    ok(claims is not None and claims.get("room") == "lobby" and
       claims.get("name") == "Ann" and before + 60 <= claims.get("exp", 0) <= before + 62,
       "token is an HS256 JWT with room, name and exp", claims)
    out = succeeds("token for any room", "-c", tconf, "token", "*", db=False)
    claims = jwt_claims(out.strip(), b"s1gn")
    ok(claims is not None and claims["room"] == "*" and
       before + 3600 <= claims["exp"] <= before + 3602, "default ttl is one hour", claims)
    fails("token with a bad room", "-c", tconf, "token", "a b", db=False,
          expect="room names")
    fails("token with a bad ttl", "-c", tconf, "token", "r", "--ttl", "x", db=False,
          expect="--ttl")
    fails("token without signaling-secret", "token", "r", expect="no signaling-secret")
    fails("credentials without any secret", "credentials", "--user", "u",
          db=os.path.join(tmp, "nosecret.db"), expect="no auth-secret")
    succeeds("secret added for credentials", "secret", "add", "c0ffee",
             db=os.path.join(tmp, "withsecret.db"))
    for bad in ("a b", "a:b"):             # the HTTP API's rule for user=
        fails(f"credentials --user {bad!r}", "credentials", "--user", bad,
              db=os.path.join(tmp, "withsecret.db"), expect="--user")
    rc, out, err = run("credentials", "--user", "u1", "--ttl", "120",
                       db=os.path.join(tmp, "withsecret.db"))
    ok(rc == 0, "credentials from the database's secret", err)
    if rc == 0:
        cred = json.loads(out)
        turn = [s for s in cred["iceServers"] if "username" in s]
        ok(len(turn) == 1 and turn[0]["username"].endswith(":u1") and
           turn[0]["credential"] == rest_password(b"c0ffee", turn[0]["username"]) and
           cred["ttl"] == 120 and str(cred["expires"]) == turn[0]["username"].split(":")[0],
           "credentials JSON carries the REST credential signed by the secret", out)


    # -------------------------------------------------------------- -c
    conf = os.path.join(tmp, "ferryd.conf")
    cdb = os.path.join(tmp, "conf.db")
    with open(conf, "w") as f:
        f.write("# test\ndatabase = %s\nrealm = example.org\nroom-max-peers = 5\n" % cdb)
    succeeds("-c: user add", "-c", conf, "user", "add", "gus", "--password", "pw",
             db=False)
    succeeds("-c: room add", "-c", conf, "room", "add", "r1", db=False)
    con = sqlite3.connect(cdb, timeout=5)
    row = con.execute("SELECT realm, key_md5 FROM users WHERE name='gus'").fetchone()
    room = con.execute("SELECT max_peers FROM rooms WHERE name='r1'").fetchone()
    con.close()
    ok(row is not None and row[0] == "example.org" and
       row[1] == hashlib.md5(b"gus:example.org:pw").digest(),
       "-c: the config's database and realm are used")
    ok(room == (5,), "-c: the config's room-max-peers is the default", room)
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("no-such-key = 1\nrealm = x\nalso-bad = 2\n")
    fails("-c: a bad config is one line", "-c", bad, "user", "list", db=False,
          expect="bad.conf:1:")
    fails("-c: a missing config", "-c", os.path.join(tmp, "none.conf"), "user", "list",
          db=False)

    # ---------------------------------------------------- bad database
    junk = os.path.join(tmp, "junk.db")
    with open(junk, "w") as f:
        f.write("not a database\n" * 100)
    fails("a file that is not a database", "user", "list", db=junk,
          expect="not a ferry database")

    # ------------------------------------------------ concurrent writers
    procs = [subprocess.Popen([FERRYCTL, "-d", DB, "room", "add", "par%d" % i],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(8)]
    codes = []
    for p in procs:
        try:
            p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        codes.append(p.returncode)
    ok(codes == [0] * 8, "eight concurrent writers all succeed", codes)
    rooms = json.loads(succeeds("their rooms are listed", "room", "list", "--json"))
    ok(all("par%d" % i in [r["name"] for r in rooms] for i in range(8)),
       "all eight rooms stored")


if __name__ == "__main__":
    sys.exit(main())
