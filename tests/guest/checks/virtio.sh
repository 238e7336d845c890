#!/bin/sh
# virtio devices as Linux's drivers see them (tests/system/vmm-virtio-test.sh):
# the PCI functions, the disks (write ext4 files on vda and vdb, refuse
# writes on the read-only vdc), hwrng, hvc0, and a PCI remove + rescan of
# vda after which its files read back through the re-initialized device.
# vireo.token=T on the kernel command line tags what is written.
token=none
for arg in $(cat /proc/cmdline); do
    case $arg in vireo.token=*) token=${arg#vireo.token=} ;; esac
done

# wait_block NAME: waits up to 10 s for /dev/NAME (probing is asynchronous).
wait_block() {
    i=0
    while [ ! -b "/dev/$1" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -b "/dev/$1" ]
}

# The PCI address of a virtio block device, e.g. 0000:00:02.0.
pci_of() { basename "$(dirname "$(readlink -f "/sys/block/$1/device")")"; }

# PCI functions: address=vendor:device, in bus order.
pci=
for d in /sys/bus/pci/devices/*; do
    pci="$pci ${d##*/}=$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
done
echo "VIREO-RESULT pci=$(echo $pci)"

wait_block vda
wait_block vdb
wait_block vdc
echo "VIREO-RESULT disks=$(cd /sys/block && echo vd*)"
for d in vda vdb vdc; do
    [ -b /dev/$d ] && echo "VIREO-RESULT ${d}_pci=$(pci_of $d)"
done

# write_disk DEV: a small and a 4 MiB file on the ext4 file system of DEV.
write_disk() {
    mkdir -p /mnt/$1
    if ! mount -t ext4 /dev/$1 /mnt/$1; then
        echo "VIREO-RESULT ${1}_write=mount-failed"
        return
    fi
    echo "VIREO-RESULT ${1}_seed=$(cat /mnt/$1/seed.txt 2>/dev/null)"
    echo "hello from $1 token=$token" >/mnt/$1/hello.txt
    dd if=/dev/urandom of=/mnt/$1/big.bin bs=65536 count=64 2>/dev/null
    echo "VIREO-RESULT ${1}_big_md5=$(md5sum </mnt/$1/big.bin | cut -d' ' -f1)"
    sync
    if umount /mnt/$1; then
        echo "VIREO-RESULT ${1}_write=ok"
    else
        echo "VIREO-RESULT ${1}_write=umount-failed"
    fi
}
write_disk vda
write_disk vdb

# vdc is read-only: the kernel learned it from VIRTIO_BLK_F_RO.
echo "VIREO-RESULT vdc_ro=$(cat /sys/block/vdc/ro 2>/dev/null)"
if dd if=/dev/zero of=/dev/vdc bs=512 count=1 conv=fsync 2>/tmp/dd.err; then
    echo "VIREO-RESULT vdc_write=allowed"
else
    err=$(cat /tmp/dd.err)
    case $err in
    *"Read-only file system"*) echo "VIREO-RESULT vdc_write=EROFS" ;;
    *"Operation not permitted"*) echo "VIREO-RESULT vdc_write=EPERM" ;;
    *"I/O error"*) echo "VIREO-RESULT vdc_write=EIO" ;;
    *) echo "VIREO-RESULT vdc_write=failed:$err" ;;
    esac
fi
mkdir -p /mnt/vdc
if mount -t ext4 -o ro /dev/vdc /mnt/vdc; then
    echo "VIREO-RESULT vdc_seed=$(cat /mnt/vdc/seed.txt)"
    umount /mnt/vdc
fi

# Entropy from virtio-rng.
echo "VIREO-RESULT hwrng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
echo "VIREO-RESULT hwrng_bytes=$(head -c 64 /dev/hwrng | wc -c)"
echo "VIREO-RESULT hwrng_a=$(head -c 16 /dev/hwrng | od -An -tx1 | tr -d ' \n')"
echo "VIREO-RESULT hwrng_b=$(head -c 16 /dev/hwrng | od -An -tx1 | tr -d ' \n')"

# The console: what we write to hvc0 lands in --console file=.
if [ -c /dev/hvc0 ] && echo "VIREO-HVC0 hello token=$token" >/dev/hvc0; then
    echo "VIREO-RESULT hvc0=written"
else
    echo "VIREO-RESULT hvc0=missing"
fi

# PCI remove + rescan: the driver resets the device, a new one probes it.
addr=$(pci_of vda)
echo 1 >/sys/bus/pci/devices/$addr/remove
i=0
while [ -e /sys/bus/pci/devices/$addr ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "VIREO-RESULT removed=$([ -e /sys/bus/pci/devices/$addr ] && echo no || echo yes)"
echo 1 >/sys/bus/pci/rescan
dev=
i=0
while [ -z "$dev" ] && [ $i -lt 100 ]; do
    for b in /sys/bus/pci/devices/$addr/virtio*/block/*; do
        [ -e "$b" ] && dev=${b##*/}
    done
    [ -n "$dev" ] || sleep 0.1
    i=$((i + 1))
done
echo "VIREO-RESULT rescan_dev=${dev:-none}"
if [ -n "$dev" ] && wait_block "$dev" && mkdir -p /mnt/again &&
    mount -t ext4 -o ro /dev/$dev /mnt/again; then
    echo "VIREO-RESULT rescan_hello=$(cat /mnt/again/hello.txt)"
    echo "VIREO-RESULT rescan_big_md5=$(md5sum </mnt/again/big.bin | cut -d' ' -f1)"
    umount /mnt/again
fi
