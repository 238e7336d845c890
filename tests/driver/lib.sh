# Helpers for the driver tests: start virtvireod on a private socket, config
# dir and run dir, and run the real virsh against it. Source after tap.sh.

export LIBVIRT_AUTOSTART=0
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI

VIRTVIREOD=$VIREO_BUILDDIR/driver/virtvireod
vt_dir=$(mktemp -d /tmp/vireo-driver-test.XXXXXX)
vt_sock=$vt_dir/sock
vt_pid=

# vt_start: starts the daemon and waits until it serves.
vt_start() {
    "$VIRTVIREOD" --socket "$vt_sock" --config-dir "$vt_dir/conf" --run-dir "$vt_dir/run" \
        --log-dir "$vt_dir/log" --verbose >>"$vt_dir/daemon.log" 2>&1 &
    vt_pid=$!
    for _ in $(seq 100); do
        [ -S "$vt_sock" ] && [ -S "$vt_sock-ro" ] && return 0
        kill -0 "$vt_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# vt_stop: SIGTERM, and true when it exits cleanly and removes its sockets.
vt_stop() {
    local rc
    [ -n "$vt_pid" ] || return 0
    kill -TERM "$vt_pid" 2>/dev/null
    wait "$vt_pid"
    rc=$?
    vt_pid=
    [ "$rc" -eq 0 ] && [ ! -e "$vt_sock" ] && [ ! -e "$vt_sock-ro" ]
}

vt_cleanup() {
    [ -n "$vt_pid" ] && kill -KILL "$vt_pid" 2>/dev/null
    if [ "${_tap_failed:-0}" -gt 0 ] && [ -r "$vt_dir/daemon.log" ]; then
        tap_diag "daemon log (tail):"
        tap_diag "$(tail -n 30 "$vt_dir/daemon.log")"
    fi
    rm -rf "$vt_dir"
}
trap vt_cleanup EXIT

quiet() { "$@" >/dev/null 2>&1; }
not() { ! "$@"; }
vsh() { virsh -q -c "vireo+unix:///system?socket=$vt_sock" "$@"; }
vsh_ro() { virsh -q -r -c "vireo+unix:///system?socket=$vt_sock-ro" "$@"; }

# vt_domain_xml NAME [UUID]: a minimal domain Vireo accepts.
vt_domain_xml() {
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  ${2:+<uuid>$2</uuid>}
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/vireo/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
</domain>
XML
}
