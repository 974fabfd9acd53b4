#!/bin/bash
# Figure 5, state-preserving switch, in the VM under real systemd 252.
#
# One guest: ROUNDS pairs of `initshimctl exec 252` (252 running: the guard
# makes systemd re-execute with its state kept and confirms it answers)
# against `systemctl daemon-reexec` (systemd's own, the anchor), alternating;
# then VROUNDS version changes 252 -> 254 and back. Each is timed to the
# command's return and to the new manager's first answer on its private
# socket (`systemctl show -p Version`): `systemctl daemon-reexec` returns as
# soon as the old manager drops the connection, before the new one is up, so
# the ratio is taken on the second.
#
# ROUNDS=10 VROUNDS=5 by default (about 3 minutes under TCG). Figures, not
# assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-10}
VROUNDS=${VROUNDS:-5}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine
vm_setup
bench_guest switch bench-switch "cmdline: bench.rounds=$ROUNDS bench.vrounds=$VROUNDS" ||
	echo "switch: the guest failed (console log in ${E2E_RESULTS#"$E2E_REPO"/}/); partial figures:"
med() { bench_values "$BENCH_LOG" "$1" | median; }
ms() { awk -v x="$1" 'BEGIN {if (x == "-") print "-"; else printf "%.0f", x / 1000}'; }
echo "switch: real systemd 252 in the VM (TCG), $ROUNDS alternating pairs, $VROUNDS version changes each way; medians in ms"
printf '  %-42s %10s %12s\n' "" returned "answers"
for k in exec252:"initshimctl exec 252 (252 running)" reexec:"systemctl daemon-reexec" \
	to254:"initshimctl exec 254 (252 -> 254)" to252:"initshimctl exec 252 (254 -> 252)"; do
	printf '  %-42s %10s %12s\n' "${k#*:}" "$(ms "$(med "${k%%:*}_ret_us")")" "$(ms "$(med "${k%%:*}_ready_us")")"
done
echo "  ratio initshimctl exec 252 / daemon-reexec, until the manager answers: $(ratio "$(med exec252_ready_us)" "$(med reexec_ready_us)")"
echo "  ratio 252 -> 254 / daemon-reexec: $(ratio "$(med to254_ready_us)" "$(med reexec_ready_us)")"
echo "  all samples (ms): exec252 [$(bench_values "$BENCH_LOG" exec252_ready_us | awk '{printf "%.0f ", $1 / 1000}')]" \
	"reexec [$(bench_values "$BENCH_LOG" reexec_ready_us | awk '{printf "%.0f ", $1 / 1000}')]"
echo "  other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
