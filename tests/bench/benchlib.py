"""Helpers shared by the benchmarks that boot Linux guests (boot-bench,
blk-bench): where the build is, whether KVM is hardware-backed, re-running
a benchmark inside the test host, and waiting for a guest's serial output.
"""
import os
import re
import subprocess
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


def run_in_testhost(script):
    """Runs script again inside the test host; returns its exit status."""
    cmd = [os.path.join(SRCDIR, "tests", "testhost", "run"), "--",
           "/usr/bin/python3", os.path.abspath(script)]
    return subprocess.call(cmd)


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
