#!/bin/sh
# virtio-net as Linux's driver sees it (tests/system/vmm-net-test.sh). The
# kernel command line says what to do:
#   vireo.net=MAC/ADDR/PREFIX/PEER[/MB]   one per interface to set up: the
#       interface with that MAC gets ADDR/PREFIX and pings PEER; with MB, MB
#       MiB go to PEER port 5001 and MB MiB come back from port 5002, each
#       with its sha256 reported.
# Results: <i>_dev, <i>_queues (rx-N folders), <i>_features, <i>_ping,
# <i>_tx_sha, <i>_rx_sha, <i>_rx_bytes, for i = 0, 1, ... in order.
nets=
for arg in $(cat /proc/cmdline); do
    case $arg in vireo.net=*) nets="$nets ${arg#vireo.net=}" ;; esac
done

# dev_of MAC: the interface with that address (waits up to 10 s for probing).
dev_of() {
    i=0
    while [ $i -lt 100 ]; do
        for d in /sys/class/net/*; do
            [ "$(cat "$d/address" 2>/dev/null)" = "$1" ] && { echo "${d##*/}"; return 0; }
        done
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ping_ok PEER: the link may take a moment to come up; 20 tries.
ping_ok() {
    i=0
    while [ $i -lt 20 ]; do
        ping -c 1 -W 2 "$1" >/dev/null 2>&1 && return 0
        i=$((i + 1))
    done
    return 1
}

rc=0
n=0
for spec in $nets; do
    IFS=/ read -r mac addr prefix peer mb <<EOF
$spec
EOF
    dev=$(dev_of "$mac") || dev=none
    echo "VIREO-RESULT ${n}_dev=$dev"
    if [ "$dev" = none ]; then
        rc=1
        n=$((n + 1))
        continue
    fi
    echo "VIREO-RESULT ${n}_queues=$(ls -d /sys/class/net/$dev/queues/rx-* | wc -l)"
    echo "VIREO-RESULT ${n}_features=$(cat /sys/class/net/$dev/device/features 2>/dev/null)"
    echo "VIREO-RESULT ${n}_mtu=$(cat /sys/class/net/$dev/mtu)"
    ip link set "$dev" up
    ip addr add "$addr/$prefix" dev "$dev"
    if ping_ok "$peer"; then
        echo "VIREO-RESULT ${n}_ping=ok"
    else
        echo "VIREO-RESULT ${n}_ping=fail"
        rc=1
    fi
    if [ -n "$mb" ]; then
        dd if=/dev/urandom of=/tmp/out bs=1M count="$mb" 2>/dev/null
        echo "VIREO-RESULT ${n}_tx_sha=$(sha256sum </tmp/out | cut -d' ' -f1)"
        # The host closes once it has every byte. A refused connection is
        # retried: the host's listener may still be starting.
        try=0
        while ! timeout 900 nc "$peer" 5001 </tmp/out >/dev/null && [ $try -lt 30 ]; do
            sleep 1
            try=$((try + 1))
        done
        echo "VIREO-RESULT ${n}_tx_rc=$try"
        rm -f /tmp/out
        try=0
        while ! timeout 900 nc "$peer" 5002 </dev/null >/tmp/in && [ $try -lt 30 ]; do
            sleep 1
            try=$((try + 1))
        done
        echo "VIREO-RESULT ${n}_rx_rc=$try"
        echo "VIREO-RESULT ${n}_rx_bytes=$(wc -c </tmp/in)"
        echo "VIREO-RESULT ${n}_rx_sha=$(sha256sum </tmp/in | cut -d' ' -f1)"
        rm -f /tmp/in
    fi
    n=$((n + 1))
done
exit $rc
