#!/bin/bash
# System layer: vireo-vmm boots the Debian kernel to the test initramfs, as a
# PVH vmlinux and as a bzImage. Checks what the guest sees (CPUs, memory,
# clock) and the lifecycle a user relies on: poweroff ends the VMM with 0,
# a guest reboot comes back to init, a kernel panic does not hang the VMM.
# Three VMs, five boots in all.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-boot-test.XXXXXX")
cleanup() {
    vm_kill_all
    rm -rf -- "$work"
}
trap cleanup EXIT

diag() {
    tap_diag "serial (tail): $(tail -n 25 "$work/$1.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "stderr: $(grep -v unhandled "$work/$1.err" | head -n 20)"
}

# MemTotal is what is left of RAM after the kernel's own reservations: it
# must be below the configured size and not far below.
mem_ok() { # NAME SIZE_MIB
    local kb
    kb=$(vm_result "$1" memtotal_kb)
    [ -n "$kb" ] && [ "$kb" -le $(($2 * 1024)) ] && [ "$kb" -ge $(($2 * 1024 * 3 / 4)) ]
}

cmdline="console=ttyS0 quiet"
tap_plan 16

# --- 1: PVH vmlinux, 2 vCPUs, 512M, powers off --------------------------------
vm_start pvh --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=2 --memory size=512M --cmdline "$cmdline vireo.check=basic vireo.end=poweroff"
vm_check "PVH vmlinux boots to the test init on ttyS0" pvh vm_wait_for pvh "VIREO-INIT up" 1 120
# The host's clock when the guest's date line is complete (the guest's tty
# ends lines with CR LF; polled every 0.2 s).
vm_wait_for pvh $'VIREO-RESULT date=[0-9]*\r' 1 60
host_date=$(date +%s.%N)
vm_wait_for pvh "VIREO-DONE" 1 60
done_at=$(date +%s.%N)
vm_wait_exit 30
exit_after=$(awk -v a="$done_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
vm_check "nproc is 2 with --cpus boot=2" pvh test "$(vm_result pvh nproc)" = 2
vm_check "MemTotal fits --memory size=512M" pvh mem_ok pvh 512
guest_date=$(vm_result pvh date)
# The guest prints whole seconds, so its clock is up to 1 s past what it says.
clock_ok() {
    [ -n "$guest_date" ] &&
        awk -v g="$guest_date" -v h="$host_date" 'BEGIN { d = h - g; exit !(d <= 3 && d >= -2) }'
}
vm_check "guest clock within 2 s of the host's (guest ${guest_date:-none}, host ${host_date%.*})" pvh \
    clock_ok
vm_check "poweroff -f ends vireo-vmm with status 0" pvh test "$rc" = 0
vm_check "... within 10 s (took $exit_after s)" pvh awk -v t="$exit_after" 'BEGIN { exit !(t < 10) }'

# --- 2: bzImage, 1 vCPU, 256M, reboots ------------------------------------------
vm_start bz --kernel "$guest/bzImage" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=1 --memory size=256M --cmdline "$cmdline vireo.check=basic vireo.end=reboot"
vm_check "bzImage boots to the test init on ttyS0" bz vm_wait_for bz "VIREO-INIT up" 1 120
vm_wait_for bz "VIREO-DONE" 1 60
vm_check "nproc is 1 with --cpus boot=1" bz test "$(vm_result bz nproc)" = 1
vm_check "MemTotal fits --memory size=256M" bz mem_ok bz 256
vm_check "vireo.end=reboot brings the guest to init a second time" bz vm_wait_for bz "VIREO-INIT up" 2 120
vm_check "the VMM is still running after the reboot" bz running "$pid"
vm_check "... and the second boot sees the same CPUs and memory" bz \
    eval 'vm_wait_for bz "VIREO-DONE" 2 60 && test "$(vm_result bz nproc 2)" = 1 && test "$(vm_result bz memtotal_kb 2)" = "$(vm_result bz memtotal_kb 1)"'
kill -TERM "$pid" 2>/dev/null
vm_wait_exit 10

# --- 3: PVH, a kernel panic with panic=-1 ---------------------------------------
vm_start panic --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --memory size=512M \
    --cmdline "$cmdline panic=-1 vireo.check=basic vireo.end=panic"
vm_check "the panic test guest reaches init" panic vm_wait_for panic "VIREO-INIT up" 1 120
vm_check "sysrq-c panics the guest kernel" panic vm_wait_for panic "Kernel panic" 1 60
vm_check "with panic=-1 the panicked guest reboots to init" panic vm_wait_for panic "VIREO-INIT up" 2 120
kill -TERM "$pid" 2>/dev/null
vm_wait_exit 10
vm_check "vireo-vmm is not hung: SIGTERM ends it promptly" panic test "$rc" != 124

tap_done
