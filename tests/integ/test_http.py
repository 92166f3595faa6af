"""The HTTP API (doc/http-api.md) against the real ferryd with Python's
http.client: ICE servers and TURN credentials (checked against an HMAC
computed here), authorization by api-key and by signaling JWT, /api/turn,
/healthz, /metrics, static files and path escapes, CORS, and limits."""
import json
import os
import socket
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from creds import jwt_hs256, turn_rest_password  # noqa: E402
from harness import run, test, wait_for  # noqa: E402
from httpapi import http_json, http_request, metric  # noqa: E402
from net import server_closed  # noqa: E402
from process import Ferryd  # noqa: E402
from stun import stun_parse, stun_request, tcp_read_message  # noqa: E402
from wsclient import WS  # noqa: E402

FIRST, SECOND = "first-secret", "second-secret"
TTL_CAP = 3600
ORIGIN = "http://ok.example"

srv = None
tmp = None


def make_web_root():
    """tmp/www with a few files, and tmp/secret.txt outside it."""
    d = tempfile.mkdtemp(prefix="ferry-www-")
    www = os.path.join(d, "www")
    os.makedirs(os.path.join(www, "sub", "deeper"))
    files = {"index.html": "<!doctype html><title>ferry</title>",
             "a.js": "console.log('a');", "s.css": "body{color:red}",
             "x.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
             "sub/deeper/page.html": "<p>deep</p>",
             "sub/index.html": "<p>sub index</p>"}
    for name, text in files.items():
        with open(os.path.join(www, name), "w") as f:
            f.write(text)
    with open(os.path.join(d, "secret.txt"), "w") as f:
        f.write("TOP SECRET")
    os.symlink(os.path.join(d, "secret.txt"), os.path.join(www, "link.txt"))
    os.symlink(d, os.path.join(www, "updir"))
    return d, www, files


def server():
    global srv, tmp
    if srv is None or not srv.alive():
        tmp = make_web_root()
        srv = Ferryd(conf=f"auth-secret = {FIRST}\nauth-secret = {SECOND}\n"
                     f"credential-ttl = {TTL_CAP}\nweb-root = {tmp[1]}\n"
                     f"allowed-origin = {ORIGIN}\n"
                     # the idle-connection test opens 200 from one address
                     "max-tcp-connections-per-address = 1000\n")
    return srv


def check_error(status, body, want_status):
    assert status == want_status, (status, body)
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["message"], str) and body["message"], body


def check_ice(s, body, host, user=None, ttl=TTL_CAP, secret=FIRST):
    """The shape of an /api/ice-servers answer, the credential recomputed
    here; returns the TURN username."""
    assert set(body) == {"iceServers", "ttl", "expires"}, body
    assert body["ttl"] == ttl, body
    ice = body["iceServers"]
    assert ice[0] == {"urls": [f"stun:{host}:{s.port}"]}, ice
    assert len(ice) == 2, ice
    turn = ice[1]
    assert set(turn) == {"urls", "username", "credential"}, turn
    assert turn["urls"] == [f"turn:{host}:{s.port}?transport=udp",
                            f"turn:{host}:{s.port}?transport=tcp"], turn
    expiry, _, who = turn["username"].partition(":")
    assert int(expiry) == body["expires"], (turn, body)
    assert abs(body["expires"] - (time.time() + ttl)) <= 3, body
    if user is not None:
        assert who == user, turn
    else:
        assert who, turn
    assert turn["credential"] == turn_rest_password(secret, turn["username"])
    return turn["username"]


@test
def ice_servers_get_and_post():
    """GET and POST /api/ice-servers: stun and turn (udp, tcp) URLs,
    `<expiry>:<user>` username, base64(HMAC-SHA1(first auth-secret)),
    ttl capped and returned, user honoured, random user otherwise"""
    s = server()
    st, h, body = http_json(s.http_port, "GET", "/api/ice-servers")
    assert st == 200
    u1 = check_ice(s, body, "127.0.0.1")
    st, h, body = http_json(s.http_port, "GET", "/api/ice-servers")
    assert check_ice(s, body, "127.0.0.1").split(":")[1] != u1.split(":")[1]
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers?user=alice&ttl=60")
    assert st == 200
    check_ice(s, body, "127.0.0.1", user="alice", ttl=60)
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers?ttl=999999")
    check_ice(s, body, "127.0.0.1", ttl=TTL_CAP)
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers?user=bob&ttl=120")
    assert st == 200
    check_ice(s, body, "127.0.0.1", user="bob", ttl=120)
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers",
                            body=json.dumps({"user": "carol", "ttl": 90}),
                            headers={"Content-Type": "application/json"})
    assert st == 200
    check_ice(s, body, "127.0.0.1", user="carol", ttl=90)


@test
def ice_servers_bad_parameters():
    """bad ttl and bad user → 400 JSON error"""
    s = server()
    for q in ("ttl=abc", "ttl=0", "ttl=-5", "ttl=1.5", "ttl=",
              "user=" + urllib.parse.quote("a b"), "user=" + "u" * 129, "user="):
        st, _, body = http_json(s.http_port, "GET", "/api/ice-servers?" + q)
        check_error(st, body, 400)
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers", body="[1]")
    check_error(st, body, 400)


@test
def host_in_urls():
    """URLs use the Host header's name (port and brackets stripped), or
    public-host when it is set"""
    s = server()
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers",
                            headers={"Host": "calls.example.net:8443"})
    check_ice(s, body, "calls.example.net")
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers",
                            headers={"Host": "[::1]:80"})
    check_ice(s, body, "[::1]")
    p = Ferryd(conf=f"auth-secret = {FIRST}\npublic-host = turn.example.org\n")
    st, _, body = http_json(p.http_port, "GET", "/api/ice-servers",
                            headers={"Host": "other.example:1"})
    check_ice(p, body, "turn.example.org", ttl=86400)
    # a database with no secret: STUN only, no TURN entry
    # (covered in test_credentials); the empty web-root serves nothing
    for path in ("/", "/index.html"):
        st, _, b = http_json(p.http_port, "GET", path)
        check_error(st, b, 404)
    assert p.stop() == 0


@test
def api_key_authorization():
    """with api-key: 401 without or with a wrong bearer, 200 with it; the
    draft's key= parameter works for /api/turn"""
    s = Ferryd(conf=f"auth-secret = {FIRST}\napi-key = k-123\napi-key = k-456\n")
    for hdrs in ({}, {"Authorization": "Bearer nope"},
                 {"Authorization": "Basic k-123"}, {"Authorization": "Bearer k-12"}):
        st, h, body = http_json(s.http_port, "GET", "/api/ice-servers", headers=hdrs)
        check_error(st, body, 401)
        assert h.get("www-authenticate") == "Bearer", h       # RFC 9110 §11.6.1
    for key in ("k-123", "k-456"):
        st, _, body = http_json(s.http_port, "GET", "/api/ice-servers",
                                headers={"Authorization": "Bearer " + key})
        assert st == 200
        check_ice(s, body, "127.0.0.1", ttl=86400)
    st, _, body = http_json(s.http_port, "GET", "/api/turn?service=turn&username=u")
    check_error(st, body, 401)
    st, _, body = http_json(s.http_port, "GET", "/api/turn?service=turn&username=u&key=bad")
    check_error(st, body, 401)
    st, _, body = http_json(s.http_port, "GET",
                            "/api/turn?service=turn&username=u&key=k-456")
    assert st == 200 and body["username"].endswith(":u"), body
    assert s.stop() == 0


@test
def jwt_authorization():
    """with signaling-secret: a signed JWT as bearer works; expired or
    wrongly signed → 401; with neither api-key nor secret it is open"""
    s = Ferryd(conf=f"auth-secret = {FIRST}\nsignaling-secret = jwt-key\n")
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers")
    check_error(st, body, 401)
    good = jwt_hs256({"room": "*", "exp": int(time.time()) + 60}, "jwt-key")
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers",
                            headers={"Authorization": "Bearer " + good})
    assert st == 200
    check_ice(s, body, "127.0.0.1", ttl=86400)
    for bad in (jwt_hs256({"room": "*", "exp": int(time.time()) - 10}, "jwt-key"),
                jwt_hs256({"room": "*", "exp": int(time.time()) + 60}, "other"),
                jwt_hs256({"room": "*", "exp": int(time.time()) + 60}, "jwt-key",
                          header={"alg": "none"}),
                # signed, but not a signaling token: no room, or not a string
                jwt_hs256({"exp": int(time.time()) + 60, "sub": "x"}, "jwt-key"),
                jwt_hs256({"room": 5, "exp": int(time.time()) + 60}, "jwt-key")):
        st, _, body = http_json(s.http_port, "GET", "/api/ice-servers",
                                headers={"Authorization": "Bearer " + bad})
        check_error(st, body, 401)
    assert s.stop() == 0
    st, _, body = http_json(server().http_port, "GET", "/api/ice-servers")
    assert st == 200                    # the shared server has neither


@test
def api_turn_draft():
    """/api/turn: service=turn required; username/password/ttl/uris"""
    s = server()
    for q in ("", "?service=stun&username=u"):
        st, _, body = http_json(s.http_port, "GET", "/api/turn" + q)
        check_error(st, body, 400)
    st, _, body = http_json(s.http_port, "GET", "/api/turn?service=turn&username=dave&key=x")
    assert st == 200
    assert set(body) == {"username", "password", "ttl", "uris"}, body
    assert body["ttl"] == TTL_CAP
    assert body["username"].endswith(":dave")
    assert abs(int(body["username"].split(":")[0]) - (time.time() + TTL_CAP)) <= 3
    assert body["password"] == turn_rest_password(FIRST, body["username"])
    assert body["uris"] == [f"turn:127.0.0.1:{s.port}?transport=udp",
                            f"turn:127.0.0.1:{s.port}?transport=tcp"], body


@test
def healthz_and_errors():
    """/healthz 200 {"status":"ok"}; unknown /api/x → 404 JSON; wrong
    method → 405 JSON; all with no-store"""
    s = server()
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert (st, body) == (200, {"status": "ok"})
    for path in ("/api/x", "/api", "/api/ice-servers/extra"):
        st, _, body = http_json(s.http_port, "GET", path)
        check_error(st, body, 404)
    for method, path in (("DELETE", "/api/ice-servers"), ("PUT", "/api/turn"),
                         ("POST", "/healthz"), ("POST", "/metrics"),
                         ("POST", "/index.html"), ("POST", "/ws")):
        st, h, body = http_json(s.http_port, method, path)
        check_error(st, body, 405)
        assert h.get("allow", "").startswith("GET"), (path, h)   # RFC 9110 §15.5.6


@test
def credential_parameters_checked():
    """user and ttl of the wrong type or form → 400 JSON, by query and by
    POST body alike"""
    s = server()
    for q in ("?user=a:b", "?user=a%20b", "?ttl=0", "?ttl=x", "?ttl=99999999999"):
        st, _, body = http_json(s.http_port, "GET", "/api/ice-servers" + q)
        check_error(st, body, 400)
    for doc in ({"user": 5}, {"user": None}, {"user": "a:b"}, {"ttl": "60"},
                {"ttl": 0}, {"ttl": -3}, {"ttl": 1.5}, {"ttl": 2 ** 40}):
        st, _, body = http_json(s.http_port, "POST", "/api/ice-servers",
                                body=json.dumps(doc).encode(),
                                headers={"Content-Type": "application/json"})
        check_error(st, body, 400)
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers",
                            body=json.dumps({"user": "ok-user", "ttl": 60}).encode(),
                            headers={"Content-Type": "application/json"})
    assert st == 200 and body["ttl"] == 60, body


FAMILIES = {
    "ferry_allocations": "gauge", "ferry_allocations_total": "counter",
    "ferry_relayed_bytes_total": "counter", "ferry_relayed_packets_total": "counter",
    "ferry_auth_failures_total": "counter", "ferry_stun_requests_total": "counter",
    "ferry_signaling_connections": "gauge", "ferry_rooms": "gauge",
    "ferry_signaling_messages_total": "counter",
    "ferry_http_responses_total": "counter",
}


@test
def metrics_text():
    """/metrics: every family the spec lists, in Prometheus text format,
    with values that move (binding, signaling connection, room, relayed
    message, HTTP 4xx)"""
    s = Ferryd()
    st, h, data = http_request(s.http_port, "GET", "/metrics")
    assert st == 200 and h["content-type"].startswith("text/plain; version=0.0.4"), h
    text = data.decode()
    for name, kind in FAMILIES.items():
        assert f"# TYPE {name} {kind}\n" in text, name
    for sample in ('ferry_relayed_bytes_total{direction="to_peer"}',
                   'ferry_relayed_bytes_total{direction="to_client"}',
                   'ferry_relayed_packets_total{direction="to_peer"}',
                   'ferry_relayed_packets_total{direction="to_client"}',
                   'ferry_stun_requests_total{method="binding"}',
                   'ferry_stun_requests_total{method="allocate"}',
                   'ferry_auth_failures_total{reason="no_credentials"}',
                   'ferry_signaling_messages_total{outcome="relayed"}',
                   'ferry_signaling_messages_total{outcome="queued"}',
                   'ferry_signaling_messages_total{outcome="dropped"}'):
        assert "\n" + sample + " " in text, sample
    for line in text.splitlines():
        if not line.startswith("#"):
            float(line.rpartition(" ")[2])      # every sample has a number
    port = s.http_port
    binding = lambda: metric(port, "ferry_stun_requests_total", {"method": "binding"})  # noqa: E731
    b0 = binding()
    assert s.binding() is not None and s.binding() is not None
    wait_for(lambda: binding() == b0 + 2, 3, "binding counter +2")
    assert metric(port, "ferry_signaling_connections") == 0
    assert metric(port, "ferry_rooms") == 0
    a = WS(port)
    a.send({"type": "join", "room": "m"})
    wa = a.expect("welcome")
    assert metric(port, "ferry_signaling_connections") == 1
    assert metric(port, "ferry_rooms") == 1
    b = WS(port)
    b.send({"type": "join", "room": "m"})
    b.expect("welcome")
    a.expect("peer-joined")
    r0 = metric(port, "ferry_signaling_messages_total", {"outcome": "relayed"})
    b.send({"type": "offer", "to": wa["id"], "sdp": "x"})
    a.expect("offer")
    assert metric(port, "ferry_signaling_messages_total", {"outcome": "relayed"}) == r0 + 1
    assert metric(port, "ferry_signaling_connections") == 2
    f0 = metric(port, "ferry_http_responses_total", {"code": "404"}) or 0
    http_request(port, "GET", "/api/nothing")
    assert metric(port, "ferry_http_responses_total", {"code": "404"}) == f0 + 1
    a.close()
    b.close()
    wait_for(lambda: metric(port, "ferry_signaling_connections") == 0, 3)
    assert s.stop() == 0


@test
def metrics_forbidden():
    """/metrics from an address outside metrics-allow → 403 JSON"""
    s = Ferryd(conf="metrics-allow = 10.0.0.0/8\n")
    st, _, body = http_json(s.http_port, "GET", "/metrics")
    check_error(st, body, 403)
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert st == 200
    assert s.stop() == 0


@test
def bad_host_header_refused():
    """a Host header that is no host name → 400 JSON, not URLs built from it"""
    s = Ferryd()
    for host in ("evil/x?y#", "a b", "[1.2.3.4]", "x:80x"):
        for path in ("/api/ice-servers", "/ws", "/healthz"):
            c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
            c.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            c.close()
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400"), (host, path, head)
            check_error(400, json.loads(body), 400)
            assert b"evil" not in body, body
    st, _, body = http_json(s.http_port, "GET", "/api/ice-servers")
    assert st == 200, body
    assert s.stop() == 0


@test
def healthz_database_failing():
    """/healthz → 503 in the error format, naming the database, when the
    file under ferryd stops being a database; no path in the answer"""
    s = Ferryd()
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert st == 200, body
    db = os.path.join(s.dir, "ferry.db")
    with open(db, "r+b") as f:            # the header sqlite checks first
        f.write(b"this is not sqlite" * 6)
    for wal in (db + "-wal", db + "-shm"):
        if os.path.exists(wal):
            with open(wal, "r+b") as f:
                f.write(b"\0" * 64)
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert st == 503, (st, body)
    assert set(body) == {"error", "message", "failing"}, body
    assert (body["error"], body["failing"]) == ("unavailable", "database"), body
    assert body["message"], body
    assert s.dir not in json.dumps(body), body
    assert s.alive()


@test
def static_files():
    """web-root files with the right Content-Type; `/` and `dir/` serve
    index.html; missing files 404"""
    s = server()
    _, www, files = tmp
    types = {"index.html": "text/html", "a.js": "text/javascript",
             "s.css": "text/css", "x.svg": "image/svg+xml",
             "sub/deeper/page.html": "text/html"}
    for name, ctype in types.items():
        st, h, data = http_request(s.http_port, "GET", "/" + name)
        assert st == 200, (name, st)
        assert h["content-type"].split(";")[0] == ctype, (name, h)
        assert data.decode() == files[name], name
    st, h, data = http_request(s.http_port, "GET", "/")
    assert st == 200 and data.decode() == files["index.html"]
    assert h["content-type"].startswith("text/html")
    st, h, data = http_request(s.http_port, "GET", "/?room=abc&name=x")
    assert st == 200 and data.decode() == files["index.html"]
    st, h, data = http_request(s.http_port, "GET", "/sub/")
    assert st == 200 and data.decode() == files["sub/index.html"]
    for missing in ("/nope.html", "/sub/deeper/", "/sub/deeper"):
        st, h, data = http_request(s.http_port, "GET", missing)
        assert st == 404, (missing, st)


@test
def static_path_escapes():
    """'..' in every spelling and symlinks out of web-root all get 404"""
    s = server()
    for path in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2fetc/passwd",
                 "/a/../../x", "/../secret.txt", "/%2e%2e/secret.txt",
                 "/..%2fsecret.txt", "/sub/../../secret.txt", "/.%2e/secret.txt",
                 "/sub/..%2f..%2fsecret.txt", "/..\\secret.txt", "/%2e%2e%5csecret.txt",
                 "/link.txt", "/updir/secret.txt",
                 "//etc/passwd"):
        st, h, data = http_request(s.http_port, "GET", path)
        assert st == 404, (path, st, data[:80])
        assert b"TOP SECRET" not in data and b"root:" not in data, path
    # raw, in case a client library tidied the path
    for path in ("/../secret.txt", "/./../secret.txt"):
        c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
        c.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        resp = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            resp += chunk
        c.close()
        assert resp.split(b" ")[1] in (b"404", b"400"), resp[:100]
        assert b"TOP SECRET" not in resp


@test
def cors():
    """allowed-origin: an allowed Origin is echoed, another gets 403, an
    OPTIONS preflight gets 204 with Allow-Methods/Headers"""
    s = server()
    st, h, body = http_json(s.http_port, "GET", "/api/ice-servers",
                            headers={"Origin": ORIGIN})
    assert st == 200 and h.get("access-control-allow-origin") == ORIGIN, h
    st, h, body = http_json(s.http_port, "GET", "/api/ice-servers",
                            headers={"Origin": "http://evil.example"})
    check_error(st, body, 403)
    assert "access-control-allow-origin" not in h, h
    st, h, data = http_request(s.http_port, "OPTIONS", "/api/ice-servers", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert st == 204, st
    assert h.get("access-control-allow-origin") == ORIGIN, h
    assert "POST" in h.get("access-control-allow-methods", ""), h
    assert "authorization" in h.get("access-control-allow-headers", "").lower(), h
    st, h, data = http_request(s.http_port, "OPTIONS", "/api/ice-servers", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert st == 403, st
    assert "access-control-allow-origin" not in h


@test
def body_too_large():
    """a request body over 64 KiB → 413 JSON; 64 KiB of padding is fine"""
    s = server()
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers",
                            body=b"{" + b" " * (64 * 1024 + 10) + b"}",
                            headers={"Content-Type": "application/json"})
    check_error(st, body, 413)
    ok = b'{"user":"big"' + b" " * (64 * 1024 - 20) + b"}"
    assert len(ok) <= 64 * 1024
    st, _, body = http_json(s.http_port, "POST", "/api/ice-servers", body=ok,
                            headers={"Content-Type": "application/json"})
    assert st == 200
    check_ice(s, body, "127.0.0.1", user="big")


@test(timeout=40)
def idle_connections_and_stalled_request():
    """200 idle connections do not stop a request; a half request line is
    closed within 15 s and ferryd keeps serving"""
    s = server()
    idle = []
    for _ in range(200):
        c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
        idle.append(c)
    half = socket.create_connection(("127.0.0.1", s.http_port), timeout=20)
    half.sendall(b"GET /heal")
    t0 = time.monotonic()
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert (st, body) == (200, {"status": "ok"})
    try:
        got = half.recv(4096)
        while got and time.monotonic() - t0 < 16:
            got = half.recv(4096)
    except ConnectionResetError:
        pass
    waited = time.monotonic() - t0
    assert waited <= 15, waited
    assert waited >= 5, waited       # not cut at once: a timeout, not an error
    st, _, body = http_json(s.http_port, "GET", "/healthz")
    assert (st, body) == (200, {"status": "ok"})
    for c in idle:
        c.close()
    half.close()
    assert s.alive()


@test
def connections_per_address_limited():
    """max-tcp-connections-per-address refuses one more connection, on HTTP and on TURN TCP, and service resumes"""
    lim = Ferryd(conf="max-tcp-connections-per-address = 5\nlog-level = info")
    for port in (lim.http_port, lim.port):
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
        # The kernel completes handshakes before ferryd accepts them: an
        # answer on each proves all five are counted before the sixth.
        for c in held:
            if port == lim.http_port:
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert c.recv(4096).startswith(b"HTTP/1.1 200")
            else:
                c.sendall(stun_request())
                assert stun_parse(tcp_read_message(c))[0] == 0x0101
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert server_closed(extra), f"a sixth connection to {port} was kept"
        extra.close()
        for c in held:
            c.close()
        time.sleep(0.3)
    assert "too many TCP connections" in lim.read_log()
    st, _, body = http_json(lim.http_port, "GET", "/healthz")
    assert (st, body) == (200, {"status": "ok"})
    assert lim.stop() == 0


@test
def stop_shared():
    """the shared server exits 0 on SIGTERM"""
    assert server().stop() == 0


run()
