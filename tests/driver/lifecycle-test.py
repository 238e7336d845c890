#!/usr/bin/python3
# vireo-test: needs-kvm
"""The driver's whole lifecycle (lifecycle_scenario.py) with the real
vireo-vmm and the stub guest (tests/stub/guests: stub.test=hang keeps
running, hello powers off, triple-fault makes the VMM fail). The stub guest
ignores the ACPI power button, so `virsh shutdown` is left to the system
test with a Linux guest (tests/system/driver-linux-test.sh)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Tap, DAEMON, BUILDDIR  # noqa: E402

tap = Tap()
try:
    import libvirt  # noqa: F401
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
# VIREO_TEST_VMM: another vireo-vmm build to drive (a VMM being worked on).
VMM = os.environ.get("VIREO_TEST_VMM", os.path.join(BUILDDIR, "vmm", "vireo-vmm"))
STUB = os.path.join(BUILDDIR, "tests", "stub", "guests", "stub.elf")
if not os.access(DAEMON, os.X_OK) or not os.access(VMM, os.X_OK):
    tap.skip_all(f"virtvireod or vireo-vmm is not built ({DAEMON}, {VMM})")
if not os.path.exists(STUB):
    tap.skip_all(f"the stub guest is not built ({STUB}: make check builds it)")
if not os.access("/dev/kvm", os.R_OK | os.W_OK):
    tap.skip_all("no /dev/kvm")
usage = subprocess.run([VMM, "--help"], capture_output=True, text=True).stdout
if "--api-socket" not in usage:
    tap.skip_all("vireo-vmm has no control API yet (--api-socket)")

import lifecycle_scenario  # noqa: E402

lifecycle_scenario.run(tap, VMM, STUB, {
    "full": False,  # lifecycle-fake-test.py covers the rest; boots are slow here
    "cmdline_run": "stub.test=hang",
    "banner": "STUB start test=hang",
    "echo": False,
    "power_button": False,
    "cmdline_poweroff": "stub.test=hello",
    # vireo-vmm serving the API stops the VM on a triple fault and stays up
    "cmdline_crash": None,
    "cmdline_error": "stub.test=triple-fault",
    "cmdline_panic": None,
    "cmdline_fail": None,
})
tap.done()
