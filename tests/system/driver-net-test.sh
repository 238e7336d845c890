#!/bin/bash
# System layer: network interfaces of Linux guests started through virsh.
# net1 has an <interface type='ethernet'> (MTU 1400) whose tap the test
# gives the host side's link-local address: the guest pings the host over
# it, and domifstat counts it. net1 and net2 both have an <interface
# type='bridge'> on a bridge the test makes: net1 pings the host's side of
# the bridge, then the guests ping each other both ways (net1 keeps trying
# until net2 is up; net2 stays up until net1 has pinged it). Then net1 is
# destroyed and net2 powers off: their taps go with their VMMs. Inside a
# network namespace of its own when unshare works. Two VMs, two boots.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
[ "$(id -u)" = 0 ] || tap_skip_all "taps and bridges need root"
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null ||
    modprobe -d "${VIREO_TESTHOST_KERNEL_DIR:-/}" tun 2>/dev/null || true
[ -c /dev/net/tun ] || tap_skip_all "no /dev/net/tun (tun module)"
modprobe bridge 2>/dev/null || modprobe -d "${VIREO_TESTHOST_KERNEL_DIR:-/}" bridge 2>/dev/null ||
    true
export PATH=$PATH:/sbin:/usr/sbin
command -v ip >/dev/null || tap_skip_all "ip not found (iproute2)"
command -v virsh >/dev/null || tap_skip_all "virsh is not installed"
# A network and mount namespace of our own: nothing here can reach or
# disturb the host's links, and /sys/class/net (which the daemon reads for
# domifstat) shows this namespace's interfaces.
if [ -z "${VIREO_NET_TEST_NS:-}" ] && unshare -n -m true 2>/dev/null; then
    VIREO_NET_TEST_NS=1 exec unshare -n -m "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
if [ -n "${VIREO_NET_TEST_NS:-}" ]; then
    mount -t sysfs sysfs /sys || tap_skip_all "cannot mount sysfs in the test's namespace"
    ip link set lo up
fi
vmm=${VIREO_TEST_VMM:-$VIREO_BUILDDIR/vmm/vireo-vmm}
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
[ -x "$VIREO_BUILDDIR/driver/virtvireod" ] || tap_skip_all "virtvireod is not built"
"$vmm" --help 2>&1 | grep -q -- "--net" || tap_skip_all "vireo-vmm has no virtio-net yet"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest

. "$VIREO_SRCDIR/tests/driver/lib.sh"
export VIREO_VMM=$vmm
bridge=vbr-sys
trap 'vsh destroy net1 >/dev/null 2>&1; vsh destroy net2 >/dev/null 2>&1;
      ip link del "$bridge" 2>/dev/null; vt_cleanup' EXIT

if ! "$VIREO_SRCDIR/tests/guest/build-initramfs" "$cache" "$vt_dir/initramfs.cpio.gz" \
    >"$vt_dir/initramfs.log" 2>&1; then
    tap_skip_all "cannot build the initramfs: $(tail -n 3 "$vt_dir/initramfs.log")"
fi

mac_eth=52:54:00:56:00:01
mac_br1=52:54:00:56:00:02
mac_br2=52:54:00:56:00:03

domain_xml() { # NAME END INTERFACES NET-SPECS...
    local name=$1 end=$2 nets=$3
    shift 3
    cat <<XML
<domain type='kvm'>
  <name>$name</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$guest/vmlinux</kernel>
    <initrd>$vt_dir/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet vireo.check=net vireo.end=$end $*</cmdline>
  </os>
  <devices>
    $nets
    <serial type='file'><source path='$vt_dir/$name.serial'/></serial>
  </devices>
</domain>
XML
}

wait_serial() { # NAME PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        grep -aq -- "$2" "$vt_dir/$1.serial" 2>/dev/null && return 0
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
gone() { ! ip link show "$1" >/dev/null 2>&1; }
diag() {
    local n
    for n in net1 net2; do
        tap_diag "$n serial (tail): $(tail -n 15 "$vt_dir/$n.serial" 2>/dev/null | tr -d '\r')"
        tap_diag "$n VMM log: $(tail -n 8 "$vt_dir/log/$n.log" 2>/dev/null)"
    done
    tap_diag "links: $(ip -br link 2>&1 | tr '\n' ';')"
}
check() { # DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag; fi
}

tap_plan 16
ip link del "$bridge" 2>/dev/null
check "the test's bridge" ip link add name "$bridge" type bridge
ip link set "$bridge" up
check "daemon starts" vt_start

domain_xml net1 hang "<interface type='ethernet'><mac address='$mac_eth'/><target dev='vt-eth1'/>
    <model type='virtio'/><mtu size='1400'/></interface>
    <interface type='bridge'><mac address='$mac_br1'/><source bridge='$bridge'/>
    <model type='virtio'/></interface>" \
    "vireo.net=$mac_eth/169.254.56.2/24/169.254.56.1" \
    "vireo.net=$mac_br1/169.254.57.2/24/169.254.57.1+169.254.57.3" vireo.ping_wait=300 \
    >"$vt_dir/net1.xml"
domain_xml net2 poweroff "<interface type='bridge'><mac address='$mac_br2'/><source bridge='$bridge'/>
    <model type='virtio'/></interface>" \
    "vireo.net=$mac_br2/169.254.57.3/24/169.254.57.2" vireo.await_ping=300 >"$vt_dir/net2.xml"
quiet vsh define "$vt_dir/net1.xml"
quiet vsh define "$vt_dir/net2.xml"
check "virsh start net1 (ethernet and bridge interfaces)" quiet vsh start net1
# The host's side of the ethernet link, and of the bridge; the guest retries
# its pings meanwhile.
ip addr add 169.254.56.1/24 dev vt-eth1
ip addr add 169.254.57.1/24 dev "$bridge"
check "net1 reaches init" wait_serial net1 "VIREO-INIT up" 120
check "the guest sees MTU 1400 on the ethernet interface" wait_serial net1 "0_mtu=1400" 60
check "net1 pings the host over its ethernet tap" wait_serial net1 "0_ping=ok" 90
check "net1 pings the host over the bridge" wait_serial net1 "1_ping=ok" 90
# net2 boots once net1 has its address; net1 tries net2 meanwhile.
check "virsh start net2 (bridge interface)" quiet vsh start net2
ports=$(ls /sys/class/net/$bridge/brif 2>/dev/null | grep -v '^vt-' | sort | tr '\n' ' ')
check "both guests' bridge taps are ports of $bridge" test "$(wc -w <<<"$ports")" = 2
check "net2 pings net1 over the bridge" wait_serial net2 "0_ping=ok" 150
check "net1 pings net2 over the bridge" wait_serial net1 "1_ping_169.254.57.3=ok" 60
stats=$(vsh domifstat net1 vt-eth1 2>&1)
rx=$(awk '/vt-eth1 rx_packets/ {print $3}' <<<"$stats")
tx=$(awk '/vt-eth1 tx_packets/ {print $3}' <<<"$stats")
check "domifstat: the guest received and sent over its tap" test "${rx:-0}" -gt 0 -a "${tx:-0}" -gt 0
[ "${rx:-0}" -gt 0 ] || tap_diag "$stats"

check "virsh destroy net1" quiet vsh destroy net1
check "net2 powers off: shut off (shutdown)" wait_state net2 "shut off (shutdown)" 120
all_gone() {
    local p
    gone vt-eth1 || return 1
    for p in $ports; do gone "$p" || return 1; done
}
check "the taps are gone with their VMMs (destroy, guest poweroff)" all_gone
check "daemon stops cleanly" vt_stop
tap_done
