#!/bin/sh
# virtio disks across a VM reboot (tests/system/vmm-virtio-test.sh): on the
# first boot, write files on the ext4 file systems of vda and vdb; on every
# later boot only read them back (read-only mounts, so the host may stop the
# VM at any time). Each boot also unbinds vdb's PCI function from its driver
# and binds it again, which resets the device and sets it up anew.
token=none
for arg in $(cat /proc/cmdline); do
    case $arg in vireo.token=*) token=${arg#vireo.token=} ;; esac
done

wait_block() {
    i=0
    while [ ! -b "/dev/$1" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -b "/dev/$1" ]
}
pci_of() { basename "$(dirname "$(readlink -f "/sys/block/$1/device")")"; }

wait_block vda
wait_block vdb
echo "VIREO-RESULT disks=$(cd /sys/block && echo vd*)"

for d in vda vdb; do
    mkdir -p /mnt/$d
    if ! mount -t ext4 -o ro /dev/$d /mnt/$d; then
        echo "VIREO-RESULT ${d}_state=mount-failed"
        continue
    fi
    if [ -f /mnt/$d/boot1.txt ]; then
        echo "VIREO-RESULT ${d}_state=seen"
        echo "VIREO-RESULT ${d}_boot1=$(cat /mnt/$d/boot1.txt)"
        echo "VIREO-RESULT ${d}_big_md5=$(md5sum </mnt/$d/big.bin | cut -d' ' -f1)"
        umount /mnt/$d
        continue
    fi
    if ! mount -o remount,rw /mnt/$d; then
        echo "VIREO-RESULT ${d}_state=remount-failed"
        umount /mnt/$d
        continue
    fi
    echo "$d token=$token" >/mnt/$d/boot1.txt
    dd if=/dev/urandom of=/mnt/$d/big.bin bs=65536 count=64 2>/dev/null
    echo "VIREO-RESULT ${d}_big_md5=$(md5sum </mnt/$d/big.bin | cut -d' ' -f1)"
    sync
    umount /mnt/$d && echo "VIREO-RESULT ${d}_state=written"
done

# Unbind and bind vdb's function: a driver-initiated reset of a live device.
addr=$(pci_of vdb)
echo "$addr" >/sys/bus/pci/drivers/virtio-pci/unbind
i=0
while [ -e /sys/bus/pci/devices/$addr/driver ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "$addr" >/sys/bus/pci/drivers/virtio-pci/bind
dev=
i=0
while [ -z "$dev" ] && [ $i -lt 100 ]; do
    for b in /sys/bus/pci/devices/$addr/virtio*/block/*; do
        [ -e "$b" ] && dev=${b##*/}
    done
    [ -n "$dev" ] || sleep 0.1
    i=$((i + 1))
done
echo "VIREO-RESULT rebind_dev=${dev:-none}"
if [ -n "$dev" ] && wait_block "$dev" && mkdir -p /mnt/again &&
    mount -t ext4 -o ro /dev/$dev /mnt/again; then
    echo "VIREO-RESULT rebind_boot1=$(cat /mnt/again/boot1.txt)"
    umount /mnt/again
fi
