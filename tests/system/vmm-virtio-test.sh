#!/bin/bash
# System layer: virtio devices on PCI, driven by the real Linux drivers.
# Two VMs, three boots:
#  1. PVH, io_uring: a raw ext4 vda and a qcow2 ext4 vdb (direct=on) get
#     files written in the guest, which the host then reads back (e2fsck,
#     debugfs, qemu-img check); a read-only vdc refuses writes; 64 bytes from
#     /dev/hwrng; text written to hvc0 lands in --console file=; a PCI remove
#     and rescan of vda re-initializes it and its files read back.
#  2. bzImage, thread-pool engine: a raw vda (direct=on) and a qcow2 vdb
#     written on the first boot and read back after a guest reboot (PCI
#     reset), with an unbind/bind of vdb's driver on each boot.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
export PATH=$PATH:/sbin:/usr/sbin
for tool in mke2fs e2fsck debugfs qemu-img; do
    command -v "$tool" >/dev/null || tap_skip_all "$tool not found (install e2fsprogs, qemu-utils)"
done
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-virtio-test.XXXXXX")
ddir=
cleanup() {
    vm_kill_all
    rm -rf -- "$work" ${ddir:+"$ddir"}
}
trap cleanup EXIT

# Disks opened with direct=on need O_DIRECT, which tmpfs before Linux 6.6
# lacks: use the first folder that has it.
odirect_ok() { dd if=/dev/zero of="$1/.odirect" bs=4096 count=1 oflag=direct 2>/dev/null; }
if odirect_ok "$work"; then
    ddir=$work/direct
    mkdir -p "$ddir"
else
    ddir=$(mktemp -d "$VIREO_BUILDDIR/.vmm-virtio-test.XXXXXX")
    odirect_ok "$ddir" || { rm -rf -- "$ddir"; ddir=; }
fi

diag() {
    tap_diag "serial (tail): $(tail -n 30 "$work/$1.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "stderr: $(grep -v unhandled "$work/$1.err" | tail -n 25)"
}

# An ext4 image with /seed.txt, raw or (converted) qcow2.
mkimage() { # OUT SEED [qcow2]
    local src=$work/src.$$
    mkdir -p "$src"
    printf '%s\n' "$2" >"$src/seed.txt"
    if [ "${3:-}" = qcow2 ]; then
        "$VIREO_SRCDIR/tests/guest/mkdisk" "$src" "$1.raw" 64 >/dev/null &&
            qemu-img convert -f raw -O qcow2 "$1.raw" "$1" && rm -f -- "$1.raw"
    else
        "$VIREO_SRCDIR/tests/guest/mkdisk" "$src" "$1" 64 >/dev/null
    fi
    rm -rf -- "$src"
}

# The host's view of a file in an ext4 image after the VM is gone.
fsck_ok() { e2fsck -fn "$1" >"$work/fsck.log" 2>&1 || { tap_diag "$(cat "$work/fsck.log")"; false; }; }
host_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
host_md5() {
    rm -f -- "$work/dump"
    debugfs -R "dump $2 $work/dump" "$1" >/dev/null 2>&1 && md5sum <"$work/dump" | cut -d' ' -f1
}
qcow2_ok() { qemu-img check -f qcow2 "$1" >"$work/qcheck.log" 2>&1 || { tap_diag "$(cat "$work/qcheck.log")"; false; }; }
to_raw() { qemu-img convert -f qcow2 -O raw "$1" "$2"; }

tap_plan 35
token=$$-$RANDOM

# --- 1: PVH, io_uring, three disks, rng, console, PCI remove/rescan ----------
qdir=${ddir:-$work}
mkimage "$work/a.img" "seed-a" && mkimage "$qdir/b.qcow2" "seed-b" qcow2 &&
    mkimage "$work/c.img" "seed-c" || tap_skip_all "cannot make the disk images"
c_md5=$(md5sum <"$work/c.img")
vm_start main -v --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=2 --memory size=512M \
    --disk "path=$work/a.img" "path=$qdir/b.qcow2,image_type=qcow2${ddir:+,direct=on}" \
    --disk "path=$work/c.img,readonly=on,id=ro" \
    --rng src=/dev/urandom --console "file=$work/main.hvc0" \
    --cmdline "console=ttyS0 quiet vireo.check=virtio vireo.token=$token vireo.end=poweroff"
vm_check "the guest with virtio devices reaches init" main vm_wait_for main "VIREO-INIT up" 1 120
vm_wait_for main "VIREO-DONE" 1 180
vm_wait_exit 30
vm_check "the check ran to the end and the VMM exited 0" main \
    eval 'grep -aq "VIREO-DONE rc=0" "$work/main.serial" && test "$rc" = 0'
# Cloud Hypervisor's order: host bridge, console, disks, rng.
vm_check "PCI functions: host bridge, console, 3 disks, rng (virtio modern ids)" main is \
    "$(vm_result main pci)" \
    "0000:00:00.0=8086:0d57 0000:00:01.0=1af4:1043 0000:00:02.0=1af4:1042 0000:00:03.0=1af4:1042 0000:00:04.0=1af4:1042 0000:00:05.0=1af4:1044"
vm_check "the guest sees vda, vdb and vdc" main is "$(vm_result main disks)" "vda vdb vdc"
vm_check "vda reads the host's ext4 (seed file)" main is "$(vm_result main vda_seed)" "seed-a"
vm_check "files written on vda (raw, io_uring) are unmounted cleanly" main is "$(vm_result main vda_write)" ok
vm_check "files written on vdb (qcow2${ddir:+, direct=on}) are unmounted cleanly" main \
    is "$(vm_result main vdb_write)" ok
vm_check "vdc is read-only to the guest" main is "$(vm_result main vdc_ro)" 1
# Linux refuses writes to a read-only disk with EPERM (EROFS on open).
vm_check "writing vdc is refused (EPERM or EROFS)" main \
    eval 'case $(vm_result main vdc_write) in EPERM | EROFS) true ;; *) false ;; esac'
vm_check "vdc is still readable" main is "$(vm_result main vdc_seed)" "seed-c"
vm_check "hwrng is virtio_rng" main eval 'case $(vm_result main hwrng_current) in virtio_rng*) true ;; *) false ;; esac'
vm_check "64 bytes read from /dev/hwrng" main is "$(vm_result main hwrng_bytes)" 64
vm_check "... and two reads differ" main eval \
    '[ -n "$(vm_result main hwrng_a)" ] && [ "$(vm_result main hwrng_a)" != "$(vm_result main hwrng_b)" ] && [ "$(vm_result main hwrng_a)" != 00000000000000000000000000000000 ]'
vm_check "text written to hvc0 reaches --console file=" main \
    eval 'vm_result main hvc0 | grep -q written && grep -aq "VIREO-HVC0 hello token=$token" "$work/main.hvc0"'
vm_check "PCI remove of vda's function works" main is "$(vm_result main removed)" yes
vm_check "after a rescan the disk is back" main eval '[ "$(vm_result main rescan_dev)" != none ] && [ -n "$(vm_result main rescan_dev)" ]'
vm_check "... and reads back what was written before the remove" main eval \
    'is "$(vm_result main rescan_hello)" "hello from vda token=$token" && is "$(vm_result main rescan_big_md5)" "$(vm_result main vda_big_md5)"'
vm_check "the VMM logged the io_uring engine" main grep -q "on the io_uring engine" "$work/main.err"

vm_check "raw vda: e2fsck -fn on the host finds it clean" main fsck_ok "$work/a.img"
vm_check "raw vda: the host reads the guest's file" main \
    is "$(host_cat "$work/a.img" /hello.txt)" "hello from vda token=$token"
vm_check "raw vda: the 4 MiB file has the guest's checksum" main \
    is "$(host_md5 "$work/a.img" /big.bin)" "$(vm_result main vda_big_md5)"
vm_check "qcow2 vdb: qemu-img check is clean" main qcow2_ok "$qdir/b.qcow2"
to_raw "$qdir/b.qcow2" "$work/b.raw"
vm_check "qcow2 vdb: e2fsck -fn clean and the guest's files read back" main eval \
    'fsck_ok "$work/b.raw" && is "$(host_cat "$work/b.raw" /hello.txt)" "hello from vdb token=$token" && is "$(host_md5 "$work/b.raw" /big.bin)" "$(vm_result main vdb_big_md5)"'
vm_check "read-only vdc is unchanged on the host" main is "$(md5sum <"$work/c.img")" "$c_md5"
rm -f -- "$work/b.raw" "$qdir/b.qcow2"

# --- 2: bzImage, thread pool, reboot -------------------------------------------
vdir=${ddir:-$work}
mkimage "$vdir/d.img" "seed-d" && mkimage "$work/e.qcow2" "seed-e" qcow2 ||
    tap_skip_all "cannot make the disk images"
export VIREO_BLOCK_ENGINE=threads
vm_start rb -v --kernel "$guest/bzImage" \
    --initramfs "$guest/initramfs.cpio.gz" --memory size=256M \
    --disk "path=$vdir/d.img${ddir:+,direct=on},num_queues=2,queue_size=64" \
    --disk "path=$work/e.qcow2" --console off \
    --cmdline "console=ttyS0 quiet vireo.check=virtio-reboot vireo.token=$token vireo.end=reboot"
unset VIREO_BLOCK_ENGINE
vm_check "the reboot guest reaches init" rb vm_wait_for rb "VIREO-INIT up" 1 120
vm_wait_for rb "VIREO-DONE" 1 120
vm_check "first boot: files written on vda${ddir:+ (direct=on)} and vdb (thread pool)" rb eval \
    'is "$(vm_result rb vda_state)" written && is "$(vm_result rb vdb_state)" written'
vm_check "first boot: vdb's driver unbound and bound again reads it back" rb \
    is "$(vm_result rb rebind_boot1)" "vdb token=$token"
vm_check "the guest reboots to init with its disks" rb vm_wait_for rb "VIREO-DONE" 2 180
vm_check "second boot: vda's file and checksum are back (devices reset, not lost)" rb eval \
    'is "$(vm_result rb vda_state 2)" seen && is "$(vm_result rb vda_boot1 1)" "vda token=$token" && is "$(vm_result rb vda_big_md5 2)" "$(vm_result rb vda_big_md5 1)"'
vm_check "second boot: vdb's too" rb eval \
    'is "$(vm_result rb vdb_state 2)" seen && is "$(vm_result rb vdb_big_md5 2)" "$(vm_result rb vdb_big_md5 1)"'
vm_check "second boot: unbind/bind of vdb works after the reboot" rb \
    is "$(vm_result rb rebind_boot1 2)" "vdb token=$token"
kill -TERM "$pid" 2>/dev/null
vm_wait_exit 10
vm_check "the VMM logged the thread-pool engine" rb grep -q "on the threads engine" "$work/rb.err"
vm_check "raw vda (threads${ddir:+, direct}): clean and the guest's files read back on the host" rb eval \
    'fsck_ok "$vdir/d.img" && is "$(host_cat "$vdir/d.img" /boot1.txt)" "vda token=$token" && is "$(host_md5 "$vdir/d.img" /big.bin)" "$(vm_result rb vda_big_md5)"'
to_raw "$work/e.qcow2" "$work/e.raw"
vm_check "qcow2 vdb (threads): qemu-img check clean, e2fsck clean, files read back" rb eval \
    'qcow2_ok "$work/e.qcow2" && fsck_ok "$work/e.raw" && is "$(host_cat "$work/e.raw" /boot1.txt)" "vdb token=$token"'
if [ -n "$ddir" ]; then
    tap_ok "direct=on disks ran on $ddir"
else
    tap_skip "direct=on" "no folder here supports O_DIRECT"
fi

tap_done
