#!/bin/bash
# System layer: virtvireod runs a Linux guest with the real vireo-vmm, driven
# by the real virsh and python-libvirt. `virsh start`, the guest's init line
# read through `virsh console`, a virtio disk read and written (and read
# again after the reboot), suspend/resume, `virsh reboot` (init again),
# `virsh shutdown` (the ACPI power button: the guest waits for it like
# logind would) -> shut off (shutdown) within 20 s, then the calls nova makes
# (defineXML, createWithFlags, XMLDesc, info, state, destroy, undefineFlags).
# Two VMs, three boots.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
# VIREO_TEST_VMM: another vireo-vmm build to drive (a VMM being worked on).
vmm=${VIREO_TEST_VMM:-$VIREO_BUILDDIR/vmm/vireo-vmm}
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
[ -x "$VIREO_BUILDDIR/driver/virtvireod" ] || tap_skip_all "virtvireod is not built"
"$vmm" --help 2>&1 | grep -q -- --api-socket ||
    tap_skip_all "vireo-vmm has no control API yet (--api-socket)"
command -v virsh >/dev/null || tap_skip_all "virsh is not installed"
command -v script >/dev/null || tap_skip_all "script(1) is not installed"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest

. "$VIREO_SRCDIR/tests/driver/lib.sh"
export VIREO_VMM=$vmm
console_pid=

stop_console() {
    [ -n "$console_pid" ] && kill "$console_pid" 2>/dev/null && wait "$console_pid" 2>/dev/null
    console_pid=
}
trap 'stop_console; vsh destroy linux1 >/dev/null 2>&1; vsh destroy nova1 >/dev/null 2>&1; vt_cleanup' EXIT

# A guest check that waits for the ACPI power button and then powers off, as
# systemd-logind would; the other checks come along.
checks=$vt_dir/checks
mkdir -p "$checks"
cp "$VIREO_SRCDIR"/tests/guest/checks/*.sh "$checks/"
cat >"$checks/driver-power-button.sh" <<'EOF'
#!/bin/sh
# Reads and writes the virtio disk (ext4 from mkdisk), then waits for the
# ACPI power button and powers off.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /mnt/vda
if mount -t ext4 /dev/vda /mnt/vda; then
    echo "VIREO-RESULT disk_read=$(cat /mnt/vda/hello.txt)"
    n=$(($(cat /mnt/vda/boots 2>/dev/null || echo 0) + 1))
    echo "$n" >/mnt/vda/boots
    umount /mnt/vda && echo "VIREO-RESULT disk_boots=$n"
else
    echo "VIREO-RESULT disk_read=mount-failed"
fi
dev=
for d in /sys/class/input/event*; do
    [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && dev=/dev/input/${d##*/}
done
echo "VIREO-RESULT power_button=${dev:-none}"
[ -n "$dev" ] || exit 1
echo "VIREO-WAITING power-button"
head -c 1 "$dev" >/dev/null
echo "VIREO-RESULT power_button_pressed=yes"
poweroff -f
EOF
if ! "$VIREO_SRCDIR/tests/guest/build-initramfs" "$cache" "$vt_dir/initramfs.cpio.gz" \
    --checks "$checks" >"$vt_dir/initramfs.log" 2>&1; then
    tap_skip_all "cannot build the initramfs: $(tail -n 3 "$vt_dir/initramfs.log")"
fi

# The disk linux1 boots with: ext4 with a file to read; each boot counts
# itself on it, so the second boot (after virsh reboot) reads the first's.
mkdir -p "$vt_dir/disk-src"
echo "written-by-the-host" >"$vt_dir/disk-src/hello.txt"
"$VIREO_SRCDIR/tests/guest/mkdisk" "$vt_dir/disk-src" "$vt_dir/linux1.img" 16 >/dev/null ||
    tap_skip_all "cannot make the disk image"

domain_xml() { # NAME CHECK [DISK]
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$guest/vmlinux</kernel>
    <initrd>$vt_dir/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet vireo.check=$2 vireo.end=poweroff</cmdline>
  </os>
  <devices>
$([ -n "${3:-}" ] && echo "    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$3'/><target dev='vda' bus='virtio'/></disk>")
    <serial type='pty'/>
    <console type='pty'><target type='serial'/></console>
  </devices>
</domain>
XML
}

# console_count PATTERN: how often PATTERN appeared on the console so far.
console_count() { grep -ac -- "$1" "$vt_dir/console.log" 2>/dev/null || true; }

# wait_console PATTERN COUNT SECONDS
wait_console() {
    local i n
    for ((i = 0; i < $3 * 5; i++)); do
        n=$(console_count "$1")
        [ "${n:-0}" -ge "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

wait_state() { # NAME "STATE (REASON)" SECONDS
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        [ "$(vsh domstate --reason "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

diag() {
    tap_diag "console (tail): $(tail -n 20 "$vt_dir/console.log" 2>/dev/null | tr -d '\r')"
    tap_diag "VMM log: $(tail -n 10 "$vt_dir/log/linux1.log" 2>/dev/null)"
}
check() { # DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag; fi
}

tap_plan 19
check "daemon starts" vt_start
domain_xml linux1 driver-power-button "$vt_dir/linux1.img" >"$vt_dir/linux1.xml"
check "virsh define" quiet vsh define "$vt_dir/linux1.xml"
check "virsh start" quiet vsh start linux1
check "domstate: running (booted)" test "$(vsh domstate --reason linux1)" = "running (booted)"

# virsh console on a terminal of its own (script), output to a file.
sleep 3600 | script -qfc "virsh -c 'vireo+unix:///system?socket=$vt_sock' console linux1" \
    "$vt_dir/console.log" >/dev/null 2>&1 &
console_pid=$!
check "virsh console shows the guest's init line" wait_console "VIREO-INIT up" 1 120
check "... and the guest waits for the power button" wait_console "VIREO-WAITING power-button" 1 60
check "the guest read the host's file from its virtio disk" \
    wait_console "disk_read=written-by-the-host" 1 1
check "... and wrote to it" wait_console "disk_boots=1" 1 1

quiet vsh suspend linux1
check "suspend: paused (user)" test "$(vsh domstate --reason linux1)" = "paused (user)"
quiet vsh resume linux1
check "resume: running (unpaused)" test "$(vsh domstate --reason linux1)" = "running (unpaused)"

check "virsh reboot" quiet vsh reboot linux1
check "after virsh reboot the guest reaches init again" wait_console "VIREO-INIT up" 2 120
wait_console "VIREO-WAITING power-button" 2 60
check "the second boot reads what the first wrote" wait_console "disk_boots=2" 1 1

start=$(date +%s)
check "virsh shutdown" quiet vsh shutdown linux1
check "shut off (shutdown) within 20 s" wait_state linux1 "shut off (shutdown)" 20
tap_diag "shutdown took $(($(date +%s) - start)) s"
check "the guest saw the power button" wait_console "power_button_pressed=yes" 1 5
stop_console

# The calls OpenStack nova makes.
domain_xml nova1 basic >"$vt_dir/nova1.xml"
out=$(/usr/bin/python3 - "vireo+unix:///system?socket=$vt_sock" "$vt_dir/nova1.xml" <<'EOF' 2>&1
import sys
import libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.defineXML(open(sys.argv[2]).read())
dom.createWithFlags(0)
assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED], dom.state()
xml = dom.XMLDesc(0)
assert "<source path='/dev/pts/" in xml, xml
info = dom.info()
assert info[0] == libvirt.VIR_DOMAIN_RUNNING and info[1] == 524288 and info[3] == 1, info
dom.destroy()
assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
assert [d.name() for d in conn.listAllDomains()] == ["linux1"]
print("nova calls ok")
EOF
)
check "python-libvirt: defineXML, createWithFlags, XMLDesc, info, state, destroy, undefineFlags" \
    grep -q "nova calls ok" <<<"$out"
[ "${_tap_failed:-0}" -gt 0 ] && tap_diag "$out"
check "nothing left in the run dir" test -z "$(ls -A "$vt_dir/run")"
check "daemon stops cleanly" vt_stop
tap_done
