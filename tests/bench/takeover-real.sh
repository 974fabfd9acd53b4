#!/bin/bash
# Figure 3 on real systemd 252: takeover latency over ROUNDS crashes (kill
# -SEGV 1), in a systemd-nspawn container and in the VM. Each crash is taken
# over and rescue mode restarts systemd (on-failure = restart, restart-limit
# raised), and the next round crashes the fresh systemd.
#
# From the guard's own monotonic clock (its log lines): crash signal ->
# initshim --rescue running as PID 1; the part of it spent in systemd's own
# crash handler (fork of the child that dumps core, its death, waitid) until
# the handler's last syscall; the rest is the guard's (rewriting that
# syscall, the exec, rescue start-up). Also crash -> multi-user.target of the
# restarted systemd, and the guard's RSS and CPU after all the rounds.
# (tests/bench/takeover.sh measures the same in a PID namespace with the
# scripted fake systemd.)
#
# ROUNDS=20 by default (about 8 minutes: most of it the VM's restarts).
# BEDS="nspawn qemu" by default. Figures, not assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-20}
BEDS=${BEDS:-nspawn qemu}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine
vm_setup

report() { # bed label
	local bed=$1 label=$2 log=$BENCH_LOG res hand
	res=$(tr -d '\r' <"$log" | grep -a -o 'PID [0-9]* is initshim in rescue mode, [0-9]* us after SIG[A-Z]*' |
		awk '{print $(NF - 3)}')
	hand=$(tr -d '\r' <"$log" | grep -a -o 'last syscall ([0-9]*) [0-9]* us after SIG[A-Z]*' |
		awk '{print $(NF - 3)}')
	echo "takeover: $label, real systemd 252, $ROUNDS crashes (kill -SEGV 1), microseconds:"
	echo "  crash signal -> rescue mode:  $(echo "$res" | stats)"
	echo "  of which crash handler:       $(echo "$hand" | stats)"
	echo "  the guard's part (difference): $(paste <(echo "$res") <(echo "$hand") | awk 'NF == 2 {print $1 - $2}' | stats)"
	echo "  crash -> multi-user.target of the restarted systemd (ms): $(bench_values "$log" restart_us | awk '{print int($1 / 1000)}' | stats)"
	echo "  guard after the rounds: RSS $(bench_values "$log" guard_rss_kb) kB, CPU $(bench_values "$log" guard_cpu_ms) ms in all;" \
		"boot-exec at the first boot $(bench_values "$log" boot_exec_us) us"
}

for bed in $BEDS; do
	case $bed in
	nspawn) label="systemd-nspawn container" ;;
	qemu) label="VM (TCG)" ;;
	*) echo "takeover-real: unknown bed $bed"; continue ;;
	esac
	if ! bench_guest takeover "bench-takeover-$bed" "bed: $bed" "cmdline: bench.rounds=$ROUNDS"; then
		echo "takeover-real: the $label failed (console log in ${E2E_RESULTS#"$E2E_REPO"/}/); partial figures:"
	fi
	report "$bed" "$label"
done
echo "  other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
