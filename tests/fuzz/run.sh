#!/bin/bash
# Run the libFuzzer harnesses (docs/testing.md, "Fuzzing").
#
#   tests/fuzz/run.sh SECONDS build/fuzz/fuzz_TARGET...
#
# For each target: every input of tests/fuzz/corpus/TARGET once (the
# regression test), then, when SECONDS > 0, SECONDS of fuzzing from that
# corpus. New inputs go to build/fuzz/work/TARGET (the tree's corpus is only
# read), crashing ones to build/fuzz/artifacts/TARGET, the output to
# build/fuzz/logs/TARGET.log. A crash, a sanitizer report, a leak, a broken
# contract (FUZZ_ASSERT) or an input slower than 10 s fails the target.
# One line per target, then "fuzz: N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:?usage: run.sh SECONDS BINARY...}
shift
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2; }
[ $# -gt 0 ] || { echo "run.sh: no fuzz target given" >&2; exit 2; }

# Per-target libFuzzer options: inputs about as long as the real ones can be
# (a control line is cut at 512 bytes, an ELF check reads 64, a D-Bus header
# is at most 8 KiB), and the target's dictionary if it has one.
target_flags() {
        local t=$1
        case $t in
        request) echo -max_len=1024 ;;
        elf) echo -max_len=128 ;;
        elf_paths) echo -max_len=4096 ;;
        dbus) echo -max_len=16384 ;;
        config | cmdline) echo -max_len=4096 ;;
        esac
        [ -f "$here/$t.dict" ] && echo "-dict=$here/$t.dict"
}

# The sanitizer's or libFuzzer's one-line verdict, and where the input went.
why_failed() {
        local log=$1 what input
        what=$(grep -m1 -E '^SUMMARY: |contract broken|ERROR: libFuzzer' "$log" | sed 's/^SUMMARY: //')
        input=$(grep -m1 -o 'Test unit written to .*' "$log" | sed 's/Test unit written to //')
        echo "${what:-exit status $2}${input:+; input: $input}"
}

# Every corpus input once: all together (fast), then, if that failed, one
# at a time to name the culprits. A leak is reported at exit, so only the
# one-at-a-time pass can say which input leaked.
regress() {
        local bin=$1 corpus=$2 log=$3 f bad=()
        local inputs=("$corpus"/*)
        [ -e "${inputs[0]}" ] || { echo "no inputs in $corpus"; return 1; }
        "$bin" -timeout=10 "${inputs[@]}" >"$log" 2>&1 && return 0
        for f in "${inputs[@]}"; do
                "$bin" -timeout=10 "$f" >>"$log" 2>&1 || bad+=("$(basename "$f")")
        done
        echo "$(why_failed "$log" "?") (corpus inputs: ${bad[*]:-none alone})"
        return 1
}

# SECONDS of fuzzing; on success, the figures of the run.
fuzz_for() {
        local bin=$1 t=$2 corpus=$3 log=$4 work=$5 art=$6 rc
        # shellcheck disable=SC2046
        "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
                -artifact_prefix="$art/" $(target_flags "$t") "$work" "$corpus" >>"$log" 2>&1
        rc=$?
        if [ $rc -ne 0 ]; then
                why_failed "$log" "$rc"
                return 1
        fi
        local runs eps cov
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*')
        echo "${seconds}s: $runs runs, $eps exec/s, $cov"
}

passed=0
failed=0
for bin in "$@"; do
        t=$(basename "$bin")
        t=${t#fuzz_}
        base=$(dirname "$bin")
        corpus=$here/corpus/$t
        log=$base/logs/$t.log
        work=$base/work/$t
        art=$base/artifacts/$t
        mkdir -p "$base/logs" "$work" "$art"
        start=$SECONDS
        n=$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | wc -l)
        if ! msg=$(regress "$bin" "$corpus" "$log"); then
                echo "FAIL $t: corpus: $msg (log: $log)"
                failed=$((failed + 1))
                continue
        fi
        detail="corpus: $n inputs"
        if [ "$seconds" -gt 0 ]; then
                if ! msg=$(fuzz_for "$bin" "$t" "$corpus" "$log" "$work" "$art"); then
                        echo "FAIL $t: $msg (log: $log)"
                        failed=$((failed + 1))
                        continue
                fi
                detail+="; $msg"
        fi
        echo "PASS $t ($detail; $((SECONDS - start))s)"
        passed=$((passed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
