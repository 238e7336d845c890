#!/usr/bin/python3
"""Boot benchmark of vireo-vmm against QEMU -M microvm and -M q35, in the
same run on the same host: the test guest's kernel (PVH vmlinux) and
initramfs, 1 vCPU, 512 MiB, serial to a file.

Per VMM, the medians over the runs of:
- boot time: exec of the VMM to "VIREO-INIT up" in the serial file;
- VMM memory overhead: the VMM's VmRSS minus the resident part of its
  guest-RAM mapping (the guest's memory it touched), read once the guest
  has run its check and idles at init (vireo.end=hang);
- CPU time (user + sys) from exec to the first KVM_RUN, recorded by an
  LD_PRELOAD shim (tests/bench/first-kvm-run.c) that serves every VMM alike.

Needs hardware KVM: without it, it runs itself inside the test host
(tests/testhost/run). VIREO_BENCH_RUNS sets the runs per VMM (default 5).
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BUILDDIR, HERE, SRCDIR, VMM, have_hw_kvm, in_testhost,  # noqa: E402
                      run_in_testhost, wait_serial)

GUEST_MIB = 512
CMDLINE = "console=ttyS0 quiet vireo.check=basic vireo.end=hang"
BOOT_TIMEOUT = 240


def vireo_argv(kernel, initrd, serial):
    return [VMM, "--kernel", kernel, "--initramfs", initrd, "--cmdline", CMDLINE,
            "--cpus", "boot=1", "--memory", f"size={GUEST_MIB}M",
            "--serial", f"file={serial}", "--console", "off"]


def qemu_argv(machine):
    def argv(kernel, initrd, serial):
        return ["qemu-system-x86_64", "-M", machine, "-enable-kvm", "-cpu", "host",
                "-m", str(GUEST_MIB), "-smp", "1", "-nographic", "-nodefaults",
                "-serial", f"file:{serial}", "-no-reboot", "-nic", "none",
                "-kernel", kernel, "-initrd", initrd, "-append", CMDLINE]
    return argv


# Name, argv builder. microvm has no serial port or RTC unless asked.
VMMS = [
    ("vireo-vmm", vireo_argv),
    ("qemu microvm", qemu_argv("microvm,x-option-roms=off,isa-serial=on,rtc=on")),
    ("qemu q35", qemu_argv("q35")),
]


def build_shim(workdir):
    shim = os.path.join(workdir, "first-kvm-run.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim,
                    os.path.join(HERE, "first-kvm-run.c")], check=True)
    return shim


def vmm_memory_kib(pid):
    """VmRSS and the Rss of the guest-RAM mapping (the anonymous mapping of
    exactly the guest's size), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        vmrss = int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
    guest = None
    size = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Rss:") and size == GUEST_MIB * 1024:
                rss = int(line.split()[1])
                guest = rss if guest is None else max(guest, rss)
    if guest is None:
        raise RuntimeError(f"no {GUEST_MIB} MiB guest-RAM mapping in /proc/{pid}/smaps")
    return vmrss, guest


def boot_once(name, argv, workdir, shim, index):
    """One boot to init and idle; returns its measurements or raises."""
    tag = f"{name.replace(' ', '-')}.{index}"
    serial = os.path.join(workdir, f"{tag}.serial")
    cpu_file = os.path.join(workdir, f"{tag}.cpu")
    guest = os.path.join(BUILDDIR, "testhost-cache", "guest")
    env = dict(os.environ, LD_PRELOAD=shim, VIREO_BENCH_FIRST_RUN_FILE=cpu_file)
    with open(os.path.join(workdir, f"{tag}.log"), "w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv(os.path.join(guest, "vmlinux"),
                                     os.path.join(guest, "initramfs.cpio.gz"), serial),
                                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        t_init = wait_serial(serial, b"VIREO-INIT up", proc, BOOT_TIMEOUT)
        if t_init is None:
            with open(log.name, errors="replace") as f:
                tail = " | ".join(f.read().splitlines()[-3:])
            raise RuntimeError(f"did not reach init within {BOOT_TIMEOUT} s"
                               f" (exit status {proc.poll()}): {tail}")
        if wait_serial(serial, b"VIREO-DONE", proc, 60) is None:
            raise RuntimeError("init did not finish its check")
        time.sleep(1)  # idle at init
        vmrss, guest_rss = vmm_memory_kib(proc.pid)
        with open(cpu_file) as f:
            cpu_ms = int(f.read()) / 1e6
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return {"boot_s": t_init - t0, "overhead_kib": vmrss - guest_rss, "cpu_ms": cpu_ms}


def print_table(medians, runs, failures):
    vireo = medians["vireo-vmm"]
    rows = []
    for peer in ("qemu q35", "qemu microvm"):
        p = medians.get(peer)
        ratio = vireo["boot_s"] / p["boot_s"] if p else None
        target = 0.5 if peer == "qemu q35" else None
        rows.append((f"boot to init (s), vs {peer}", vireo["boot_s"],
                     p["boot_s"] if p else None, ratio, f"<= {target}x" if target else "",
                     None if target is None or ratio is None else ratio <= target))
    q35 = medians.get("qemu q35")
    rows.append(("VMM memory overhead (MiB), vs qemu q35", vireo["overhead_kib"] / 1024,
                 q35["overhead_kib"] / 1024 if q35 else None,
                 vireo["overhead_kib"] / q35["overhead_kib"] if q35 else None,
                 "<= 4 MiB", vireo["overhead_kib"] <= 4 * 1024))
    rows.append(("CPU exec -> first KVM_RUN (ms), vs qemu q35", vireo["cpu_ms"],
                 q35["cpu_ms"] if q35 else None,
                 vireo["cpu_ms"] / q35["cpu_ms"] if q35 else None,
                 "<= 5 ms", vireo["cpu_ms"] <= 5))
    print(f"boot benchmark: medians of {runs} runs each; guest: PVH vmlinux + initramfs,"
          f" 1 vCPU, {GUEST_MIB} MiB")
    print(f"{'measurement':46} {'vireo':>9} {'peer':>9} {'ratio':>7}  {'target':10} result")
    for label, v, p, ratio, target, met in rows:
        print(f"{label:46} {v:9.2f} {'n/a' if p is None else f'{p:9.2f}':>9} "
              f"{'n/a' if ratio is None else f'{ratio:7.2f}':>7}  {target:10} "
              f"{'' if met is None else ('met' if met else 'not met')}")
    for name, med in medians.items():
        print(f"  {name}: boot {med['boot_s']:.2f} s, overhead {med['overhead_kib'] / 1024:.2f}"
              f" MiB, CPU to first KVM_RUN {med['cpu_ms']:.1f} ms")
    for name, why in failures.items():
        print(f"  {name}: not measured: {why}")
    if in_testhost():
        print("  note: nested KVM inside the test host (QEMU TCG): read the ratios;"
              " absolute times and CPU times are those of an emulated host")


def main():
    if not in_testhost() and not have_hw_kvm():
        return run_in_testhost(__file__)
    runs = int(os.environ.get("VIREO_BENCH_RUNS", "5"))
    if not os.access(VMM, os.X_OK):
        print(f"boot-bench: vireo-vmm is not built ({VMM})", file=sys.stderr)
        return 1
    if not shutil.which("qemu-system-x86_64"):
        print("boot-bench: qemu-system-x86_64 not found (qemu-system-x86)", file=sys.stderr)
        return 1
    cache = os.path.join(BUILDDIR, "testhost-cache")
    subprocess.run([os.path.join(SRCDIR, "tests", "guest", "build-assets"), cache],
                   check=True, stdout=subprocess.DEVNULL)
    workdir = tempfile.mkdtemp(prefix="vireo-boot-bench.")
    results = {name: [] for name, _ in VMMS}
    failures = {}
    try:
        shim = build_shim(workdir)
        # Round-robin, so a slow spell of the host hits every VMM alike.
        for i in range(runs):
            for name, argv in VMMS:
                if name in failures:
                    continue
                try:
                    r = boot_once(name, argv, workdir, shim, i)
                    results[name].append(r)
                    print(f"boot-bench: {name} run {i + 1}: boot {r['boot_s']:.2f} s, overhead"
                          f" {r['overhead_kib']} KiB, CPU to first KVM_RUN {r['cpu_ms']:.1f} ms",
                          file=sys.stderr, flush=True)
                except (RuntimeError, OSError, ValueError) as e:
                    failures[name] = str(e)
                    print(f"boot-bench: {name}: {e}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if "vireo-vmm" in failures:
        print(f"boot-bench: could not measure vireo-vmm: {failures['vireo-vmm']}",
              file=sys.stderr)
        return 1
    medians = {name: {k: statistics.median(r[k] for r in res) for k in res[0]}
               for name, res in results.items() if res}
    print_table(medians, runs, failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
