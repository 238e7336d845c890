#!/bin/bash
# System layer: virtio-net on TAPs, driven by Linux's virtio_net. One boot
# with three devices, all link-local and inside a network namespace of the
# test's own when unshare works:
#  net0 tap=vtap0 created by the VMM with ip=/mask=: ping, then
#       $VIREO_NET_TEST_MB MiB (default 100) guest->host and host->guest
#       over TCP, each checked by sha256 on the other side; vm.counters.
#  net1 tap=vtap1, num_queues=4, mtu=1400: the guest sees 2 queue pairs
#       (2 vCPUs) and MTU 1400, and pings over it.
#  net2 fd=[A,B]: two queues of a multiqueue TAP the test opened and handed
#       over, as libvirt does: 2 queue pairs in the guest, ping.
# Then bad --net values: one line naming the option, exit 1.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/vm.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
[ "$(id -u)" = 0 ] || tap_skip_all "TAP interfaces need root"
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null ||
    modprobe -d "${VIREO_TESTHOST_KERNEL_DIR:-/}" tun 2>/dev/null || true
[ -c /dev/net/tun ] || tap_skip_all "no /dev/net/tun (tun module)"
export PATH=$PATH:/sbin:/usr/sbin
command -v ip >/dev/null || tap_skip_all "ip not found (iproute2)"
# The distribution's python starts faster than a shim (it counts under TCG).
py=$(command -v /usr/bin/python3 python3 | head -n1)
[ -n "$py" ] || tap_skip_all "python3 not found"
# A namespace of our own: nothing here can reach or disturb the host's links.
if [ -z "${VIREO_NET_TEST_NS:-}" ] && unshare -n true 2>/dev/null; then
    VIREO_NET_TEST_NS=1 exec unshare -n "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up 2>/dev/null
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
remote=$VIREO_BUILDDIR/vmm/vireo-remote
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
cache=${VIREO_CACHE_DIR:-$VIREO_BUILDDIR/testhost-cache}
if ! "$VIREO_SRCDIR/tests/guest/build-assets" "$cache" >/dev/null 2>&1; then
    tap_skip_all "guest assets unavailable (tests/guest/build-assets $cache failed)"
fi
guest=$cache/guest
mb=${VIREO_NET_TEST_MB:-100}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-net-test.XXXXXX")
# The API socket apart: $TMPDIR may be a file system without sockets (9p).
sockdir=$(mktemp -d /tmp/vmm-net-test-sock.XXXXXX)
cleanup() {
    vm_kill_all
    rm -rf -- "$work" "$sockdir"
}
trap cleanup EXIT

diag() {
    tap_diag "serial (tail): $(tail -n 30 "$work/$1.serial" 2>/dev/null | tr -d '\r')"
    tap_diag "stderr: $(grep -v unhandled "$work/$1.err" | tail -n 25)"
    [ -f "$work/server.log" ] && tap_diag "server: $(cat "$work/server.log" "$work"/*.err 2>/dev/null)"
    [ -f "$work/counters" ] && tap_diag "counters: $(cat "$work/counters")"
    tap_diag "host side: $(ip -s link show dev vtap0 2>&1; ip -d link show dev vtap1 2>&1;
        ip -4 addr show dev vtap2 2>&1)"
    tap_diag "VMM: $(running "$pid" && echo running || echo "not running")"
}

# The host's end of the transfers on vtap0's address: port 5001 takes
# MB MiB (and closes), port 5002 sends MB MiB of its own; both record the
# sha256 of what went through. Every wait has a timeout.
cat >"$work/server.py" <<'EOF'
import hashlib, os, socket, sys, threading
addr, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def serve(port, fn):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    print("listening", port, flush=True)
    s.settimeout(1500)
    try:
        c, _ = s.accept()
        print("accepted", port, flush=True)
        c.settimeout(900)
        fn(c)
        c.close()
        print("done", port, flush=True)
    except Exception as e:
        open(f"{out}/{port}.err", "w").write(repr(e))

def recv(c):
    h, n = hashlib.sha256(), 0
    while n < size:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    open(f"{out}/recv", "w").write(f"{n} {h.hexdigest()}\n")

def send(c):
    data = os.urandom(size)
    open(f"{out}/sent", "w").write(f"{size} {hashlib.sha256(data).hexdigest()}\n")
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    c.settimeout(30)
    try:
        while c.recv(4096):
            pass
    except Exception:
        pass

ts = [threading.Thread(target=serve, args=(5001, recv)),
      threading.Thread(target=serve, args=(5002, send))]
for t in ts:
    t.start()
for t in ts:
    t.join()
EOF

# Opens two queues of the multiqueue TAP vtap2 the way libvirt does
# (IFF_VNET_HDR, no packet info) and execs the VMM with them inherited as
# fd=[A,B].
cat >"$work/withtap.py" <<'EOF'
import fcntl, os, struct, sys
fds = []
for _ in range(2):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    # TAP, MULTI_QUEUE, NO_PI, VNET_HDR; TUNSETIFF
    fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", b"vtap2", 0x0002 | 0x0100 | 0x1000 | 0x4000))
    os.set_inheritable(fd, True)
    fds.append(str(fd))
args = [a.replace("@FDS@", "[" + ",".join(fds) + "]") for a in sys.argv[1:]]
os.execv(args[0], args)
EOF

tap_plan 24
mac0=52:54:00:0a:00:02 mac1=52:54:00:0b:00:02 mac2=52:54:00:0c:00:02

# --- one boot, three devices --------------------------------------------------
# vtap0's address must exist before the server can bind: the VMM sets it,
# so the server starts once vtap0 is up.
"$py" "$work/withtap.py" "$vmm" -v --serial "file=$work/net.serial" \
    --kernel "$guest/vmlinux" --initramfs "$guest/initramfs.cpio.gz" \
    --cpus boot=2 --memory size=768M --console off --api-socket "path=$sockdir/api.sock" \
    --net "tap=vtap0,ip=169.254.10.1,mask=255.255.255.0,mac=$mac0" \
    --net "tap=vtap1,ip=169.254.11.1,mask=255.255.255.0,mac=$mac1,num_queues=4,mtu=1400" \
    --net "fd=@FDS@,ip=169.254.12.1,mask=255.255.255.0,mac=$mac2,id=passed" \
    --cmdline "console=ttyS0 quiet vireo.check=net vireo.end=hang vireo.net=$mac0/169.254.10.2/24/169.254.10.1/$mb vireo.net=$mac1/169.254.11.2/24/169.254.11.1 vireo.net=$mac2/169.254.12.2/24/169.254.12.1" \
    >"$work/net.out" 2>"$work/net.err" &
pid=$!
pids+=("$pid")
for ((i = 0; i < 100; i++)); do
    ip -4 addr show dev vtap0 2>/dev/null | grep -q 169.254.10.1 && break
    running "$pid" || break
    sleep 0.1
done
vm_check "the VMM creates vtap0 with ip=169.254.10.1/24 and brings it up" net eval \
    'ip -4 addr show dev vtap0 | grep -q "inet 169.254.10.1/24" && ip link show dev vtap0 | grep -q "[<,]UP[,>]"'
"$py" -u "$work/server.py" 169.254.10.1 $((mb << 20)) "$work" >"$work/server.log" 2>&1 &
pids+=("$!")
spid=$!
for ((i = 0; i < 300; i++)); do
    [ "$(grep -c listening "$work/server.log")" = 2 ] && break
    running "$spid" || break
    sleep 0.2
done
# A guest at its init means the VMM has set up every device, vtap1 and
# vtap2 included.
vm_check "the guest reaches init" net vm_wait_for net "VIREO-INIT up" 1 180
vm_check "vtap1 is a multiqueue TAP with MTU 1400" net eval \
    'ip -d link show dev vtap1 | grep -q "mtu 1400" && ip -d link show dev vtap1 | grep -q multi_queue'
vm_check "the passed fds' vtap2 gets ip=169.254.12.1" net eval \
    'ip -4 addr show dev vtap2 | grep -q "inet 169.254.12.1/24"'
# 100 MiB each way take under 100 s in the test host; the wait ends well
# within the runner's 1200 s for a test file, so that a stall is reported
# with what each side saw.
secs=$((120 + mb * 6))
vm_wait_for net "VIREO-DONE" 1 "$secs"
done_rc=$?
"$remote" --api-socket "$sockdir/api.sock" counters >"$work/counters" 2>&1
vm_check "the guest's net check ends (within ${secs}s)" net is "$done_rc" 0
vm_check "net0 is an interface with its MAC and pings the host" net \
    eval '[ "$(vm_result net 0_dev)" != none ] && is "$(vm_result net 0_ping)" ok'
vm_check "guest -> host: $mb MiB arrive with the guest's sha256" net eval \
    'is "$(cat "$work/recv" 2>/dev/null)" "$((mb << 20)) $(vm_result net 0_tx_sha)"'
vm_check "host -> guest: $mb MiB arrive with the host's sha256" net eval \
    'is "$(cat "$work/sent" 2>/dev/null)" "$(vm_result net 0_rx_bytes) $(vm_result net 0_rx_sha)"'
vm_check "... and both nc connected and ended cleanly" net eval \
    '[ "$(vm_result net 0_tx_rc)" -lt 30 ] && [ "$(vm_result net 0_rx_rc)" -lt 30 ]'
features=$(vm_result net 0_features)
# Bits from the left: CSUM 0, GUEST_CSUM 1, MAC 5, MRG_RXBUF 15, STATUS 16, CTRL_VQ 17.
vm_check "net0 negotiated CSUM, GUEST_CSUM, MAC, MRG_RXBUF, STATUS, CTRL_VQ" net eval \
    '[ "${features:0:1}${features:1:1}${features:5:1}${features:15:1}${features:16:1}${features:17:1}" = 111111 ]'
vm_check "net0 negotiated host and guest TSO4/TSO6 (offloads passed to the TAP)" net eval \
    '[ "${features:7:1}${features:8:1}${features:11:1}${features:12:1}" = 1111 ]'
vm_check "net1 (num_queues=4) shows 2 queue pairs in the guest" net is "$(vm_result net 1_queues)" 2
vm_check "net1 negotiated MQ" net eval '[ "$(vm_result net 1_features | cut -c23)" = 1 ]'
vm_check "net1's MTU in the guest is 1400 (VIRTIO_NET_F_MTU)" net is "$(vm_result net 1_mtu)" 1400
vm_check "net1 pings the host" net is "$(vm_result net 1_ping)" ok
vm_check "net2 (fd=[A,B] from the parent) shows 2 queue pairs and pings the host" net eval \
    'is "$(vm_result net 2_queues)" 2 && is "$(vm_result net 2_ping)" ok'

"$py" -c 'import json, sys
for dev, c in json.load(open(sys.argv[1])).items():
    for k, v in c.items():
        print(f"{dev}.{k}={v}")' "$work/counters" >"$work/counters.flat" 2>&1
counter() { sed -n "s/^$1\.$2=//p" "$work/counters.flat"; } # DEVICE NAME
vm_check "vm.counters: _net0 counted at least $mb MiB each way" net eval \
    '[ "$(counter _net0 tx_bytes)" -ge $((mb << 20)) ] && [ "$(counter _net0 rx_bytes)" -ge $((mb << 20)) ]'
vm_check "vm.counters: per queue pair for _net1, and the id= of the passed TAP" net eval \
    '[ -n "$(counter _net1 q1_rx_frames)" ] && [ "$(counter passed tx_frames)" -gt 0 ]'
vm_check "vm.counters: nothing dropped on _net0" net eval \
    'is "$(counter _net0 rx_dropped)/$(counter _net0 tx_dropped)/$(counter _net0 ctrl_dropped)" 0/0/0'
kill -TERM "$pid" 2>/dev/null
vm_wait_exit 20
kill "$spid" 2>/dev/null
vm_check "the VMM stops on SIGTERM" net eval '[ "$rc" != 124 ]'
vm_check "the TAPs it created are gone" net eval '! ip link show dev vtap0 >/dev/null 2>&1 && ! ip link show dev vtap1 >/dev/null 2>&1'

# --- bad values ----------------------------------------------------------------
bad() { # OPTION-NAME NET-VALUE: one line that names it, exit 1
    local out rc
    out=$("$vmm" --kernel "$guest/vmlinux" --net "$2" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && grep -q -- "$1" <<<"$out" ||
        { tap_diag "--net $2: rc=$rc: $out"; false; }
}
vm_check "bad num_queues, queue_size, mtu: one line naming the option, exit 1" net eval \
    'bad num_queues tap=vt9,num_queues=3 && bad queue_size tap=vt9,queue_size=100 && bad mtu tap=vt9,mtu=20'
vm_check "bad mac, ip, mask: one line naming the option, exit 1" net eval \
    'bad mac tap=vt9,mac=52:54:00 && bad ip tap=vt9,ip=169.254.1 && bad mask tap=vt9,mask=x'
vm_check "an fd that is not a TAP, and an unknown key: one line, exit 1" net eval \
    'bad fd "fd=[0]" && bad colour tap=vt9,colour=red'

tap_done
