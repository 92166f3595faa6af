"""net — plain sockets on loopback: ports free to listen on, whether a port
is held, whether a server ended a connection, one UDP exchange."""
import socket


def _ephemeral_low():
    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError):
        low = 32768
    return min(low, 49152)


def free_port_range(n, even=False):
    """n consecutive UDP ports free on 127.0.0.1 (the first even when
    asked), below the ephemeral range for the reason free_port gives:
    for a relay-ports range that nothing else will take meanwhile."""
    import random
    for _ in range(500):
        first = random.randrange(10000, _ephemeral_low() - n)
        if even:
            first &= ~1
        socks = []
        try:
            for q in range(first, first + n):
                x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(x)
                x.bind(("127.0.0.1", q))
            return first
        except OSError:
            continue
        finally:
            for x in socks:
                x.close()
    raise RuntimeError("no free port range")


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host.

    Chosen below the kernel's ephemeral range (and so below the relay
    range too): a port taken from bind(0) could be handed by the kernel
    to another process's client socket before our server binds it."""
    import random
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    low = _ephemeral_low()
    for _ in range(500):
        port = random.randrange(10000, low)
        u = socket.socket(family, socket.SOCK_DGRAM)
        t = socket.socket(family, socket.SOCK_STREAM)
        try:
            u.bind((host, port))
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def port_free(port, kind=socket.SOCK_DGRAM):
    """True when nothing holds 127.0.0.1:port (UDP, or kind)."""
    probe = socket.socket(socket.AF_INET, kind)
    try:
        probe.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def server_closed(sock, timeout=5.0):
    """True when the server ends sock (FIN or reset) within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def udp_exchange(addr, msg, timeout=2.0, family=socket.AF_INET, expect=True):
    """Send msg over UDP to addr; the reply's bytes, or None on silence."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, addr)
        try:
            return s.recvfrom(70000)[0]
        except socket.timeout:
            if expect:
                raise AssertionError(f"no UDP answer from {addr}")
            return None
    finally:
        s.close()
