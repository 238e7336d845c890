#!/usr/bin/python3
"""Benchmark of the libvirt driver daemon against libvirt's own daemon, in
the same run on the same machine: define+undefine cycle latency, listing
1,000 defined domains, and the daemon's resident memory.

Both daemons run in session mode as an unprivileged user with private XDG
folders: virtvireod serving vireo:///session and libvirtd's QEMU driver
serving qemu:///session (the peer that, like us, keeps each definition in a
file). Prints the medians and the ratio vireo/libvirtd for each.

Run as root (it drops to the user 'nobody' for the daemons and clients):
    tests/bench/driver-bench.py [--cycles N] [--domains N]
"""
import argparse
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILDDIR = os.environ.get("VIREO_BUILDDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))
VIREO_DAEMON = os.path.join(BUILDDIR, "driver", "virtvireod")

VIREO_XML = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <devices><console type='pty'/></devices>
</domain>"""

QEMU_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <devices><console type='pty'/><memballoon model='none'/></devices>
</domain>"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Peer:
    """One daemon, its private folders and the URI that reaches it."""

    def __init__(self, name, uri, xml, argv, sockname, user):
        self.name, self.uri, self.xml, self.user = name, uri, xml, user
        self.home = tempfile.mkdtemp(prefix=f"vireo-bench-{name}.")
        os.chown(self.home, user.pw_uid, user.pw_gid)
        self.env = dict(os.environ, HOME=self.home, LIBVIRT_AUTOSTART="0",
                        XDG_RUNTIME_DIR=os.path.join(self.home, "run"),
                        XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                        XDG_CACHE_HOME=os.path.join(self.home, "cache"),
                        XDG_DATA_HOME=os.path.join(self.home, "data"))
        self.env.pop("LIBVIRT_DEFAULT_URI", None)
        self.sock = os.path.join(self.env["XDG_RUNTIME_DIR"], "libvirt", sockname)
        self.argv = argv
        self.proc = None

    def as_user(self):
        os.setgid(self.user.pw_gid)
        os.setgroups([])
        os.setuid(self.user.pw_uid)

    def start(self):
        for d in ("run", "config", "cache", "data"):
            path = os.path.join(self.home, d)
            os.makedirs(path, mode=0o700, exist_ok=True)
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        log = open(os.path.join(self.home, "daemon.log"), "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, preexec_fn=self.as_user)
        deadline = time.time() + 120
        while time.time() < deadline:
            if os.path.exists(self.sock) and self.client("version").returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start; see {log.name}")

    def client(self, *args, stdin=None):
        return subprocess.run(["virsh", "-q", "-c", self.uri, *args], env=self.env,
                              input=stdin, capture_output=True, text=True,
                              preexec_fn=self.as_user)

    def python(self, code):
        """Runs code in a python-libvirt client as the user; returns its stdout."""
        out = subprocess.run(["/usr/bin/python3", "-c", code], env=self.env, text=True,
                             capture_output=True, preexec_fn=self.as_user)
        if out.returncode != 0:
            raise RuntimeError(f"{self.name}: {out.stderr.strip()}")
        return out.stdout

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.home, ignore_errors=True)


CYCLE_CODE = """
import libvirt, time, statistics
conn = libvirt.open({uri!r})
xml = {xml!r}
times = []
for i in range({n}):
    t = time.perf_counter()
    dom = conn.defineXML(xml.format(name="cycle%d" % i))
    dom.undefine()
    times.append(time.perf_counter() - t)
print(statistics.median(times) * 1000)
"""

DEFINE_MANY_CODE = """
import libvirt
conn = libvirt.open({uri!r})
xml = {xml!r}
for i in range({n}):
    conn.defineXML(xml.format(name="many%04d" % i))
"""

LIST_CODE = """
import libvirt, time, statistics
conn = libvirt.open({uri!r})
times = []
for _ in range(5):
    t = time.perf_counter()
    n = len(conn.listAllDomains(0))
    times.append(time.perf_counter() - t)
print(statistics.median(times) * 1000, n)
"""


def measure(peer, cycles, domains):
    result = {"rss_idle": rss_kib(peer.proc.pid)}
    result["cycle_ms"] = float(peer.python(
        CYCLE_CODE.format(uri=peer.uri, xml=peer.xml, n=cycles)))
    peer.python(DEFINE_MANY_CODE.format(uri=peer.uri, xml=peer.xml, n=domains))
    ms, count = peer.python(LIST_CODE.format(uri=peer.uri)).split()
    if int(count) < domains:
        raise RuntimeError(f"{peer.name} lists {count} domains, expected {domains}")
    result["list_api_ms"] = float(ms)
    virsh = []
    for _ in range(5):
        t = time.perf_counter()
        out = peer.client("list", "--all", "--name")
        virsh.append(time.perf_counter() - t)
        if out.returncode != 0:
            raise RuntimeError(f"{peer.name}: virsh list failed: {out.stderr}")
    result["list_virsh_ms"] = statistics.median(virsh) * 1000
    result["rss_loaded"] = rss_kib(peer.proc.pid)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--domains", type=int, default=1000)
    args = ap.parse_args()
    if os.getuid() != 0:
        sys.exit("driver-bench: run as root (the daemons run as 'nobody')")
    if not shutil.which("libvirtd"):
        sys.exit("driver-bench: libvirtd not found (Debian package libvirt-daemon)")
    user = pwd.getpwnam("nobody")
    peers = [
        Peer("vireo", "vireo:///session", VIREO_XML, [VIREO_DAEMON], "virtvireod-sock", user),
        Peer("libvirtd", "qemu:///session", QEMU_XML, ["libvirtd", "--timeout", "0"],
             "libvirt-sock", user),
    ]
    results = {}
    try:
        for peer in peers:
            peer.start()
            time.sleep(1)  # let start-up work (capability probes) settle
            results[peer.name] = measure(peer, args.cycles, args.domains)
            peer.stop()
    finally:
        for peer in peers:
            peer.stop()

    v, q = results["vireo"], results["libvirtd"]
    rows = [
        ("define+undefine cycle (median ms)", "cycle_ms", 0.5),
        (f"listAllDomains, {args.domains} defined (median ms)", "list_api_ms", 0.5),
        (f"virsh list --all, {args.domains} defined (median ms)", "list_virsh_ms", None),
        ("daemon RSS idle (KiB)", "rss_idle", None),
        (f"daemon RSS with {args.domains} domains (KiB)", "rss_loaded", None),
    ]
    print(f"{'driver benchmark':52} {'vireo':>10} {'libvirtd':>10} {'ratio':>7}  target")
    for label, key, target in rows:
        ratio = v[key] / q[key] if q[key] else float("inf")
        goal = f"<= {target}x" if target else ""
        print(f"{label:52} {v[key]:10.2f} {q[key]:10.2f} {ratio:7.2f}  {goal}")
    print(f"{'virtvireod idle RSS (MiB), target <= 5':52} {v['rss_idle'] / 1024:10.2f}")


if __name__ == "__main__":
    main()
