#!/bin/bash
# vireo-vmm's command line: bad options are refused before anything starts,
# with one line naming the option and exit status 1; --help and --version
# work. Needs no /dev/kvm.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

vmm=$VIREO_BUILDDIR/vmm/vireo-vmm
[ -x "$vmm" ] || tap_skip_all "vireo-vmm is not built ($vmm)"
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-cmdline-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# refused NEEDLE ARGS...: exit 1, exactly one line on stderr containing NEEDLE.
refused() {
    local needle=$1 rc lines
    shift
    timeout 10 "$vmm" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    lines=$(wc -l <"$work/err")
    if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -qF -- "$needle" "$work/err"; then
        tap_ok "refused: $*"
    else
        tap_fail "refused: $*"
        tap_diag "exit status $rc, stderr: $(cat "$work/err")"
    fi
}

tap_plan 16
refused "unknown option '--kern'" --kern /boot/vmlinuz
refused "unknown option '--kernelx'" --kernelx=/k
refused "unknown option '-x'" -x --kernel /k
refused "unexpected argument 'bzImage'" --kernel /k bzImage
refused "option '--kernel' needs a value" --kernel
refused "--memory: malformed size '12Q'" --kernel /k --memory size=12Q
refused "--memory: unknown parameter 'sise=1G'" --kernel /k --memory sise=1G
refused "--cpus: malformed parameter 'boot=two'" --kernel /k --cpus boot=two
refused "--cpus boot=0" --kernel /k --cpus boot=0
refused "--serial: malformed value 'fil=/x'" --kernel /k --serial fil=/x
refused "not yet supported: --console tty (virtio-console comes with PCI support); use --console off" \
    --kernel /k --console tty
refused "not yet supported: --firmware" --firmware /fw
refused "no kernel to boot" --cpus boot=1

timeout 10 "$vmm" --help >"$work/out" 2>&1
tap_check "--help prints the options and exits 0" \
    eval '[ $? = 0 ] && grep -q -- "--kernel PATH" "$work/out" && grep -q -- "--console" "$work/out"'
timeout 10 "$vmm" --version >"$work/out" 2>&1
tap_check "--version prints the version" grep -Eq '^vireo-vmm [0-9]+\.[0-9]+' "$work/out"
refused "option '--serial' needs a non-empty value" --kernel /k --serial=
tap_done
