#!/bin/bash
# System layer: virtio-net on passt, user-mode networking with no privileges.
# The VMM runs as nobody (with /dev/kvm through its group) and starts passt
# itself (--net passt=on). Inside a network namespace of the test's own, a
# veth with 10.0.2.15/24 and a default route gives passt an interface to
# copy; a TCP server listens on the namespace's loopback only. The guest
# gets its address by DHCP from passt, connects to the gateway address
# (which passt maps to the host's loopback), sends data that must arrive
# intact, and prints the server's reply. Then passt= misuse is refused.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (a network namespace, then running the VMM as nobody)"
export PATH=$PATH:/sbin:/usr/sbin
command -v passt >/dev/null || tap_skip_all "passt not found (Debian package passt)"
command -v ip >/dev/null || tap_skip_all "ip not found (iproute2)"
command -v setpriv >/dev/null || tap_skip_all "setpriv not found (util-linux)"
id nobody >/dev/null 2>&1 || tap_skip_all "no user nobody"
py=$(command -v /usr/bin/python3 python3 | head -n1)
[ -n "$py" ] || tap_skip_all "python3 not found"
if [ -z "${VIREO_PASST_TEST_NS:-}" ]; then
    unshare -n true 2>/dev/null || tap_skip_all "cannot make a network namespace (unshare -n)"
    VIREO_PASST_TEST_NS=1 exec unshare -n "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi

# /dev/kvm for nobody through a group, as Debian's kvm group gives it; in
# the test host (a machine of its own) the test makes that group.
kvm_gid=$(stat -c %g /dev/kvm)
if [ "$kvm_gid" = 0 ]; then
    [ -n "${VIREO_IN_TESTHOST:-}" ] || tap_skip_all "/dev/kvm belongs to group root: no kvm group to run the VMM in"
    kvm_gid=$(getent group nogroup | cut -d: -f3)
    chgrp "$kvm_gid" /dev/kvm && chmod 660 /dev/kvm
fi
as_nobody=(setpriv --reuid=nobody --regid="$kvm_gid" --clear-groups --inh-caps=-all)

work=$(mktemp -d /tmp/vmm-passt-test.XXXXXX)
chmod 755 "$work"
cleanup() {
    vm_kill_all
    rm -rf -- "$work"
}
trap cleanup EXIT
# What nobody's VMM reads and writes.
cp "$cache/guest/vmlinux" "$cache/guest/initramfs.cpio.gz" "$work/"
chmod 644 "$work/vmlinux" "$work/initramfs.cpio.gz"
: >"$work/guest.serial"
chown nobody "$work/guest.serial"

diag() {
    tap_diag "serial (tail): $(tail -n 30 "$work/guest.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "stderr: $(tail -n 25 "$work/guest.err" 2>/dev/null)"
    tap_diag "server: $(cat "$work/server.log" 2>/dev/null)"
}
# The passt processes (passt, or passt.avx2 where the CPU has AVX2) serving a
# VMM on an inherited socket (--fd 3), as ps shows them: "PID PPID USER".
passt_procs() {
    ps -eo pid=,ppid=,user=,comm=,args= | awk '$4 ~ /^passt/ && / --fd 3( |$)/ { print $1, $2, $3 }'
}

# --- the namespace's network ---------------------------------------------------
ip link set lo up
ip link add vpasst0 type veth peer name vpasst1
ip addr add 10.0.2.15/24 dev vpasst0
ip link set vpasst1 up
ip link set vpasst0 up
ip route add default via 10.0.2.2 dev vpasst0

port=5301 kib=1024
token=vireo-passt-$RANDOM$RANDOM
cat >"$work/server.py" <<'PYEOF'
import hashlib, socket, sys
port, size, token, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
print("listening", flush=True)
s.settimeout(600)
c, peer = s.accept()
c.settimeout(120)
h, n = hashlib.sha256(), 0
while n < size:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
open(out, "w").write(f"{n} {h.hexdigest()} {peer[0]}\n")
c.sendall((token + "\n").encode())
c.close()
PYEOF
"$py" -u "$work/server.py" "$port" $((kib * 1024)) "$token" "$work/received" >"$work/server.log" 2>&1 &
spid=$!
pids+=("$spid")
for ((i = 0; i < 100; i++)); do
    grep -q listening "$work/server.log" 2>/dev/null && break
    sleep 0.1
done

tap_plan 12
mac=52:54:00:0d:00:02
"${as_nobody[@]}" "$vmm" -v --serial "file=$work/guest.serial" \
    --kernel "$work/vmlinux" --initramfs "$work/initramfs.cpio.gz" \
    --cpus boot=1 --memory size=512M --console off --net "passt=on,mac=$mac" \
    --cmdline "console=ttyS0 quiet vireo.check=passt vireo.end=poweroff vireo.passt=$mac/$port/$kib" \
    >"$work/guest.out" 2>"$work/guest.err" &
pid=$!
pids+=("$pid")
sleep 1
vm_check "the VMM runs as nobody" guest eval \
    '[ "$(stat -c %U /proc/$pid)" = nobody ]'
# The VMM's own passt runs as nobody too.
passt_as_nobody() { passt_procs | grep -qx "[0-9]* $pid nobody"; }
for ((i = 0; i < 300; i++)); do
    passt_as_nobody && break
    running "$pid" || break
    sleep 0.1
done
vm_check "it started passt, also as nobody" guest passt_as_nobody
passt_as_nobody || tap_diag "passt processes (pid ppid user): $(passt_procs)"
vm_check "the guest reaches init" guest vm_wait_for guest "VIREO-INIT up" 1 180
vm_check "the guest's passt check ends" guest vm_wait_for guest "VIREO-DONE" 1 240
vm_check "the guest sees its device, with passt's MTU 65520" guest eval \
    '[ "$(vm_result guest dev)" != none ] && [ "$(vm_result guest mtu)" = 65520 ]'
vm_check "passt answers DHCP: the guest gets 10.0.2.15 and the gateway 10.0.2.2" guest eval \
    '[ "$(vm_result guest dhcp)" = ok ] && [ "$(vm_result guest addr)" = 10.0.2.15/24 ] && [ "$(vm_result guest router)" = 10.0.2.2 ]'
vm_check "guest -> the host's loopback server: $kib KiB arrive with the guest's sha256" guest eval \
    '[ "$(cut -d" " -f1,2 "$work/received" 2>/dev/null)" = "$((kib * 1024)) $(vm_result guest tx_sha)" ]'
vm_check "the server sees the connection come from its loopback" guest eval \
    '[ "$(cut -d" " -f3 "$work/received" 2>/dev/null)" = 127.0.0.1 ]'
vm_check "the server's reply reaches the guest" guest eval '[ "$(vm_result guest reply)" = "$token" ]'
for ((i = 0; i < 300; i++)); do running "$pid" || break; sleep 0.1; done
running "$pid" && kill -KILL "$pid"
vm_check "the guest powers off and the VMM exits 0" guest eval 'wait "$pid"'
vm_check "passt is gone with the VMM" guest eval '[ -z "$(passt_procs)" ]'

# --- misuse ----------------------------------------------------------------------
out=$("$vmm" --kernel "$work/vmlinux" --net "passt=on,tap=x" 2>&1)
st=$?
vm_check "passt= with tap= is refused with one line naming the conflict" guest eval \
    '[ $st -ne 0 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && [[ $out == *"passt= takes no tap="* ]]'
tap_done
