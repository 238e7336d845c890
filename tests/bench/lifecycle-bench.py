#!/usr/bin/python3
"""Lifecycle benchmark of virtvireod + vireo-vmm against libvirtd's QEMU
driver + QEMU (-M q35), both daemons system-mode, as root, private to this
run, in the same test host:

- a Linux guest (the test kernel's PVH vmlinux + initramfs, 512 MiB,
  1 vCPU, serial to a file, no network): start (virDomainCreate, what
  `virsh start` calls) until "VIREO-INIT up" is in the serial file, how long
  the start call itself takes, and destroy (virDomainDestroy);
- the driver overhead alone: start and destroy of the stub guest
  (build/tests/stub/guests/stub.elf, stub.test=hang, a PVH ELF both VMMs boot).

The calls go through python-libvirt on one connection per daemon, so the
numbers hold the daemons' work and not virsh's own start-up. Medians of
VIREO_BENCH_RUNS runs (default 5), the daemons taking turns.

It always runs inside the test host (tests/testhost/run), even with
hardware KVM, because libvirtd's system mode needs /etc/libvirt,
/var/lib/libvirt and /var/cache/libvirt of its own: the test host covers
/etc/libvirt, /var/lib, /var/cache and /var/log/libvirt with empty tmpfs.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("VIREO_SRCDIR", os.path.join(HERE, "..", ".."))
BUILDDIR = os.environ.get("VIREO_BUILDDIR", os.path.join(SRCDIR, "build"))
VMM = os.path.join(BUILDDIR, "vmm", "vireo-vmm")
VIRTVIREOD = os.path.join(BUILDDIR, "driver", "virtvireod")
GUEST_DIR = os.path.join(BUILDDIR, "testhost-cache", "guest")
STUB = os.path.join(BUILDDIR, "tests", "stub", "guests", "stub.elf")
TESTHOST_TMPFS = ["/etc/libvirt", "/var/lib", "/var/cache", "/var/log/libvirt"]
LIBVIRTD_SOCK = "/run/libvirt/libvirt-sock"
INIT_TIMEOUT = 240
# A daemon call that has not returned by then never will: the daemon is killed.
CYCLE_TIMEOUT = INIT_TIMEOUT + 120

# libvirtd's QEMU driver without what the test host lacks (a libvirt-qemu
# user, machined, virtlogd) or what the Vireo driver does not do either.
QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""
LIBVIRTD_CONF = """auth_unix_rw = "none"
auth_unix_ro = "none"
"""

LINUX = {"kernel": os.path.join(GUEST_DIR, "vmlinux"),
         "initrd": os.path.join(GUEST_DIR, "initramfs.cpio.gz"),
         "cmdline": "console=ttyS0 quiet vireo.check=basic vireo.end=hang", "mib": 512}
STUB_GUEST = {"kernel": STUB, "initrd": None, "cmdline": "stub.test=hang", "mib": 64}


def os_xml(guest, machine=""):
    initrd = f"<initrd>{guest['initrd']}</initrd>" if guest["initrd"] else ""
    return (f"<os><type arch='x86_64'{machine}>hvm</type><kernel>{guest['kernel']}</kernel>"
            f"{initrd}<cmdline>{guest['cmdline']}</cmdline></os>")


def vireo_xml(name, guest, serial):
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>{guest['mib']}</memory>
  <vcpu>1</vcpu>
  {os_xml(guest)}
  <devices><serial type='file'><source path='{serial}'/></serial></devices>
</domain>"""


def qemu_xml(name, guest, serial):
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>{guest['mib']}</memory>
  <vcpu>1</vcpu>
  {os_xml(guest, " machine='q35'")}
  <features><acpi/><apic/></features>
  <cpu mode='host-passthrough'/>
  <devices>
    <serial type='file'><source path='{serial}'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>"""


class Daemon:
    """One libvirt daemon private to this run, and its connection."""

    def __init__(self, name, uri, argv, xml, env=None):
        self.name, self.uri, self.argv, self.xml = name, uri, argv, xml
        self.env = dict(os.environ, LIBVIRT_AUTOSTART="0", **(env or {}))
        self.proc = self.conn = None

    def start(self, workdir):
        log = open(os.path.join(workdir, f"{self.name}.log"), "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT)
        libvirt.registerErrorHandler(lambda *_: None, None)
        deadline = time.time() + 300  # libvirtd probes QEMU first
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.conn = libvirt.open(self.uri)
                return
            except libvirt.libvirtError:
                time.sleep(0.2)
        with open(log.name, errors="replace") as f:
            tail = " | ".join(f.read().splitlines()[-5:])
        raise RuntimeError(f"{self.name} did not serve {self.uri}: {tail}")

    def stop(self):
        if self.conn:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass  # the daemon is gone
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wait_serial(path, marker, timeout):
    """perf_counter() when marker appeared in the file at path, or None."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with open(path, "rb") as f:
                if marker in f.read():
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    return None


def cycle(dom, serial, marker):
    """One start (until marker is on the serial port, when given) and destroy."""
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.perf_counter()
    dom.create()
    t_started = time.perf_counter()
    result = {"start_ms": (t_started - t0) * 1000}
    if marker:
        t_marker = wait_serial(serial, marker, INIT_TIMEOUT)
        if t_marker is None:
            dom.destroy()
            raise RuntimeError(f"{marker.decode()} not on the serial port within"
                               f" {INIT_TIMEOUT} s")
        result["init_ms"] = (t_marker - t0) * 1000
    else:
        time.sleep(0.5)  # let the guest run into its loop
    t0 = time.perf_counter()
    dom.destroy()
    result["destroy_ms"] = (time.perf_counter() - t0) * 1000
    result["cycle_ms"] = result["start_ms"] + result["destroy_ms"]
    return result


def measure(daemons, runs, workdir, failures):
    """Per daemon, per guest kind, the list of cycle results."""
    kinds = [("stub", STUB_GUEST, None), ("linux", LINUX, b"VIREO-INIT up")]
    results = {d.name: {kind: [] for kind, _, _ in kinds} for d in daemons}
    doms = {}
    for d in daemons:
        try:
            for kind, guest, _ in kinds:
                serial = os.path.join(workdir, f"{d.name}-{kind}.serial")
                doms[d.name, kind] = (d.conn.defineXML(d.xml(f"bench-{kind}", guest, serial)),
                                      serial)
            # Untimed warm-up: first use of the daemon's caches and the binaries.
            dom, serial = doms[d.name, "stub"]
            cycle(dom, serial, None)
        except Exception as e:  # libvirtError, or the guest did not come up
            failures[d.name] = f"setup: {e}"
    for kind, _, marker in kinds:
        for i in range(runs):
            for d in daemons:
                if d.name in failures:
                    continue
                dom, serial = doms[d.name, kind]
                watchdog = threading.Timer(CYCLE_TIMEOUT, d.proc.kill)
                watchdog.start()
                try:
                    r = cycle(dom, serial, marker)
                    results[d.name][kind].append(r)
                    print(f"lifecycle-bench: {d.name} {kind} run {i + 1}: "
                          + ", ".join(f"{k} {v:.0f}" for k, v in r.items()),
                          file=sys.stderr, flush=True)
                except Exception as e:  # libvirtError, or the guest did not come up
                    hung = ""
                    if d.proc.poll() is not None:
                        hung = (" (the daemon is gone: crashed, or killed after"
                                f" {CYCLE_TIMEOUT} s without an answer)")
                    failures[d.name] = f"{kind} run {i + 1}: {e}{hung}"
                    print(f"lifecycle-bench: {d.name}: {failures[d.name]}", file=sys.stderr,
                          flush=True)
                finally:
                    watchdog.cancel()
    return results


def median(results, kind, key):
    values = [r[key] for r in results.get(kind, [])]
    return statistics.median(values) if values else None


def print_table(results, runs, failures):
    vireo, qemu = results["vireo"], results.get("libvirtd-qemu", {})
    rows = [
        ("linux: start -> VIREO-INIT up (ms)", "linux", "init_ms", 0.5),
        ("linux: start call returns (ms)", "linux", "start_ms", None),
        ("linux: destroy (ms)", "linux", "destroy_ms", 0.5),
        ("stub: start (ms)", "stub", "start_ms", 0.5),
        ("stub: destroy (ms)", "stub", "destroy_ms", 0.5),
        ("stub: start + destroy, driver overhead (ms)", "stub", "cycle_ms", 0.5),
    ]
    print(f"lifecycle benchmark: medians of {runs} runs each; vireo = virtvireod + vireo-vmm,"
          " peer = libvirtd qemu driver + QEMU q35")
    print(f"{'measurement':44} {'vireo':>9} {'peer':>9} {'ratio':>7}  {'target':8} result")
    for label, kind, key, target in rows:
        v, p = median(vireo, kind, key), median(qemu, kind, key)
        ratio = v / p if v is not None and p else None
        met = "" if target is None or ratio is None else ("met" if ratio <= target else "not met")
        print(f"{label:44} {'n/a' if v is None else f'{v:9.0f}':>9}"
              f" {'n/a' if p is None else f'{p:9.0f}':>9}"
              f" {'n/a' if ratio is None else f'{ratio:7.2f}':>7}"
              f"  {f'<= {target}x' if target else '':8} {met}")
    for name, why in failures.items():
        print(f"  {name}: not measured: {why}")
    if os.environ.get("VIREO_IN_TESTHOST") == "1":
        print("  note: nested KVM inside the test host (QEMU TCG): read the ratios, not the times")


def add_qemu_user():
    """libvirtd's QEMU driver will not start without the libvirt-qemu user and
    group (Debian's package scripts create them), even when qemu.conf says
    root: when this root lacks them, the test host gets copies of
    /etc/passwd and /etc/group that have them, bind-mounted over the originals."""
    entries = (("/etc/passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin"),
               ("/etc/group", "libvirt-qemu:x:64055:"))
    for path, entry in entries:
        with open(path) as f:
            text = f.read()
        if any(line.startswith("libvirt-qemu:") for line in text.splitlines()):
            continue
        copy = "/run/vireo-bench" + path.replace("/", "-")
        with open(copy, "w") as f:
            f.write(text + entry + "\n")
        subprocess.run(["mount", "--bind", copy, path], check=True)


def qemu_daemon():
    """libvirtd for the QEMU driver, its configuration in the test host's tmpfs."""
    add_qemu_user()
    for d in ("/etc/libvirt", "/var/lib/libvirt", "/var/cache/libvirt"):
        os.makedirs(d, exist_ok=True)
    with open("/etc/libvirt/qemu.conf", "w") as f:
        f.write(QEMU_CONF)
    with open("/etc/libvirt/libvirtd.conf", "w") as f:
        f.write(LIBVIRTD_CONF)
    return Daemon("libvirtd-qemu", f"qemu+unix:///system?socket={LIBVIRTD_SOCK}",
                  ["libvirtd"], qemu_xml)


def vireo_daemon(workdir):
    sock = os.path.join(workdir, "virtvireod-sock")
    argv = [VIRTVIREOD, "--socket", sock]
    for opt, sub in (("--config-dir", "conf"), ("--run-dir", "run"), ("--log-dir", "log")):
        argv += [opt, os.path.join(workdir, "vireo-" + sub)]
    return Daemon("vireo", f"vireo+unix:///system?socket={sock}", argv, vireo_xml,
                  env={"VIREO_VMM": VMM})


def main():
    if os.environ.get("VIREO_IN_TESTHOST") != "1":
        cmd = [os.path.join(SRCDIR, "tests", "testhost", "run")]
        for path in TESTHOST_TMPFS:
            cmd += ["--tmpfs", path]
        cmd += ["--", "/usr/bin/python3", os.path.abspath(__file__)]
        return subprocess.call(cmd, env=dict(os.environ, VIREO_TESTHOST="always"))
    runs = int(os.environ.get("VIREO_BENCH_RUNS", "5"))
    for path, what in ((VIRTVIREOD, "virtvireod"), (VMM, "vireo-vmm"), (STUB, "the stub guest")):
        if not os.path.exists(path):
            print(f"lifecycle-bench: {what} is not built ({path})", file=sys.stderr)
            return 1
    subprocess.run([os.path.join(SRCDIR, "tests", "guest", "build-assets"),
                    os.path.join(BUILDDIR, "testhost-cache")],
                   check=True, stdout=subprocess.DEVNULL)
    workdir = tempfile.mkdtemp(prefix="vireo-lifecycle-bench.")
    daemons, failures = [], {}
    try:
        for name, make in (("vireo", lambda: vireo_daemon(workdir)),
                           ("libvirtd-qemu", qemu_daemon)):
            try:
                d = make()
                d.start(workdir)
                daemons.append(d)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                failures[name] = str(e)
        if "vireo" in failures:
            print(f"lifecycle-bench: {failures['vireo']}", file=sys.stderr)
            return 1
        results = measure(daemons, runs, workdir, failures)
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if "vireo" in failures:
        print(f"lifecycle-bench: could not measure vireo: {failures['vireo']}", file=sys.stderr)
        return 1
    print_table(results, runs, failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
