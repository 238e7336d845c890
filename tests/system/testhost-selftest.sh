#!/bin/bash
# Self-test of the system-test harness (TAP): where /dev/kvm works (inside the
# test host here), Debian's QEMU boots the test guest kernel and initramfs under
# KVM and the guest's init reports and powers off as expected.
#
# Usage: tests/system/testhost-selftest.sh   (normally via tests/testhost/run)
# Env: VIREO_CACHE_DIR (default $VIREO_BUILDDIR/testhost-cache, else
#      ./testhost-cache), VIREO_SELFTEST_TIMEOUT (per boot, default 180 s).
# shellcheck disable=SC2016 # check conditions are single-quoted on purpose: eval'd later
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
srcdir=$(cd -- "$here/../.." && pwd -P)

if [ ! -c /dev/kvm ] || ! { exec 8<>/dev/kvm; } 2>/dev/null; then
    echo "1..0 # SKIP no /dev/kvm"
    exit 0
fi
exec 8>&-

cache=${VIREO_CACHE_DIR:-${VIREO_BUILDDIR:-.}/testhost-cache}
boot_timeout=${VIREO_SELFTEST_TIMEOUT:-180}
qemu_bin=qemu-system-x86_64

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION CONDITION (a shell expression, evaluated)
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}
is_num() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
diag() { sed 's/^/# /'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vireo-selftest.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

echo "1..10"

# 1: assets (normally built on the host already; then this is a no-op).
t0=$(now)
if "$srcdir/tests/guest/build-assets" "$cache" >"$tmp/assets.log" 2>&1; then
    ok "guest assets are ready in $cache"
else
    not_ok "guest assets are ready in $cache"
    diag <"$tmp/assets.log"
fi
echo "# assets: $(secs "$t0" "$(now)") s"
kernel=$cache/guest/bzImage
initrd=$cache/guest/initramfs.cpio.gz
# shellcheck disable=SC2034 # used in an eval'd check
kver=$(sed -n 's/^version=//p' "$cache/kernel/.stamp" 2>/dev/null || true)

# boot NAME CPU APPEND: boots the guest once; leaves $tmp/NAME.log (serial,
# CRs removed), $tmp/NAME.status (QEMU's exit status) and $tmp/NAME.wall.
boot() {
    local name=$1 cpu=$2 append=$3 st=0 t
    echo "# booting the guest: -cpu $cpu, $append"
    t=$(now)
    timeout -s TERM -k 10 "$boot_timeout" "$qemu_bin" -enable-kvm -M q35 -cpu "$cpu" -m 512 -smp 2 \
        -nic none -display none -serial "file:$tmp/$name.raw" -no-reboot \
        -kernel "$kernel" -initrd "$initrd" -append "$append" \
        </dev/null >"$tmp/$name.qemu" 2>&1 || st=$?
    secs "$t" "$(now)" >"$tmp/$name.wall"
    echo "$st" >"$tmp/$name.status"
    tr -d '\r' <"$tmp/$name.raw" >"$tmp/$name.log" 2>/dev/null || : >"$tmp/$name.log"
}
result() { sed -n "s/^VIREO-RESULT $2=//p" "$tmp/$1.log" | tail -n1; }

# 2-8: the basic check; fall back to other CPU models if -cpu host fails.
cpu_used=
if [ -f "$kernel" ] && [ -f "$initrd" ]; then
    for cpu in host EPYC max; do
        boot basic "$cpu" "console=ttyS0 vireo.check=basic"
        if grep -q '^VIREO-INIT up' "$tmp/basic.log"; then
            cpu_used=$cpu
            break
        fi
        echo "# -cpu $cpu: no VIREO-INIT (QEMU status $(cat "$tmp/basic.status")); output:"
        tail -n 20 "$tmp/basic.qemu" "$tmp/basic.log" | diag
    done
else
    : >"$tmp/basic.log"
    echo 1 >"$tmp/basic.status"
    echo 0 >"$tmp/basic.wall"
fi
check "guest init came up under KVM (VIREO-INIT up)" 'grep -q "^VIREO-INIT up" "$tmp/basic.log"'
echo "# -cpu ${cpu_used:-none}; boot-to-poweroff $(cat "$tmp/basic.wall") s wall;" \
    "guest uptime at init $(sed -n 's/^VIREO-INIT up uptime=//p' "$tmp/basic.log" | head -n1) s"
v=$(result basic nproc)
check "guest sees 2 CPUs (nproc=${v:-none})" '[ "$v" = 2 ]'
v=$(result basic memtotal_kb)
check "guest sees about 512 MiB (MemTotal ${v:-none} kB)" \
    'is_num "$v" && [ "$v" -gt 300000 ] && [ "$v" -le 524288 ]'
v=$(result basic uname_r)
check "guest runs the cached Debian kernel (uname -r ${v:-none})" '[ -n "$v" ] && [ "$v" = "$kver" ]'
v=$(result basic date)
check "guest clock is close to the host's (date ${v:-none})" \
    'is_num "$v" && [ $((v - $(date +%s))) -le 5 ] && [ $(($(date +%s) - v)) -le 600 ]'
check "guest check finished (VIREO-DONE rc=0)" 'grep -qx "VIREO-DONE rc=0" "$tmp/basic.log"'
check "QEMU exited by itself after the guest powered off (status $(cat "$tmp/basic.status"))" \
    '[ "$(cat "$tmp/basic.status")" = 0 ]'
if [ "$failed" -gt 0 ]; then
    echo "# guest serial log:"
    tail -n 40 "$tmp/basic.log" | diag
fi

# 9-10: check selection and vireo.end=reboot (QEMU's -no-reboot makes it exit).
if [ -n "$cpu_used" ]; then
    boot hello "$cpu_used" "console=ttyS0 vireo.check=hello vireo.end=reboot"
else
    : >"$tmp/hello.log"
    echo 1 >"$tmp/hello.status"
    echo 0 >"$tmp/hello.wall"
fi
echo "# hello boot: $(cat "$tmp/hello.wall") s wall"
check "vireo.check=hello runs the hello check (hello=$(result hello hello))" \
    '[ "$(result hello hello)" = world ]'
check "vireo.end=reboot ends the run (VIREO-DONE rc=0, QEMU status $(cat "$tmp/hello.status"))" \
    'grep -qx "VIREO-DONE rc=0" "$tmp/hello.log" && [ "$(cat "$tmp/hello.status")" = 0 ]'
if [ "$failed" -gt 0 ] && [ -n "$cpu_used" ]; then
    echo "# hello guest serial log (tail):"
    tail -n 30 "$tmp/hello.log" | diag
    tail -n 10 "$tmp/hello.qemu" | diag
fi

[ "$failed" = 0 ]
