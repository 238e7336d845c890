"""Helpers for the Python driver tests: TAP output and a private virtvireod
(own socket, config dir and run dir) started from VIREO_BUILDDIR."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILDDIR = os.environ.get(
    "VIREO_BUILDDIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))
DAEMON = os.path.join(BUILDDIR, "driver", "virtvireod")
VMM = os.environ.get("VIREO_TEST_VMM", os.path.join(BUILDDIR, "vmm", "vireo-vmm"))
STUB = os.path.join(BUILDDIR, "tests", "stub", "guests", "stub.elf")
os.environ["LIBVIRT_AUTOSTART"] = "0"
os.environ.pop("LIBVIRT_DEFAULT_URI", None)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}")
            if diag:
                for line in str(diag).splitlines():
                    print(f"# {line}")
        sys.stdout.flush()
        return cond

    def skip_all(self, why):
        print(f"1..0 # SKIP {why}")
        sys.exit(0)

    def done(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


class Daemon:
    def __init__(self, vmm=None):
        """vmm: the VMM binary the daemon runs (VIREO_VMM), when not the
        installed one."""
        self.dir = tempfile.mkdtemp(prefix="vireo-driver-test.")
        self.sock = os.path.join(self.dir, "sock")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_dir = os.path.join(self.dir, "log")
        self.env = dict(os.environ)
        if vmm:
            self.env["VIREO_VMM"] = vmm
        self.proc = None
        self.uri = f"vireo+unix:///system?socket={self.sock}"
        self.uri_ro = f"vireo+unix:///system?socket={self.sock}-ro"

    def start(self):
        log = open(os.path.join(self.dir, "daemon.log"), "a")
        self.proc = subprocess.Popen(
            [DAEMON, "--socket", self.sock, "--config-dir", os.path.join(self.dir, "conf"),
             "--run-dir", os.path.join(self.dir, "run"),
             "--log-dir", os.path.join(self.dir, "log"), "--verbose"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        for _ in range(200):
            if os.path.exists(self.sock) and os.path.exists(self.sock + "-ro"):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.alive():
            return False
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -1
        self.proc = None
        return rc == 0

    def kill(self):
        """SIGKILL, as a crash of the daemon would be."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        for p in (self.sock, self.sock + "-ro"):
            if os.path.exists(p):
                os.unlink(p)

    def log(self):
        try:
            with open(os.path.join(self.dir, "daemon.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def need_real_vmm(tap):
    """Skips the test unless vireo-vmm, the stub guest (tests/stub/guests)
    and /dev/kvm are there. VIREO_TEST_VMM names another vireo-vmm build to
    drive (a VMM being worked on)."""
    if not os.access(DAEMON, os.X_OK) or not os.access(VMM, os.X_OK):
        tap.skip_all(f"virtvireod or vireo-vmm is not built ({DAEMON}, {VMM})")
    if not os.path.exists(STUB):
        tap.skip_all(f"the stub guest is not built ({STUB}: make check builds it)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        tap.skip_all("no /dev/kvm")


def kvm_gid_for_nobody(tap):
    """The group through which nobody may open /dev/kvm, as Debian's kvm
    group allows. In the test host (a machine of its own) /dev/kvm is made
    nogroup's; elsewhere a /dev/kvm of group root skips the test."""
    import grp
    try:
        nogroup = grp.getgrnam("nogroup")
    except KeyError:
        tap.skip_all("no group nogroup")
    gid = os.stat("/dev/kvm").st_gid
    if gid == 0:
        if not os.environ.get("VIREO_IN_TESTHOST"):
            tap.skip_all("/dev/kvm belongs to group root: no kvm group to run the VMM in")
        os.chown("/dev/kvm", -1, nogroup.gr_gid)
        os.chmod("/dev/kvm", 0o660)
        gid = nogroup.gr_gid
    return gid


def vm_xml(name, kernel, cmdline, extra="", uuid=None, on=None):
    """A domain that can run: direct kernel boot, a pty serial port and its
    console. on: {"poweroff": "destroy", "crash": "restart", ...}"""
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    actions = "".join(f"<on_{k}>{v}</on_{k}>" for k, v in (on or {}).items())
    return f"""<domain type='kvm'>
  <name>{name}</name>{u}
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>{kernel}</kernel><cmdline>{cmdline}</cmdline></os>
  {actions}
  <devices>
    <serial type='pty'/>
    <console type='pty'><target type='serial'/></console>
    {extra}
  </devices>
</domain>"""


def domain_xml(name, uuid=None):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='kvm'>
  <name>{name}</name>{u}
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/var/lib/vireo/vmlinuz</kernel></os>
</domain>"""
