#!/usr/bin/python3
# vireo-test: needs-kvm
"""The driver's whole lifecycle (lifecycle_scenario.py) with the real
vireo-vmm and the stub guest (tests/stub/guests): stub.test=hang keeps
running, interactive echoes console lines and obeys the power button, hello
powers off, triple-fault stops the VM on an error, pvpanic reports a guest
panic; a text file is no kernel."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vireo_driver_test import Tap, VMM, STUB, need_real_vmm  # noqa: E402

tap = Tap()
try:
    import libvirt  # noqa: F401
except ImportError:
    tap.skip_all("python3-libvirt is not installed")
need_real_vmm(tap)

import lifecycle_scenario  # noqa: E402

with tempfile.TemporaryDirectory(prefix="vireo-lifecycle.") as work:
    not_a_kernel = os.path.join(work, "not-a-kernel")
    with open(not_a_kernel, "w") as f:
        f.write("this is a text file\n")
    lifecycle_scenario.run(tap, VMM, STUB, {
        "cmdline_run": "stub.test=hang",
        "cmdline_interactive": "stub.test=interactive",
        "banner": "STUB interactive ready",
        "cmdline_poweroff": "stub.test=hello",
        # vireo-vmm serving the API stops the VM on a triple fault and stays up;
        # nothing a guest does makes it exit with an error.
        "cmdline_crash": None,
        "cmdline_error": "stub.test=triple-fault",
        "cmdline_panic": "stub.test=pvpanic",
        "kernel_fail": not_a_kernel,
        "fail_text": "neither an ELF vmlinux with a PVH note nor a bzImage",
    })
tap.done()
