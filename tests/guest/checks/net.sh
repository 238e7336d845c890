#!/bin/sh
# virtio-net as Linux's driver sees it (tests/system/vmm-net-test.sh). The
# kernel command line says what to do:
#   vireo.net=MAC/ADDR/PREFIX/PEER[+PEER...][/MB]   one per interface to set
#       up: the interface with that MAC gets ADDR/PREFIX and pings each PEER
#       in turn; with MB, MB MiB go to the first PEER port 5001 and MB MiB
#       come back from port 5002, each with its sha256 reported.
#   vireo.ping_wait=SECONDS   how long each PEER may take to answer (default
#       40): another guest that boots after this one needs longer.
#   vireo.await_ping=SECONDS   after the interfaces, wait up to SECONDS until
#       this guest has answered a ping, so that a guest pinging it finds it
#       still up.
# Results: <i>_dev, <i>_queues (rx-N folders), <i>_features, <i>_ping (the
# first PEER), <i>_ping_PEER (each further PEER), <i>_tx_sha, <i>_rx_sha,
# <i>_rx_bytes, for i = 0, 1, ... in order; then pinged=ok|none.
nets=
ping_wait=40
await_ping=
for arg in $(cat /proc/cmdline); do
    case $arg in
    vireo.net=*) nets="$nets ${arg#vireo.net=}" ;;
    vireo.ping_wait=*) ping_wait=${arg#vireo.ping_wait=} ;;
    vireo.await_ping=*) await_ping=${arg#vireo.await_ping=} ;;
    esac
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

uptime_s() { cut -d. -f1 /proc/uptime; }

# ping_ok PEER: the link may take a moment to come up, and the peer to boot;
# tries for ping_wait seconds.
ping_ok() {
    end=$(($(uptime_s) + ping_wait))
    while :; do
        ping -c 1 -W 2 "$1" >/dev/null 2>&1 && return 0
        [ "$(uptime_s)" -lt "$end" ] || return 1
        sleep 0.5
    done
}

# echo_requests: how many pings this guest has answered (Icmp InEchos).
echo_requests() {
    awk '/^Icmp:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; n = 1 }
                    else print $c }' /proc/net/snmp
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
    peer1=${peer%%+*}
    for p in $(echo "$peer" | tr + ' '); do
        key=${n}_ping_$p
        [ "$p" = "$peer1" ] && key=${n}_ping
        if ping_ok "$p"; then
            echo "VIREO-RESULT $key=ok"
        else
            echo "VIREO-RESULT $key=fail"
            rc=1
        fi
    done
    peer=$peer1
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
if [ -n "$await_ping" ]; then
    end=$(($(uptime_s) + await_ping))
    while [ "$(echo_requests)" -eq 0 ] && [ "$(uptime_s)" -lt "$end" ]; do
        sleep 0.2
    done
    if [ "$(echo_requests)" -gt 0 ]; then
        echo "VIREO-RESULT pinged=ok"
        # Give the echo reply time to leave before the guest powers off.
        sleep 1
    else
        echo "VIREO-RESULT pinged=none"
        rc=1
    fi
fi
exit $rc
