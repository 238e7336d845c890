#!/bin/sh
# User-mode networking through passt (tests/system/vmm-passt-test.sh):
#   vireo.passt=MAC/PORT/KIB
# The interface with that MAC asks passt for an address by DHCP, then
# connects to the gateway's PORT (passt maps it to the host's loopback),
# sends KIB KiB and prints the first line the host sent back.
# Results: dev, mtu, addr, router, tx_sha, reply, dhcp.
spec=
for arg in $(cat /proc/cmdline); do
    case $arg in vireo.passt=*) spec=${arg#vireo.passt=} ;; esac
done
IFS=/ read -r mac port kib <<EOF2
$spec
EOF2

dev=none
i=0
while [ $i -lt 100 ] && [ "$dev" = none ]; do
    for d in /sys/class/net/*; do
        [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && dev=${d##*/}
    done
    [ "$dev" = none ] && sleep 0.1
    i=$((i + 1))
done
echo "VIREO-RESULT dev=$dev"
[ "$dev" != none ] || exit 1
echo "VIREO-RESULT mtu=$(cat /sys/class/net/$dev/mtu)"
ip link set "$dev" up

# busybox udhcpc hands the lease to a script; this one applies it.
cat >/tmp/dhcp.sh <<'EOF2'
#!/bin/sh
case $1 in
bound | renew)
    ip addr add "$ip/$mask" dev "$interface"
    gw=${router%% *}
    [ -z "$gw" ] || ip route add default via "$gw" dev "$interface"
    echo "$gw" >/tmp/router
    ;;
esac
EOF2
chmod 755 /tmp/dhcp.sh
if udhcpc -i "$dev" -n -q -t 10 -T 2 -s /tmp/dhcp.sh >/dev/null 2>&1; then
    echo "VIREO-RESULT dhcp=ok"
else
    echo "VIREO-RESULT dhcp=fail"
    exit 1
fi
router=$(cat /tmp/router)
echo "VIREO-RESULT addr=$(ip -4 -o addr show dev "$dev" | awk '{print $4}')"
echo "VIREO-RESULT router=$router"

dd if=/dev/urandom of=/tmp/out bs=1024 count="$kib" 2>/dev/null
echo "VIREO-RESULT tx_sha=$(sha256sum </tmp/out | cut -d' ' -f1)"
# The host answers with one line once it has every byte. stdin stays open
# after the data (no FIN from the guest first: passt of Debian 12 does not
# pass the host's FIN on to a guest that closed its side before), so the
# reply is awaited rather than the end of the connection.
try=0
while [ $try -lt 3 ]; do
    (cat /tmp/out; sleep 120) | nc "$router" "$port" >/tmp/in 2>/dev/null &
    i=0
    while [ $i -lt 600 ] && ! grep -q . /tmp/in 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q . /tmp/in && break
    kill $! 2>/dev/null
    try=$((try + 1))
    sleep 1
done
echo "VIREO-RESULT reply=$(head -n1 /tmp/in)"
