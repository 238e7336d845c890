#!/bin/sh
# iperf3 client runs for tests/bench/net-bench.py. The kernel command line
# says what to do:
#   vireo.iperf=MAC/ADDR/PREFIX/SERVER/SECONDS
#       the interface with that MAC gets ADDR/PREFIX, pings SERVER (where
#       `iperf3 -s` listens), then runs four SECONDS-long tests against it:
#       tx1 (guest -> host, 1 stream), tx4 (-P 4), rx1 (host -> guest, -R),
#       rx4 (-R -P 4).
# Each test's iperf3 --json output comes between the lines
# "VIREO-IPERF-BEGIN NAME" and "VIREO-IPERF-END NAME rc=N".
# Results: iperf_dev, iperf_features, iperf_queues, iperf_ping.
spec=
for arg in $(cat /proc/cmdline); do
    case $arg in vireo.iperf=*) spec=${arg#vireo.iperf=} ;; esac
done
if [ -z "$spec" ]; then
    echo "VIREO-RESULT error=no-vireo.iperf"
    exit 2
fi
if ! command -v iperf3 >/dev/null; then
    echo "VIREO-RESULT error=no-iperf3"
    exit 2
fi
IFS=/ read -r mac addr prefix server secs <<EOF
$spec
EOF
case $secs in '' | *[!0-9]*) secs=10 ;; esac

dev=none
i=0
while [ $i -lt 100 ] && [ "$dev" = none ]; do
    for d in /sys/class/net/*; do
        [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && dev=${d##*/}
    done
    [ "$dev" = none ] && sleep 0.1
    i=$((i + 1))
done
echo "VIREO-RESULT iperf_dev=$dev"
[ "$dev" != none ] || exit 1
echo "VIREO-RESULT iperf_features=$(cat /sys/class/net/"$dev"/device/features 2>/dev/null)"
echo "VIREO-RESULT iperf_queues=$(ls -d /sys/class/net/"$dev"/queues/rx-* | wc -l)"
ip link set lo up
ip link set "$dev" up
ip addr add "$addr/$prefix" dev "$dev"
i=0
while ! ping -c 1 -W 2 "$server" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 30 ]; then
        echo "VIREO-RESULT iperf_ping=fail"
        exit 1
    fi
done
echo "VIREO-RESULT iperf_ping=ok"

rc=0
for t in tx1 tx4 rx1 rx4; do
    case $t in
    tx1) opts="-P 1" ;;
    tx4) opts="-P 4" ;;
    rx1) opts="-P 1 -R" ;;
    rx4) opts="-P 4 -R" ;;
    esac
    # The host's server may still be starting or finishing the previous
    # test: a few tries. Every run is bounded by timeout.
    try=0
    while :; do
        # shellcheck disable=SC2086 # $opts is a list of options
        timeout $((secs + 60)) iperf3 -c "$server" -t "$secs" -i 0 --connect-timeout 5000 \
            --json $opts >/tmp/iperf.json 2>&1
        r=$?
        try=$((try + 1))
        [ "$r" = 0 ] || [ $try -ge 3 ] && break
        sleep 2
    done
    echo "VIREO-IPERF-BEGIN $t"
    cat /tmp/iperf.json
    echo "VIREO-IPERF-END $t rc=$r"
    [ "$r" = 0 ] || rc=1
done
exit $rc
