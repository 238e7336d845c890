#!/usr/bin/python3
"""The driver's whole lifecycle (lifecycle_scenario.py) against
tests/driver/fake-vmm.py, a stand-in for vireo-vmm that speaks its control
API and event stream without KVM: this runs on any machine, in seconds.
lifecycle-test.py runs the same scenario with the real VMM."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Tap, DAEMON, fake_vmm  # noqa: E402

tap = Tap()
try:
    import libvirt  # noqa: F401
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
if not os.access(DAEMON, os.X_OK):
    tap.skip_all(f"virtvireod is not built ({DAEMON})")

import lifecycle_scenario  # noqa: E402

work = tempfile.mkdtemp(prefix="vireo-fake-vmm.")
kernel = os.path.join(work, "vmlinuz")
open(kernel, "w").close()
lifecycle_scenario.run(tap, fake_vmm(work), kernel, {
    "cmdline_run": "console=ttyS0",
    "banner": "FAKE boot",
    "echo": True,
    "power_button": True,
    "cmdline_poweroff": "fake.poweroff",
    "cmdline_crash": "fake.exit=3",
    "cmdline_error": "fake.error",
    "cmdline_panic": "fake.panic",
    "cmdline_fail": "fake.fail=create",
    "fail_text": "fake failure: cannot create",
})
for f in os.listdir(work):
    os.unlink(os.path.join(work, f))
os.rmdir(work)
tap.done()
