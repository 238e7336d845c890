#!/usr/bin/python3
"""Raw clients that break the protocol: cut-short messages, bad lengths,
wrong programs, garbage, fds passed to refused calls, a foreign uid on the
read-write socket. The daemon answers or disconnects, and keeps serving."""
import array
import os
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Daemon, Tap, DAEMON  # noqa: E402

PROG, KEEPALIVE = 0x20008086, 0x6B656570
CALL, REPLY, MESSAGE, CALL_WITH_FDS = 0, 1, 2, 4
VIR_ERR_NO_SUPPORT, VIR_ERR_RPC, VIR_ERR_INTERNAL_ERROR, VIR_ERR_AUTH_FAILED = 3, 39, 1, 45

tap = Tap()
if not os.access(DAEMON, os.X_OK):
    tap.skip_all(f"virtvireod is not built ({DAEMON})")


def message(proc, payload=b"", prog=PROG, vers=1, mtype=CALL, serial=1, status=0):
    body = struct.pack(">IIiiIi", prog, vers, proc, mtype, serial, status) + payload
    return struct.pack(">I", 4 + len(body)) + body


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_message(s):
    """(header tuple, payload) or None when the daemon closed the connection."""
    head = recv_exact(s, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    body = recv_exact(s, length - 4)
    if body is None:
        return None
    return struct.unpack(">IIiiIi", body[:24]), body[24:]


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def closed_by_daemon(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True  # closed with our unread bytes still queued
    except socket.timeout:
        return False


def error_code(payload):
    return struct.unpack(">i", payload[:4])[0]


def open_fds():
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


d = Daemon()
try:
    tap.ok(d.start(), "daemon starts", d.log())

    s = connect(d.sock)
    s.sendall(struct.pack(">I", 100) + b"\0" * 40)
    s.close()
    tap.ok(d.alive(), "a message cut short by a closing client")

    s = connect(d.sock)
    s.sendall(struct.pack(">I", 0x7FFFFFFF) + b"\0" * 24)
    tap.ok(closed_by_daemon(s), "an oversized length is a clean disconnect")
    s.close()

    s = connect(d.sock)
    s.sendall(struct.pack(">I", 8) + b"\0" * 4)
    tap.ok(closed_by_daemon(s), "a length below 28 is a clean disconnect")
    s.close()

    s = connect(d.sock)
    s.sendall(os.urandom(4096))
    tap.ok(closed_by_daemon(s) or d.alive(), "garbage: disconnect or error")
    s.close()

    s = connect(d.sock)
    s.sendall(message(66, prog=0x12345678, serial=7))
    m = read_message(s)
    tap.ok(m and m[0][3] == REPLY and m[0][5] == 1 and m[0][4] == 7 and
           error_code(m[1]) == VIR_ERR_RPC, "a wrong program gets an RPC error reply", m)
    s.sendall(message(66, vers=9, serial=8))
    m = read_message(s)
    tap.ok(m and m[0][5] == 1 and error_code(m[1]) == VIR_ERR_RPC,
           "a wrong version gets an RPC error reply", m)
    s.sendall(message(1, prog=KEEPALIVE, mtype=MESSAGE, serial=0))
    m = read_message(s)
    tap.ok(m and m[0][0] == KEEPALIVE and m[0][2] == 2 and m[0][3] == MESSAGE,
           "keepalive PING gets a PONG", m)
    s.sendall(message(9999, serial=9))
    m = read_message(s)
    tap.ok(m and m[0][5] == 1 and error_code(m[1]) == VIR_ERR_NO_SUPPORT,
           "an unknown procedure gets VIR_ERR_NO_SUPPORT", m)
    s.sendall(message(3, serial=10))
    m = read_message(s)
    tap.ok(m and m[0][5] == 1 and error_code(m[1]) == VIR_ERR_INTERNAL_ERROR,
           "a call before OPEN is refused", m)
    s.sendall(message(1, payload=b"\0\0\0\1\0\0\1\0", serial=11))
    m = read_message(s)
    tap.ok(m and m[0][5] == 1 and error_code(m[1]) == VIR_ERR_RPC,
           "undecodable arguments get an RPC error reply", m)
    s.sendall(message(66, serial=12))
    m = read_message(s)
    tap.ok(m and m[0][5] == 0 and m[1] == b"\0\0\0\1\0\0\0\0",
           "the same connection still works (AUTH_LIST -> [none])", m)

    # CALL_WITH_FDS to a refused procedure: the fds are read and closed.
    before = open_fds()
    r1, w1 = os.pipe()
    s.sendall(message(9999, payload=struct.pack(">I", 2), mtype=CALL_WITH_FDS, serial=13))
    for fd in (r1, w1):
        s.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    m = read_message(s)
    tap.ok(m and m[0][4] == 13 and error_code(m[1]) == VIR_ERR_NO_SUPPORT,
           "a refused CALL_WITH_FDS gets an error reply", m)
    os.close(r1)
    os.close(w1)
    tap.ok(open_fds() == before, "the passed fds were closed", (before, open_fds()))
    s.sendall(message(66, serial=14))
    m = read_message(s)
    tap.ok(m and m[0][4] == 14 and m[0][5] == 0, "the stream stays in step after fds")
    s.sendall(message(1, payload=struct.pack(">I", 40), mtype=CALL_WITH_FDS, serial=15))
    tap.ok(closed_by_daemon(s), "announcing more than 32 fds is a clean disconnect")
    s.close()

    # Many clients that connect, send half a message and stay.
    idle = [connect(d.sock) for _ in range(100)]
    for c in idle:
        c.sendall(struct.pack(">I", 64) + b"\0" * 10)
    s = connect(d.sock)
    s.sendall(message(66))
    m = read_message(s)
    tap.ok(m and m[0][5] == 0, "100 stalled clients do not block another")
    s.close()
    for c in idle:
        c.close()

    out = subprocess.run(["virsh", "-q", "-c", d.uri, "list", "--all"],
                         capture_output=True, text=True, timeout=60)
    tap.ok(out.returncode == 0, "virsh is served after all that", out.stderr)
    tap.ok(d.alive(), "daemon is alive")

    # A foreign uid on the read-write socket is refused even when the file
    # mode would let it in.
    if subprocess.run(["which", "setpriv"], capture_output=True).returncode == 0:
        os.chmod(d.dir, 0o755)
        os.chmod(d.sock, 0o777)
        probe = (
            "import socket,struct;s=socket.socket(socket.AF_UNIX);s.connect(%r);"
            "b=struct.pack('>IIiiIi',0x20008086,1,66,0,1,0);"
            "s.sendall(struct.pack('>I',4+len(b))+b);h=s.recv(4);"
            "n=struct.unpack('>I',h)[0];d=b'';\n"
            "while len(d)<n-4: d+=s.recv(n-4-len(d))\n"
            "print(struct.unpack('>i',d[20:24])[0],struct.unpack('>i',d[24:28])[0])" % d.sock)
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "/usr/bin/python3", "-c", probe],
                             capture_output=True, text=True, timeout=30)
        tap.ok(out.stdout.split() == ["1", str(VIR_ERR_AUTH_FAILED)],
               "uid 65534 on the read-write socket: VIR_ERR_AUTH_FAILED",
               out.stdout + out.stderr)
        ro = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             "virsh", "-q", "-r", "-c", d.uri_ro, "list", "--all"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, HOME="/tmp", XDG_CACHE_HOME="/tmp",
                                     XDG_CONFIG_HOME="/tmp", XDG_RUNTIME_DIR="/tmp"))
        tap.ok(ro.returncode == 0, "uid 65534 on the read-only socket is served", ro.stderr)
    tap.ok(d.stop(), "daemon stops cleanly")
finally:
    if tap.failed:
        for line in d.log().splitlines()[-20:]:
            print(f"# {line}")
    d.cleanup()
tap.done()
