"""The lifecycle of domains through virtvireod, with python-libvirt and
virsh: start (also paused, transient, failing), states and reasons,
dominfo/domid, console streams, suspend/resume, reboot, shutdown, destroy,
guest poweroff and crashes with their on_* actions, events in order,
kill -9 of a VMM, and a daemon killed and restarted with VMs running.

Run by lifecycle-test.py with the real vireo-vmm and the stub guest. A
profile says what the guest does with each command line."""
import os
import signal
import subprocess
import threading
import time

import libvirt

from vireo_driver_test import Daemon, vm_xml

D = libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()


# Inside the test host (an emulated machine) everything takes longer.
SCALE = 8 if os.environ.get("VIREO_IN_TESTHOST") else 1


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout * SCALE
    while time.time() < end:
        try:
            if pred():
                return True
        except libvirt.libvirtError:
            pass
        time.sleep(0.05)
    return pred()


def error_of(fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        return e
    return None


def state(dom):
    return tuple(dom.state())


class Events:
    """Lifecycle events of one connection, as (name, event, detail)."""

    def __init__(self, conn):
        self.got = []
        self.lock = threading.Lock()
        self.id = conn.domainEventRegisterAny(None, D.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._cb,
                                              None)

    def _cb(self, conn, dom, event, detail, opaque):
        with self.lock:
            self.got.append((dom.name(), event, detail))

    def of(self, name):
        with self.lock:
            return [(e, d) for n, e, d in self.got if n == name]

    def wait(self, name, want, timeout=10.0):
        """True when the events of `name` end with `want`, in order."""
        ok = wait_for(lambda: self.of(name)[-len(want):] == want, timeout)
        return ok


class Console:
    """A console stream of python-libvirt, collecting what arrives."""

    def __init__(self, conn, dom, flags=0):
        self.st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        self.data = b""
        self.eof = False
        self.error = None
        dom.openConsole(None, self.st, flags)
        self.st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE |
                                 libvirt.VIR_STREAM_EVENT_ERROR |
                                 libvirt.VIR_STREAM_EVENT_HANGUP, self._cb, None)

    def _cb(self, st, events, opaque):
        try:
            while True:
                got = st.recv(65536)
                if got == -2:
                    return
                if not got:
                    self.eof = True
                    st.eventRemoveCallback()
                    return
                self.data += got
        except libvirt.libvirtError as e:
            self.error = e
            try:
                st.eventRemoveCallback()
            except libvirt.libvirtError:
                pass

    def send(self, data):
        self.st.send(data)

    def has(self, text, timeout=10.0):
        return wait_for(lambda: text.encode() in self.data, timeout)

    def finish(self):
        try:
            self.st.finish()
        except libvirt.libvirtError:
            pass


def vmm_pid(d, name):
    """The pid in a running domain's status file."""
    with open(os.path.join(d.run_dir, name + ".status")) as f:
        for line in f:
            if line.startswith("pid="):
                return int(line[4:])
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run(tap, vmm, kernel, profile):
    """profile: dict with cmdline_run (a guest that keeps running, idle),
    cmdline_interactive (keeps running, echoes console input as
    "echo:<line>" and obeys the power button; prints banner at boot),
    cmdline_poweroff (powers off at once), cmdline_crash (the VMM exits
    non-zero, or None), cmdline_error (the VM stops on an error, or None),
    cmdline_panic (the guest reports a panic, or None), kernel_fail (a file
    the VMM refuses as a kernel, with fail_text in its error, or None)."""
    d = Daemon(vmm=vmm)
    p = profile
    try:
        tap.ok(d.start(), "daemon starts", d.log())
        conn = libvirt.open(d.uri)
        ev = Events(conn)

        # ---- start, state, info ----
        dom = conn.defineXML(vm_xml("vm1", kernel, p["cmdline_interactive"]))
        t0 = time.time()
        dom.create()
        tap.ok(state(dom) == (D.VIR_DOMAIN_RUNNING, D.VIR_DOMAIN_RUNNING_BOOTED),
               "start: running (booted)", state(dom))
        tap.ok(ev.wait("vm1", [(D.VIR_DOMAIN_EVENT_DEFINED, D.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                               (D.VIR_DOMAIN_EVENT_STARTED, D.VIR_DOMAIN_EVENT_STARTED_BOOTED)]),
               "events: defined, started (booted)", ev.of("vm1"))
        tap.ok(dom.ID() == 1 and conn.lookupByID(1).name() == "vm1", "domid 1, lookupByID")
        info = dom.info()
        tap.ok(info[0] == D.VIR_DOMAIN_RUNNING and info[1] == 65536 and info[3] == 1,
               "info: running, 64 MiB, 1 vCPU", info)
        pid = vmm_pid(d, "vm1")
        tap.ok(pid and alive(pid), "status file names a live VMM process", pid)
        xml = dom.XMLDesc(0)
        tap.ok("id='1'" in xml and "<source path='/dev/pts/" in xml,
               "live XML has the id and the pty path", xml)
        tap.ok("/dev/pts/" not in dom.XMLDesc(D.VIR_DOMAIN_XML_INACTIVE),
               "inactive XML has no pty")
        out = subprocess.run(["virsh", "-c", d.uri, "domstate", "--reason", "vm1"],
                             capture_output=True, text=True).stdout.strip()
        tap.ok(out == "running (booted)", "virsh domstate --reason", out)
        out = subprocess.run(["virsh", "-c", d.uri, "dominfo", "vm1"],
                             capture_output=True, text=True).stdout
        tap.ok("State:          running" in out and "CPU time:" in out, "virsh dominfo", out)
        tap.ok(error_of(dom.create).get_error_code() == D.VIR_ERR_OPERATION_INVALID,
               "starting a running domain: VIR_ERR_OPERATION_INVALID")

        # ---- console ----
        con = Console(conn, dom)
        tap.ok(con.has(p["banner"]), "console shows the guest's boot output", con.data[-300:])
        con.send(b"hello vireo\r")
        tap.ok(con.has("echo:hello vireo"), "console input reaches the guest", con.data[-300:])
        e = error_of(Console, conn, dom)
        tap.ok(e is not None and e.get_error_code() == D.VIR_ERR_OPERATION_FAILED and
               "Active console session" in str(e), "second console without --force refused",
               e)
        con2 = Console(conn, dom, D.VIR_DOMAIN_CONSOLE_FORCE)
        tap.ok(wait_for(lambda: con.error is not None or con.eof),
               "--force takes the console over: the first stream ends",
               (con.error, con.eof))
        con2.send(b"again\r")
        tap.ok(con2.has("echo:again"), "the new console works")
        con2.finish()
        con3 = Console(conn, dom)
        tap.ok(con3.error is None, "a console opens again after finish")

        # ---- suspend / resume / live changes / reboot ----
        dom.suspend()
        tap.ok(state(dom) == (D.VIR_DOMAIN_PAUSED, D.VIR_DOMAIN_PAUSED_USER),
               "suspend: paused (user)", state(dom))
        dom.resume()
        tap.ok(state(dom) == (D.VIR_DOMAIN_RUNNING, D.VIR_DOMAIN_RUNNING_UNPAUSED),
               "resume: running (unpaused)", state(dom))
        tap.ok(ev.wait("vm1", [(D.VIR_DOMAIN_EVENT_SUSPENDED, D.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
                               (D.VIR_DOMAIN_EVENT_RESUMED, D.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)]),
               "events: suspended (paused), resumed (unpaused)", ev.of("vm1"))
        e = error_of(dom.setVcpusFlags, 2, D.VIR_DOMAIN_AFFECT_LIVE)
        tap.ok(e and e.get_error_code() == D.VIR_ERR_OPERATION_UNSUPPORTED,
               "setvcpus --live: VIR_ERR_OPERATION_UNSUPPORTED", e)
        e = error_of(dom.setMemoryFlags, 32768, D.VIR_DOMAIN_AFFECT_LIVE)
        tap.ok(e and e.get_error_code() == D.VIR_ERR_OPERATION_UNSUPPORTED,
               "setmem --live: VIR_ERR_OPERATION_UNSUPPORTED", e)
        reboots = []
        rid = conn.domainEventRegisterAny(dom, D.VIR_DOMAIN_EVENT_ID_REBOOT,
                                          lambda c, dm, o: reboots.append(dm.name()), None)
        dom.reboot(0)
        tap.ok(wait_for(lambda: reboots == ["vm1"]), "reboot: a reboot event", reboots)
        conn.domainEventDeregisterAny(rid)
        tap.ok(state(dom)[0] == D.VIR_DOMAIN_RUNNING and alive(pid),
               "reboot: still running, same VMM", state(dom))

        # ---- shutdown (power button) ----
        dom.shutdown()
        tap.ok(wait_for(lambda: state(dom) == (D.VIR_DOMAIN_SHUTOFF,
                                               D.VIR_DOMAIN_SHUTOFF_SHUTDOWN), 20),
               "shutdown: shut off (shutdown)", state(dom))
        tap.ok(ev.wait("vm1", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                D.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]),
               "event: stopped (shutdown)", ev.of("vm1"))
        tap.ok(wait_for(lambda: con3.eof or con3.error is not None),
               "the console stream ends when the VMM exits")
        tap.ok(conn.lookupByName("vm1").ID() == -1 and not wait_for(lambda: alive(pid), 0.5),
               "id -1 and the VMM is gone")

        # ---- start --paused, destroy ----
        dom.createWithFlags(D.VIR_DOMAIN_START_PAUSED)
        tap.ok(state(dom) == (D.VIR_DOMAIN_PAUSED, D.VIR_DOMAIN_PAUSED_USER),
               "start --paused: paused (user)", state(dom))
        tap.ok(ev.wait("vm1", [(D.VIR_DOMAIN_EVENT_STARTED, D.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                               (D.VIR_DOMAIN_EVENT_SUSPENDED,
                                D.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)]),
               "events: started, suspended", ev.of("vm1"))
        pid = vmm_pid(d, "vm1")
        dom.destroy()
        tap.ok(state(dom) == (D.VIR_DOMAIN_SHUTOFF, D.VIR_DOMAIN_SHUTOFF_DESTROYED),
               "destroy: shut off (destroyed)", state(dom))
        tap.ok(ev.wait("vm1", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                D.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]),
               "event: stopped (destroyed)", ev.of("vm1"))
        tap.ok(not alive(pid) and os.listdir(d.run_dir) == [],
               "destroy leaves no process and no files", os.listdir(d.run_dir))
        tap.ok(error_of(dom.destroy).get_error_code() == D.VIR_ERR_OPERATION_INVALID,
               "destroying a stopped domain: VIR_ERR_OPERATION_INVALID")
        dom.setVcpusFlags(2, D.VIR_DOMAIN_AFFECT_CONFIG | D.VIR_DOMAIN_VCPU_MAXIMUM)
        dom.setVcpusFlags(2, D.VIR_DOMAIN_AFFECT_CONFIG)
        dom.setMemoryFlags(32768, D.VIR_DOMAIN_AFFECT_CONFIG)
        i = dom.info()
        tap.ok(i[3] == 2 and i[2] == 32768 and i[1] == 65536,
               "setvcpus --config, setmem --config change the definition", i)
        e = error_of(dom.setVcpusFlags, 3, D.VIR_DOMAIN_AFFECT_CONFIG)
        tap.ok(e and e.get_error_code() == D.VIR_ERR_INVALID_ARG, "more vCPUs than the maximum",
               e)

        # ---- transient ----
        t = conn.createXML(vm_xml("tr1", kernel, p["cmdline_run"]), 0)
        tap.ok(t.isActive() and not t.isPersistent() and
               "tr1" in [x.name() for x in conn.listAllDomains(
                   D.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)],
               "create (transient): running, listed as transient")
        t.destroy()
        tap.ok(error_of(conn.lookupByName, "tr1").get_error_code() == D.VIR_ERR_NO_DOMAIN,
               "a destroyed transient domain is gone")

        # ---- create over a defined domain ----
        over = conn.createXML(vm_xml("vm1", kernel, p["cmdline_run"] + " once",
                                     uuid=dom.UUIDString()), 0)
        tap.ok(over.isActive() and over.isPersistent() and " once" in over.XMLDesc(0) and
               " once" not in over.XMLDesc(D.VIR_DOMAIN_XML_INACTIVE),
               "create over a defined domain runs the new XML for this run only")
        e = error_of(conn.createXML, vm_xml("vm1", kernel, p["cmdline_run"]), 0)
        tap.ok(e and e.get_error_code() == D.VIR_ERR_OPERATION_FAILED,
               "create with a running domain's name is refused", e)
        over.destroy()

        # ---- failures ----
        bad = conn.defineXML(vm_xml("bad1", "/nonexistent/vmlinuz", p["cmdline_run"]))
        e = error_of(bad.create)
        tap.ok(e and "/nonexistent/vmlinuz" in str(e), "missing kernel: the error names it", e)
        tap.ok(os.listdir(d.run_dir) == [] and bad.state()[0] == D.VIR_DOMAIN_SHUTOFF,
               "the failed start leaves nothing behind", os.listdir(d.run_dir))
        if p.get("kernel_fail"):
            bad2 = conn.defineXML(vm_xml("bad2", p["kernel_fail"], p["cmdline_run"]))
            e = error_of(bad2.create)
            tap.ok(e and p["fail_text"] in str(e) and "bad2.log" in str(e),
                   "a VMM error is reported with its text and the log", e)
            children = subprocess.run(["ps", "--ppid", str(d.proc.pid), "-o", "pid="],
                                      capture_output=True, text=True).stdout.split()
            tap.ok(os.listdir(d.run_dir) == [] and children == [],
                   "the failed VMM is gone and its files too",
                   (os.listdir(d.run_dir), children))

        # ---- the guest powers off by itself ----
        g = conn.defineXML(vm_xml("off1", kernel, p["cmdline_poweroff"]))
        g.create()
        tap.ok(wait_for(lambda: state(g) == (D.VIR_DOMAIN_SHUTOFF,
                                             D.VIR_DOMAIN_SHUTOFF_SHUTDOWN), 20),
               "guest poweroff: shut off (shutdown)", state(g))
        tap.ok(ev.wait("off1", [(D.VIR_DOMAIN_EVENT_STARTED, D.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                                (D.VIR_DOMAIN_EVENT_STOPPED,
                                 D.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]),
               "events: started, stopped (shutdown)", ev.of("off1"))
        r = conn.defineXML(vm_xml("off2", kernel, p["cmdline_poweroff"],
                                  on={"poweroff": "restart"}))
        r.create()
        tap.ok(wait_for(lambda: len([x for x in ev.of("off2")
                                     if x[0] == D.VIR_DOMAIN_EVENT_STARTED]) >= 2, 20),
               "on_poweroff=restart starts it again", ev.of("off2"))
        r.destroy()

        # ---- crashes ----
        if p.get("cmdline_crash"):
            c = conn.defineXML(vm_xml("crash1", kernel, p["cmdline_crash"]))
            c.create()
            tap.ok(wait_for(lambda: state(c) == (D.VIR_DOMAIN_SHUTOFF,
                                                 D.VIR_DOMAIN_SHUTOFF_CRASHED), 20),
                   "the VMM fails: shut off (crashed)", state(c))
            tap.ok(ev.wait("crash1", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                       D.VIR_DOMAIN_EVENT_STOPPED_FAILED)]),
                   "event: stopped (failed), as libvirt reports an emulator failure",
                   ev.of("crash1"))
        if p.get("cmdline_error"):
            ce = conn.defineXML(vm_xml("crash2", kernel, p["cmdline_error"]))
            ce.create()
            tap.ok(wait_for(lambda: state(ce) == (D.VIR_DOMAIN_SHUTOFF,
                                                  D.VIR_DOMAIN_SHUTOFF_CRASHED), 20),
                   "the VM stops on an error: shut off (crashed)", state(ce))
            tap.ok(ev.wait("crash2", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                       D.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]),
                   "event: stopped (crashed)", ev.of("crash2"))
        if p.get("cmdline_panic"):
            pc = conn.defineXML(vm_xml("panic1", kernel, p["cmdline_panic"]))
            pc.create()
            tap.ok(ev.wait("panic1", [(D.VIR_DOMAIN_EVENT_CRASHED,
                                       D.VIR_DOMAIN_EVENT_CRASHED_PANICKED),
                                      (D.VIR_DOMAIN_EVENT_STOPPED,
                                       D.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]),
                   "guest panic: crashed (panicked), stopped (crashed)", ev.of("panic1"))

        # ---- kill -9 of a VMM ----
        k = conn.defineXML(vm_xml("kill1", kernel, p["cmdline_run"]))
        k.create()
        kpid = vmm_pid(d, "kill1")
        t0 = time.time()
        os.kill(kpid, signal.SIGKILL)
        tap.ok(wait_for(lambda: state(k) == (D.VIR_DOMAIN_SHUTOFF,
                                             D.VIR_DOMAIN_SHUTOFF_CRASHED), 5) and
               time.time() - t0 < 1.5 * SCALE,
               "kill -9 of the VMM: shut off (crashed) within a second (a query's time "
               "included; x%d in the test host)" % SCALE, (state(k), time.time() - t0))
        tap.ok(ev.wait("kill1", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                  D.VIR_DOMAIN_EVENT_STOPPED_FAILED)]),
               "event: stopped (failed)", ev.of("kill1"))
        crash_restart = conn.defineXML(vm_xml("kill2", kernel, p["cmdline_run"],
                                              on={"crash": "restart"}))
        crash_restart.create()
        pid1 = vmm_pid(d, "kill2")
        os.kill(pid1, signal.SIGKILL)
        tap.ok(wait_for(lambda: crash_restart.isActive() and vmm_pid(d, "kill2") != pid1,
                        10), "on_crash=restart: a new VMM after kill -9")
        crash_restart.destroy()

        # ---- undefine a running domain: it becomes transient ----
        u = conn.defineXML(vm_xml("und1", kernel, p["cmdline_run"]))
        u.create()
        u.undefine()
        tap.ok(u.isActive() and not u.isPersistent(),
               "undefine while running: now transient")
        u.destroy()
        tap.ok(error_of(conn.lookupByName, "und1") is not None,
               "... and gone once destroyed")

        # ---- the daemon dies with VMs running ----
        a = conn.defineXML(vm_xml("keep-a", kernel, p["cmdline_interactive"]))
        a.create()
        b = conn.createXML(vm_xml("keep-b", kernel, p["cmdline_run"]), 0)
        dead = conn.defineXML(vm_xml("keep-dead", kernel, p["cmdline_run"]))
        dead.create()
        auto = conn.defineXML(vm_xml("auto1", kernel, p["cmdline_run"]))
        auto.setAutostart(1)
        ids = {n: conn.lookupByName(n).ID() for n in ("keep-a", "keep-b", "keep-dead")}
        pids = {n: vmm_pid(d, n) for n in ids}
        conn.close()
        d.kill()
        os.kill(pids["keep-dead"], signal.SIGKILL)
        tap.ok(alive(pids["keep-a"]) and alive(pids["keep-b"]),
               "VMMs outlive a daemon killed with SIGKILL")
        time.sleep(0.2)
        tap.ok(d.start(), "daemon restarts", d.log())
        conn = libvirt.open(d.uri)
        ev = Events(conn)
        running = sorted(x.name() for x in conn.listAllDomains(D.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        tap.ok(running == ["auto1", "keep-a", "keep-b"],
               "after the restart: both VMs still running (and the autostart one started)",
               running)
        a = conn.lookupByName("keep-a")
        b = conn.lookupByName("keep-b")
        tap.ok(a.ID() == ids["keep-a"] and b.ID() == ids["keep-b"] and not b.isPersistent(),
               "same ids; the transient one is still transient")
        tap.ok(vmm_pid(d, "keep-a") == pids["keep-a"], "the same VMM process")
        dd = conn.lookupByName("keep-dead")
        tap.ok(state(dd) == (D.VIR_DOMAIN_SHUTOFF, D.VIR_DOMAIN_SHUTOFF_CRASHED),
               "a VMM that died meanwhile: shut off (crashed)", state(dd))
        a.suspend()
        tap.ok(state(a) == (D.VIR_DOMAIN_PAUSED, D.VIR_DOMAIN_PAUSED_USER),
               "the reattached VM is controllable (suspend)")
        a.resume()
        con = Console(conn, b)
        tap.ok(con.error is None, "the console of a reattached VM opens")
        con.finish()
        os.kill(pids["keep-b"], signal.SIGKILL)
        tap.ok(wait_for(lambda: error_of(conn.lookupByName, "keep-b") is not None, 5),
               "kill -9 after the restart is noticed (pidfd): the transient one is gone")
        tap.ok(ev.wait("keep-b", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                   D.VIR_DOMAIN_EVENT_STOPPED_FAILED)]),
               "... with a stopped (failed) event", ev.of("keep-b"))
        a.shutdown()
        tap.ok(ev.wait("keep-a", [(D.VIR_DOMAIN_EVENT_STOPPED,
                                   D.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)], 20),
               "events of a reattached VMM arrive (guest shutdown)", ev.of("keep-a"))

        # ---- a clean daemon stop leaves VMMs running ----
        apid = vmm_pid(d, "auto1")
        conn.close()
        tap.ok(d.stop() and alive(apid), "SIGTERM to the daemon leaves the VMM running")
        tap.ok(d.start(), "daemon starts again")
        conn = libvirt.open(d.uri)
        auto = conn.lookupByName("auto1")
        tap.ok(auto.isActive() and vmm_pid(d, "auto1") == apid,
               "the autostart domain is not started twice")
        auto.destroy()
        tap.ok(not alive(apid) and os.listdir(d.run_dir) == [],
               "everything stopped, nothing left in the run dir", os.listdir(d.run_dir))
        conn.close()
        tap.ok(d.stop(), "daemon stops cleanly")
    finally:
        # no VMM may outlive the test
        for f in os.listdir(d.run_dir) if os.path.isdir(d.run_dir) else []:
            if f.endswith(".status"):
                pid = vmm_pid(d, f[:-7])
                if pid and alive(pid):
                    os.kill(pid, signal.SIGKILL)
        if tap.failed:
            print("# daemon log (tail):")
            for line in d.log().splitlines()[-40:]:
                print("# " + line)
        d.cleanup()
