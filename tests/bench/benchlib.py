"""Helpers shared by the benchmarks that boot Linux guests (boot-bench,
blk-bench, net-bench): where the build is, whether KVM is hardware-backed,
re-running a benchmark inside the test host, and waiting for a guest's
serial output.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("VIREO_SRCDIR", os.path.join(HERE, "..", ".."))
BUILDDIR = os.environ.get("VIREO_BUILDDIR", os.path.join(SRCDIR, "build"))
VMM = os.path.join(BUILDDIR, "vmm", "vireo-vmm")
CACHE = os.path.join(BUILDDIR, "testhost-cache")
GUEST_DIR = os.path.join(CACHE, "guest")


def in_testhost():
    return os.environ.get("VIREO_IN_TESTHOST") == "1"


def have_hw_kvm():
    if not os.path.exists("/dev/kvm"):
        return False
    with open("/proc/cpuinfo") as f:
        return re.search(r"\b(vmx|svm)\b", f.read()) is not None


# tests/testhost/run's status when the test host itself went down (the
# emulator crashed or wedged under it), which nothing in it can cause.
TESTHOST_DOWN = 126
TESTHOST_TRIES = 3


def run_in_testhost(script, timeout=None):
    """Runs script again inside the test host; returns its exit status. A
    test host that goes down under it is made again, three times at most,
    as tests/run does for a test file."""
    cmd = [os.path.join(SRCDIR, "tests", "testhost", "run")]
    if timeout:
        cmd += ["--timeout", str(timeout)]
    cmd += ["--", "/usr/bin/python3", os.path.abspath(script)]
    for attempt in range(1, TESTHOST_TRIES + 1):
        status = subprocess.call(cmd)
        if status != TESTHOST_DOWN or attempt == TESTHOST_TRIES:
            return status
        print(f"{os.path.basename(script)}: the test host went down under it"
              f" (try {attempt} of {TESTHOST_TRIES}); starting over in a fresh one",
              file=sys.stderr, flush=True)
    return status


def wait_serial(path, marker, proc, timeout, interval=0.01):
    """Seconds (perf_counter) when marker appeared in path, or None when it
    did not within timeout seconds or proc exited first. Polls every
    interval seconds: a long wait during a measurement should poll seldom."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with open(path, "rb") as f:
                if marker in f.read():
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            return None
        time.sleep(interval)
    return None
