#!/usr/bin/python3
# vireo-test: needs-kvm
"""<interface type='user'><backend type='passt'/> through virtvireod with the
real vireo-vmm and the stub guest: no tap is made; the VMM starts passt, and
passt ends with the VM. The live XML and domiflist show the
interface. It works the same from a daemon without any privilege (nobody, as
a session daemon would run), which is what passt is for. More than one queue
is refused. Runs in a network namespace of its own, where a veth with a
default route gives passt an interface to copy."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from xml.etree import ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import (DAEMON, Daemon, Tap, VMM, STUB,  # noqa: E402
                               kvm_gid_for_nobody, need_real_vmm, vm_xml)

tap = Tap()
try:
    import libvirt
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
need_real_vmm(tap)
if os.geteuid() != 0:
    tap.skip_all("needs root (a network namespace, then a daemon as nobody)")
if not shutil.which("passt"):
    tap.skip_all("passt is not installed (Debian package passt)")
if not shutil.which("setpriv"):
    tap.skip_all("setpriv not found (util-linux)")
if not os.environ.get("VIREO_PASST_TEST_NS"):
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        tap.skip_all("cannot make a network namespace (unshare -n)")
    os.environ["VIREO_PASST_TEST_NS"] = "1"
    os.execvp("unshare", ["unshare", "-n", sys.executable, os.path.abspath(__file__)])

libvirt.registerErrorHandler(lambda ctx, err: None, None)
SCALE = 8 if os.environ.get("VIREO_IN_TESTHOST") else 1
MAC = "52:54:00:00:00:31"
IFACE = f"<interface type='user'><backend type='passt'/><mac address='{MAC}'/>" \
        "<model type='virtio'/></interface>"
PATH = os.environ.get("PATH", "") + ":/sbin:/usr/sbin"

for cmd in (["ip", "link", "set", "lo", "up"],
            ["ip", "link", "add", "vpasst0", "type", "veth", "peer", "name", "vpasst1"],
            ["ip", "addr", "add", "10.0.2.15/24", "dev", "vpasst0"],
            ["ip", "link", "set", "vpasst1", "up"], ["ip", "link", "set", "vpasst0", "up"],
            ["ip", "route", "add", "default", "via", "10.0.2.2", "dev", "vpasst0"]):
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PATH=PATH))
    if r.returncode != 0:
        tap.skip_all(f"cannot set up the namespace's network ({' '.join(cmd)}: {r.stderr.strip()})")

# /dev/kvm for nobody through a group, as Debian's kvm group gives it.
nobody = pwd.getpwnam("nobody")
kvm_gid = kvm_gid_for_nobody(tap)


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout * SCALE
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def status_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None


def passt_procs():
    """[(pid, uid)] of the passt processes serving a VMM (on an inherited
    socket, --fd). passt leaves its parent at once for a PID namespace of its
    own: it is found by name and command line, not as the VMM's child."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        s = status_of(p)
        if not s or not s["Name"].strip().startswith("passt") or s["State"].strip()[0] == "Z":
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"--fd" in argv:
            out.append((int(p), int(s["Uid"].split()[0])))
    return out


def alive(pid):
    s = status_of(pid)
    return s is not None and not s["State"].strip().startswith("Z")


def vmm_pid(run_dir, name):
    try:
        with open(os.path.join(run_dir, f"{name}.status")) as f:
            for line in f:
                if line.startswith("pid="):
                    return int(line[4:])
    except OSError:
        pass
    return None


def tap_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                n += any(line.startswith("iff:") for line in f)
        except OSError:
            pass
    return n


# The stub guest where nobody can read it.
work = tempfile.mkdtemp(prefix="vireo-passt-test.")
os.chmod(work, 0o755)
kernel = os.path.join(work, "stub.elf")
shutil.copyfile(STUB, kernel)
os.chmod(kernel, 0o644)

# ---- a system daemon (root) ----------------------------------------------------
d = Daemon(vmm=VMM)
try:
    tap.ok(d.start(), "daemon starts", d.log())
    conn = libvirt.open(d.uri)
    dom = conn.defineXML(vm_xml("p1", kernel, "stub.test=hang", IFACE))
    dom.create()
    pid = vmm_pid(d.run_dir, "p1")
    tap.ok(pid and wait_for(lambda: passt_procs(), 10), "the VMM started passt", d.log())
    kids = passt_procs()
    tap.ok(kids and all(uid == nobody.pw_uid for _, uid in kids),
           "passt dropped root for nobody, as it does", kids)
    tap.ok(tap_fds(pid) == 0, "no tap is made or handed to the VMM")
    live = ET.fromstring(dom.XMLDesc(0))
    ifaces = live.findall("./devices/interface")
    tap.ok(len(ifaces) == 1 and ifaces[0].get("type") == "user" and
           ifaces[0].find("backend") is not None and
           ifaces[0].find("backend").get("type") == "passt" and
           ifaces[0].find("mac").get("address") == MAC,
           "the live XML shows the passt interface with its MAC", dom.XMLDesc(0))
    r = subprocess.run(["virsh", "-c", d.uri, "domiflist", "p1"], capture_output=True,
                       text=True, timeout=60 * SCALE)
    tap.ok(r.returncode == 0 and any("user" in line and MAC in line
                                     for line in r.stdout.splitlines()),
           "virsh domiflist lists it as type user", r.stdout + r.stderr)
    dom.destroy()
    tap.ok(wait_for(lambda: not alive(pid) and not any(alive(k) for k, _ in kids), 10),
           "destroy ends the VMM and passt with it", kids)
    try:
        conn.defineXML(vm_xml("p2", kernel, "stub.test=hang",
                              IFACE.replace("<model", "<driver queues='2'/><model")))
        conn.lookupByName("p2").create()
        err = None
    except libvirt.libvirtError as e:
        err = e
    tap.ok(err is not None and err.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED and
           "passt serves one queue" in str(err),
           "<driver queues='2'> on passt: VIR_ERR_CONFIG_UNSUPPORTED naming the limit", err)
    conn.close()
finally:
    d.cleanup()

# ---- a daemon with no privilege at all ------------------------------------------
as_nobody = ["setpriv", "--reuid=nobody", f"--regid={kvm_gid}", "--clear-groups",
             "--inh-caps=-all"]
udir = tempfile.mkdtemp(prefix="vireo-passt-user.")
os.chmod(udir, 0o777)
uenv = dict(os.environ, HOME=udir, XDG_RUNTIME_DIR=udir, XDG_CONFIG_HOME=udir,
            XDG_CACHE_HOME=udir, VIREO_VMM=VMM)
usock = os.path.join(udir, "sock")
uuri = f"vireo+unix:///system?socket={usock}"
ud = subprocess.Popen(
    as_nobody + [DAEMON, "--socket", usock, "--config-dir", os.path.join(udir, "conf"),
                 "--run-dir", os.path.join(udir, "run"), "--log-dir", os.path.join(udir, "log")],
    env=uenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    wait_for(lambda: os.path.exists(usock), 5)
    with open(os.path.join(udir, "u.xml"), "w") as f:
        f.write(vm_xml("u1", kernel, "stub.test=hang", IFACE))
    r = subprocess.run(as_nobody + ["virsh", "-c", uuri, "create", os.path.join(udir, "u.xml")],
                       capture_output=True, text=True, env=uenv, timeout=60 * SCALE)
    tap.ok(r.returncode == 0, "an unprivileged daemon starts a passt domain", r.stderr)
    upid = vmm_pid(os.path.join(udir, "run"), "u1")
    tap.ok(upid and status_of(upid) and int(status_of(upid)["Uid"].split()[0]) == nobody.pw_uid
           and wait_for(lambda: passt_procs(), 10),
           "its VMM runs as nobody and started passt", upid)
    ukids = passt_procs()
    r = subprocess.run(as_nobody + ["virsh", "-c", uuri, "destroy", "u1"], capture_output=True,
                       text=True, env=uenv, timeout=60 * SCALE)
    tap.ok(r.returncode == 0 and wait_for(
        lambda: not alive(upid) and not any(alive(k) for k, _ in ukids), 10),
        "destroy ends both", r.stderr)
finally:
    ud.kill()
    ud.wait()
    shutil.rmtree(udir, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
tap.done()
