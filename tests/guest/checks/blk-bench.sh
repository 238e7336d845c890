#!/bin/sh
# Guest side of tests/bench/blk-bench.py (needs fio in the initramfs): runs
# fio on /dev/DEV once per job, with the options the host gives, and prints
# each JSON report between "VIREO-FIO-BEGIN JOB" and "VIREO-FIO-END JOB".
# Kernel command line: vireo.fio.dev=DEV vireo.fio.jobs=JOB[,JOB...]
# (fio --rw= values) vireo.fio.opts=NAME=VALUE[,NAME=VALUE...] (fio --NAME=VALUE).
dev=vda
jobs=
opts=
for arg in $(cat /proc/cmdline); do
    case $arg in
    vireo.fio.dev=*) dev=${arg#*=} ;;
    vireo.fio.jobs=*) jobs=${arg#*=} ;;
    vireo.fio.opts=*) opts=${arg#*=} ;;
    esac
done
case "$dev $jobs $opts" in
*[!A-Za-z0-9_.,=\ -]*)
    echo "VIREO-RESULT error=bad-fio-arguments"
    exit 2
    ;;
esac
command -v fio >/dev/null || {
    echo "VIREO-RESULT error=no-fio-in-initramfs"
    exit 2
}
i=0
while [ ! -b "/dev/$dev" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -b "/dev/$dev" ] || {
    echo "VIREO-RESULT error=no-disk-$dev"
    exit 1
}

fio_opts=
for o in $(echo "$opts" | tr , ' '); do
    fio_opts="$fio_opts --$o"
done
rc=0
for job in $(echo "$jobs" | tr , ' '); do
    # shellcheck disable=SC2086 # fio_opts is a list of words
    if fio --name="$job" --filename="/dev/$dev" --rw="$job" $fio_opts \
        --output-format=json >/tmp/fio.json 2>/tmp/fio.err; then
        echo "VIREO-FIO-BEGIN $job"
        cat /tmp/fio.json
        echo "VIREO-FIO-END $job"
    else
        echo "VIREO-RESULT fio_error=$job: $(head -c 300 /tmp/fio.err | tr '\n' ' ')"
        rc=1
    fi
done
exit $rc
