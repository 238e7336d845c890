#!/usr/bin/python3
# vireo-test: needs-kvm
"""The real virsh, on a terminal, against a domain run by vireo-vmm with the
interactive stub guest: `virsh start --console` shows the boot output,
keystrokes reach the guest, ^] ends the session cleanly; `virsh console --force` takes over a
session; `virsh event --loop` prints the lifecycle of a start and destroy;
`virsh shutdown` ends an attached console session."""
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Daemon, Tap, VMM, STUB, need_real_vmm, vm_xml  # noqa: E402

tap = Tap()
need_real_vmm(tap)
if subprocess.run(["which", "virsh"], capture_output=True).returncode != 0:
    tap.skip_all("virsh is not installed")


class Term:
    """virsh on a pty of its own, as a user would run it."""

    def __init__(self, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("virsh", ["virsh"] + list(args))
        self.out = b""

    def read_until(self, text, timeout=10):
        end = time.time() + timeout
        while text.encode() not in self.out and time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    break
        return text.encode() in self.out

    def send(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                try:
                    while True:
                        r, _, _ = select.select([self.fd], [], [], 0.1)
                        if not r:
                            break
                        self.out += os.read(self.fd, 4096)
                except OSError:
                    pass
                return os.waitstatus_to_exitcode(status)
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.out += os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        return None


work = tempfile.mkdtemp(prefix="vireo-console-test.")
d = Daemon(vmm=VMM)
try:
    tap.ok(d.start(), "daemon starts", d.log())
    xml = os.path.join(work, "c1.xml")
    with open(xml, "w") as f:
        f.write(vm_xml("c1", STUB, "stub.test=interactive"))
    tap.ok(subprocess.run(["virsh", "-c", d.uri, "define", xml],
                          capture_output=True).returncode == 0, "virsh define")

    # On a terminal of its own, as a user runs it (into a pipe virsh holds
    # its lines until it exits).
    ev = Term("-c", d.uri, "event", "--loop", "--event", "lifecycle")
    # virsh prints nothing once it listens; give it time to register (a
    # loaded test host once took more than half a second).
    time.sleep(5)

    t = Term("-c", d.uri, "start", "--console", "c1")
    tap.ok(t.read_until("STUB interactive ready", 30), "virsh start --console shows the boot",
           t.out.decode(errors="replace"))
    t.send(b"ls /\r")
    tap.ok(t.read_until("echo:ls /"), "keystrokes reach the guest",
           t.out.decode(errors="replace"))

    t2 = Term("-c", d.uri, "console", "c1")
    tap.ok(t2.read_until("error") and t2.wait() == 1,
           "a second virsh console is refused", t2.out.decode(errors="replace"))
    t3 = Term("-c", d.uri, "console", "--force", "c1")
    tap.ok(t3.read_until("Escape character"), "virsh console --force connects",
           t3.out.decode(errors="replace"))
    rc = t.wait()
    tap.ok(rc is not None, "the session taken over ends", t.out.decode(errors="replace"))
    t3.send(b"again\r")
    tap.ok(t3.read_until("echo:again"), "the new session works")
    t3.send(b"\x1d")  # ^]
    tap.ok(t3.wait() == 0, "^] ends virsh console with status 0",
           t3.out.decode(errors="replace"))

    t4 = Term("-c", d.uri, "console", "c1")
    tap.ok(t4.read_until("Escape character"), "a console opens again after ^]",
           t4.out.decode(errors="replace"))
    subprocess.run(["virsh", "-c", d.uri, "shutdown", "c1"], capture_output=True)
    tap.ok(t4.wait(30) is not None, "the VMM exiting ends virsh console",
           t4.out.decode(errors="replace"))
    out = subprocess.run(["virsh", "-c", d.uri, "domstate", "--reason", "c1"],
                         capture_output=True, text=True).stdout.strip()
    tap.ok(out == "shut off (shutdown)", "domstate after shutdown", out)

    subprocess.run(["virsh", "-c", d.uri, "start", "c1"], capture_output=True)
    subprocess.run(["virsh", "-c", d.uri, "destroy", "c1"], capture_output=True)
    time.sleep(0.5)
    ev.read_until("for domain 'c1': Stopped Destroyed")
    os.kill(ev.pid, signal.SIGTERM)
    ev.wait()
    text = ev.out.decode(errors="replace").replace("\r", "")
    want = ["event 'lifecycle' for domain 'c1': Started Booted",
            "event 'lifecycle' for domain 'c1': Stopped Shutdown",
            "event 'lifecycle' for domain 'c1': Started Booted",
            "event 'lifecycle' for domain 'c1': Stopped Destroyed"]
    lines = [x.strip() for x in text.splitlines() if "lifecycle" in x and "'c1'" in x]
    tap.ok(lines == want, "virsh event --loop: started, stopped, started, destroyed", text)

    out = subprocess.run(["virsh", "-c", d.uri, "shutdown", "--mode", "agent", "c1"],
                         capture_output=True, text=True)
    tap.ok(out.returncode != 0, "shutdown --mode agent is refused", out.stderr)
    tap.ok(d.stop(), "daemon stops cleanly")
finally:
    d.cleanup()
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)
tap.done()
