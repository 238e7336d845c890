#!/usr/bin/python3
"""Domain lifecycle events without any VM: defined (added, updated) and
undefined events reach python-libvirt (domainEventRegisterAny), `virsh event
--all --loop` and a raw legacy client (procedures 105 and 167, message 107),
in order; a callback for one domain sees only that domain; deregistering
stops them; a client that disconnects with callbacks registered is cleaned
up and the daemon keeps serving."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Daemon, Tap, domain_xml, DAEMON  # noqa: E402

tap = Tap()
try:
    import libvirt
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
if not os.access(DAEMON, os.X_OK):
    tap.skip_all(f"virtvireod is not built ({DAEMON})")

libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


# ---- raw protocol, for the legacy registrations ----
PROG = 0x20008086


def message(proc, payload=b"", serial=1):
    body = struct.pack(">IIiiIi", PROG, 1, proc, 0, serial, 0) + payload
    return struct.pack(">I", 4 + len(body)) + body


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_message(s):
    head = recv_exact(s, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    body = recv_exact(s, length - 4)
    return struct.unpack(">IIiiIi", body[:24]), body[24:]


def raw_call(s, proc, payload=b"", serial=1):
    s.sendall(message(proc, payload, serial))
    while True:
        hdr, body = read_message(s)
        if hdr[3] == 1 and hdr[4] == serial:
            return hdr, body


def decode_lifecycle(body):
    """remote_domain_event_lifecycle_msg -> (name, event, detail)"""
    (n,) = struct.unpack(">I", body[:4])
    name = body[4:4 + n].decode()
    off = 4 + n + (4 - n % 4) % 4 + 16 + 4
    event, detail = struct.unpack(">ii", body[off:off + 8])
    return name, event, detail


D = libvirt
d = Daemon()
try:
    tap.ok(d.start(), "daemon starts", d.log())
    conn = libvirt.open(d.uri)
    got = []
    got_one = []

    def cb(c, dom, event, detail, opaque):
        opaque.append((dom.name(), event, detail))

    cb_all = conn.domainEventRegisterAny(None, D.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, got)
    tap.ok(cb_all >= 0, "domainEventRegisterAny (all domains)")

    # virsh event --all --loop in the background
    virsh = subprocess.Popen(["virsh", "-c", d.uri, "event", "--all", "--loop"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    virsh_lines = []
    threading.Thread(target=lambda: [virsh_lines.append(x) for x in virsh.stdout],
                     daemon=True).start()
    time.sleep(1.0)  # virsh registers every event id

    # a raw legacy client: 105 (register) and 167 (register any, lifecycle)
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(10)
    raw.connect(d.sock)
    raw_call(raw, 1, struct.pack(">I", 0) + struct.pack(">I", 0))  # open(NULL, 0)
    hdr, body = raw_call(raw, 105, b"", serial=2)
    tap.ok(hdr[5] == 0 and struct.unpack(">i", body[:4])[0] == 1,
           "legacy register (105) answers cb_registered=1")

    dom = conn.defineXML(domain_xml("ev1"))
    dom2 = conn.defineXML(domain_xml("ev2"))
    got_one_id = conn.domainEventRegisterAny(dom2, D.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, got_one)
    dom.setAutostart(1)  # no event
    conn.defineXML(domain_xml("ev1", dom.UUIDString()))  # update
    dom2.undefine()
    dom.undefine()

    want = [("ev1", D.VIR_DOMAIN_EVENT_DEFINED, D.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            ("ev2", D.VIR_DOMAIN_EVENT_DEFINED, D.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            ("ev1", D.VIR_DOMAIN_EVENT_DEFINED, D.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
            ("ev2", D.VIR_DOMAIN_EVENT_UNDEFINED, D.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
            ("ev1", D.VIR_DOMAIN_EVENT_UNDEFINED, D.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
    tap.ok(wait_for(lambda: len(got) >= 5) and got == want,
           "python-libvirt receives defined/updated/undefined in order", got)
    tap.ok(wait_for(lambda: len(got_one) >= 1) and got_one == [want[3]],
           "a callback for one domain sees only that domain", got_one)

    legacy = []
    for _ in range(5):
        hdr, body = read_message(raw)
        legacy.append((hdr[2], hdr[3]) + decode_lifecycle(body))
    tap.ok([x[:2] for x in legacy] == [(107, 2)] * 5 and [x[2:] for x in legacy] == want,
           "legacy client receives MESSAGE 107 in order", legacy)

    tap.ok(wait_for(lambda: sum("lifecycle" in x for x in virsh_lines) >= 5),
           "virsh event --all --loop prints five lifecycle events", "".join(virsh_lines))
    text = "".join(virsh_lines)
    tap.ok("event 'lifecycle' for domain 'ev1': Defined Added" in text and
           "event 'lifecycle' for domain 'ev1': Defined Updated" in text and
           "event 'lifecycle' for domain 'ev2': Undefined Removed" in text,
           "virsh names the events and details", text)
    virsh.terminate()
    virsh.wait(timeout=10)

    # deregistering stops delivery
    conn.domainEventDeregisterAny(cb_all)
    conn.domainEventDeregisterAny(got_one_id)
    hdr, body = raw_call(raw, 106, b"", serial=3)
    tap.ok(hdr[5] == 0, "legacy deregister (106)")
    hdr, body = raw_call(raw, 167, struct.pack(">i", 0), serial=4)
    tap.ok(hdr[5] == 0, "legacy register any (167) for lifecycle")
    hdr, body = raw_call(raw, 167, struct.pack(">i", 0), serial=5)
    tap.ok(hdr[5] == 1, "registering 167 twice for one event is refused")
    hdr, body = raw_call(raw, 167, struct.pack(">i", 1000), serial=6)
    tap.ok(hdr[5] == 1, "an unknown event id is refused")
    n = len(got)
    conn.defineXML(domain_xml("ev3"))
    hdr, body = read_message(raw)
    tap.ok(hdr[2] == 107 and decode_lifecycle(body)[0] == "ev3", "167 delivers as 107")
    time.sleep(0.5)
    tap.ok(len(got) == n, "no event after domainEventDeregisterAny", got[n:])
    hdr, body = raw_call(raw, 168, struct.pack(">i", 0), serial=7)
    tap.ok(hdr[5] == 0, "legacy deregister any (168)")

    # a client that goes away with callbacks registered
    code = ("import libvirt,sys,os;libvirt.virEventRegisterDefaultImpl();"
            "c=libvirt.open(sys.argv[1]);"
            "c.domainEventRegisterAny(None,0,lambda *a:None,None);"
            "print('ready',flush=True);sys.stdin.read()")
    child = subprocess.Popen(["/usr/bin/python3", "-c", code, d.uri], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    tap.ok(child.stdout.readline().strip() == "ready", "a second client registers")
    child.kill()
    child.wait()
    time.sleep(0.3)
    conn.lookupByName("ev3").undefine()
    tap.ok(d.alive() and conn.lookupByName is not None and
           [x.name() for x in conn.listAllDomains()] == [],
           "daemon serves after a registered client vanished")
    raw.close()
    conn.close()
    tap.ok(d.stop(), "daemon stops cleanly")
finally:
    d.cleanup()
tap.done()
