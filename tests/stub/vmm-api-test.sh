#!/bin/bash
# Stub layer: vireo-vmm's control API (Cloud Hypervisor's REST endpoints on a
# unix socket) and its event monitor, with the stub guest. A VMM started with
# no kernel is driven through create, boot, pause (the guest makes no
# progress), resume, reboot, shutdown (the process keeps serving), boot
# again, delete and vmm.shutdown; the events arrive in order; 100 bad
# requests each get a 4xx and the VMM still serves; --api-socket fd= works;
# a guest's pvpanic write and SIGTERM are reported as events.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

tap_have_kvm || tap_skip_all "no /dev/kvm"
vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
remote=$VIREO_BUILDDIR/vmm/vireo-remote
stub=$VIREO_BUILDDIR/tests/stub/guests/stub.elf
[ -x "$vmm" ] && [ -x "$remote" ] || tap_skip_all "vireo-vmm or vireo-remote is not built"
[ -f "$stub" ] || tap_skip_all "the stub guest is not built ($stub; run make check)"
command -v python3 >/dev/null || tap_skip_all "python3 is needed to send raw requests"

work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-api-test.XXXXXX")
pids=()
cleanup() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do kill -KILL "$p" 2>/dev/null; done
    rm -rf -- "$work"
}
trap cleanup EXIT

sock=$work/api.sock
ev=$work/events
serial=$work/serial

R() { "$remote" --api-socket "$sock" "$@"; }
# rq CMD [ARG]: runs vireo-remote, output in $work/out and $work/err, status in $rc.
rq() {
    R "$@" >"$work/out" 2>"$work/err"
    rc=$?
}
diag() {
    tap_diag "exit status ${rc:-?}; stdout: $(head -c 800 "$work/out" 2>/dev/null)"
    tap_diag "stderr: $(head -c 800 "$work/err" 2>/dev/null)"
    tap_diag "vmm log: $(tail -n 15 "$work/vmm.err" 2>/dev/null)"
    tap_diag "events: $(cat "$ev" 2>/dev/null)"
}
check() { # DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag; fi
}
has() { grep -aq -- "$2" "$1"; }
state_is() { rq info && grep -q "\"state\" : \"$1\"" "$work/out"; }
# wait_until SECONDS COMMAND...: polls every 0.1 s.
wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}
count_lines() { grep -ac "STUB count" "$serial" 2>/dev/null || echo 0; }
starts() { grep -ac "STUB start" "$serial" 2>/dev/null || echo 0; }
# events FILE: "source event" per line, in order.
events() {
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print(e["source"], e["event"])' "$1" 2>/dev/null
}
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
gone() { ! running "$1"; }

tap_plan 32

# --- a VMM with no kernel, driven through the whole lifecycle ---------------
"$vmm" --api-socket "path=$sock" --event-monitor "path=$ev" >"$work/vmm.out" 2>"$work/vmm.err" &
vpid=$!
pids+=("$vpid")
wait_until 10 test -S "$sock"
rq ping
check "vmm.ping answers with the VMM's pid" eval '[ $rc = 0 ] && grep -q "\"pid\" : $vpid" "$work/out"'
rq info
check "vm.info before vm.create is 404" eval '[ $rc = 1 ] && has "$work/err" "404 Not Found"'

config=$(printf '{"cpus":{"boot_vcpus":2,"max_vcpus":2},"memory":{"size":33554432},
"payload":{"kernel":"%s","cmdline":"stub.test=count"},
"serial":{"mode":"File","file":"%s"},"console":{"mode":"Off"}}' "$stub" "$serial")
rq create "$config"
check "vm.create with a VmConfig is accepted" test "$rc" = 0
check "vm.info says Created, with the configuration" \
    eval 'state_is Created && grep -q "\"boot_vcpus\" : 2" "$work/out" && has "$work/out" "stub.test=count"'
rq create "$config"
check "a second vm.create is 409" eval '[ $rc = 1 ] && has "$work/err" "409 Conflict"'
rq pause
check "vm.pause before vm.boot is 409" eval '[ $rc = 1 ] && has "$work/err" "409 Conflict"'

rq boot
check "vm.boot boots the guest" eval '[ $rc = 0 ] && wait_until 20 eval "[ \$(count_lines) -ge 3 ]"'
check "vm.info says Running" state_is Running

rq pause
check "vm.pause succeeds" test "$rc" = 0
check "vm.info says Paused" state_is Paused
before=$(size "$serial")
sleep 1.5
after=$(size "$serial")
check "no guest progress while paused (serial stays at $before bytes, now $after)" \
    test "$before" = "$after"
rq resume
check "vm.resume succeeds" test "$rc" = 0
check "the guest runs on after vm.resume" wait_until 10 eval '[ $(size "$serial") -gt $after ]'
check "vm.info says Running again" state_is Running
rq counters
check "vm.counters answers" eval '[ $rc = 0 ] && has "$work/out" "\"boots\" : 1"'

rq reboot
check "vm.reboot restarts the guest (a second STUB start)" \
    eval '[ $rc = 0 ] && wait_until 20 eval "[ \$(starts) -ge 2 ]" && state_is Running'

rq shutdown
check "vm.shutdown stops the VM: state Shutdown" eval '[ $rc = 0 ] && state_is Shutdown'
check "... and the VMM keeps serving" eval 'running $vpid && rq ping && [ $rc = 0 ]'
rq resume
check "vm.resume of a shut-down VM is 409" eval '[ $rc = 1 ] && has "$work/err" "409 Conflict"'
rq boot
# The VM is built anew, so the serial file starts over.
check "vm.boot boots a shut-down VM again" \
    eval '[ $rc = 0 ] && wait_until 20 eval "[ \$(count_lines) -ge 1 ]" && state_is Running'
rq delete
check "vm.delete of a running VM deletes it (vm.info is 404 after)" \
    eval '[ $rc = 0 ] && ! R info >/dev/null 2>&1'

# --- bad requests ------------------------------------------------------------
cat >"$work/bad.py" <<'EOF'
import socket, sys
path = sys.argv[1]
deep = "[" * 5000
bad = [
    ("PUT", "vm.create", "{"),
    ("PUT", "vm.create", "not json"),
    ("PUT", "vm.create", '{"cpus": {"boot_vcpus": "two", "max_vcpus": 1}}'),
    ("PUT", "vm.create", '{"payload": {"kernel": 7}}'),
    ("PUT", "vm.create", '{"memory": {"size": -5}, "payload": {"kernel": "/k"}}'),
    ("PUT", "vm.create", '[]'),
    ("PUT", "vm.create", ""),
    ("PUT", "vm.create", deep),
    ("PUT", "vm.create", '{"payload": {"kernel": "/k"}, "disks": [{"readonly": "yes"}]}'),
    ("GET", "vm.boot", None),
    ("POST", "vmm.ping", None),
    ("DELETE", "vm.info", None),
    ("PUT", "vm.nosuch", None),
    ("GET", "../../etc/passwd", None),
    ("PUT", "vm.boot", '{"unexpected": "body"}'),
    ("PUT", "vm.pause", None),
    ("PUT", "vm.resume", None),
    ("PUT", "vm.delete", None),
    ("GET", "vm.counters", None),
    ("RAW", "BLAH\r\n\r\n", None),
    ("RAW", "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: abc\r\n\r\n", None),
]
failures = 0
for i in range(100):
    method, target, body = bad[i % len(bad)]
    if method == "RAW":
        req = target.encode()
    else:
        data = (body or "").encode()
        req = (f"{method} /api/v1/{target} HTTP/1.1\r\nHost: localhost\r\n"
               f"Connection: close\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(req)
    resp = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        resp += chunk
    s.close()
    status = resp.split(b" ", 2)[1] if resp.startswith(b"HTTP/1.") else b"none"
    if not (status.isdigit() and 400 <= int(status) < 500):
        failures += 1
        print(f"request {i} ({method} {target[:40]!r}): status {status!r}")
print(f"{failures} of 100 bad requests not answered with a 4xx")
sys.exit(1 if failures else 0)
EOF
python3 "$work/bad.py" "$sock" >"$work/out" 2>"$work/err"
rc=$?
check "100 bad requests in a row each get a 4xx" test "$rc" = 0
rq ping
check "... and the VMM still serves good ones" test "$rc" = 0
if command -v curl >/dev/null; then
    curl -s --unix-socket "$sock" http://localhost/api/v1/vmm.ping >"$work/out" 2>"$work/err"
    rc=$?
    check "curl --unix-socket ... /api/v1/vmm.ping works" \
        eval '[ $rc = 0 ] && has "$work/out" "\"pid\":$vpid"'
else
    tap_skip "curl --unix-socket ... /api/v1/vmm.ping works" "curl is not installed"
fi

rq shutdown-vmm
check "vmm.shutdown ends the VMM with status 0 and removes the socket" \
    eval '[ $rc = 0 ] && wait_until 10 gone $vpid && wait $vpid && [ ! -e "$sock" ]'
expected="vmm starting
vm booting
vm booted
vm pausing
vm paused
vm resuming
vm resumed
vm rebooting
vm rebooted
vm shutdown
vm booting
vm booted
vm shutdown
vm deleted
vmm shutdown"
events "$ev" >"$work/got"
check "the events arrived in order" eval '[ "$(cat "$work/got")" = "$expected" ]'

check "vm shutdown events carry the reason" \
    eval 'grep "\"shutdown\"" "$ev" | head -n1 | grep -q "\"reason\":\"vm.shutdown\""'

# --- --api-socket fd=N: a socket bound and listening before exec ------------
sock2=$work/fd.sock
python3 - "$sock2" "$vmm" >"$work/vmm2.out" 2>"$work/vmm2.err" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
fd = s.fileno()
os.set_inheritable(fd, True)
os.execv(sys.argv[2], [sys.argv[2], "--api-socket", f"fd={fd}"])
EOF
vpid2=$!
pids+=("$vpid2")
wait_until 10 eval '"$remote" --api-socket "$sock2" ping >/dev/null 2>&1'
"$remote" --api-socket "$sock2" ping >"$work/out" 2>"$work/err"
rc=$?
check "--api-socket fd=N serves on the inherited socket" \
    eval '[ $rc = 0 ] && has "$work/out" "\"pid\" : $vpid2"'
"$remote" --api-socket "$sock2" shutdown-vmm >"$work/out" 2>"$work/err"
check "... and vmm.shutdown ends it" eval 'wait_until 10 gone $vpid2 && wait $vpid2'

# --- command-line VMs: a guest panic, SIGTERM ---------------------------------
timeout -k 5 30 "$vmm" --kernel "$stub" --memory size=32M --console off \
    --serial "file=$work/panic.serial" --cmdline stub.test=pvpanic \
    --event-monitor "path=$work/panic.ev" >"$work/out" 2>"$work/err"
rc=$?
check "the guest sees the pvpanic port (reads its events: panicked, crash loaded)" \
    has "$work/panic.serial" "STUB pvpanic caps=03"
events "$work/panic.ev" >"$work/got"
check "a pvpanic write is reported as the event 'guest panic', and the VMM goes on" \
    eval '[ $rc = 0 ] && [ "$(cat "$work/got")" = "vmm starting
vm booting
vm booted
guest panic
vm shutdown
vmm shutdown" ]'

"$vmm" --kernel "$stub" --memory size=32M --console off --serial "file=$work/term.serial" \
    --cmdline stub.test=count --event-monitor "path=$work/term.ev" >"$work/out" 2>"$work/err" &
tpid=$!
pids+=("$tpid")
wait_until 20 has "$work/term.serial" "STUB count 2"
kill -TERM "$tpid"
wait_until 10 gone "$tpid"
wait "$tpid"
rc=$?
check "SIGTERM ends a running VMM cleanly (status 0, events vm shutdown, vmm shutdown)" \
    eval '[ $rc = 0 ] && [ "$(events "$work/term.ev" | tail -n 3 | tr "\n" ,)" = "vm shutdown,vm deleted,vmm shutdown," ]'

tap_done
