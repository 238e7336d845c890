#!/bin/bash
# Stub layer: vireo-vmm boots the freestanding stub guest (tests/stub/guests)
# and each test checks what a user would see: serial output in the file,
# reboots, the RTC's year, the ACPI power off, boot markers in the log,
# unhandled ports ignored, a triple fault reported, and bad kernels refused.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
stub=$VIREO_BUILDDIR/tests/stub/guests/stub.elf
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
[ -f "$stub" ] || tap_skip_all "the stub guest is not built ($stub; run make check)"

work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-stub-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# run NAME TIMEOUT VMM-ARGS...: runs the VMM with the stub guest; leaves
# $work/NAME.{serial,out,err} and sets $rc.
run() {
    local name=$1 secs=$2
    shift 2
    timeout -k 5 "$secs" "$vmm" --kernel "$stub" --memory size=32M \
        --serial "file=$work/$name.serial" "$@" >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
}

# run_until NAME PATTERN COUNT VMM-ARGS...: starts the VMM, waits (up to 20 s)
# until PATTERN appears COUNT times in the serial file, then stops it.
run_until() {
    local name=$1 pattern=$2 count=$3 pid n i
    shift 3
    "$vmm" --kernel "$stub" --memory size=32M --serial "file=$work/$name.serial" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    for ((i = 0; i < 200; i++)); do
        n=$(grep -ac -- "$pattern" "$work/$name.serial" 2>/dev/null)
        [ "${n:-0}" -ge "$count" ] && break
        running "$pid" || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    seen=${n:-0}
}

diag_run() {
    tap_diag "exit status $rc"
    tap_diag "serial: $(head -c 600 "$work/$1.serial" 2>/dev/null)"
    tap_diag "stderr: $(head -c 1200 "$work/$1.err")"
}

check() { # DESCRIPTION NAME COMMAND...
    local desc=$1 name=$2
    shift 2
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag_run "$name"; fi
}

has() { grep -aq -- "$2" "$work/$1"; }

tap_plan 16

run hello 20 --cmdline "stub.test=hello"
check "serial output reaches --serial file=" hello has hello.serial "STUB hello from the stub guest"
check "ACPI S5 power off ends vireo-vmm with status 0" hello test "$rc" = 0

run hello-tty 20 --cmdline "stub.test=hello" --serial tty --console off
check "--serial tty writes the guest's output to stdout" hello-tty has hello-tty.out "STUB hello from the stub guest"

run smp 20 --cpus boot=2 --cmdline "stub.test=hello"
check "a 2-vCPU VM boots and powers off (APs wait for INIT/SIPI)" smp test "$rc" = 0

run_until reboot-i8042 "STUB start" 3 --cmdline "stub.test=reboot-i8042"
check "i8042 reset (0xFE to port 0x64) reboots the VM (3 boots seen)" reboot-i8042 test "$seen" -ge 3
run_until reboot-acpi "STUB start" 3 --cpus boot=2 --cmdline "stub.test=reboot-acpi"
check "ACPI reset register reboots a 2-vCPU VM (3 boots seen)" reboot-acpi test "$seen" -ge 3

run rtc 20 --cmdline "stub.test=rtc"
year=$(date -u +%Y)
check "the RTC reads the current year ($year)" rtc has rtc.serial "STUB rtc year=$year"

run port80 20 -v --cmdline "stub.test=port80"
check "boot marker 0x40 is logged with its time" port80 \
    grep -Eq "boot marker 0x40 \(kernel start\) at [0-9]+\.[0-9]+ s" "$work/port80.err"
check "boot marker 0x41 is logged, other values at -v" port80 \
    eval 'has port80.err "boot marker 0x41 (userspace start)" && has port80.err "boot marker 0x42"'

run unhandled 20 -v --cmdline "stub.test=unhandled"
check "unhandled port and MMIO reads return all ones" unhandled \
    has unhandled.serial "STUB unhandled inb=ff inl=ffffffff mmio=ffffffff"
check "unhandled accesses are logged and the VM goes on" unhandled \
    eval 'has unhandled.err "unhandled port read 0x1234" && has unhandled.serial "STUB still running" && test "$rc" = 0'

start=$(date +%s)
run triple 20 --cmdline "stub.test=triple-fault"
check "a triple fault ends vireo-vmm with status 1, promptly" triple \
    test "$rc" = 1 -a $(($(date +%s) - start)) -lt 10
check "a triple fault is reported as such" triple has triple.err "triple fault"

run missing 20 --kernel "$work/no-such-kernel"
check "a missing kernel file is an error naming it" missing \
    eval 'test "$rc" = 1 && has missing.err "no-such-kernel"'

printf 'this is not a kernel\n' >"$work/junk"
run junk 20 --kernel "$work/junk"
check "a file that is no kernel is refused, naming it" junk \
    eval 'test "$rc" = 1 && has junk.err "$work/junk is neither an ELF vmlinux with a PVH note nor a bzImage"'

run noinitrd 20 --cmdline "stub.test=hello" --initramfs "$work/no-such-initramfs"
check "a missing initramfs is an error naming it" noinitrd \
    eval 'test "$rc" = 1 && has noinitrd.err "initramfs $work/no-such-initramfs"'

tap_done
