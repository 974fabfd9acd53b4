#!/bin/bash
# Figure 1, boot overhead.
#
# a) initshim's start -> its execve of systemd, from initshim's own monotonic
#    clock (/run/initshim/boot-exec-us, shown by `initshimctl status`): as PID
#    1 of a PID namespace with the fake systemd, guard = yes against guard = no
#    (NS_ROUNDS each, alternating), and in the VM (below).
# b) The VM bed: the same cached image and initramfs booted ROUNDS times each
#    with rdinit=/sbin/initshim ("initshim"), the same with
#    initshim.guard=no ("no guard": initshim's own part without the guard's)
#    and rdinit=/lib/systemd/systemd ("plain", the anchor), in rotating
#    order. Time to multi-user.target: its ActiveEnterTimestampMonotonic
#    (since the kernel started), and the userspace part: minus the kernel's
#    "Run ... as init process" (printk time in the console log), where the
#    arms begin to differ; and systemd's own start (its userspace timestamp)
#    after that line. Medians and ratios to plain.
#
# ROUNDS=4 NS_ROUNDS=20 by default (12 boots, about 7 minutes on 2 cores
# under TCG; the figures' noise is large, see docs/performance.md).
# Figures, not assertions.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROUNDS=${ROUNDS:-4}
NS_ROUNDS=${NS_ROUNDS:-20}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine

# --- a) in a PID namespace ------------------------------------------------
B=$PWD/build
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
ns_boot_exec() { # guard yes|no: prints boot-exec-us of one boot
	ns_start "systemd = $FAKE
guard = $1
liveness-interval = 0"
	if wait_until 10 fake_ready 1; then
		in_ns cat /run/initshim/boot-exec-us
	fi
	ns_stop
}
ns_yes=() ns_no=()
if [ -x "$FAKE" ]; then
	for ((i = 0; i < NS_ROUNDS; i++)); do
		if ((i % 2)); then
			ns_no+=("$(ns_boot_exec no)") ns_yes+=("$(ns_boot_exec yes)")
		else
			ns_yes+=("$(ns_boot_exec yes)") ns_no+=("$(ns_boot_exec no)")
		fi
	done
fi

# --- b) the VM ------------------------------------------------------------
vm_setup
declare -A MU=() US=() SD=() FIN=() RUN=()
STOPS=
exec_vm=() exec_vm_ng=()
failed=0
boot_once() { # arm
	local arm=$1 pid1 mu sd fin stops
	case $arm in
	initshim) bench_guest boot bench-boot-initshim ;;
	noguard) bench_guest boot bench-boot-noguard "cmdline: initshim.guard=no" ;;
	plain) bench_guest boot bench-boot-plain "cmdline: rdinit=/lib/systemd/systemd" ;;
	esac || { failed=$((failed + 1)); return; }
	# "[    4.912345] Run /sbin/initshim as init process" -> 4912345
	pid1=$(tr -d '\r' <"$BENCH_LOG" | sed -n 's/^\[ *\([0-9]*\)\.\([0-9]\{6\}\)\] Run .* as init process.*/\1\2/p' | head -n 1)
	pid1=$((10#${pid1:-0}))
	mu=$(bench_values "$BENCH_LOG" multi_user_us)
	sd=$(bench_values "$BENCH_LOG" systemd_start_us)
	fin=$(bench_values "$BENCH_LOG" finish_us)
	MU[$arm]+="$mu "
	US[$arm]+="$((mu - pid1)) "
	SD[$arm]+="$((sd - pid1)) "
	FIN[$arm]+="$((fin - pid1)) "
	RUN[$arm]+="$pid1 "
	case $arm in
	initshim)
		exec_vm+=("$(bench_values "$BENCH_LOG" boot_exec_us)")
		stops=$(bench_values "$BENCH_LOG" guard_stops)
		STOPS+="$stops "
		;;
	noguard) exec_vm_ng+=("$(bench_values "$BENCH_LOG" boot_exec_us)") ;;
	esac
	echo "bench: $arm: userspace began at $((pid1 / 1000)) ms, multi-user.target at $((mu / 1000)) ms" >&2
}
ARMS=(initshim noguard plain)
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < 3; i++)); do boot_once "${ARMS[(r + i) % 3]}"; done
done

ms() { awk '{printf "%.0f", $1 / 1000}'; }
med() { tr ' ' '\n' | median; }
echo "boot: initshim's start -> execve of systemd (boot-exec-us), microseconds:"
echo "  PID namespace, fake systemd, guard = yes: $(printf '%s\n' "${ns_yes[@]}" | stats)"
echo "  PID namespace, fake systemd, guard = no:  $(printf '%s\n' "${ns_no[@]}" | stats)"
echo "  VM (TCG), real systemd 252, guard = yes:  $(printf '%s\n' "${exec_vm[@]}" | stats)"
echo "  VM (TCG), real systemd 252, guard = no:   $(printf '%s\n' "${exec_vm_ng[@]}" | stats)"
echo "boot: VM (TCG, same image and initramfs), $ROUNDS boots each arm, rotating; medians in ms, ratios to plain:"
printf '  %-34s %9s %9s %9s %7s %7s\n' "" initshim "no guard" plain ratio "ratio"
printf '  %-34s %9s %9s %9s %7s %7s\n' "" "" "" "" initshim "no guard"
row() { # label array
	local -n a=$2
	local x y z
	x=$(echo "${a[initshim]:-}" | med)
	y=$(echo "${a[noguard]:-}" | med)
	z=$(echo "${a[plain]:-}" | med)
	printf '  %-34s %9s %9s %9s %7s %7s\n' "$1" "$(echo "$x" | ms)" "$(echo "$y" | ms)" "$(echo "$z" | ms)" \
		"$(ratio "$x" "$z")" "$(ratio "$y" "$z")"
}
row "kernel: start -> run init" RUN
row "multi-user.target since kernel" MU
row "multi-user.target since init" US
row "systemd's own start since init" SD
row "boot finished since init" FIN
# The kernel's part is the same work in every arm: its ratio above is the
# noise of this run. Two ways to take the machine's speed of the moment out:
# ratios within each round (three boots in a row), and each boot's userspace
# time over its own kernel time (both mostly CPU-bound under TCG).
paired() { # array arm: median over rounds of arm/plain
	local -n a=$1
	paste <(echo "${a[$2]:-}" | tr ' ' '\n' | grep .) <(echo "${a[plain]:-}" | tr ' ' '\n' | grep .) |
		awk 'NF == 2 && $2 > 0 {print $1 / $2}' | median
}
normed() { # arm: median of multi-user.target since init / kernel part, per boot
	paste <(echo "${US[$1]:-}" | tr ' ' '\n' | grep .) <(echo "${RUN[$1]:-}" | tr ' ' '\n' | grep .) |
		awk 'NF == 2 && $2 > 0 {print $1 / $2}' | median
}
r2() { awk -v x="$1" 'BEGIN {if (x == "-" || x == "") print "-"; else printf "%.2f", x}'; }
printf '  %-34s %9s %9s %9s %7s %7s\n' "multi-user.target since init:" "" "" "" "" ""
printf '  %-34s %9s %9s %9s %7s %7s\n' "  median of ratios within a round" "" "" "" \
	"$(r2 "$(paired US initshim)")" "$(r2 "$(paired US noguard)")"
printf '  %-34s %9s %9s %9s %7s %7s\n' "  over the boot's own kernel time" "$(r2 "$(normed initshim)")" \
	"$(r2 "$(normed noguard)")" "$(r2 "$(normed plain)")" "$(ratio "$(normed initshim)" "$(normed plain)")" \
	"$(ratio "$(normed noguard)" "$(normed plain)")"
printf '  %-34s %9s %9s %9s %7s %7s\n' "systemd's own start since init," "" "" "" "" ""
printf '  %-34s %9s %9s %9s %7s %7s\n' "  median of ratios within a round" "" "" "" \
	"$(r2 "$(paired SD initshim)")" "$(r2 "$(paired SD noguard)")"
echo "  guard's ptrace stops during the boot: [${STOPS}]"
per_boot() { local v; for v in ${US[$1]:-}; do printf '%s ' "$((v / 1000))"; done; }
echo "  per boot, multi-user.target since init (ms): initshim [$(per_boot initshim)] no guard [$(per_boot noguard)] plain [$(per_boot plain)]"
per_boot() { local v; for v in ${RUN[$1]:-}; do printf '%s ' "$((v / 1000))"; done; }
echo "  per boot, kernel part (ms): initshim [$(per_boot initshim)] no guard [$(per_boot noguard)] plain [$(per_boot plain)]"
echo "  guests failed: $failed; other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
