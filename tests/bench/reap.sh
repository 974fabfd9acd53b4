#!/bin/bash
# Reaping an orphan storm: initshim in rescue mode as PID 1 of a PID
# namespace, against tini (Debian's package) and a plain waitid loop (the
# floor). Same storm for each: N orphans in bursts, re-parented to PID 1.
# Prints total time until no zombie is left, the peak zombie count sampled
# every 20 ms, and zombies left (must be 0). Figures, not assertions.
set -u
cd "$(dirname "$0")/../.." || exit 2
N=${N:-100000} BURST=${BURST:-1000} ROUNDS=${ROUNDS:-3}
B=$PWD/build
# shellcheck source=lib-bench.sh
. tests/bench/lib-bench.sh
bench_machine
command -v tini >/dev/null || { echo "reap: tini missing (apt-get install tini)"; exit 1; }

run_one() { # name, init argv...
        shift
        local d; d=$(mktemp -d)
        : > "$d/masked"
        # Read by initshim at boot: no systemd to run, no guard (rescue mode only).
        printf 'systemd = /nonexistent\nguard = no\n' > "$d/conf"
        # shellcheck disable=SC2016 # expanded by the inner shell
        unshare --pid --fork --mount --mount-proc --propagation private -- \
                env -i PATH=/usr/bin:/bin INITSHIM_CONF="$d/conf" bash -c '
                mount -t tmpfs tmpfs /run
                for p in /lib/systemd/systemd /usr/lib/systemd/systemd; do [ -e "$p" ] && mount --bind "'"$d"'/masked" "$p"; done
                exec "$@"' init "$@" > "$d/log" 2>&1 &
        local u=$! ns=
        for _ in $(seq 100); do ns=$(pgrep -P $u | head -n1); [ -n "$ns" ] && break; sleep 0.02; done
        # Let PID 1 settle (initshim: rescue mode up, FIFO served).
        for _ in $(seq 100); do nsenter -t "$ns" -p -m -- true && break; sleep 0.02; done
        res=$(nsenter -t "$ns" -p -m -- "$B/bench/zwatch" 60000 "$B/tests/storm" "$N" "$BURST")
        kill -KILL "$ns"; wait "$u" 2>/dev/null
        rm -rf "$d"
        echo "$res"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A T P L M
for impl in initshim tini floor; do T[$impl]='' P[$impl]='' L[$impl]=0; done
for _ in $(seq "$ROUNDS"); do
        for impl in initshim tini floor; do
                case $impl in
                initshim) out=$(run_one initshim "$B/initshim") ;;
                tini) out=$(run_one tini "$(command -v tini)" -s -- sleep 1000000) ;;
                floor) out=$(run_one floor "$B/bench/floor-init") ;;
                esac
                read -r t p l <<<"$out"
                T[$impl]+="$t "; P[$impl]+="$p "; L[$impl]=$((L[$impl] + l))
        done
done
echo "reap: $N orphans in bursts of $BURST, $ROUNDS rounds, median of rounds ($(nproc) cores, $(uname -r))"
printf '  %-9s %10s %12s %12s\n' impl total_ms peak_zombies left_zombies
for impl in initshim tini floor; do
        tm=$(echo "${T[$impl]}" | tr ' ' '\n' | grep . | median)
        pm=$(echo "${P[$impl]}" | tr ' ' '\n' | grep . | median)
        printf '  %-9s %10s %12s %12s\n' "$impl" "$tm" "$pm" "${L[$impl]}"
        M[$impl]=$tm
done
awk -v a="${M[initshim]}" -v t="${M[tini]}" -v f="${M[floor]}" 'BEGIN {printf "  ratio initshim/tini %.2f, initshim/floor %.2f\n", a/t, a/f}'
