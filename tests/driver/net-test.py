#!/usr/bin/python3
# vireo-test: needs-kvm
"""Network interfaces through virtvireod with the real vireo-vmm and the stub
guest: the daemon makes a tap per <interface> (ethernet, bridge, and a
network that vireo.conf maps to a bridge), hands its fds to the VMM and keeps
none; the taps have the MTU, bridge, queues and MAC asked for; domiflist,
domifstat and the live XML show them (and the bridge a network resolved to,
which the definition leaves out); they are gone after destroy and after
a kill -9 of the VMM. A missing bridge, an unknown network and a multiqueue
passt interface are refused naming them, leaving no tap behind (passt itself:
passt-test.py)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from xml.etree import ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import (DAEMON, Daemon, Tap, VMM, STUB, need_real_vmm,  # noqa: E402
                               vm_xml)

tap = Tap()
try:
    import libvirt
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
need_real_vmm(tap)
if os.geteuid() != 0:
    tap.skip_all("needs root (creates taps and a bridge)")
if not os.path.exists("/dev/net/tun"):
    tap.skip_all("no /dev/net/tun")

D = libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
SCALE = 8 if os.environ.get("VIREO_IN_TESTHOST") else 1
BRIDGE = "vbr-test"
SYS = "/sys/class/net"
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x4000, 0x0100


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout * SCALE
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def sysfs(dev, attr):
    try:
        with open(os.path.join(SYS, dev, attr)) as f:
            return f.read().strip()
    except OSError:
        return None


def exists(dev):
    return os.path.exists(os.path.join(SYS, dev))


def master(dev):
    link = os.path.join(SYS, dev, "master")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def vnets():
    return sorted(n for n in os.listdir(SYS) if n.startswith("vnet"))


def tap_fds(pid):
    """{tap name: number of fds} that process pid holds."""
    out = {}
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("iff:"):
                        name = line.split()[1]
                        out[name] = out.get(name, 0) + 1
        except OSError:
            pass
    return out


def vmm_pid(d, name):
    with open(os.path.join(d.run_dir, f"{name}.status")) as f:
        for line in f:
            if line.startswith("pid="):
                return int(line[4:])
    return None


def virsh(d, *args):
    return subprocess.run(["virsh", "-c", d.uri, *args], capture_output=True, text=True,
                          timeout=60 * SCALE)


def error_of(fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        return e
    return None


def sources(desc):
    """[(network, bridge)] of the <source> of each interface of a domain XML."""
    out = []
    for i in ET.fromstring(desc).findall("./devices/interface"):
        s = i.find("source")
        out.append((s.get("network"), s.get("bridge")) if s is not None else (None, None))
    return out


def targets(desc):
    """[(alias, tap, mac)] of the interfaces of a domain XML, in order."""
    out = []
    for i in ET.fromstring(desc).findall("./devices/interface"):
        t, a, m = i.find("target"), i.find("alias"), i.find("mac")
        out.append((a.get("name") if a is not None else None,
                    t.get("dev") if t is not None else None,
                    m.get("address") if m is not None else None))
    return out


NETS = f"""
<interface type='ethernet'><model type='virtio'/><mtu size='1400'/></interface>
<interface type='bridge'><source bridge='{BRIDGE}'/><model type='virtio'/>
  <driver queues='2'/></interface>
<interface type='network'><source network='testnet'/><model type='virtio'/>
  <mac address='52:54:00:77:00:03'/></interface>
<interface type='ethernet'><target dev='vt-named0'/><model type='virtio'/></interface>
"""

subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
subprocess.run(["ip", "link", "add", "name", BRIDGE, "type", "bridge"], check=True)
subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
d = Daemon(vmm=VMM)
before = vnets()
try:
    conf = os.path.join(d.dir, "conf")
    os.makedirs(conf)
    with open(os.path.join(conf, "vireo.conf"), "w") as f:
        f.write(f'network.testnet = "{BRIDGE}"\n')
    tap.ok(d.start(), "daemon starts with a network in vireo.conf", d.log())
    conn = libvirt.open(d.uri)

    # ---- start: one tap per interface, owned by the VMM ----
    dom = conn.defineXML(vm_xml("net1", STUB, "stub.test=hang", NETS))
    defined_macs = [m for _, _, m in targets(dom.XMLDesc(D.VIR_DOMAIN_XML_INACTIVE))]
    e = error_of(dom.create)
    tap.ok(e is None and dom.state()[0] == D.VIR_DOMAIN_RUNNING,
           "a domain with ethernet, bridge and network interfaces starts",
           f"{e}\n{d.log()[-1500:]}")
    live = targets(dom.XMLDesc(0)) if e is None else []
    names = [t for _, t, _ in live]
    tap.ok([a for a, _, _ in live] == ["net0", "net1", "net2", "net3"],
           "the live XML gives the aliases net0..net3", live)
    tap.ok(len(names) == 4 and all(n and n.startswith("vnet") for n in names[:3]) and
           names[3] == "vt-named0" and len(set(names)) == 4,
           "and the taps: vnetN picked by the daemon, <target dev> when given", names)
    tap.ok(all(exists(n) for n in names if n), "the taps exist on the host", names)
    eth, br, netw, named = (names + [None] * 4)[:4]
    tap.ok(sysfs(eth, "mtu") == "1400", "<mtu size='1400'> is the tap's MTU", sysfs(eth, "mtu"))
    tap.ok(master(br) == BRIDGE and master(netw) == BRIDGE and master(eth) is None,
           f"the bridge and network taps are ports of {BRIDGE}, the ethernet one is not",
           (master(br), master(netw), master(eth)))
    tap.ok(sysfs(br, "mtu") == sysfs(BRIDGE, "mtu"), "a bridge port takes the bridge's MTU")
    flags = [int(sysfs(n, "tun_flags") or "0", 16) for n in (eth, br)]
    want = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
    tap.ok(flags[0] & (want | IFF_MULTI_QUEUE) == want and
           flags[1] & (want | IFF_MULTI_QUEUE) == want | IFF_MULTI_QUEUE,
           "taps have IFF_VNET_HDR; <driver queues='2'> makes a multi-queue one",
           [hex(f) for f in flags])
    tap.ok(sysfs(eth, "operstate") in ("up", "unknown") and
           int(sysfs(eth, "flags") or "0", 16) & 1, "the taps are up", sysfs(eth, "flags"))
    tap.ok(sysfs(netw, "address") == "fe:54:00:77:00:03",
           "the host side has the guest's MAC with fe first, as libvirt's taps",
           sysfs(netw, "address"))
    tap.ok([m for _, _, m in live] == defined_macs and all(
        m and m.startswith("52:54:00:") for m in defined_macs),
        "generated MACs (52:54:00:...) are kept in the definition and the live XML",
        (defined_macs, live))
    pid = vmm_pid(d, "net1")
    held = tap_fds(pid) if pid else {}
    tap.ok(held == {eth: 1, br: 2, netw: 1, named: 1},
           "the VMM holds the taps' fds, one per queue pair", held)
    tap.ok(tap_fds(d.proc.pid) == {}, "the daemon keeps none of them", tap_fds(d.proc.pid))
    inactive = dom.XMLDesc(D.VIR_DOMAIN_XML_INACTIVE)
    tap.ok("vnet" not in inactive and "vt-named0" in inactive,
           "the definition keeps a given <target dev>, not a vnetN", inactive)
    src = sources(dom.XMLDesc(0))
    tap.ok(src[1:3] == [(None, BRIDGE), ("testnet", BRIDGE)],
           "the live XML names the bridge the network resolved to, as libvirt's: "
           f"<source network='testnet' bridge='{BRIDGE}'/>", src)
    src = sources(inactive)
    tap.ok(src[1:3] == [(None, BRIDGE), ("testnet", None)],
           "the definition does not: <source network='testnet'/>", src)
    r = virsh(d, "dumpxml", "net1")
    ri = virsh(d, "dumpxml", "--inactive", "net1")
    tap.ok(r.returncode == 0 and f"<source network='testnet' bridge='{BRIDGE}'/>" in r.stdout and
           f"<target dev='{netw}'/>" in r.stdout and ri.returncode == 0 and
           "<source network='testnet'/>" in ri.stdout,
           "virsh dumpxml shows the bridge and tap, dumpxml --inactive neither",
           r.stdout + r.stderr + ri.stdout + ri.stderr)

    # ---- domiflist, domifstat ----
    r = virsh(d, "domiflist", "net1")
    rows = [ln.split() for ln in r.stdout.splitlines()[2:] if ln.strip()]
    tap.ok(r.returncode == 0 and [x[0] for x in rows] == names and
           [x[1] for x in rows] == ["ethernet", "bridge", "network", "ethernet"] and
           rows[1][2] == BRIDGE and rows[2][2] == "testnet" and rows[0][3] == "virtio",
           "virsh domiflist lists the taps, types, sources and models", r.stdout + r.stderr)
    # The host sends frames into the tap (a local experimental ethertype)
    # until its ring (tx_queue_len) overflows. A tap counts a frame as sent
    # when its reader takes it and as dropped when the ring is full; the
    # stub guest reads none, so 100 are dropped. Either way the guest's rx
    # (packets + drops) is the host's tx.
    qlen = int(sysfs(eth, "tx_queue_len") or "1000")
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((eth, 0))
        for _ in range(qlen + 100):
            try:
                raw.send(b"\xff" * 6 + bytes.fromhex("fe5400000001") + b"\x88\xb5" +
                         b"vireo" * 10)
            except OSError:
                pass
    keys = ("tx_packets", "tx_dropped", "rx_packets", "rx_dropped")

    def host():
        return [int(sysfs(eth, f"statistics/{k}")) for k in keys]

    h0 = host()
    st = dom.interfaceStats(eth)
    h1 = host()
    # interfaceStats: rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, ...
    guest = (st[1], st[3], st[5], st[7])
    tap.ok(len(st) == 8 and all(lo <= g <= hi for lo, g, hi in zip(h0, guest, h1)) and
           st[1] + st[3] >= 100,
           "interfaceStats: the host's tx is the guest's rx, and the reverse", (st, h0, h1))
    r = virsh(d, "domifstat", "net1", eth)
    tap.ok(r.returncode == 0 and f"{eth} rx_bytes" in r.stdout and f"{eth} tx_drop" in r.stdout,
           "virsh domifstat DOMAIN vnetN", r.stdout + r.stderr)
    st2 = dom.interfaceStats(live[2][2])
    tap.ok(len(st2) == 8, "a MAC address names an interface too")
    e = error_of(dom.interfaceStats, "nosuch0")
    tap.ok(e is not None and e.get_error_code() == D.VIR_ERR_INVALID_ARG and
           "'nosuch0'" in str(e), "an unknown interface is VIR_ERR_INVALID_ARG naming it", e)
    r = virsh(d, "domifstat", "net1", "nosuch0")
    tap.ok(r.returncode != 0 and "nosuch0" in r.stderr, "virsh says so too", r.stderr)

    # ---- a daemon restart keeps it all ----
    d.stop()
    tap.ok(d.start(), "daemon restarts", d.log())
    conn = libvirt.open(d.uri)
    dom = conn.lookupByName("net1")
    tap.ok([t for _, t, _ in targets(dom.XMLDesc(0))] == names and
           error_of(dom.interfaceStats, br) is None and exists(br),
           "after a daemon restart the taps are known and still there")
    src = sources(dom.XMLDesc(0))
    tap.ok(src[2] == ("testnet", BRIDGE), "and the network's bridge is still in the live XML",
           src)

    # ---- destroy: the taps go with the VMM ----
    dom.destroy()
    tap.ok(wait_for(lambda: not any(exists(n) for n in names if n), 5),
           "after destroy the taps are gone", [n for n in names if n and exists(n)])
    src = sources(dom.XMLDesc(0))
    tap.ok(src[2] == ("testnet", None), "a shut off domain's XML has no bridge for its network",
           src)
    e = error_of(dom.interfaceStats, eth)
    tap.ok(e is not None and e.get_error_code() == D.VIR_ERR_OPERATION_INVALID,
           "interfaceStats of a shut off domain: not running", e)

    # ---- kill -9 of the VMM ----
    e = error_of(dom.create)
    names2 = [t for _, t, _ in targets(dom.XMLDesc(0))] if e is None else []
    tap.ok(e is None and all(n and exists(n) for n in names2), "started again, taps back",
           (e, names2))
    pid = vmm_pid(d, "net1")
    os.kill(pid, signal.SIGKILL)
    tap.ok(wait_for(lambda: dom.state()[0] == D.VIR_DOMAIN_SHUTOFF, 5) and
           wait_for(lambda: not any(exists(n) for n in names2 if n), 5),
           "after kill -9 of the VMM the taps are gone", [n for n in names2 if exists(n)])

    # ---- errors name what failed; nothing is left ----
    left = vnets()

    def refused(name, nets, code, needle, desc):
        dom = conn.defineXML(vm_xml(name, STUB, "stub.test=hang", nets))
        e = error_of(dom.create)
        tap.ok(e is not None and e.get_error_code() == code and needle in str(e) and
               dom.state()[0] == D.VIR_DOMAIN_SHUTOFF, desc, f"{e}")
        tap.ok(vnets() == left and not exists("vt-left0"), "  and leaves no tap", vnets())
        dom.undefine()

    eth_first = "<interface type='ethernet'><target dev='vt-left0'/></interface>"
    refused("bad1", eth_first + "<interface type='bridge'><source bridge='vbr-missing'/>"
            "</interface>", D.VIR_ERR_OPERATION_FAILED, "'vbr-missing'",
            "a missing bridge: the error names it")
    refused("bad2", "<interface type='bridge'><source bridge='lo'/></interface>",
            D.VIR_ERR_OPERATION_FAILED, "'lo' is not a bridge", "an interface that is no bridge")
    refused("bad3", eth_first + "<interface type='network'><source network='nosuchnet'/>"
            "</interface>", D.VIR_ERR_NO_NETWORK, "'nosuchnet'",
            "an unknown network: VIR_ERR_NO_NETWORK naming it")
    refused("bad4", f"<interface type='ethernet'><target dev='{BRIDGE}'/></interface>",
            D.VIR_ERR_OPERATION_FAILED, f"'{BRIDGE}'",
            "a <target dev> that exists already is refused, not taken over")
    refused("bad5", eth_first + "<interface type='user'><backend type='passt'/>"
            "<driver queues='2'/></interface>", D.VIR_ERR_CONFIG_UNSUPPORTED,
            "passt serves one queue", "passt with 2 queues: VIR_ERR_CONFIG_UNSUPPORTED")
    dom.undefine()
    conn.close()

    # ---- a daemon without CAP_NET_ADMIN names the tap and the reason ----
    if shutil.which("setpriv"):
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        udir = tempfile.mkdtemp(prefix="vireo-net-user.")
        os.chmod(udir, 0o777)
        uenv = dict(os.environ, HOME=udir, XDG_RUNTIME_DIR=udir, XDG_CONFIG_HOME=udir,
                    XDG_CACHE_HOME=udir)
        usock = os.path.join(udir, "sock")
        ud = subprocess.Popen(
            nobody + [DAEMON, "--socket", usock, "--config-dir", os.path.join(udir, "conf"),
                      "--run-dir", os.path.join(udir, "run"), "--log-dir",
                      os.path.join(udir, "log")],
            env=uenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(usock), 5)
            with open(os.path.join(udir, "u.xml"), "w") as f:
                f.write(vm_xml("user1", STUB, "stub.test=hang",
                               "<interface type='ethernet'/>"))
            r = subprocess.run(nobody + ["virsh", "-c", f"vireo+unix:///system?socket={usock}",
                                         "create", os.path.join(udir, "u.xml")],
                               capture_output=True, text=True, env=uenv, timeout=60 * SCALE)
            tap.ok(r.returncode != 0 and "cannot create the tap device 'vnetN'" in r.stderr and
                   "CAP_NET_ADMIN" in r.stderr and vnets() == left,
                   "without CAP_NET_ADMIN: the error names the tap and why, no tap is left",
                   r.stderr)
        finally:
            ud.kill()
            ud.wait()
            shutil.rmtree(udir, ignore_errors=True)
finally:
    d.cleanup()
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
tap.ok(vnets() == before, "no tap is left at the end", vnets())
tap.done()
