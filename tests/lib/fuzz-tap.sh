#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time and reports it as one TAP
# result: ok when it found no crash, leak or sanitizer report.
#   fuzz-tap.sh TARGET   (VIREO_FUZZ_SECONDS, default 15; VIREO_FUZZ_SEED,
#   default 1, so that a run repeats the inputs of the one before it and
#   a failure seen in CI is seen again here: "random" explores afresh)
# Seeds come from tests/fuzz/corpus/<name>/ and from the script
# tests/fuzz/seeds/<name>, which writes inputs into the folder it is given
# (<name> is the target's name without -fuzz).
set -uo pipefail
target=$1
name=$(basename "$target")
seconds=${VIREO_FUZZ_SECONDS:-15}
seed=${VIREO_FUZZ_SEED:-1}
[ "$seed" = random ] && seed=0 # libFuzzer: 0 picks a seed
srcdir=${VIREO_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
seeds=$srcdir/tests/fuzz/corpus/${name%-fuzz}
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/"
maker=$srcdir/tests/fuzz/seeds/${name%-fuzz}
[ -x "$maker" ] && "$maker" "$work/corpus"

echo "1..1"
if (cd "$work" && "$target" -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus) >"$work/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    echo "ok 1 - $name: ${runs:-?} inputs in ${seconds}s without a crash"
else
    echo "not ok 1 - $name found a problem"
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$work/log" | head -20 | sed 's/^/# /'
    tail -n 30 "$work/log" | sed 's/^/# /'
fi
