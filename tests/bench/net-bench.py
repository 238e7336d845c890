#!/usr/bin/python3
"""Network benchmark of vireo-vmm against QEMU (q35, userspace virtio-net,
no vhost), in the same run on the same host: iperf3 TCP throughput between
the test guest and the host over virtio-net on a TAP, guest -> host and
host -> guest, with 1 and with 4 parallel streams.

Both VMMs boot the same kernel (PVH vmlinux) and initramfs (the test
initramfs with iperf3 added), 2 vCPUs, GUEST_MIB MiB, one queue pair of
256 entries, on a TAP with the same host address: vireo-vmm creates it
(--net tap=,ip=,mask=,mac=); for QEMU the benchmark creates it and QEMU
opens it (-netdev tap,ifname=,vhost=off). The host runs `iperf3 -s` bound
to the TAP's address; the guest runs the clients (tests/guest/checks/
iperf.sh) and prints their --json output on its serial port. Each rate is
what the receiving end measured (end.sum_received).

Needs hardware KVM and root (TAPs): without hardware KVM it runs itself
inside the test host (tests/testhost/run), in a network namespace of its
own when it can make one. Addresses are link-local (169.254.20.0/24).
VIREO_BENCH_RUNS sets the runs per VMM (default 3; medians are reported),
VIREO_NET_BENCH_SECONDS the length of each iperf3 test (default 10). A boot
that fails (a guest that hangs or triple-faults, which the emulator under
the test host causes now and then for either VMM) is reported, not counted,
and made again, up to VIREO_BENCH_RUNS such boots per VMM.
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BUILDDIR, CACHE, SRCDIR, VMM, have_hw_kvm,  # noqa: E402
                      run_in_testhost)

# Assets of their own, so that the shared test initramfs stays small: the
# kernel is shared through a link, the initramfs adds iperf3 (~4 MiB with
# its libraries, so it can live in the initramfs rather than on a disk).
BENCH_CACHE = os.path.join(CACHE, "net-bench")
GUEST_MIB = 1024
CPUS = 2
TAP = "nbtap0"
HOST_IP = "169.254.20.1"
GUEST_IP = "169.254.20.2"
PREFIX = 24
MASK = "255.255.255.0"
GUEST_MAC = "52:54:00:14:00:02"
PORT = 5201
BOOT_TIMEOUT = 300
TESTS = [  # name, label
    ("tx1", "guest -> host, 1 stream"),
    ("tx4", "guest -> host, 4 streams"),
    ("rx1", "host -> guest, 1 stream"),
    ("rx4", "host -> guest, 4 streams"),
]
TARGET = 1.0  # vireo-vmm at least as fast as QEMU


class BenchError(Exception):
    pass


def seconds_per_test():
    return int(os.environ.get("VIREO_NET_BENCH_SECONDS", "10"))


def runs():
    return int(os.environ.get("VIREO_BENCH_RUNS", "3"))


def build_assets():
    """The shared kernel, then the benchmark's initramfs next to it."""
    guest = os.path.join(SRCDIR, "tests", "guest")
    subprocess.run([os.path.join(guest, "fetch-kernel"), CACHE], check=True,
                   stdout=subprocess.DEVNULL, timeout=1800)
    os.makedirs(BENCH_CACHE, exist_ok=True)
    link = os.path.join(BENCH_CACHE, "kernel")
    if not os.path.islink(link):
        os.symlink("../kernel", link)
    subprocess.run([os.path.join(guest, "build-assets"), BENCH_CACHE, "--binaries", "iperf3"],
                   check=True, stdout=subprocess.DEVNULL, timeout=1800)
    return os.path.join(BENCH_CACHE, "guest")


def testhost_timeout():
    """Boots of ~1 min plus four tests, per VMM and boot (a failed boot may
    be replaced once per run), with room to spare."""
    return 600 + 2 * runs() * len(selected_vmms()) * (300 + 4 * (seconds_per_test() + 30))


def sh(*argv, check=True):
    """Runs a short command (ip, modprobe) with a timeout; its output."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    if check and r.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit status {r.returncode}: {r.stdout.strip()}")
    return r.stdout


def tap_exists():
    return subprocess.run(["ip", "link", "show", "dev", TAP], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=60).returncode == 0


def wait_until(cond, timeout, proc=None, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return cond()
        time.sleep(step)
    return cond()


def read_serial(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""


def cmdline():
    spec = f"{GUEST_MAC}/{GUEST_IP}/{PREFIX}/{HOST_IP}/{seconds_per_test()}"
    return f"console=ttyS0 quiet vireo.check=iperf vireo.end=hang vireo.iperf={spec}"


def vireo_argv(guest, serial, vmm=VMM):
    return [vmm, "--kernel", os.path.join(guest, "vmlinux"),
            "--initramfs", os.path.join(guest, "initramfs.cpio.gz"), "--cmdline", cmdline(),
            "--cpus", f"boot={CPUS}", "--memory", f"size={GUEST_MIB}M",
            "--serial", f"file={serial}", "--console", "off",
            "--net", f"tap={TAP},ip={HOST_IP},mask={MASK},mac={GUEST_MAC},num_queues=2,"
                     "queue_size=256"]


def vireo_debug_argv(guest, serial):
    """vireo-vmm with its API socket, to read its counters at the end."""
    return vireo_argv(guest, serial) + ["--api-socket", f"path={serial}.sock"]


def qemu_argv(guest, serial):
    return ["qemu-system-x86_64", "-M", "q35", "-enable-kvm", "-cpu", "host",
            "-m", str(GUEST_MIB), "-smp", str(CPUS), "-nographic", "-nodefaults",
            "-serial", f"file:{serial}", "-no-reboot",
            "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost=off",
            "-device", f"virtio-net-pci,netdev=n0,mac={GUEST_MAC},rx_queue_size=256,"
                       "tx_queue_size=256",
            "-kernel", os.path.join(guest, "vmlinux"),
            "-initrd", os.path.join(guest, "initramfs.cpio.gz"), "-append", cmdline()]


def tap_has_address():
    out = subprocess.run(["ip", "-4", "addr", "show", "dev", TAP], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=60).stdout
    return f"inet {HOST_IP}/{PREFIX}" in out


def make_tap():
    """The TAP QEMU opens: what vireo-vmm makes itself for its run."""
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap", "vnet_hdr")
    sh("ip", "addr", "add", f"{HOST_IP}/{PREFIX}", "dev", TAP)
    sh("ip", "link", "set", "dev", TAP, "up")


def parse_results(text, tag):
    """{test: bits/s} from the serial text, or raises naming what failed."""
    out = {}
    for name, _ in TESTS:
        m = re.search(rf"^VIREO-IPERF-BEGIN {name}\n(.*?)^VIREO-IPERF-END {name} rc=(\d+)$",
                      text, re.S | re.M)
        if not m:
            raise BenchError(f"{tag}: no result for test {name} on the serial port")
        try:
            doc = json.loads(m.group(1))
        except ValueError:
            doc = None
        if m.group(2) != "0" or not isinstance(doc, dict) or doc.get("error"):
            why = doc.get("error") if isinstance(doc, dict) else m.group(1).strip()[-300:]
            raise BenchError(f"{tag}: iperf3 {name} failed (exit status {m.group(2)}): {why}")
        try:
            out[name] = float(doc["end"]["sum_received"]["bits_per_second"])
            out[name + "_retr"] = int(doc["end"]["sum_sent"].get("retransmits", 0))
        except (KeyError, TypeError, ValueError):
            raise BenchError(f"{tag}: iperf3 {name}: no end.sum_received.bits_per_second")
    return out


def cpu_seconds(pid):
    """User + system time of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc, timeout=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            print(f"net-bench: process {proc.pid} does not go away after SIGKILL",
                  file=sys.stderr, flush=True)


def bench_once(name, argv, guest, workdir, index):
    """One boot running the four iperf3 tests; {test: bits/s} or raises."""
    tag = f"{name.replace(' ', '-')}.{index}"
    serial = os.path.join(workdir, f"{tag}.serial")
    log_path = os.path.join(workdir, f"{tag}.log")
    server_log = os.path.join(workdir, f"{tag}.iperf3-server.log")
    secs = seconds_per_test()
    vmm = server = None
    own_tap = name.startswith("qemu")  # vireo-vmm makes its own
    if tap_exists():
        raise BenchError(f"{tag}: {TAP} exists already (left by an earlier run?)")
    try:
        if own_tap:
            make_tap()
        with open(log_path, "w") as log:
            vmm = subprocess.Popen(argv(guest, serial), stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=log)
        if not wait_until(tap_has_address, 60, vmm):
            raise BenchError(f"{tag}: {TAP} did not get {HOST_IP}/{PREFIX}")
        with open(server_log, "w") as slog:
            server = subprocess.Popen(["iperf3", "-s", "-B", HOST_IP, "-p", str(PORT),
                                       "--forceflush"], stdin=subprocess.DEVNULL, stdout=slog,
                                      stderr=subprocess.STDOUT)
        if not wait_until(lambda: "listening" in read_serial(server_log), 60, server):
            raise BenchError(f"{tag}: iperf3 -s did not start: {read_serial(server_log)}")
        if not wait_until(lambda: "VIREO-INIT up" in read_serial(serial), BOOT_TIMEOUT, vmm):
            raise BenchError(f"{tag}: the guest did not reach init within {BOOT_TIMEOUT} s")
        print(f"net-bench: {tag}: the guest is at its init", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        cpu0 = cpu_seconds(vmm.pid)
        for test, _ in TESTS:
            # Three tries of secs + 60 s at most each (iperf.sh), then a margin.
            marker = f"VIREO-IPERF-END {test} "
            if not wait_until(lambda: marker in read_serial(serial), 3 * (secs + 65) + 30, vmm):
                raise BenchError(f"{tag}: iperf3 {test} did not finish")
            print(f"net-bench: {tag}: {test} done after {time.monotonic() - t0:.0f} s",
                  file=sys.stderr, flush=True)
        if not wait_until(lambda: "VIREO-DONE" in read_serial(serial), 60, vmm):
            raise BenchError(f"{tag}: the guest's check did not end")
        cpu = cpu_seconds(vmm.pid) - cpu0 if vmm.poll() is None else None
        if os.path.exists(serial + ".sock"):
            remote = os.path.join(BUILDDIR, "vmm", "vireo-remote")
            c = subprocess.run([remote, "--api-socket", serial + ".sock", "counters"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=30)
            print(f"net-bench: {tag}: counters: {c.stdout.strip()}", file=sys.stderr)
        text = read_serial(serial)
        m = re.search(r"^VIREO-RESULT iperf_queues=(\S+)$", text, re.M)
        if not m or m.group(1) != "1":
            raise BenchError(f"{tag}: the guest has {m.group(1) if m else 'no'} queue pairs,"
                             " not 1")
        r = parse_results(text, tag)
        r["cpu_s"] = cpu
        r["wall_s"] = time.monotonic() - t0
        return r
    except BenchError as e:
        text = read_serial(serial)
        tail = " | ".join(line for line in text.splitlines()[-8:] if line.strip())
        with open(log_path, errors="replace") as f:
            vtail = " | ".join(f.read().splitlines()[-4:])
        status = vmm.poll() if vmm else None
        raise BenchError(f"{e} (VMM exit status {status}; serial: {tail or 'empty'};"
                         f" VMM: {vtail or 'nothing'})") from None
    finally:
        stop(vmm)
        stop(server, 5)
        if own_tap and tap_exists():
            sh("ip", "link", "del", "dev", TAP, check=False)
        # vireo-vmm's TAP goes with its last fd.
        wait_until(lambda: not tap_exists(), 20)


# VIREO_NET_BENCH_DEBUG=1 prints vireo-vmm's counters after each run.
VMMS = [("vireo-vmm", vireo_debug_argv if os.environ.get("VIREO_NET_BENCH_DEBUG") == "1"
         else vireo_argv), ("qemu q35", qemu_argv)]


def selected_vmms():
    """VIREO_NET_BENCH_ONLY=NAME (e.g. vireo-vmm) measures one VMM alone;
    VIREO_NET_BENCH_ALT=LABEL=PATH[,...] adds other vireo-vmm builds to
    compare (e.g. before and after a change), reported apart."""
    only = os.environ.get("VIREO_NET_BENCH_ONLY")
    vmms = [v for v in VMMS if not only or v[0] == only]
    for alt in filter(None, os.environ.get("VIREO_NET_BENCH_ALT", "").split(",")):
        label, _, path = alt.partition("=")
        vmms.append((label, lambda guest, serial, path=path: vireo_argv(guest, serial, path)))
    return vmms


def print_table(medians, counts, nruns, failed):
    vireo = medians.get("vireo-vmm")
    qemu = medians.get("qemu q35")
    print(f"net benchmark: iperf3 TCP over virtio-net on a TAP, medians of {nruns} runs;"
          f" {seconds_per_test()} s per test; guest: {CPUS} vCPUs, {GUEST_MIB} MiB,"
          " 1 queue pair of 256; peer: qemu q35, vhost=off")
    print(f"{'measurement (Gbit/s)':30} {'vireo':>8} {'qemu':>8} {'ratio':>7}  {'target':8} result")
    for test, label in TESTS:
        v = vireo[test] / 1e9 if vireo else None
        q = qemu[test] / 1e9 if qemu else None
        ratio = v / q if v is not None and q else None
        met = "" if ratio is None else ("met" if ratio >= TARGET else "not met")
        print(f"{label:30} {'n/a' if v is None else f'{v:8.3f}':>8}"
              f" {'n/a' if q is None else f'{q:8.3f}':>8}"
              f" {'n/a' if ratio is None else f'{ratio:7.2f}':>7}  {f'>= {TARGET}x':8} {met}")
    for name, med in medians.items():
        if name not in ("vireo-vmm", "qemu q35"):
            print(f"  {name}: " + ", ".join(f"{t} {med[t] / 1e9:.3f}" for t, _ in TESTS)
                  + " Gbit/s" + (f" ({', '.join(f'{t} {med[t] / qemu[t]:.2f}x' for t, _ in TESTS)}"
                                 " of qemu)" if qemu else ""))
    for name, whys in failed.items():
        if counts[name] < nruns:
            print(f"  {name}: {counts[name]} of {nruns} runs measured"
                  + (" (the medians are of those)" if counts[name] else ""))
        for why in whys:
            print(f"  {name}: a failed boot, not counted: {why[:300]}")
    if os.environ.get("VIREO_IN_TESTHOST") == "1":
        print("  note: nested KVM inside the test host (QEMU TCG): the VMMs' own work is"
              " emulated; read the ratios, not the rates, and expect noise")


def enter_netns():
    """Re-runs this script in a network namespace of its own, when it can."""
    if os.environ.get("VIREO_NET_BENCH_NS") == "1" or not shutil.which("unshare"):
        return None
    if subprocess.run(["unshare", "-n", "true"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, timeout=60).returncode != 0:
        return None
    env = dict(os.environ, VIREO_NET_BENCH_NS="1")
    return subprocess.call(["unshare", "-n", sys.executable, os.path.abspath(__file__)],
                           env=env)


def main():
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/sbin:/usr/sbin"
    if os.environ.get("VIREO_IN_TESTHOST") != "1" and not have_hw_kvm():
        try:
            build_assets()  # here, where it is faster than in the test host
        except (subprocess.SubprocessError, OSError) as e:
            print(f"net-bench: cannot build the guest assets: {e}", file=sys.stderr)
            return 1
        return run_in_testhost(__file__, testhost_timeout())
    for what, ok in (("vireo-vmm is not built (" + VMM + ")", os.access(VMM, os.X_OK)),
                     ("qemu-system-x86_64 not found (qemu-system-x86)",
                      shutil.which("qemu-system-x86_64")),
                     ("iperf3 not found", shutil.which("iperf3")),
                     ("ip not found (iproute2)", shutil.which("ip")),
                     ("TAP interfaces need root", os.geteuid() == 0)):
        if not ok:
            print(f"net-bench: {what}", file=sys.stderr)
            return 1
    if not os.path.exists("/dev/net/tun"):
        kdir = os.environ.get("VIREO_TESTHOST_KERNEL_DIR", "/")
        subprocess.run(["modprobe", "-d", kdir, "tun"], stderr=subprocess.DEVNULL, timeout=60)
        if not os.path.exists("/dev/net/tun"):
            print("net-bench: no /dev/net/tun (tun module)", file=sys.stderr)
            return 1
    status = enter_netns()
    if status is not None:
        return status
    subprocess.run(["ip", "link", "set", "lo", "up"], stderr=subprocess.DEVNULL, timeout=60)
    try:
        guest = build_assets()
    except (subprocess.SubprocessError, OSError) as e:
        print(f"net-bench: cannot build the guest assets: {e}", file=sys.stderr)
        return 1
    nruns = runs()
    workdir = tempfile.mkdtemp(prefix="vireo-net-bench.")
    vmms = selected_vmms()
    results = {name: [] for name, _ in vmms}
    # Boots that failed, by VMM. Under emulation a nested guest now and then
    # hangs or triple-faults, whichever VMM runs it: such a boot is reported
    # and replaced, up to nruns of them per VMM.
    failed = {name: [] for name, _ in vmms}
    try:
        # Taking turns, each first every other run: a slow spell of the host
        # hits both alike.
        for i in range(nruns):
            for name, argv in (vmms if i % 2 == 0 else vmms[::-1]):
                while len(failed[name]) <= nruns:
                    boot = len(results[name]) + len(failed[name])
                    try:
                        r = bench_once(name, argv, guest, workdir, boot)
                    except (BenchError, OSError, subprocess.SubprocessError) as e:
                        failed[name].append(str(e))
                        print(f"net-bench: {name}: {e}", file=sys.stderr, flush=True)
                        continue
                    results[name].append(r)
                    cpu = "n/a" if r["cpu_s"] is None else f"{r['cpu_s']:.0f}"
                    print(f"net-bench: {name} run {i + 1}: " + ", ".join(
                        f"{t} {r[t] / 1e9:.3f}" for t, _ in TESTS) + " Gbit/s; retransmits "
                        + "/".join(str(r[t + "_retr"]) for t, _ in TESTS)
                        + f"; VMM CPU {cpu} s in {r['wall_s']:.0f} s",
                        file=sys.stderr, flush=True)
                    break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {name: {t: statistics.median(r[t] for r in res) for t, _ in TESTS}
               for name, res in results.items() if res}
    print_table(medians, {name: len(res) for name, res in results.items()}, nruns, failed)
    short = [name for name, res in results.items() if len(res) < nruns]
    if short:
        print(f"net-bench: fewer than {nruns} runs of {', '.join(short)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
