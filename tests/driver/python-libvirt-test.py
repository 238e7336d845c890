#!/usr/bin/python3
"""virtvireod driven by python-libvirt, as nova or virt-manager would: open,
define, list, look up, dump, errors with libvirt's codes, the read-only
socket, 50 clients at once, and a restart."""
import os
import sys
import threading

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


def error_code(fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        return e.get_error_code()
    return None


d = Daemon()
try:
    tap.ok(d.start(), "daemon starts", d.log())
    conn = libvirt.open(d.uri)
    tap.ok(conn is not None, "libvirt.open")
    tap.ok(conn.getType() == "VIREO", "getType is VIREO")
    tap.ok(conn.getVersion() == 1000, "getVersion is 0.1.0", conn.getVersion())
    tap.ok(conn.getLibVersion() >= 9000000, "getLibVersion is a libvirt level")
    tap.ok(conn.getURI().startswith("vireo"), "getURI", conn.getURI())
    tap.ok(conn.getHostname() != "", "getHostname")
    info = conn.getInfo()
    tap.ok(info[0] == "x86_64" and info[2] >= 1, "getInfo (nodeinfo)", info)
    tap.ok("<capabilities>" in conn.getCapabilities(), "getCapabilities")
    tap.ok("<domainCapabilities>" in conn.getDomainCapabilities(), "getDomainCapabilities")
    tap.ok(conn.isSecure() == 1, "isSecure")
    tap.ok(conn.isAlive() == 1, "isAlive")

    dom = conn.defineXML(domain_xml("py1"))
    tap.ok(dom.name() == "py1" and dom.ID() == -1, "defineXML returns the inactive domain")
    uuid = dom.UUIDString()
    dom2 = conn.defineXMLFlags(domain_xml("py2"), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    tap.ok(dom2.name() == "py2", "defineXMLFlags with VALIDATE")
    names = sorted(x.name() for x in conn.listAllDomains())
    tap.ok(names == ["py1", "py2"], "listAllDomains", names)
    inactive = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
    active = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    tap.ok(len(inactive) == 2 and active == [], "listAllDomains ACTIVE / INACTIVE")
    tap.ok(conn.listDefinedDomains() == ["py1", "py2"] and conn.listDomainsID() == [],
           "listDefinedDomains and listDomainsID")
    tap.ok(conn.numOfDefinedDomains() == 2 and conn.numOfDomains() == 0, "numOf*Domains")
    tap.ok(conn.lookupByUUIDString(uuid).name() == "py1", "lookupByUUIDString")
    tap.ok(conn.lookupByName("py2").UUIDString() == dom2.UUIDString(), "lookupByName")
    xml = dom.XMLDesc(0)
    tap.ok(f"<uuid>{uuid}</uuid>" in xml and "<name>py1</name>" in xml, "XMLDesc")
    tap.ok(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE) != "",
           "XMLDesc INACTIVE|SECURE")
    state = dom.state()
    tap.ok(state[0] == libvirt.VIR_DOMAIN_SHUTOFF, "state is shutoff", state)
    i = dom.info()
    tap.ok(i[0] == libvirt.VIR_DOMAIN_SHUTOFF and i[1] == 262144 and i[3] == 1, "info", i)
    tap.ok(dom.isActive() == 0 and dom.isPersistent() == 1 and dom.isUpdated() == 0,
           "isActive / isPersistent / isUpdated")
    tap.ok(dom.maxMemory() == 262144 and dom.OSType() == "hvm", "maxMemory and OSType")
    tap.ok(dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 1, "vcpusFlags CONFIG")
    tap.ok(dom.hasManagedSaveImage() == 0, "hasManagedSaveImage")
    dom.setAutostart(1)
    tap.ok(dom.autostart() == 1, "setAutostart / autostart")
    auto = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
    tap.ok([x.name() for x in auto] == ["py1"], "listAllDomains AUTOSTART")

    tap.ok(error_code(conn.lookupByName, "nosuch") == libvirt.VIR_ERR_NO_DOMAIN,
           "unknown name: VIR_ERR_NO_DOMAIN")
    tap.ok(error_code(conn.lookupByID, 7) == libvirt.VIR_ERR_NO_DOMAIN,
           "unknown id: VIR_ERR_NO_DOMAIN")
    tap.ok(error_code(dom.create) == libvirt.VIR_ERR_OPERATION_FAILED,
           "create without the kernel file: VIR_ERR_OPERATION_FAILED")
    tap.ok(error_code(dom.suspend) == libvirt.VIR_ERR_OPERATION_INVALID,
           "suspend of an inactive domain: VIR_ERR_OPERATION_INVALID")
    tap.ok(error_code(conn.defineXML, "<domain>") == libvirt.VIR_ERR_XML_ERROR,
           "bad XML: VIR_ERR_XML_ERROR", error_code(conn.defineXML, "<domain>"))
    tap.ok(error_code(conn.defineXML, domain_xml("other", uuid)) ==
           libvirt.VIR_ERR_OPERATION_FAILED, "duplicate uuid: VIR_ERR_OPERATION_FAILED")
    tap.ok(error_code(dom.XMLDesc, 1 << 20) == libvirt.VIR_ERR_INVALID_ARG,
           "unknown flags: VIR_ERR_INVALID_ARG")

    ro = libvirt.openReadOnly(d.uri_ro)
    tap.ok(len(ro.listAllDomains()) == 2, "read-only: listAllDomains")
    tap.ok(error_code(ro.defineXML, domain_xml("ro1")) == libvirt.VIR_ERR_OPERATION_DENIED,
           "read-only: defineXML denied")
    tap.ok(error_code(ro.lookupByName("py1").XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE) ==
           libvirt.VIR_ERR_OPERATION_DENIED, "read-only: XMLDesc SECURE denied")
    ro.close()

    # 50 clients at once, each with its own connection and domain.
    errors = []

    def worker(n):
        try:
            c = libvirt.open(d.uri)
            x = c.defineXML(domain_xml(f"par{n}"))
            if c.lookupByName(f"par{n}").UUIDString() != x.UUIDString():
                errors.append(f"par{n}: lookup mismatch")
            if n % 2:
                x.undefine()
            c.close()
        except libvirt.libvirtError as e:
            errors.append(f"par{n}: {e}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tap.ok(not errors, "50 concurrent clients define/undefine", "\n".join(errors))
    names = [x.name() for x in conn.listAllDomains()]
    tap.ok(len(names) == 27, "25 parallel domains remain", len(names))

    conn.close()
    tap.ok(d.stop(), "daemon stops cleanly")
    tap.ok(d.start(), "daemon restarts")
    conn = libvirt.open(d.uri)
    names = sorted(x.name() for x in conn.listAllDomains())
    tap.ok(len(names) == 27 and conn.lookupByUUIDString(uuid).name() == "py1",
           "restart keeps every domain", names)
    tap.ok(conn.lookupByName("py1").autostart() == 1, "restart keeps autostart")
    for x in conn.listAllDomains():
        x.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                        libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    tap.ok(conn.listAllDomains() == [], "undefineFlags of everything")
    conn.close()
    tap.ok(d.stop(), "daemon stops cleanly again")
finally:
    if tap.failed:
        for line in d.log().splitlines()[-20:]:
            print(f"# {line}")
    d.cleanup()
tap.done()
