#!/usr/bin/env bash
# virtvireod driven by the real virsh: handshake, host queries, defining and
# listing domains with every filter virsh offers, dominfo, dumpxml,
# autostart, undefine, the read-only socket, and a daemon restart.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/lib.sh"

command -v virsh >/dev/null || tap_skip_all "virsh is not installed (libvirt-clients)"
[ -x "$VIRTVIREOD" ] || tap_skip_all "virtvireod is not built ($VIRTVIREOD)"

tap_check "daemon starts and listens on both sockets" vt_start
tap_check "rw socket is 0700, ro socket 0777" \
    test "$(stat -c %a "$vt_sock")" = 700 -a "$(stat -c %a "$vt_sock-ro")" = 777

out=$(vsh version 2>&1)
tap_check "virsh version reaches the daemon" grep -q "Running hypervisor: VIREO 0.1.0" <<<"$out"
tap_check "virsh connect" quiet vsh connect
out=$(vsh nodeinfo 2>&1)
tap_check "virsh nodeinfo" grep -q "^CPU(s): *[1-9]" <<<"$out"
out=$(vsh capabilities 2>&1)
tap_check "virsh capabilities" grep -q "<capabilities>" <<<"$out"
out=$(vsh domcapabilities 2>&1)
tap_check "virsh domcapabilities" grep -q "<domainCapabilities>" <<<"$out"
tap_check "virsh maxvcpus" test "$(vsh maxvcpus 2>&1)" -gt 0
tap_check "virsh hostname" test -n "$(vsh hostname 2>&1)"

tap_check "list --all is empty at first" test -z "$(vsh list --all --name)"
vt_domain_xml vm1 >"$vt_dir/vm1.xml"
vt_domain_xml vm2 >"$vt_dir/vm2.xml"
tap_check "define vm1" quiet vsh define "$vt_dir/vm1.xml"
tap_check "define vm2 with --validate" quiet vsh define --validate "$vt_dir/vm2.xml"
tap_check "config files written" test -f "$vt_dir/conf/vm1.xml" -a -f "$vt_dir/conf/vm2.xml"
vsh dumpxml vm1 | sed 's|<vcpu placement=.static.>1</vcpu>|<vcpu>2</vcpu>|' >"$vt_dir/vm1-new.xml"
tap_check "redefining vm1 from its dumpxml updates it" quiet vsh define "$vt_dir/vm1-new.xml"
tap_check "the update is seen" test "$(vsh vcpucount vm1 --config --current)" = 2
out=$(vsh define "$vt_dir/vm1.xml" 2>&1)
tap_check "the same name without the uuid is a clash, as in libvirt" \
    grep -q "domain 'vm1' already exists with uuid" <<<"$out"
out=$(vsh list --all 2>&1)
tap_check "list --all shows both shut off" \
    test "$(grep -c 'shut off' <<<"$out")" = 2
tap_check "list (active only) is empty" test -z "$(vsh list --name)"
tap_check "list --all --name" test "$(vsh list --all --name | tr '\n' ' ')" = "vm1 vm2 "
tap_check "list --inactive --name" test "$(vsh list --inactive --name | wc -l)" = 2
tap_check "list --persistent --all" test "$(vsh list --persistent --all --name | wc -l)" = 2
tap_check "list --transient --all is empty" test -z "$(vsh list --transient --all --name)"
tap_check "list --persistent --transient --all" \
    test "$(vsh list --persistent --transient --all --name | wc -l)" = 2
tap_check "list --inactive --persistent --uuid" \
    test "$(vsh list --inactive --persistent --uuid | wc -l)" = 2
uuid1=$(vsh domuuid vm1)
tap_check "list --all --uuid" grep -q "$uuid1" <<<"$(vsh list --all --uuid)"
tap_check "list --state-shutoff" test "$(vsh list --state-shutoff --name | wc -l)" = 2
tap_check "list --state-running is empty" test -z "$(vsh list --state-running --name)"
tap_check "list --with-managed-save is empty" test -z "$(vsh list --all --with-managed-save --name)"

out=$(vsh dominfo vm1 2>&1)
tap_check "dominfo: state" grep -q "^State: *shut off" <<<"$out"
tap_check "dominfo: memory and cpus" \
    grep -q "^Max memory: *262144 KiB" <<<"$out"
tap_check "dominfo: persistent, autostart off" \
    grep -q "^Autostart: *disable" <<<"$out"
tap_check "domstate --reason" grep -q "shut off" <<<"$(vsh domstate vm1 --reason)"
tap_check "domid of an inactive domain is -" test "$(vsh domid vm1)" = "-"
tap_check "domname by uuid" test "$(vsh domname "$uuid1")" = vm1
out=$(vsh dumpxml vm1 2>&1)
tap_check "dumpxml has name and uuid" grep -q "<uuid>$uuid1</uuid>" <<<"$out"
tap_check "dumpxml --inactive --security-info" quiet vsh dumpxml --inactive --security-info vm1
tap_check "vcpucount --config --maximum" test "$(vsh vcpucount vm1 --config --maximum)" = 2

tap_check "autostart vm1" quiet vsh autostart vm1
tap_check "autostart symlink exists" test -L "$vt_dir/conf/autostart/vm1.xml"
tap_check "list --autostart" test "$(vsh list --all --autostart --name)" = vm1
tap_check "list --no-autostart" test "$(vsh list --all --no-autostart --name)" = vm2
tap_check "dominfo shows autostart" grep -q "^Autostart: *enable" <<<"$(vsh dominfo vm1)"

# A second name for the same uuid, and a second uuid for the same name.
sed "s|<name>vm1</name>|<name>vm1-copy</name><uuid>$uuid1</uuid>|" "$vt_dir/vm1.xml" \
    >"$vt_dir/dup-uuid.xml"
out=$(vsh define "$vt_dir/dup-uuid.xml" 2>&1)
tap_check "same uuid under another name is refused" \
    grep -q "domain 'vm1' is already defined with uuid $uuid1" <<<"$out"
vt_domain_xml vm1 00000000-1111-2222-3333-444444444444 >"$vt_dir/dup-name.xml"
out=$(vsh define "$vt_dir/dup-name.xml" 2>&1)
tap_check "same name under another uuid is refused" \
    grep -q "domain 'vm1' already exists with uuid" <<<"$out"
echo '<domain type="kvm"><name>broken' >"$vt_dir/broken.xml"
tap_check "malformed XML is refused" not quiet vsh define "$vt_dir/broken.xml"

out=$(vsh start vm1 2>&1)
tap_check "start without its kernel names the file" \
    grep -q "cannot read the kernel '/var/lib/vireo/vmlinuz'" <<<"$out"
tap_check "the failed start leaves no VMM files" test -z "$(ls -A "$vt_dir/run")"
tap_check "the failed start leaves the domain shut off" \
    grep -q "^shut off" <<<"$(vsh domstate vm1)"
out=$(vsh dominfo nosuch 2>&1)
tap_check "unknown domain is an error" grep -q "failed to get domain 'nosuch'" <<<"$out"

# Read-only socket: reads work, changes do not.
tap_check "ro: list --all" test "$(vsh_ro list --all --name | wc -l)" = 2
tap_check "ro: dumpxml" quiet vsh_ro dumpxml vm2
out=$(vsh_ro define "$vt_dir/vm2.xml" 2>&1)
tap_check "ro: define refused" grep -q "read only access prevents virDomainDefineXML" <<<"$out"
out=$(vsh_ro undefine vm2 2>&1)
tap_check "ro: undefine refused" grep -q "read only access prevents" <<<"$out"
tap_check "ro: vm2 still defined" quiet vsh dominfo vm2

# Restart keeps definitions and autostart.
tap_check "SIGTERM stops the daemon and removes its sockets" vt_stop
echo "<domain><garbage" >"$vt_dir/conf/corrupt.xml"
tap_check "daemon restarts over a corrupt config file" vt_start
tap_check "restart keeps both domains" test "$(vsh list --all --name | tr '\n' ' ')" = "vm1 vm2 "
tap_check "restart keeps the uuid" test "$(vsh domuuid vm1)" = "$uuid1"
tap_check "restart keeps autostart" test "$(vsh list --all --autostart --name)" = vm1
tap_check "corrupt file was reported" grep -q "corrupt.xml" "$vt_dir/daemon.log"

tap_check "undefine vm1" quiet vsh undefine vm1
tap_check "undefine removed file and link" \
    test ! -e "$vt_dir/conf/vm1.xml" -a ! -L "$vt_dir/conf/autostart/vm1.xml"
tap_check "undefine --nvram vm2" quiet vsh undefine --nvram vm2
tap_check "list --all is empty again" test -z "$(vsh list --all --name)"
tap_check "daemon stops cleanly" vt_stop

# systemd socket activation: the sockets come as fds 3 and 4 (LISTEN_FDS).
if command -v systemd-socket-activate >/dev/null; then
    systemd-socket-activate -l "$vt_dir/sa-sock" -l "$vt_dir/sa-sock-ro" "$VIRTVIREOD" \
        --config-dir "$vt_dir/conf" --run-dir "$vt_dir/run" >>"$vt_dir/daemon.log" 2>&1 &
    sa_pid=$!
    for _ in $(seq 100); do [ -S "$vt_dir/sa-sock-ro" ] && break; sleep 0.05; done
    tap_check "socket activation: served on the inherited socket" \
        quiet virsh -q -c "vireo+unix:///system?socket=$vt_dir/sa-sock" list --all
    out=$(virsh -q -r -c "vireo+unix:///system?socket=$vt_dir/sa-sock-ro" define \
        "$vt_dir/vm2.xml" 2>&1)
    tap_check "socket activation: the -ro socket is read-only" \
        grep -q "read only access prevents" <<<"$out"
    kill -TERM "$sa_pid"
    wait "$sa_pid"
else
    tap_skip "socket activation" "systemd-socket-activate is not installed"
    tap_skip "socket activation read-only" "systemd-socket-activate is not installed"
fi
tap_done
