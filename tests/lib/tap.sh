# TAP helpers for shell tests: source this, call tap_plan N (or nothing and
# tap_done at the end), then tap_ok/tap_fail/tap_check/tap_skip per assertion.
# Test scripts find the tree through VIREO_SRCDIR and VIREO_BUILDDIR.

: "${VIREO_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${VIREO_BUILDDIR:=$VIREO_SRCDIR/build}"
export VIREO_SRCDIR VIREO_BUILDDIR

_tap_n=0
_tap_failed=0

tap_plan() { echo "1..$1"; _tap_planned=$1; }

tap_skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

tap_ok() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $*"
}

tap_fail() {
    _tap_n=$((_tap_n + 1))
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $*"
}

tap_skip() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

# tap_check DESCRIPTION COMMAND...: ok when the command succeeds.
tap_check() {
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; fi
}

tap_diag() {
    local line
    while IFS= read -r line; do echo "# $line"; done <<<"$*"
}

# Ends the script: prints the plan when none was given up front.
tap_done() {
    [ -n "${_tap_planned:-}" ] || echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
}

# True when /dev/kvm can be opened.
# running PID: true while PID runs. A child that has exited but was not
# waited for yet is a zombie, which kill -0 still finds.
running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
tap_have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
