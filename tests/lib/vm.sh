# Helpers for system tests that run vireo-vmm with a Linux guest and read
# what the guest's test init prints on its serial port. Source it after
# tap.sh. The test sets $vmm (the VMM binary) and $work (its scratch folder);
# VM NAME's serial output goes to $work/NAME.serial, the VMM's stdout and
# stderr to $work/NAME.out and $work/NAME.err. $pid is the VM started last,
# $pids every process the cleanup kills. A test defines diag NAME, which
# vm_check calls after a failure.

pids=()

# vm_start NAME VMM-ARGS...: the VMM in the background.
vm_start() {
    local name=$1
    shift
    "$vmm" --serial "file=$work/$name.serial" "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    pids+=("$pid")
}

# vm_kill_all: for the cleanup; every process in $pids gets SIGKILL.
vm_kill_all() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do kill -KILL "$p" 2>/dev/null; done
}

# vm_seen NAME PATTERN COUNT: PATTERN is in NAME's serial output COUNT times.
vm_seen() {
    local n
    n=$(grep -ac -- "$2" "$work/$1.serial" 2>/dev/null)
    [ "${n:-0}" -ge "$3" ]
}

# vm_wait_for NAME PATTERN COUNT SECONDS: true once PATTERN is in NAME's
# serial output COUNT times. False when $pid exits, when its VM
# triple-faulted (a VMM serving an API stays up then), or after SECONDS
# by the clock: under emulation one look can take long.
vm_wait_for() {
    local name=$1 pattern=$2 count=$3 end=$((SECONDS + $4))
    while [ "$SECONDS" -lt "$end" ]; do
        vm_seen "$name" "$pattern" "$count" && return 0
        running "$pid" || break
        grep -q "triple fault" "$work/$name.err" 2>/dev/null && break
        sleep 0.2
    done
    vm_seen "$name" "$pattern" "$count"
}

# vm_wait_exit SECONDS: sets $rc to the exit status of $pid, or to 124 when
# it still ran after SECONDS (it is then killed).
vm_wait_exit() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=124
    else
        wait "$pid"
        rc=$?
    fi
}

# vm_result NAME KEY [OCCURRENCE]: the value of "VIREO-RESULT KEY=" in NAME's
# serial output, the first one or the OCCURRENCE-th.
vm_result() {
    grep -a "^VIREO-RESULT $2=" "$work/$1.serial" | sed -n "${3:-1}p" | tr -d '\r' |
        sed "s/^VIREO-RESULT $2=//"
}

# vm_check DESCRIPTION NAME COMMAND...: a TAP line for COMMAND; after a
# failure, diag NAME.
vm_check() {
    local desc=$1 name=$2
    shift 2
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; diag "$name"; fi
}

is() { [ "$1" = "$2" ]; }
