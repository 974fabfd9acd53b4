#!/bin/bash
# Takeover latency in a PID namespace: the fake systemd (tests/integration)
# crashes ROUNDS times; each time the guard follows its crash handler and
# turns it into initshim --rescue, which restarts the fake. Reports, from
# the guard's own monotonic clock: crash signal -> rescue mode running, and
# the part spent in the crash handler (fork of the dumping child, waitid).
set -u
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-20}
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=lib-bench.sh
. tests/bench/lib-bench.sh
bench_machine
boot_fake "on-failure = restart
restart-limit = 1000
stop-timeout = 1s
liveness-interval = 0"
for i in $(seq "$ROUNDS"); do
        in_ns rm -f /run/fake-systemd.ready
        fake segv
        wait_until 20 fake_ready 1 || { echo "takeover: round $i did not come back"; ns_stop; exit 1; }
done
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %d us, p90 %d us, max %d us (n=%d)", a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR], NR}'; }
echo "takeover (PID namespace, fake systemd with systemd's crash-handler shape, $ROUNDS crashes):"
echo "  crash signal -> rescue mode: $(grep -o 'rescue mode, [0-9]* us after' "$T/log" | awk '{print $3}' | stats)"
echo "  of which crash handler:      $(grep -o 'last syscall ([0-9]*) [0-9]* us after' "$T/log" | awk '{print $4}' | stats)"
echo "  the guard's part (difference): $(paste <(grep -o 'rescue mode, [0-9]* us after' "$T/log" | awk '{print $3}') \
	<(grep -o 'last syscall ([0-9]*) [0-9]* us after' "$T/log" | awk '{print $4}') | awk 'NF == 2 {print $1 - $2}' | stats)"
g=$(in_ns pgrep -x initshim-guard | head -n1)
# shellcheck disable=SC2016 # awk's fields
echo "  guard: $(in_ns awk '/^VmRSS/ {print "RSS " $2 " kB"}' "/proc/$g/status"), CPU $(in_ns awk '{print ($14+$15)*10 " ms"}' "/proc/$g/stat")"
ns_stop
