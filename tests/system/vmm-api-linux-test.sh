#!/bin/bash
# System layer: a Linux guest driven through vireo-vmm's control API, as the
# libvirt driver drives it. vm.create + vm.boot bring the guest to its init;
# vm.reboot resets it and it reaches init again (events rebooting,
# rebooted); vm.power-button makes a guest that waits for the button like
# systemd-logind (checks/powerbutton.sh) power off: state Shutdown, event
# vm shutdown; a kernel panic reaches the host as the event "guest panic"
# (QEMU's ISA pvpanic device, which Linux's pvpanic_mmio module drives);
# virtio devices report activated and reset.
# Two VMs, three boots in all.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
remote=$VIREO_BUILDDIR/vmm/vireo-remote
[ -x "$vmm" ] && [ -x "$remote" ] || tap_skip_all "vireo-vmm or vireo-remote is not built"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-api-linux-test.XXXXXX")
cleanup() {
    vm_kill_all
    rm -rf -- "$work"
}
trap cleanup EXIT

sock=$work/api.sock
ev=$work/events
R() { "$remote" --api-socket "$sock" "$@"; }
rq() {
    R "$@" >"$work/out" 2>"$work/err"
    rc=$?
}
diag() {
    tap_diag "exit status ${rc:-?}; stderr: $(head -c 600 "$work/err" 2>/dev/null)"
    tap_diag "serial (tail): $(tail -n 20 "$work/$1.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "vmm log: $(grep -v unhandled "$work/vmm.err" | tail -n 15)"
    tap_diag "events: $(cat "$ev" 2>/dev/null)"
}
# wait_until SECONDS COMMAND...: true once COMMAND is; bounded by the clock,
# not by a count of tries (each try may take long in a loaded test host).
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while ((SECONDS < end)); do
        "$@" && return 0
        running "$vpid" || return 1
        sleep 0.2
    done
    "$@"
}
state_is() { rq info && grep -q "\"state\" : \"$1\"" "$work/out"; }
events() {
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print(e["source"], e["event"])' "$1" 2>/dev/null
}
has_event() { events "$ev" | grep -qx "$1"; }
# The VM's lifecycle events, without the devices' own.
vm_events() { events "$1" | grep -v '^virtio-device '; }
# device_events ID: what happened to one virtio device, in order (grep, not
# python: it runs in a polling loop, and python starts slowly in the test host).
device_events() {
    grep -a '"source":"virtio-device"' "$ev" 2>/dev/null | grep -aF "\"id\":\"$1\"" |
        sed -n 's/.*"event":"\([a-z]*\)".*/\1/p' | tr '\n' ' '
}
# config NAME CMDLINE: a VmConfig for the test guest, serial to NAME.serial.
config() {
    printf '{"cpus":{"boot_vcpus":2,"max_vcpus":2},"memory":{"size":536870912},
"payload":{"kernel":"%s","initramfs":"%s","cmdline":"console=ttyS0 quiet %s"},
"serial":{"mode":"File","file":"%s"},"console":{"mode":"Off"}}' \
        "$guest/vmlinux" "$guest/initramfs.cpio.gz" "$2" "$work/$1.serial"
}

tap_plan 13

"$vmm" --api-socket "path=$sock" --event-monitor "path=$ev" >"$work/vmm.out" 2>"$work/vmm.err" &
vpid=$!
pids+=("$vpid")
wait_until 10 test -S "$sock"

# --- VM 1: boot, reboot, power button ---------------------------------------
rq create "$(config pb "vireo.check=powerbutton")"
vm_check "vm.create with the Linux guest's VmConfig" pb test "$rc" = 0
rq boot
vm_check "vm.boot brings the guest to its init" pb \
    eval '[ $rc = 0 ] && wait_until 120 vm_seen pb "VIREO-INIT up" 1'
vm_check "the guest waits for the power button" pb \
    wait_until 60 vm_seen pb "VIREO-RESULT powerbutton=waiting" 1
rq reboot
vm_check "vm.reboot: the guest reaches init again" pb \
    eval '[ $rc = 0 ] && wait_until 120 vm_seen pb "VIREO-INIT up" 2 && state_is Running'
vm_check "... with the events vm rebooting, vm rebooted" pb \
    eval 'has_event "vm rebooting" && has_event "vm rebooted"'
vm_check "the entropy device was activated by the driver, reset by the reboot, activated again" pb \
    wait_until 60 eval '[ "$(device_events __rng)" = "activated reset activated " ]'
wait_until 60 vm_seen pb "VIREO-RESULT powerbutton=waiting" 2
rq power-button
vm_check "vm.power-button: the guest sees the button press" pb \
    eval '[ $rc = 0 ] && wait_until 60 vm_seen pb "VIREO-RESULT powerbutton=pressed" 1'
vm_check "... and powers off: state Shutdown" pb wait_until 60 state_is Shutdown
vm_check "... with the event vm shutdown (reason poweroff)" pb \
    grep -q '"event":"shutdown","properties":{"reason":"poweroff"}' "$ev"

# --- VM 2: a kernel panic -----------------------------------------------------
rq delete
rq create "$(config panic "vireo.check=hello vireo.end=panic")"
vm_check "a second VM can be created after vm.delete" panic test "$rc" = 0
rq boot
vm_check "a guest kernel panic is reported as the event 'guest panic'" panic \
    eval '[ $rc = 0 ] && wait_until 120 has_event "guest panic"'
rq shutdown
vm_check "vm.shutdown stops the panicked VM" panic eval '[ $rc = 0 ] && state_is Shutdown'

rq shutdown-vmm
for ((i = 0; i < 50; i++)); do
    running "$vpid" || break
    sleep 0.1
done
wait "$vpid"
rc=$?
expected="vmm starting
vm booting
vm booted
vm rebooting
vm rebooted
vm shutdown
vm deleted
vm booting
vm booted
guest panic
vm shutdown
vm deleted
vmm shutdown"
vm_check "vmm.shutdown exits 0; every event arrived, in order" panic \
    eval '[ $rc = 0 ] && [ "$(vm_events "$ev")" = "$expected" ]'
tap_done
