#!/bin/bash
# Issue 18: services restarted by a crash recovery, on-failure = adopt
# against on-failure = restart, real systemd in the VM (TCG): 252 (the
# bookworm image), or 257 with ADOPT_IMAGE=trixie (the e2e suite image,
# tests/e2e/host/suites.sh).
#
# One guest (tests/bench/guest/adopt.sh): ten long-running services of the
# kinds adopt is meant to cover (simple, exec, several processes, notify
# with and without WatchdogSec=, forking with and without PIDFile=,
# Restart=always, PrivateTmp=, User=), a oneshot with RemainAfterExit=
# (to be adopted as exited) and a socket unit whose service is not started
# (to be adopted listening, on the same socket: its inode is compared), the
# image's own services. PID 1 crashes (kill -SEGV 1) ADOPT_CYCLES times under
# on-failure = adopt; after each, once systemd is healthy again, every
# service is compared with its state before the crash: main PID changed,
# "Started" lines added to the journal, NRestarts added, no longer running.
# Then the operator's step after an adoption, `systemctl start
# default.target` (it starts what was not adopted), and the same comparison.
# After the cycles `systemctl daemon-reexec` (must succeed, every PID kept),
# then one crash under on-failure = restart, the anchor: it restarts every
# service. Between the cycles and the re-exec, journald once at least 5
# minutes of guest time have passed since the first adoption: same PID as
# before the first crash, WatchdogUSec not 0, a logger line in journalctl,
# its "Failed to send WATCHDOG=1" lines in the kernel log. Each recovery is
# split with the console's kernel timestamps: crash -> rescue mode -> the
# left-overs' stop -> the new systemd runs.
#
# ADOPT_CYCLES=20 by default (10-13 s a cycle under TCG; with the boot,
# the journald wait, the re-exec and the restart 6-7 minutes).
# ADOPT_POLICY=restart (or hold) runs the cycles under that policy instead:
# to see the bench say that a cycle failed. Figures, not
# assertions, but a failed cycle is said. The console log is kept in
# results/bench/bench-adopt.console.log.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
CYCLES=${ADOPT_CYCLES:-20}
IMAGE=${ADOPT_IMAGE:-}
# shellcheck source=lib-vm.sh
. tests/bench/lib-vm.sh
bench_machine
vm_setup
if [ -n "$IMAGE" ]; then
	# The suite's image (built only if missing or stale), under the
	# image lock (fd 9, vm_setup's) held shared.
	flock -s 9
	suite_ensure "$IMAGE"
	flock -u 9
fi

name=bench-adopt
ok=yes
bench_guest adopt "$name" "cmdline: bench.cycles=$CYCLES" "timeout: $((900 + CYCLES * 120))" \
	${IMAGE:+"image: $IMAGE"} ${ADOPT_POLICY:+"config: on-failure = $ADOPT_POLICY"} || ok=no
L=$BENCH_LOG
# The console log, pass or fail: the units' names and rescue mode's lines.
cp "$L" "$E2E_RESULTS/$name.console.log" 2>/dev/null

# field KEY N: the Nth colon-separated field of every KEY value.
field() { bench_values "$L" "$1" | cut -d: -f"$2"; }
# mm KEY N: "median M, max X" of that field.
mm() {
	local v
	v=$(field "$1" "$2")
	[ -n "$v" ] || { echo "-"; return; }
	printf 'median %s, max %s' "$(median <<<"$v")" "$(sort -g <<<"$v" | tail -n1)"
}
# sec KEY: "median M s, max X s" of a value in ms.
sec() {
	local v
	v=$(bench_values "$L" "$1" | awk '{printf "%.1f\n", $1 / 1000}')
	[ -n "$v" ] || { echo "-"; return; }
	printf 'median %s s, max %s s' "$(median <<<"$v")" "$(sort -g <<<"$v" | tail -n1)"
}
# once KEY N: the field of the single KEY line ("-" if absent).
once() { local v; v=$(field "$1" "$2" | tail -n1); echo "${v:--}"; }
# of KEY N: "A of TOTAL" from one KEY line.
of() { echo "$(once "$1" "$2") of $(once "$1" 6)"; }

# Phases of each recovery from the console's kernel timestamps: "KIND
# crash->rescue rescue->stop stop->exec crash->exec" (ms); KIND adopt or
# restart. The exec: the new systemd's "running in system mode" line (a
# fresh 257 puts terminal resets before it on the console: removed first).
phases() {
	tr -d '\r' <"$L" | sed -E 's/\x1b\[[0-9;?!]*[A-Za-z]//g; s/\x1b\][^\x07\x1b]*(\x07|\x1b\\)//g' | awk '
	match($0, /^\[ *[0-9]+\.[0-9]+\]/) { ts = substr($0, 2, RLENGTH - 2) + 0 }
	RSTART != 1 { next }
	/BENCH crash=/ { k = ($0 ~ /crash=restart/) ? "restart" : "adopt"; tc = ts; tr = ""; tst = ""; next }
	tc == "" { next }
	/rescue mode: / && tr == "" { tr = ts }
	/stopping [0-9]+ left-over processes/ && tst == "" { tst = ts }
	/running in system mode/ {
		if (tr == "") tr = tc
		if (tst == "") tst = tr
		printf "%s %d %d %d %d\n", k, (tr - tc) * 1000, (tst - tr) * 1000, (ts - tst) * 1000, (ts - tc) * 1000
		tc = ""
	}'
}
# phase KIND COLUMN: median and max of that column, in s.
phase() {
	local v
	v=$(phases | awk -v k="$1" -v c="$2" '$1 == k {printf "%.1f\n", $c / 1000}')
	[ -n "$v" ] || { echo "-"; return; }
	if [ "$1" = restart ]; then echo "$v s"; else printf 'median %s s, max %s s' "$(median <<<"$v")" "$(sort -g <<<"$v" | tail -n1)"; fi
}

done_n=$(bench_values "$L" cycle_done | tail -n1)
failed=$(bench_values "$L" cycle_failed | tail -n1)
n_ad=$(once adopt_adoptable 6)
[ "$n_ad" = - ] && n_ad=$(once restart_adoptable 6)

ver=$(bench_values "$L" systemd_version | tail -n1)
echo "adopt: real systemd ${ver:-?} (${IMAGE:-bookworm} image), VM (TCG); $CYCLES crashes (kill -SEGV 1) under on-failure = ${ADOPT_POLICY:-adopt}, then systemctl daemon-reexec, then 1 crash under on-failure = restart"
echo "  units followed: $(bench_values "$L" services_running | tail -n1) (10 long-running bench services, a oneshot RemainAfterExit= and a socket unit, all meant to be adopted, the image's running services)"
if [ -n "$failed" ] || [ "$ok" = no ]; then
	echo "  cycles: ${done_n:-0} of $CYCLES completed; FAILED${failed:+ in cycle $failed} (console log: ${E2E_RESULTS#"$E2E_REPO"/}/$name.log)"
else
	echo "  cycles: ${done_n:-0} of $CYCLES completed, every one adopted (no fallback to restart)"
fi
printf '  %-44s %-26s %-16s %s\n' "per recovery (s: seconds)" "adopt (${done_n:-0} crashes)" "restart (1)" anchor
row() { printf '  %-44s %-26s %-16s %s\n' "$@"; }
row "bench services restarted (main PID changed)" "$(mm adopt_adoptable 1) of $n_ad" "$(of restart_adoptable 1)" "goal 0 / restart: all"
row "  their \"Started\" lines added" "$(mm adopt_adoptable 2)" "$(once restart_adoptable 2)" "goal 0"
row "  their NRestarts added" "$(mm adopt_adoptable 3)" "$(once restart_adoptable 3)" "goal 0"
row "  no longer running" "$(mm adopt_adoptable 4)" "$(once restart_adoptable 4)" "goal 0"
row "bench oneshot + socket unit: \"Started\" added" "$(mm adopt_others 2) of $(field adopt_others 6 | head -n1)" "$(once restart_others 2)" "goal 0 / restart: 2"
row "  no longer active" "$(mm adopt_others 4)" "$(once restart_others 4)" "goal 0"
row "all $(field adopt_all 6 | head -n1) units followed: PID changed" "$(mm adopt_all 1) of $(field adopt_all 6 | head -n1)" "$(of restart_all 1)" "restart: all"
row "  \"Started\" lines added" "$(mm adopt_all 2)" "$(once restart_all 2)" ""
row "  no longer running" "$(mm adopt_all 4)" "$(once restart_all 4)" ""
row "then systemctl start default.target:" "" "" ""
row "  services restarted (PID changed)" "$(mm operator_all 1) of $(field operator_all 6 | head -n1)" "(not needed)" ""
row "  their \"Started\" lines added" "$(mm operator_all 2)" "" ""
row "  no longer running" "$(mm operator_all 4)" "" ""
row "  its time (s)" "$(sec operator_ms)" "" ""
row "services adopted (rescue mode's count)" "$(bench_values "$L" adopt_adopted | median)" "-" ""
row "crash -> systemd's \"Startup finished\" (s)" "$(sec adopt_finish_ms)" "$(sec restart_finish_ms | sed 's/median \(.*\) s, max.*/\1 s/')" ""
row "crash -> new systemd answers (s)" "$(sec adopt_answer_ms)" "-" ""
row "crash -> healthy (s)" "$(sec adopt_healthy_ms)" "$(sec restart_healthy_ms | sed 's/median \(.*\) s, max.*/\1 s/')" ""
row "  crash -> rescue mode running" "$(phase adopt 2)" "$(phase restart 2)" ""
row "  rescue mode -> the left-overs' stop" "$(phase adopt 3)" "$(phase restart 3)" ""
row "  stop -> new systemd executing" "$(phase adopt 4)" "$(phase restart 4)" ""
row "  crash -> new systemd executing" "$(phase adopt 5)" "$(phase restart 5)" ""
echo "  restart: crash -> multi-user.target active again: $(sec restart_multiuser_ms | sed 's/median \(.*\) s, max.*/\1 s/')" \
	"(healthy: this bench's own check, run by the scenario after multi-user.target)"
# Which units, when any restarted or stopped running.
names=$(bench_values "$L" adopt_all | awk -F: '$7 != "-" || $8 != "-" {print "restarted " $7 ", no longer running " $8}' |
	sort | uniq -c | awk '{n = $1; sub(/^ *[0-9]+ /, ""); print "    in " n " cycles: " $0}')
[ -n "$names" ] && printf '  units not kept by the adoption:\n%s\n' "$names"
# The oneshot and the socket unit, by state: how many of the recoveries
# KIND left each as adopt should (the oneshot active/exited, the socket
# active/listening on the socket of the first boot).
others_row() {
	local k=$1 n o s
	n=$(bench_values "$L" "${k}_oneshot" | wc -l)
	[ "$n" -gt 0 ] || { echo "-"; return; }
	o=$(bench_values "$L" "${k}_oneshot" | grep -c -x 'active/exited')
	s=$(bench_values "$L" "${k}_socket" | grep -c -x 'active/listening:same')
	printf 'oneshot active/exited %d of %d, socket listening on its first socket %d of %d' "$o" "$n" "$s" "$n"
	# What the others were.
	bench_values "$L" "${k}_oneshot" | grep -v -x 'active/exited' | sort | uniq -c | awk '{printf "; oneshot %s in %d", $2, $1}'
	bench_values "$L" "${k}_socket" | grep -v -x 'active/listening:same' | sort | uniq -c | awk '{printf "; socket %s in %d", $2, $1}'
	echo
}
echo "  bench oneshot (RemainAfterExit=) and socket unit after the adoption: $(others_row adopt)"
echo "    after systemctl start default.target: $(others_row operator); after the re-exec: $(others_row reexec)"
echo "    after the restart (anchor: the socket bound anew, \"new\"): oneshot $(bench_values "$L" restart_oneshot | tail -n1), socket $(bench_values "$L" restart_socket | tail -n1)"
# journal_row KEY: how many recoveries left the journal taking lines
# through its stdout socket and its syslog socket.
journal_row() {
	bench_values "$L" "$1" | awk -F, '{n++; s += ($1 == "stream:1"); d += ($2 == "devlog:1")}
		END {if (!n) print "-"; else printf "stdout stream %d of %d, /dev/log %d of %d\n", s, n, d, n}'
}
echo "  the journal takes a line (systemd-cat, logger) after the adoption: $(journal_row journal_adopt);" \
	"after systemctl start default.target: $(journal_row journal_operator); after the restart: $(journal_row journal_restart)"
case $(bench_values "$L" reexec | tail -n1) in
ok) echo "  daemon-reexec after the cycles: succeeded, healthy after $(sec reexec_healthy_ms | sed 's/median \(.*\) s, max.*/\1 s/');" \
	"services whose PID changed: $(of reexec_all 1), no longer running: $(once reexec_all 4)" ;;
failed) echo "  daemon-reexec after the cycles: FAILED" ;;
*) echo "  daemon-reexec after the cycles: not reached" ;;
esac
[ -n "$(bench_values "$L" series_adoptable)" ] &&
	echo "  first boot -> after the re-exec: bench services kept (same PID, no Started, no restart): $(once series_adoptable 5) of $(once series_adoptable 6);" \
		"all units: $(once series_all 5) of $(once series_all 6)"
# journald's notify socket (docs/recovery.md "Adopt", step 4): its failed
# pings, as it logs them to the kernel log (the console).
echo "  journald's failed notifications on the console (\"Failed to send WATCHDOG=1\", \"... stream file descriptor\"):" \
	"$(tr -d '\r' <"$L" | grep -a -c 'Failed to send WATCHDOG=1 notification message'), $(tr -d '\r' <"$L" | grep -a -c 'Failed to send stream file descriptor to service manager');" \
	"rescue mode's \"connected systemd-journald.service's ... notify socket\": $(tr -d '\r' <"$L" | grep -a -c "on-failure=adopt: connected systemd-journald.service's") of ${done_n:-0}"
# journald once 5 minutes of guest time had passed since the first adoption.
jafter=$(bench_values "$L" journald_after_s | tail -n1)
if [ -z "$jafter" ]; then
	echo "  journald after the cycles: not reached"
else
	jpid=$(bench_values "$L" journald_pid | tail -n1)
	jwd=$(bench_values "$L" journald_watchdog | tail -n1)
	jlog=$(bench_values "$L" journald_logger_ms | tail -n1)
	jfail=$(bench_values "$L" journald_watchdog_fails | tail -n1)
	echo "  journald ${jafter%%:*} s after the first adoption (${jafter#*:} s after the last; goal at least 300 s):"
	# BEFORE:MAINPID:PROCESS
	IFS=: read -r p0 pm pp <<<"$jpid"
	if [ "$p0" = "$pm" ] && [ "$p0" = "$pp" ]; then
		echo "    PID $p0 unchanged since before the first crash"
	else
		echo "    PID CHANGED: $p0 before the first crash, systemd's MainPID now $pm, journald's process now $pp"
	fi
	case $jwd in
	0 | "") echo "    WatchdogUSec: ${jwd:-?} (FAILED: the watchdog is off)" ;;
	*) echo "    WatchdogUSec: $jwd (not 0)" ;;
	esac
	if [ "$jlog" = - ]; then
		echo "    a logger line in journalctl: NOT within 10 s (FAILED)"
	else
		echo "    a logger line in journalctl after $jlog ms (deadline 10 s)"
	fi
	echo "    journald's \"Failed to send WATCHDOG=1\" lines in the kernel log (dmesg): ${jfail%%:*}" \
		"$([ "${jfail#*:}" = yes ] && echo "(since the boot)" || echo "(AT LEAST: the kernel log's buffer no longer holds the first crash)")"
fi
echo "  other QEMU guests seen running beside ours: up to $BENCH_QEMU_OTHERS"
[ "$ok" = yes ]
