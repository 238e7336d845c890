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

tap_plan 42
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
refused "--console: malformed value 'socket=/x'" --kernel /k --console socket=/x
refused "--serial tty and --console tty cannot share the terminal; add --console off" \
    --kernel /k --serial tty
refused "not yet supported: --firmware" --firmware /fw
refused "no kernel to boot" --cpus boot=1

timeout 10 "$vmm" --help >"$work/out" 2>&1
tap_check "--help prints the options and exits 0" \
    eval '[ $? = 0 ] && grep -q -- "--kernel PATH" "$work/out" && grep -q -- "--console" "$work/out"'
timeout 10 "$vmm" --version >"$work/out" 2>&1
tap_check "--version prints the version" grep -Eq '^vireo-vmm [0-9]+\.[0-9]+' "$work/out"
refused "option '--serial' needs a non-empty value" --kernel /k --serial=

# --disk, --rng, --console: refused before the VM is built, naming the option
# or the file.
printf 'raw disk\n' >"$work/disk.img"
refused "--disk: 'readonly=on' has no path=PATH" --kernel /k --disk readonly=on
refused "--disk: malformed value in 'path='" --kernel /k --disk path=
refused "--disk: malformed value in 'image_type=vmdk' (expected raw or qcow2)" \
    --kernel /k --disk "path=$work/disk.img,image_type=vmdk"
refused "--disk: malformed value in 'readonly=maybe' (expected on or off)" \
    --kernel /k --disk "path=$work/disk.img,readonly=maybe"
refused "--disk: unknown parameter 'size'" --kernel /k --disk "path=$work/disk.img,size=1G"
refused "--disk path=$work/disk.img: queue_size=100 must be a power of two" \
    --kernel /k --disk "path=$work/disk.img,queue_size=100"
refused "--disk path=$work/no-such.img: " --kernel /k --disk "path=$work/no-such.img"
refused "no-such-2.img" --kernel /k --disk "path=$work/disk.img" "path=$work/no-such-2.img"
refused "--disk path=$work/disk.img: " \
    --kernel /k --disk "path=$work/disk.img,image_type=qcow2"
refused "--rng: malformed parameter '/dev/urandom'" --kernel /k --rng /dev/urandom
refused "--rng src=$work/no-such-rng: cannot open" --kernel /k --rng "src=$work/no-such-rng"
refused "--console: malformed value 'fil=/x'" --kernel /k --console fil=/x
refused "--console file=$work/no-dir/hvc0: " --kernel /k --console "file=$work/no-dir/hvc0"

# --api-socket and --event-monitor: malformed values, and sockets or files
# that cannot be used, are refused before anything is served.
refused "--api-socket: give path= or fd=, not both" --api-socket "path=$work/s,fd=3"
refused "--api-socket: malformed parameter '$work/s'" --api-socket "$work/s"
refused "--api-socket: malformed value in 'fd=-2'" --api-socket fd=-2
refused "--event-monitor: unknown parameter 'file'" --event-monitor "file=$work/ev"
refused "--event-monitor: fd=77 is not open" --event-monitor fd=77 --api-socket "path=$work/s"
refused "--api-socket: fd=77 is not a socket" --api-socket fd=77
refused "--api-socket: cannot listen on '$work/no-dir/s'" --api-socket "path=$work/no-dir/s"
refused "--api-socket: '$work/disk.img' exists and is not a socket" \
    --api-socket "path=$work/disk.img"
refused "$work/no-dir/ev" --event-monitor "path=$work/no-dir/ev" --api-socket "path=$work/s"
refused "no kernel to boot" --event-monitor "path=$work/ev"
timeout 10 "$vmm" --help >"$work/out" 2>&1
tap_check "--help documents --api-socket and --event-monitor" \
    eval 'grep -q -- "--api-socket path=PATH|fd=N" "$work/out" && grep -q -- "--event-monitor path=PATH|fd=N" "$work/out"'
timeout 10 "$vmm" --help >"$work/out" 2>&1
tap_check "--help documents --disk, --rng and the console default (tty)" \
    eval 'grep -q -- "--disk path=PATH" "$work/out" && grep -q -- "--rng src=PATH" "$work/out" && grep -q "default: tty" "$work/out"'
tap_done
