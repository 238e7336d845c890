#!/usr/bin/python3
"""Block benchmark: 4 KiB random read and write IOPS of a virtio-blk disk on
vireo-vmm, against the same disk on QEMU -M q35 and against the host itself,
in the same run on the same raw file.

The disk is a 1 GiB raw file, written in full (no holes), in the build
folder: a real file system, not the test host's tmpfs /tmp. Each peer runs
the same fio jobs (tests/guest/checks/blk-bench.sh in the guests):
- host: fio on the file, from the host (the test host when there is no
  hardware KVM);
- vireo-vmm: fio on /dev/vda, the file given as --disk path=FILE,direct=on;
- QEMU q35: fio on /dev/vda, the file given as -drive cache=none,aio=io_uring
  on a virtio-blk-pci device.
Both VMMs boot the test guest's PVH vmlinux with an initramfs that carries
fio, 1 vCPU and 1 GiB, and print fio's JSON report on the serial port.

Needs hardware KVM: without it, it runs itself inside the test host
(tests/testhost/run). VIREO_BENCH_RUNS sets the runs per peer (default 3;
medians are reported), VIREO_BENCH_FIO_RUNTIME the seconds per job (default 20).
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BUILDDIR, CACHE, GUEST_DIR, SRCDIR, VMM, have_hw_kvm,  # noqa: E402
                      in_testhost, run_in_testhost, wait_serial)

DISK = os.path.abspath(os.path.join(BUILDDIR, "bench", "blk-bench.raw"))
DISK_MIB = 1024
INITRAMFS = os.path.join(GUEST_DIR, "blk-bench.cpio.gz")
GUEST_MIB = 1024  # the initramfs unpacks fio and its libraries (~80 MB) into RAM
JOBS = ["randread", "randwrite"]
RUNTIME = int(os.environ.get("VIREO_BENCH_FIO_RUNTIME", "20"))
RAMP = 2
# fio --NAME=VALUE options of every job, on the host and in the guests.
FIO_OPTS = [("bs", "4k"), ("iodepth", "32"), ("direct", "1"), ("ioengine", "io_uring"),
            ("time_based", "1"), ("runtime", str(RUNTIME)), ("ramp_time", str(RAMP))]
CMDLINE = ("console=ttyS0 quiet vireo.check=blk-bench vireo.end=hang vireo.fio.dev=vda"
           f" vireo.fio.jobs={','.join(JOBS)}"
           f" vireo.fio.opts={','.join(f'{k}={v}' for k, v in FIO_OPTS)}")
BOOT_TIMEOUT = 300
# fio's own start-up and the report on an emulated serial port take time too.
JOBS_TIMEOUT = len(JOBS) * (RUNTIME + RAMP) * 2 + 120
TARGETS = {"host": 0.9, "qemu q35": 1.2}  # vireo-vmm IOPS at least this times the peer's


def prepare_disk():
    """Writes DISK in full unless it is already there; True if it wrote it."""
    if os.path.exists(DISK) and os.path.getsize(DISK) == DISK_MIB << 20:
        return False
    os.makedirs(os.path.dirname(DISK), exist_ok=True)
    block = os.urandom(1 << 20)
    with open(DISK + ".tmp", "wb") as f:
        for _ in range(DISK_MIB):
            f.write(block)
        os.fsync(f.fileno())
    os.rename(DISK + ".tmp", DISK)
    return True


def prepare_initramfs():
    """The test guest's kernel and an initramfs with fio, rebuilt when its
    inputs change."""
    subprocess.run([os.path.join(SRCDIR, "tests", "guest", "build-assets"), CACHE,
                    "--binaries", "fio", "--name", "blk-bench"],
                   check=True, stdout=subprocess.DEVNULL)


def fio_argv(job, filename):
    return (["fio", f"--name={job}", f"--filename={filename}", f"--rw={job}"]
            + [f"--{k}={v}" for k, v in FIO_OPTS] + ["--output-format=json"])


def iops(job, report):
    """IOPS of the one job in a fio JSON report."""
    side = "read" if "read" in job else "write"
    return float(report["jobs"][0][side]["iops"])


def run_host():
    """fio on DISK from this host: {job: IOPS}."""
    result = {}
    for job in JOBS:
        p = subprocess.run(fio_argv(job, DISK), capture_output=True, text=True,
                           timeout=RUNTIME + RAMP + 120)
        if p.returncode != 0:
            raise RuntimeError(f"fio {job} failed (exit status {p.returncode}):"
                               f" {p.stderr.strip()[-300:]}")
        result[job] = iops(job, json.loads(p.stdout[p.stdout.index("{"):]))
    return result


def vireo_argv(serial):
    return [VMM, "--kernel", os.path.join(GUEST_DIR, "vmlinux"), "--initramfs", INITRAMFS,
            "--cmdline", CMDLINE, "--cpus", "boot=1", "--memory", f"size={GUEST_MIB}M",
            "--serial", f"file={serial}", "--console", "off",
            "--disk", f"path={DISK},direct=on"]


def qemu_argv(serial):
    def q(path):  # QEMU option values double their commas
        return path.replace(",", ",,")
    return ["qemu-system-x86_64", "-M", "q35", "-enable-kvm", "-cpu", "host",
            "-m", str(GUEST_MIB), "-smp", "1", "-nographic", "-nodefaults",
            "-serial", f"file:{q(serial)}", "-no-reboot", "-nic", "none",
            "-kernel", os.path.join(GUEST_DIR, "vmlinux"), "-initrd", INITRAMFS,
            "-append", CMDLINE,
            "-drive", f"file={q(DISK)},format=raw,if=none,id=d0,cache=none,aio=io_uring",
            "-device", "virtio-blk-pci,drive=d0"]


def fio_reports(text):
    """{job: IOPS} from the JSON reports the guest printed between markers."""
    result = {}
    for m in re.finditer(r"VIREO-FIO-BEGIN (\S+)\r?\n(.*?)VIREO-FIO-END \1", text, re.S):
        job, body = m.group(1), m.group(2)
        result[job] = iops(job, json.loads(body[body.index("{"):body.rindex("}") + 1]))
    return result


def ended(proc, timeout):
    status = proc.poll()
    return f"timed out after {timeout} s" if status is None else f"VMM exit status {status}"


def run_guest(name, argv, workdir, index):
    """One boot that runs every job in the guest: {job: IOPS}, or raises."""
    tag = f"{name.replace(' ', '-')}.{index}"
    serial = os.path.join(workdir, f"{tag}.serial")
    log_path = os.path.join(workdir, f"{tag}.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv(serial), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        if wait_serial(serial, b"VIREO-INIT up", proc, BOOT_TIMEOUT) is None:
            with open(log_path, errors="replace") as f:
                tail = " | ".join(f.read().splitlines()[-3:])
            raise RuntimeError(f"the guest did not reach its init: {ended(proc, BOOT_TIMEOUT)}:"
                               f" {tail}")
        if wait_serial(serial, b"VIREO-DONE", proc, JOBS_TIMEOUT, interval=0.5) is None:
            raise RuntimeError(f"the guest's fio jobs did not finish:"
                               f" {ended(proc, JOBS_TIMEOUT)}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open(serial, errors="replace") as f:
        text = f.read()
    result = fio_reports(text)
    missing = [job for job in JOBS if job not in result]
    if missing:
        errors = " ".join(re.findall(r"VIREO-RESULT (?:fio_)?error=.*", text))
        raise RuntimeError(f"no fio report for {', '.join(missing)}: {errors or 'no error line'}")
    return result


PEERS = [
    ("host", lambda workdir, index: run_host()),
    ("vireo-vmm", lambda workdir, index: run_guest("vireo-vmm", vireo_argv, workdir, index)),
    ("qemu q35", lambda workdir, index: run_guest("qemu q35", qemu_argv, workdir, index)),
]


def print_table(medians, runs):
    opts = " ".join(f"{k}={v}" for k, v in FIO_OPTS)
    print(f"block benchmark: medians of {runs} runs each; fio {opts}\n"
          f"  on {DISK} (raw, {DISK_MIB} MiB); guests: 1 vCPU, {GUEST_MIB} MiB,"
          " the file as virtio-blk /dev/vda")
    print(f"{'measurement':34} {'vireo':>9} {'peer':>9} {'ratio':>7}  {'target':8} result")
    vireo = medians["vireo-vmm"]
    for job in JOBS:
        for peer, target in TARGETS.items():
            ratio = vireo[job] / medians[peer][job]
            print(f"{f'4k {job} IOPS, vs {peer}':34} {vireo[job]:9.0f} {medians[peer][job]:9.0f}"
                  f" {ratio:7.2f}  {f'>= {target}x':8} {'met' if ratio >= target else 'not met'}")
    for name, med in medians.items():
        print(f"  {name}: " + ", ".join(f"{job} {med[job]:.0f} IOPS" for job in JOBS))
    if in_testhost():
        print("  note: inside the test host (QEMU TCG, nested KVM), the file is on its 9p"
              " read-write export: read the ratios, not the IOPS")


def measure(runs):
    results = {name: [] for name, _ in PEERS}
    workdir = tempfile.mkdtemp(prefix="vireo-blk-bench.")
    try:
        # Round-robin, so a slow spell of the host hits every peer alike.
        for i in range(runs):
            for name, run in PEERS:
                try:
                    r = run(workdir, i)
                except (RuntimeError, OSError, ValueError, KeyError,
                        subprocess.TimeoutExpired) as e:
                    print(f"blk-bench: FAILED: {name}: {e}", file=sys.stderr)
                    return 1
                results[name].append(r)
                print(f"blk-bench: {name} run {i + 1}: "
                      + ", ".join(f"{job} {r[job]:.0f} IOPS" for job in JOBS),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table({name: {job: statistics.median(r[job] for r in res) for job in JOBS}
                 for name, res in results.items()}, runs)
    return 0


def main():
    for tool in ("fio", "qemu-system-x86_64"):
        if not shutil.which(tool):
            print(f"blk-bench: {tool} not found (scripts/install-deps)", file=sys.stderr)
            return 1
    if not os.access(VMM, os.X_OK):
        print(f"blk-bench: vireo-vmm is not built ({VMM})", file=sys.stderr)
        return 1
    if "," in DISK:
        print(f"blk-bench: --disk cannot name a path with a comma: {DISK}", file=sys.stderr)
        return 1
    # Prepared before entering the test host, where writing 1 GiB and
    # compressing fio's libraries would be slow.
    prepare_initramfs()
    wrote_disk = prepare_disk()
    try:
        if not in_testhost() and not have_hw_kvm():
            return run_in_testhost(__file__)
        return measure(int(os.environ.get("VIREO_BENCH_RUNS", "3")))
    finally:
        if wrote_disk:
            os.unlink(DISK)


if __name__ == "__main__":
    sys.exit(main())
