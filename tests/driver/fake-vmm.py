#!/usr/bin/python3
"""A stand-in for vireo-vmm that speaks its control API and event stream
without KVM, so the driver's lifecycle can be tested on any machine:
`--api-socket fd=N --event-monitor fd=M` (or path=), the endpoints the
driver uses, a pty for a Pty serial port (it prints "FAKE boot" and echoes
input as "echo:<line>"), and events as one JSON object per line.

vm.power-button makes the "guest" power off: event shutdown, then exit 0
(as vireo-vmm without --api-socket does).
Words on the guest's kernel command line choose misbehaviour:
fake.fail=create|boot makes that request fail with an error chain,
fake.panic makes the guest panic after boot, fake.exit=N exits with status
N right after boot, fake.poweroff powers off right after boot and
fake.error stops the VM on an error, both staying up without a VM, as
vireo-vmm serving the API does."""
import json
import os
import select
import signal
import socket
import sys
import time
import tty

START = time.monotonic()
api_fd = ev_fd = None
api_path = None
for i, a in enumerate(sys.argv):
    if a == "--api-socket":
        v = sys.argv[i + 1]
        if v.startswith("fd="):
            api_fd = int(v[3:])
        else:
            api_path = v[5:]
    if a == "--event-monitor":
        v = sys.argv[i + 1]
        ev_fd = int(v[3:]) if v.startswith("fd=") else os.open(v[5:], os.O_RDWR)
if api_fd is not None:
    lsock = socket.socket(fileno=api_fd)
else:
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(api_path)
    lsock.listen(4)

state = "Created" if False else None  # no VM until vm.create
config = None
pty_master = None
pty_path = None
line = b""


def event(source, name, props=None):
    if ev_fd is None:
        return
    t = time.monotonic() - START
    doc = {"timestamp": {"secs": int(t), "nanos": int((t % 1) * 1e9)}, "source": source,
           "event": name, "properties": props}
    try:
        os.write(ev_fd, (json.dumps(doc) + "\n").encode())
    except OSError:
        pass


def guest_print(text):
    if pty_master is not None:
        try:
            os.write(pty_master, text.encode())
        except OSError:
            pass


def on_term(signum, frame):
    event("vmm", "shutdown")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
event("vmm", "starting")


def reply(conn, status, body=None):
    text = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
            409: "Conflict", 500: "Internal Server Error"}[status]
    data = b"" if body is None else json.dumps(body).encode()
    head = f"HTTP/1.1 {status} {text}\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    conn.sendall(head.encode() + b"\r\n" + data)


def boot():
    global state, pty_master, pty_path
    event("vm", "booting")
    if config.get("serial", {}).get("mode") == "Pty" and pty_master is None:
        pty_master, slave = os.openpty()
        tty.setraw(slave)  # as a VMM does: the guest's bytes pass untouched
        pty_path = os.ttyname(slave)
        # keep the slave open so that output waits for a reader
        globals()["pty_slave"] = slave
    state = "Running"
    event("vm", "booted")
    guest_print("FAKE boot " + config.get("payload", {}).get("cmdline", "") + "\r\n")


def option(name):
    """fake.NAME[=VALUE] on the command line: VALUE, "" or None."""
    cmdline = (config or {}).get("payload", {}).get("cmdline", "") or ""
    for w in cmdline.split():
        if w == "fake." + name:
            return ""
        if w.startswith("fake." + name + "="):
            return w.split("=", 1)[1]
    return None


def handle(conn, method, path, body):
    global state, config
    ep = path.rsplit("/", 1)[-1]
    fail = option("fail")
    if ep == "vmm.ping":
        return reply(conn, 200, {"version": "fake", "pid": os.getpid()})
    if ep == "vm.create":
        config = json.loads(body)
        if option("fail") == "create":
            config = None
            return reply(conn, 500, ["vm.create failed", "fake failure: cannot create"])
        k = config.get("payload", {}).get("kernel")
        if k and not os.path.exists(k):
            return reply(conn, 500, ["vm.create failed", f"cannot open kernel '{k}'"])
        state = "Created"
        return reply(conn, 204)
    if config is None:
        return reply(conn, 404, ["no VM created"])
    if ep == "vm.info":
        cfg = dict(config)
        if pty_path:
            cfg["serial"] = {"mode": "Pty", "file": pty_path}
        return reply(conn, 200, {"config": cfg, "state": state,
                                 "memory_actual_size": config["memory"]["size"]})
    if ep == "vm.boot":
        if fail == "boot":
            return reply(conn, 500, ["vm.boot failed", "fake failure: cannot boot"])
        reply(conn, 204)
        boot()
        if option("panic") is not None:
            time.sleep(0.2)
            event("guest", "panic")
        if option("exit") is not None:
            time.sleep(0.2)
            os._exit(int(option("exit")))
        for name in ("poweroff", "error"):
            if option(name) is not None:
                time.sleep(0.2)
                state = "Shutdown"
                event("vm", "shutdown", {"reason": name})
        return
    if ep == "vm.pause":
        if state != "Running":
            return reply(conn, 409, ["vm.pause failed", "VM is not running"])
        event("vm", "pausing")
        state = "Paused"
        event("vm", "paused")
        return reply(conn, 204)
    if ep == "vm.resume":
        if state != "Paused":
            return reply(conn, 409, ["vm.resume failed", "VM is not paused"])
        event("vm", "resuming")
        state = "Running"
        event("vm", "resumed")
        return reply(conn, 204)
    if ep == "vm.reboot":
        reply(conn, 204)
        event("vm", "rebooting")
        event("vm", "rebooted")
        guest_print("FAKE reboot\r\n")
        boot()
        return
    if ep == "vm.power-button":
        reply(conn, 204)
        guest_print("FAKE power button: powering off\r\n")
        time.sleep(0.2)
        event("vm", "shutdown", {"reason": "poweroff"})
        event("vmm", "shutdown")
        sys.exit(0)
    if ep in ("vm.shutdown", "vmm.shutdown"):
        reply(conn, 204)
        event("vm", "shutdown")
        sys.exit(0)
    return reply(conn, 404, [f"no such endpoint '{path}'"])


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for h in lines[1:]:
        if h.lower().startswith("content-length:"):
            length = int(h.split(":", 1)[1])
    while len(body) < length:
        body += conn.recv(4096)
    handle(conn, method, path, body.decode())


while True:
    fds = [lsock] + ([pty_master] if pty_master is not None else [])
    r, _, _ = select.select(fds, [], [])
    if lsock in r:
        c, _ = lsock.accept()
        try:
            serve(c)
        finally:
            c.close()
    if pty_master is not None and pty_master in r:
        try:
            data = os.read(pty_master, 4096)
        except OSError:
            data = b""
        line += data
        while b"\r" in line or b"\n" in line:
            cut = min(i for i in (line.find(b"\r"), line.find(b"\n")) if i >= 0)
            got, line = line[:cut], line[cut + 1:]
            if got:
                guest_print("echo:" + got.decode(errors="replace") + "\r\n")
