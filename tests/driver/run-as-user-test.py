#!/usr/bin/python3
# vireo-test: needs-kvm
"""vireo.conf's user= and group=: the system daemon runs the VMM as that
user (nobody, in the group that owns /dev/kvm, as a distribution's kvm
group is), also on taps the daemon made for it; a bad vireo.conf stops the
daemon with a message naming it."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import (Daemon, Tap, VMM, STUB, kvm_gid_for_nobody,  # noqa: E402
                               need_real_vmm, vm_xml)

tap = Tap()
try:
    import libvirt
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
need_real_vmm(tap)
if os.geteuid() != 0:
    tap.skip_all("needs root (a system daemon switching users)")
try:
    import pwd
    import grp
    nobody = pwd.getpwnam("nobody")
except KeyError:
    tap.skip_all("no user nobody")

# The VMM opens /dev/kvm as nobody through a group, as Debian's kvm group does.
kvm_gid = kvm_gid_for_nobody(tap)
kvm_group = grp.getgrgid(kvm_gid).gr_name

libvirt.registerErrorHandler(lambda ctx, err: None, None)
# The VMM must reach its binary and the kernel as nobody.
work = tempfile.mkdtemp(prefix="vireo-run-as.")
os.chmod(work, 0o755)
kernel = os.path.join(work, "stub.elf")
shutil.copyfile(STUB, kernel)
os.chmod(kernel, 0o644)
d = Daemon(vmm=VMM)
try:
    conf = os.path.join(d.dir, "conf")
    os.makedirs(conf)
    with open(os.path.join(conf, "vireo.conf"), "w") as f:
        f.write(f'# who runs the VMMs\nuser = "nobody"\ngroup = "{kvm_group}"\n')
    tap.ok(d.start(), "daemon starts with user= and group=", d.log())
    conn = libvirt.open(d.uri)
    dom = conn.defineXML(vm_xml("u1", kernel, "stub.test=hang"))
    dom.create()
    pid = None
    with open(os.path.join(d.run_dir, "u1.status")) as f:
        for line in f:
            if line.startswith("pid="):
                pid = int(line[4:])
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    uid = [x for x in status.splitlines() if x.startswith("Uid:")][0].split()[1:]
    gid = [x for x in status.splitlines() if x.startswith("Gid:")][0].split()[1:]
    tap.ok(set(uid) == {str(nobody.pw_uid)} and set(gid) == {str(kvm_gid)},
           f"the VMM runs as nobody:{kvm_group}", (uid, gid))
    tap.ok(dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and "/dev/pts/" in dom.XMLDesc(0),
           "and works through its inherited socket and FIFO")
    tap.ok(os.stat(os.path.join(d.log_dir, "u1.log")).st_uid == nobody.pw_uid,
           "its log belongs to it")
    dom.destroy()
    # The daemon makes the taps; the VMM, without CAP_NET_ADMIN, runs on
    # the fds it inherits.
    if os.path.exists("/dev/net/tun"):
        net = conn.defineXML(vm_xml("u2", kernel, "stub.test=hang",
                                    "<interface type='ethernet'><target dev='vt-user0'/>"
                                    "<driver queues='2'/></interface>"))
        err = None
        try:
            net.create()
        except libvirt.libvirtError as e:
            err = e
        tap.ok(err is None and net.state()[0] == libvirt.VIR_DOMAIN_RUNNING and
               os.path.exists("/sys/class/net/vt-user0"),
               "a VMM running as nobody runs on the taps the daemon made", err)
        if err is None:
            net.destroy()
        tap.ok(not os.path.exists("/sys/class/net/vt-user0"), "the tap goes with it")
    conn.close()
    tap.ok(d.stop(), "daemon stops")

    with open(os.path.join(conf, "vireo.conf"), "w") as f:
        f.write('user = "no-such-user-here"\n')
    tap.ok(not d.start() and "no-such-user-here" in d.log() and "vireo.conf" in d.log(),
           "an unknown user stops the daemon with a message", d.log()[-500:])
    with open(os.path.join(conf, "vireo.conf"), "w") as f:
        f.write('user "nobody"\n')
    tap.ok(not d.start() and "expected key = value" in d.log(), "a syntax error too",
           d.log()[-500:])
finally:
    d.cleanup()
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)
tap.done()
