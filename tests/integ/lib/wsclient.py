"""wsclient — WebSocket clients of ferryd's signaling: WS, a synchronous
face on python3-websockets (an independent RFC 6455 client), and RawWS, a
hand-made one for frames and behaviour a library will not produce.  Both
are closed when the test ends."""
import os
import socket
import struct

from harness import on_cleanup


class WSClosed(Exception):
    """The WebSocket was closed; .code and .reason as received (None when
    the TCP connection ended without a close frame)."""
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class WS:
    """A synchronous face on Debian's python3-websockets (10.x, asyncio
    API), an independent RFC 6455 client: its loop runs in a daemon thread
    and every call waits a bounded time.  Answers server pings itself
    (websockets does); sends none of its own."""
    _loop = None

    @classmethod
    def _run(cls, coro, timeout):
        import asyncio
        import threading
        if cls._loop is None:
            cls._loop = asyncio.new_event_loop()
            threading.Thread(target=cls._loop.run_forever, daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, cls._loop).result(timeout)

    def __init__(self, port, path="/ws", host="127.0.0.1", timeout=5.0,
                 ssl_context=None, **kw):
        """ssl_context: an ssl.SSLContext to connect with wss:// instead."""
        import websockets
        scheme = "wss" if ssl_context is not None else "ws"
        if ssl_context is not None:
            kw["ssl"] = ssl_context

        async def connect():
            return await websockets.connect(
                f"{scheme}://{host}:{port}{path}", ping_interval=None, compression=None,
                close_timeout=2, max_size=None, open_timeout=timeout, **kw)
        self.ws = self._run(connect(), timeout + 1)
        on_cleanup(self.abort)

    def send(self, obj):
        import json
        self.send_raw(json.dumps(obj))

    def send_raw(self, data):
        """str: a text frame; bytes: a binary frame."""
        async def send():
            await self.ws.send(data)
        self._run(send(), 5)

    def recv(self, timeout=3.0):
        """The next message, parsed; raises WSClosed, or AssertionError on
        silence."""
        import asyncio
        import concurrent.futures
        import json
        import websockets
        try:
            data = self._run(asyncio.wait_for(self.ws.recv(), timeout), timeout + 2)
        except (asyncio.TimeoutError, concurrent.futures.TimeoutError):
            raise AssertionError(f"no message within {timeout}s") from None
        except websockets.ConnectionClosed as e:
            rc = e.rcvd
            raise WSClosed(rc.code if rc else None, rc.reason if rc else None) from None
        assert isinstance(data, str), f"binary frame from the server: {data!r}"
        return json.loads(data)

    def expect(self, mtype, timeout=3.0, **members):
        """The next message, asserting its type and the given members."""
        m = self.recv(timeout)
        assert m.get("type") == mtype, f"wanted {mtype}, got {m}"
        for k, v in members.items():
            assert m.get(k) == v, f"{mtype}.{k}: wanted {v!r}, got {m}"
        return m

    def silent(self, timeout=0.5):
        """Assert that nothing arrives for timeout seconds."""
        try:
            m = self.recv(timeout)
        except AssertionError:
            return
        raise AssertionError(f"unexpected message {m}")

    def expect_close(self, timeout=5.0):
        """Wait for the server to close; (code, reason).  Messages before
        the close are returned too: (code, reason, [messages])."""
        import time as _t
        got = []
        deadline = _t.monotonic() + timeout
        while True:
            left = deadline - _t.monotonic()
            assert left > 0, f"not closed within {timeout}s (got {got})"
            try:
                got.append(self.recv(left))
            except WSClosed as e:
                return e.code, e.reason, got

    def ping_frame(self, payload=b"hi", timeout=3.0):
        """Send a WebSocket ping frame; True once its pong came back."""
        import asyncio
        waiter = self._run(self.ws.ping(payload), 3)
        self._run(asyncio.wait_for(waiter, timeout), timeout + 2)
        return True

    def close(self, code=1000):
        try:
            self._run(self.ws.close(code), 5)
        except Exception:   # noqa: BLE001 - already gone
            pass

    def abort(self):
        """Drop the TCP connection without a closing handshake."""
        async def _abort():
            self.ws.transport.abort()
        try:
            self._run(_abort(), 2)
        except Exception:   # noqa: BLE001
            pass


class RawWS:
    """A hand-made RFC 6455 client over a blocking socket, for what a
    well-behaved library will not send (unmasked frames, bad UTF-8,
    oversized headers) and for clients that stop reading or answering."""

    def __init__(self, port, host="127.0.0.1", path="/ws", headers=None,
                 rcvbuf=None, timeout=5.0):
        import base64
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        on_cleanup(self.sock.close)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": f"{host}:{port}", "Upgrade": "websocket",
             "Connection": "Upgrade", "Sec-WebSocket-Key": key,
             "Sec-WebSocket-Version": "13"}
        h.update(headers or {})
        req = f"GET {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in h.items() if v is not None) + "\r\n"
        self.sock.sendall(req.encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split()[1])
        assert self.status == 101, head

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, length=None):
        """length: the payload length to announce (default: the real one)."""
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | opcode
        m = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, m | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, m | 127, n)
        if mask:
            k = os.urandom(4)
            payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
            hdr += k
        self.sock.sendall(hdr + payload)

    def send_text(self, text):
        self.send_frame(0x1, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        import json
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=5.0):
        """(fin, opcode, payload); EOFError when the connection ends."""
        self.sock.settimeout(timeout)
        b0, b1 = self._need(2)
        assert not b1 & 0x80, "the server masked a frame"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._need(n)

    def recv_json(self, timeout=5.0):
        """The next text message (pings are answered, pongs skipped)."""
        import json
        while True:
            fin, op, data = self.recv_frame(timeout)
            if op == 0x9:
                self.send_frame(0xA, data)
            elif op == 0x1:
                return json.loads(data)
            elif op == 0x8:
                raise WSClosed(*close_payload(data))
            elif op != 0xA:
                raise AssertionError(f"unexpected opcode {op}")

    def expect_close(self, timeout=5.0):
        """Read until a close frame: (code, reason); other frames ignored."""
        import time as _t
        deadline = _t.monotonic() + timeout
        while True:
            left = deadline - _t.monotonic()
            assert left > 0, f"no close frame within {timeout}s"
            fin, op, data = self.recv_frame(left)
            if op == 0x8:
                return close_payload(data)


def close_payload(data):
    if len(data) >= 2:
        return struct.unpack("!H", data[:2])[0], data[2:].decode(errors="replace")
    return None, ""
