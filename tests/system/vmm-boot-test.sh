#!/bin/bash
# System layer: vireo-vmm boots the Debian kernel to the test initramfs, as a
# PVH vmlinux and as a bzImage. Checks what the guest sees (CPUs, memory,
# clock) and the lifecycle a user relies on: poweroff ends the VMM with 0,
# a guest reboot comes back to init, a kernel panic does not hang the VMM.
# Three VMs, five boots in all.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-boot-test.XXXXXX")
pids=()
cleanup() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do kill -KILL "$p" 2>/dev/null; done
    rm -rf -- "$work"
}
trap cleanup EXIT

# start NAME VMM-ARGS...: runs the VMM in the background, serial to
# $work/NAME.serial (a local file: serial output is one write per byte).
start() {
    local name=$1
    shift
    "$vmm" --serial "file=$work/$name.serial" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    pids+=("$pid")
}

# wait_for NAME PATTERN COUNT SECONDS: true once PATTERN is in the serial
# output COUNT times; false when the VMM exits or time runs out first.
wait_for() {
    local name=$1 pattern=$2 count=$3 secs=$4 n i
    for ((i = 0; i < secs * 5; i++)); do
        n=$(grep -ac -- "$pattern" "$work/$name.serial" 2>/dev/null)
        [ "${n:-0}" -ge "$count" ] && return 0
        running "$pid" || break
        sleep 0.2
    done
    n=$(grep -ac -- "$pattern" "$work/$name.serial" 2>/dev/null)
    [ "${n:-0}" -ge "$count" ]
}

# wait_exit SECONDS: sets $rc to the VMM's exit status, or 124 when it is
# still running after SECONDS (it is then killed).
wait_exit() {
    local secs=$1 i
    for ((i = 0; i < secs * 10; i++)); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=124
    else
        wait "$pid"
        rc=$?
    fi
}

result() { # NAME KEY [OCCURRENCE]: the value of "VIREO-RESULT KEY=" in the output
    grep -a "^VIREO-RESULT $2=" "$work/$1.serial" | sed -n "${3:-1}p" | tr -d '\r' |
        sed "s/^VIREO-RESULT $2=//"
}

diag() {
    tap_diag "serial (tail): $(tail -n 25 "$work/$1.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "stderr: $(grep -v unhandled "$work/$1.err" | head -n 20)"
}

check() { # DESCRIPTION NAME COMMAND...
    local desc=$1 name=$2
    shift 2
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag "$name"; fi
}

# MemTotal is what is left of RAM after the kernel's own reservations: it
# must be below the configured size and not far below.
mem_ok() { # NAME SIZE_MIB
    local kb
    kb=$(result "$1" memtotal_kb)
    [ -n "$kb" ] && [ "$kb" -le $(($2 * 1024)) ] && [ "$kb" -ge $(($2 * 1024 * 3 / 4)) ]
}

cmdline="console=ttyS0 quiet"
tap_plan 16

# --- 1: PVH vmlinux, 2 vCPUs, 512M, powers off --------------------------------
start pvh --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=2 --memory size=512M --cmdline "$cmdline vireo.check=basic vireo.end=poweroff"
check "PVH vmlinux boots to the test init on ttyS0" pvh wait_for pvh "VIREO-INIT up" 1 120
# The host's clock when the guest's date line is complete (the guest's tty
# ends lines with CR LF; polled every 0.2 s).
wait_for pvh $'VIREO-RESULT date=[0-9]*\r' 1 60
host_date=$(date +%s.%N)
wait_for pvh "VIREO-DONE" 1 60
done_at=$(date +%s.%N)
wait_exit 30
exit_after=$(awk -v a="$done_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "nproc is 2 with --cpus boot=2" pvh test "$(result pvh nproc)" = 2
check "MemTotal fits --memory size=512M" pvh mem_ok pvh 512
guest_date=$(result pvh date)
# The guest prints whole seconds, so its clock is up to 1 s past what it says.
clock_ok() {
    [ -n "$guest_date" ] &&
        awk -v g="$guest_date" -v h="$host_date" 'BEGIN { d = h - g; exit !(d <= 3 && d >= -2) }'
}
check "guest clock within 2 s of the host's (guest ${guest_date:-none}, host ${host_date%.*})" pvh \
    clock_ok
check "poweroff -f ends vireo-vmm with status 0" pvh test "$rc" = 0
check "... within 10 s (took $exit_after s)" pvh awk -v t="$exit_after" 'BEGIN { exit !(t < 10) }'

# --- 2: bzImage, 1 vCPU, 256M, reboots ------------------------------------------
start bz --kernel "$guest/bzImage" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=1 --memory size=256M --cmdline "$cmdline vireo.check=basic vireo.end=reboot"
check "bzImage boots to the test init on ttyS0" bz wait_for bz "VIREO-INIT up" 1 120
wait_for bz "VIREO-DONE" 1 60
check "nproc is 1 with --cpus boot=1" bz test "$(result bz nproc)" = 1
check "MemTotal fits --memory size=256M" bz mem_ok bz 256
check "vireo.end=reboot brings the guest to init a second time" bz wait_for bz "VIREO-INIT up" 2 120
check "the VMM is still running after the reboot" bz running "$pid"
check "... and the second boot sees the same CPUs and memory" bz \
    eval 'wait_for bz "VIREO-DONE" 2 60 && test "$(result bz nproc 2)" = 1 && test "$(result bz memtotal_kb 2)" = "$(result bz memtotal_kb 1)"'
kill -TERM "$pid" 2>/dev/null
wait_exit 10

# --- 3: PVH, a kernel panic with panic=-1 ---------------------------------------
start panic --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --memory size=512M \
    --cmdline "$cmdline panic=-1 vireo.check=basic vireo.end=panic"
check "the panic test guest reaches init" panic wait_for panic "VIREO-INIT up" 1 120
check "sysrq-c panics the guest kernel" panic wait_for panic "Kernel panic" 1 60
check "with panic=-1 the panicked guest reboots to init" panic wait_for panic "VIREO-INIT up" 2 120
kill -TERM "$pid" 2>/dev/null
wait_exit 10
check "vireo-vmm is not hung: SIGTERM ends it promptly" panic test "$rc" != 124

tap_done
