#!/bin/bash
# e2e-description: bench: the image's real systemd (252, or 257 with e2e-image: trixie) with a set of services crashes (SIGSEGV) bench.cycles times under on-failure = adopt; journald checked at least 5 minutes after the first adoption; then systemctl daemon-reexec; then one crash under on-failure = restart, for comparison
# e2e-bed: qemu
# e2e-timeout: 2400
# e2e-config: on-failure = adopt
# e2e-config: restart-limit = 1000
# e2e-config: stop-timeout = 5s
# e2e-config: liveness-interval = 0
# Guest side of tests/bench/adopt.sh (issue 18). Three phases of one boot:
#
# 1. systemd phase (initshim-e2e.service, first boot): writes the bench's
#    services, enabled in multi-user.target (so that a fresh systemd starts
#    them again), starts them and the driver, and holds.
# 2. driver phase: bench-adopt-driver.service, itself an adopted service,
#    crashes PID 1 (kill -SEGV 1) bench.cycles times. After each crash it
#    polls, with a deadline, until the adopting systemd is healthy (PID 1 is
#    systemd again, answers on its private socket, says running or degraded,
#    initshimctl status says normal with the guard running), then compares
#    every service with its state before the crash: main PID changed,
#    "Started" lines added to the journal, NRestarts added, no longer
#    active; and whether the journal still takes messages. Then the
#    operator's step (docs/recovery.md "Adopt"): `systemctl start
#    default.target` starts what was not adopted; the same comparison again.
#    After the cycles, journald (docs/recovery.md "Adopt", step 4): once at
#    least 5 minutes of guest time have passed since the first adoption
#    (polling its PID meanwhile), its PID against the one before the first
#    crash, its WatchdogUSec, a `logger` line's way to `journalctl`, its
#    "Failed to send WATCHDOG=1" lines in the kernel log.
#    Then `systemctl daemon-reexec`, the same comparison. Then it
#    switches /etc/initshim.conf
#    to on-failure = restart (rescue mode reads it at each takeover) and
#    crashes PID 1 once more.
# 3. systemd phase again (the fresh systemd starts multi-user.target, hence
#    initshim-e2e.service): the same comparison for the restart, the verdict.
#
# Figures are "BENCH key=value" lines (kernel log); a failed cycle is a
# BENCH cycle_failed= line and the scenario's FAIL verdict. No timing
# assertion.
# shellcheck source=../../e2e/lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
S=$E2E_STATE/bench-adopt
CYCLES=$(e2e_cmdline_value bench.cycles)
CYCLES=${CYCLES:-20}
DEADLINE=${BENCH_HEALTH_DEADLINE:-300} # seconds per recovery
DRIVER=bench-adopt-driver.service
# The bench's own units: long-running services of the kinds adopt is meant
# to cover, and two that are not running services (docs/recovery.md
# "Adopt"): a RemainAfterExit= oneshot, adopted as exited, and a socket unit
# (its service not started), adopted listening on the crashed PID 1's socket.
ADOPTABLE="bench-simple.service bench-exec.service bench-multi.service bench-notify-wd.service
bench-notify.service bench-forking.service bench-forking-guess.service bench-always.service
bench-privatetmp.service bench-user.service"
OTHERS="bench-oneshot.service bench-socket.socket"
SOCK=/run/bench-adopt.sock
# journald checked this long after the first adoption (guest clock).
JOURNALD_AFTER_S=${BENCH_JOURNALD_AFTER:-300}

# CLOCK_MONOTONIC in microseconds, 10 ms steps (systemd's timestamps' clock).
us() { local t; read -r t _ </proc/uptime; echo $((${t/./} * 10000)); }

# --- the units -----------------------------------------------------------------

write_units() {
	local d=/etc/systemd/system
	unit() { # NAME [Service] lines...
		local n=$1
		shift
		{
			printf '[Unit]\nDescription=adopt bench %s\n[Service]\n' "$n"
			printf '%s\n' "$@"
			printf '[Install]\nWantedBy=multi-user.target\n'
		} >"$d/$n"
		ln -sf "../$n" "$d/multi-user.target.wants/$n"
	}
	mkdir -p "$d/multi-user.target.wants" "$d/sockets.target.wants"
	unit bench-simple.service ExecStart="/bin/sleep 1000000"
	unit bench-exec.service Type=exec ExecStart="/bin/sleep 1000000"
	unit bench-multi.service ExecStart="/bin/bash -c 'sleep 1000000 & sleep 1000000 & wait'"
	unit bench-notify-wd.service Type=notify NotifyAccess=all WatchdogSec=6s Restart=on-failure \
		ExecStart="/bin/bash -c 'systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 1; done'"
	unit bench-notify.service Type=notify NotifyAccess=all \
		ExecStart="/bin/bash -c 'systemd-notify --ready; exec sleep 1000000'"
	unit bench-forking.service Type=forking PIDFile=/run/bench-forking.pid \
		ExecStart="/bin/bash -c 'sleep 1000000 & echo \$! >/run/bench-forking.pid'"
	unit bench-forking-guess.service Type=forking ExecStart="/bin/bash -c 'sleep 1000000 &'"
	unit bench-always.service Restart=always ExecStart="/bin/sleep 1000000"
	unit bench-privatetmp.service PrivateTmp=yes ExecStart="/bin/bash -c 'echo x >/tmp/mine; exec sleep 1000000'"
	unit bench-user.service User=nobody ExecStart="/bin/sleep 1000000"
	unit bench-oneshot.service Type=oneshot RemainAfterExit=yes ExecStart=/bin/true
	printf '[Service]\nExecStart=/bin/sleep 1000000\n' >"$d/bench-socket.service"
	printf '[Socket]\nListenStream=%s\n[Install]\nWantedBy=sockets.target\n' "$SOCK" >"$d/bench-socket.socket"
	ln -sf ../bench-socket.socket "$d/sockets.target.wants/bench-socket.socket"
	# The driver: not enabled (the restart at the end ends it for good).
	cat >"$d/$DRIVER" <<-UNIT
	[Unit]
	Description=adopt bench driver
	[Service]
	Type=exec
	Environment=E2E_NAME=$E2E_NAME E2E_PHASE=driver
	ExecStart=/bin/bash /usr/lib/initshim-e2e/scenarios/$E2E_NAME.sh
	StandardInput=null
	StandardOutput=null
	StandardError=null
	UNIT
}

# --- snapshots and comparisons -----------------------------------------------------

# snap FILE: "unit mainpid activestate nrestarts started-lines" for every unit
# of $S/units (fixed at the start: the running services and the bench's units).
snap() {
	local out=$1 tmp
	tmp=$(mktemp)
	# PID 1's "Started UNIT - Description." ("Finished" for a oneshot,
	# "Listening on" for a socket; the same text on 252 and 257), by its
	# text: while PID 1 does not think the journal runs it logs to the
	# kernel log, and journald imports those lines without UNIT= or
	# MESSAGE_ID= (seen after adoptions before socket units were adopted).
	journalctl -b -o cat SYSLOG_IDENTIFIER=systemd 2>/dev/null |
		sed -n -E 's/^(Started|Finished|Listening on) ([^ ]+\.(service|socket))( - .*)?\.$/\2/p' | sort | uniq -c >"$tmp"
	# shellcheck disable=SC2046 # the unit list
	timeout 60 systemctl show -p Id,MainPID,ActiveState,NRestarts $(cat "$S/units") 2>/dev/null |
		awk -v started="$tmp" '
		BEGIN { while ((getline l < started) > 0) { split(l, w, " "); n[w[2]] = w[1] }; RS = ""; FS = "\n" }
		{
			delete a
			for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); a[k] = v }
			if (a["Id"] == "") next
			printf "%s %s %s %s %d\n", a["Id"], (a["MainPID"] == "" ? "-" : a["MainPID"]), a["ActiveState"],
				(a["NRestarts"] == "" ? 0 : a["NRestarts"]), n[a["Id"]] + 0
		}' >"$out"
	rm -f "$tmp"
	[ "$(wc -l <"$out")" -eq "$(wc -w <"$S/units")" ]
}

# compare BEFORE AFTER UNITS...: prints "pid_changed started_added nrestarts_added
# lost kept total names-of-restarted names-of-lost" over the UNITS that were
# active in BEFORE. nrestarts: adopt loses the counter (it starts at 0 again),
# so a decrease counts as the new value.
compare() {
	local before=$1 after=$2
	shift 2
	awk -v list="$*" '
	BEGIN { nl = split(list, l, " "); for (i = 1; i <= nl; i++) want[l[i]] = 1 }
	FNR == NR { pid[$1] = $2; st[$1] = $3; nr[$1] = $4; sl[$1] = $5; next }
	($1 in want) && st[$1] == "active" {
		total++
		d = ($4 >= nr[$1]) ? $4 - nr[$1] : $4
		nra += d; sla += $5 - sl[$1]
		if ($3 != "active") { lost++; ln = ln (ln ? "," : "") $1; next }
		if ($2 != pid[$1]) { pc++; rn = rn (rn ? "," : "") $1; next }
		if ($5 > sl[$1] || d > 0) { rn = rn (rn ? "," : "") $1; next }
		kept++
	}
	END { printf "%d %d %d %d %d %d %s %s\n", pc, sla, nra, lost, kept, total, (rn ? rn : "-"), (ln ? ln : "-") }
	' "$before" "$after"
}

# report KIND BEFORE AFTER: BENCH lines of the comparison for the bench's
# long-running services, its oneshot and socket unit, and every unit.
report() {
	local kind=$1 before=$2 after=$3 set units c
	for set in adoptable others all; do
		case $set in
		adoptable) units=$ADOPTABLE ;;
		others) units=$OTHERS ;;
		all) units=$(grep -v -x -F "$DRIVER" "$S/units" | tr '\n' ' ') ;;
		esac
		c=$(compare "$before" "$after" "$units")
		# pid_changed:started_added:nrestarts_added:lost:kept:total:restarted-names:lost-names
		e2e_announce "BENCH ${kind}_${set}=${c// /:}"
	done
}

# sock_inode: the inode of the listening socket bound at $SOCK, "-" if none
# (/proc/net/unix: flags 00010000 is a listening socket).
sock_inode() {
	awk -v p="$SOCK" '$NF == p && $4 == "00010000" {i = $7} END {print (i ? i : "-")}' /proc/net/unix
}

# others_state KIND: BENCH lines of the oneshot's and the socket unit's
# state: "ACTIVE/SUB" of each, and for the socket whether a listening
# socket is bound at its path: "same" (the one of the first boot: kept),
# "new" (bound again) or "none".
others_state() {
	local i s
	i=$(sock_inode)
	if [ "$i" = - ]; then s=none; elif [ "$i" = "$(cat "$S/sock-inode")" ]; then s=same; else s=new; fi
	e2e_announce "BENCH ${1}_oneshot=$(systemctl show -p ActiveState --value bench-oneshot.service)/$(systemctl show -p SubState --value bench-oneshot.service)"
	e2e_announce "BENCH ${1}_socket=$(systemctl show -p ActiveState --value bench-socket.socket)/$(systemctl show -p SubState --value bench-socket.socket):$s"
}

# journal_takes TAG: "stream:X devlog:Y", X and Y 1 when a line sent through
# journald's stdout socket (systemd-cat) and its syslog socket (logger)
# reaches the journal within 10 s, else 0.
journal_takes() {
	local tag=$1 end=$((SECONDS + 10)) s=0 d=0
	echo "$tag-stream" | systemd-cat -t bench-adopt-probe 2>/dev/null
	logger -t bench-adopt-probe "$tag-devlog" 2>/dev/null
	while :; do
		journalctl -b -o cat -t bench-adopt-probe 2>/dev/null >"$S/probe"
		grep -q -x "$tag-stream" "$S/probe" && s=1
		grep -q -x "$tag-devlog" "$S/probe" && d=1
		[ "$s$d" = 11 ] || [ $SECONDS -ge $end ] && break
		sleep 0.5
	done
	echo "stream:$s devlog:$d"
}

# --- health ----------------------------------------------------------------------

# The adopting (or restarted) systemd is healthy: PID 1 is systemd, answers,
# has finished starting up, and initshim is in normal mode with its guard.
answers() {
	[ "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd ] || return 1
	local v
	# A short timeout: a call made just after the exec can go unanswered
	# (seen: for the whole 10 s of an earlier timeout); the next one answers.
	v=$(timeout 2 systemctl show -p Version --value 2>/dev/null) && [ -n "$v" ]
}
healthy() {
	local st
	answers || return 1
	case $(timeout 10 systemctl is-system-running 2>/dev/null) in running | degraded) ;; *) return 1 ;; esac
	st=$(timeout 10 initshimctl status 2>/dev/null) || return 1
	grep -q '^mode: normal' <<<"$st" && grep -q '^guard: running' <<<"$st"
}

# wait_recovered T0 [any]: polls (0.1 s) until rescue mode has decided
# (/run/initshim/adopt written again; not with "any": a re-exec, or
# on-failure = restart, does not write it) and systemd is
# healthy, with a deadline. Sets ANSWER_MS, HEALTHY_MS (since T0); returns
# non-zero at the deadline, with WHY.
wait_recovered() {
	local t0=$1 end=$((SECONDS + DEADLINE))
	ANSWER_MS='' HEALTHY_MS='' WHY=''
	until { [ -n "${2:-}" ] || [ -e /run/initshim/adopt ]; } && [ "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd ]; do
		[ $SECONDS -lt $end ] || { WHY="PID 1 is $(readlink /proc/1/exe), no adopt outcome after ${DEADLINE}s"; return 1; }
		sleep 0.1
	done
	until answers; do
		[ $SECONDS -lt $end ] || { WHY="systemd does not answer after ${DEADLINE}s"; return 1; }
		sleep 0.1
	done
	ANSWER_MS=$((($(us) - t0) / 1000))
	until healthy; do
		[ $SECONDS -lt $end ] || {
			WHY="not healthy after ${DEADLINE}s: system $(timeout 10 systemctl is-system-running 2>&1), initshim $(e2e_status_field mode), guard $(e2e_status_field guard)"
			return 1
		}
		sleep 0.1
	done
	HEALTHY_MS=$((($(us) - t0) / 1000))
}

# finish_ms KIND T0: the manager's own "Startup finished" stamp
# (FinishTimestampMonotonic), from T0, independent of the polling.
finish_ms() {
	local f
	f=$(systemctl show -p FinishTimestampMonotonic --value 2>/dev/null)
	[ -n "$f" ] && [ "$f" -gt "$2" ] && e2e_announce "BENCH ${1}_finish_ms=$(((f - $2) / 1000))"
}

# journald_check T_FIRST T_LAST: journald after the cycles, T_FIRST and
# T_LAST the first and the last adoption's time (us, the adopting systemd
# healthy). Polls journald (5 s) until JOURNALD_AFTER_S seconds of guest time
# have passed since T_FIRST, or sooner if its process changed; then BENCH
# lines: the time waited, journald's PID (before the first crash, systemd's
# MainPID now, the process now), its WatchdogUSec, a `logger` line's time to
# `journalctl` (10 s deadline), and its "Failed to send WATCHDOG=1" lines in
# the kernel log (and whether the log still reaches back to the first crash).
journald_check() {
	local t1=$1 tl=$2 pid0 mp pp t end ms=- n whole=no
	pid0=$(cat "$S/journald-pid")
	while :; do
		mp=$(systemctl show -p MainPID --value systemd-journald.service 2>/dev/null)
		pp=$(pgrep -x systemd-journal | tr '\n' ',' | sed 's/,$//')
		if [ "$mp" != "$pid0" ] || [ "$pp" != "$pid0" ]; then break; fi
		[ $((($(us) - t1) / 1000000)) -lt "$JOURNALD_AFTER_S" ] || break
		sleep 5
	done
	t=$(us)
	e2e_log "journald after the cycles: $(((t - t1) / 1000000)) s after the first adoption, $(((t - tl) / 1000000)) s after the last"
	e2e_announce "BENCH journald_after_s=$(((t - t1) / 1000000)):$(((t - tl) / 1000000))"
	e2e_announce "BENCH journald_pid=$pid0:${mp:--}:${pp:--}"
	t=$(systemctl show -p WatchdogUSec --value systemd-journald.service 2>/dev/null)
	e2e_announce "BENCH journald_watchdog=${t// /_}"
	t=$(us)
	logger -t bench-adopt-probe "journald-check-$t" 2>/dev/null
	end=$((SECONDS + 10))
	until journalctl -b -o cat -t bench-adopt-probe 2>/dev/null | grep -q -x "journald-check-$t"; do
		[ $SECONDS -lt $end ] || break
		sleep 0.2
	done
	journalctl -b -o cat -t bench-adopt-probe 2>/dev/null | grep -q -x "journald-check-$t" && ms=$((($(us) - t) / 1000))
	e2e_announce "BENCH journald_logger_ms=$ms"
	n=$(dmesg | grep -a -c 'Failed to send WATCHDOG=1 notification message')
	dmesg | grep -a -q 'BENCH crash=1$' && whole=yes
	e2e_announce "BENCH journald_watchdog_fails=$n:$whole"
}

# A cycle failed: say so clearly, with what rescue mode said, and end.
cycle_failed() {
	e2e_announce "BENCH cycle_failed=$1"
	e2e_log "adopt outcome: $(cat /run/initshim/adopt 2>/dev/null)"
	e2e_log "initshimctl status: $(initshimctl status 2>&1 | tr '\n' ';')"
	e2e_fail "cycle $1: $2"
}

# --- the phases ------------------------------------------------------------------------

driver() {
	local c t0 outcome n out j t_first='' t_last=''
	exec > >(sed -u "s/^/[$E2E_NAME driver] /" >"$(e2e_console_dev)") 2>&1
	trap 'driver_exit' EXIT
	for ((c = 1; c <= CYCLES; c++)); do
		snap "$S/before" || cycle_failed "$c" "cannot read the units' state before the crash"
		rm -f /core* /run/initshim/adopt
		echo "$c" >"$S/cycle"
		e2e_log "cycle $c of $CYCLES: SIGSEGV to PID 1"
		e2e_announce "BENCH crash=$c"
		t0=$(us)
		kill -SEGV 1
		wait_recovered "$t0" || cycle_failed "$c" "$WHY"
		t_last=$(us)
		t_first=${t_first:-$t_last}
		outcome=$(cat /run/initshim/adopt)
		n=$(sed -n 's/^adopting \([0-9]*\) running services.*/\1/p' /run/initshim/adopt)
		[ -n "$n" ] || cycle_failed "$c" "rescue mode did not adopt: $outcome"
		snap "$S/after" || cycle_failed "$c" "cannot read the units' state after the crash"
		e2e_log "cycle $c: $outcome; answers after ${ANSWER_MS} ms, healthy after ${HEALTHY_MS} ms"
		e2e_announce "BENCH adopt_answer_ms=$ANSWER_MS"
		e2e_announce "BENCH adopt_healthy_ms=$HEALTHY_MS"
		e2e_announce "BENCH adopt_adopted=$n"
		finish_ms adopt "$t0"
		report adopt "$S/before" "$S/after"
		others_state adopt
		j=$(journal_takes "c$c-adopt")
		e2e_log "cycle $c: the journal takes messages after the adoption: $j"
		e2e_announce "BENCH journal_adopt=${j// /,}"
		# Why rescue mode left units out (its discovery's text).
		[ "$c" -eq 1 ] && sed -n 's/^skip /discovery left out: /p' /run/initshim/adopt.units
		# The operator's step: what was not adopted starts again.
		t0=$(us)
		out=$(timeout 300 systemctl start default.target 2>&1) || e2e_log "systemctl start default.target: $out"
		e2e_announce "BENCH operator_ms=$((($(us) - t0) / 1000))"
		snap "$S/after-op" || cycle_failed "$c" "cannot read the units' state after systemctl start default.target"
		report operator "$S/before" "$S/after-op"
		others_state operator
		j=$(journal_takes "c$c-operator")
		e2e_log "cycle $c: the journal takes messages after systemctl start default.target: $j"
		e2e_announce "BENCH journal_operator=${j// /,}"
		e2e_announce "BENCH cycle_done=$c"
	done
	[ -n "$t_first" ] && journald_check "$t_first" "$t_last"
	# A normal re-exec after the cycles: systemd serializes what it
	# deserialized from initshim's text, and reads it back.
	snap "$S/before" || cycle_failed reexec "cannot read the units' state"
	t0=$(us)
	if ! out=$(timeout 120 systemctl daemon-reexec 2>&1); then
		e2e_announce "BENCH reexec=failed"
		e2e_fail "systemctl daemon-reexec after $CYCLES cycles: $out"
	fi
	wait_recovered "$t0" any || { e2e_announce "BENCH reexec=failed"; e2e_fail "after daemon-reexec: $WHY"; }
	snap "$S/after" || cycle_failed reexec "cannot read the units' state after daemon-reexec"
	e2e_announce "BENCH reexec=ok"
	e2e_announce "BENCH reexec_healthy_ms=$HEALTHY_MS"
	report reexec "$S/before" "$S/after"
	others_state reexec
	# From the first boot to now: every adopted service kept its PID.
	report series "$S/baseline" "$S/after"
	# The comparison: the same crash under on-failure = restart.
	sed -i 's/^on-failure = adopt$/on-failure = restart/' /etc/initshim.conf
	grep -q '^on-failure = restart$' /etc/initshim.conf || e2e_fail "cannot switch /etc/initshim.conf to on-failure = restart"
	cp "$S/after" "$S/before-restart"
	rm -f /core*
	touch "$S/restart-crashed"
	us >"$S/restart-t0"
	e2e_log "on-failure = restart now; SIGSEGV to PID 1"
	e2e_announce "BENCH crash=restart"
	trap - EXIT
	kill -SEGV 1
	exec sleep 1000000 # stopped with the other services
}

# The driver ended before the restart crash: a failure (e2e_fail's
# verdict, or none: the driver was stopped, e.g. as a left-over of a
# recovery that did not adopt it), and nobody else powers the guest off.
driver_exit() {
	local c
	if [ ! -e "$E2E_STATE/verdict" ]; then
		c=$(cat "$S/cycle" 2>/dev/null)
		e2e_announce "BENCH cycle_failed=$c"
		e2e_verdict FAIL "cycle $c: the driver was ended (not adopted?); adopt outcome: $(cat /run/initshim/adopt 2>/dev/null || echo none)"
	fi
	e2e_shutdown
}

setup() {
	e2e_boot_checks "$(e2e_image_major)" /usr/lib/systemd/systemd
	e2e_announce "BENCH systemd_version=$(systemctl show -p Version --value | tr ' ' _)"
	write_units
	systemctl daemon-reload || e2e_fail "daemon-reload"
	# shellcheck disable=SC2086
	systemctl start $ADOPTABLE $OTHERS || e2e_fail "cannot start the bench's units"
	mkdir -p "$S"
	sock_inode >"$S/sock-inode"
	e2e_expect "a listening socket at $SOCK" yes "$([ "$(cat "$S/sock-inode")" != - ] && echo yes || echo no)"
	systemctl show -p MainPID --value systemd-journald.service >"$S/journald-pid"
	{
		systemctl list-units --type=service --state=running --plain --no-legend |
			awk '$1 != "initshim-e2e.service" {print $1}' # this script's own
		# shellcheck disable=SC2086 # the lists
		printf '%s\n' $ADOPTABLE $OTHERS "$DRIVER"
	} | sort -u >"$S/units"
	snap "$S/baseline" || e2e_fail "cannot read the units' state"
	e2e_expect "the journal takes messages at boot" "stream:1 devlog:1" "$(journal_takes boot)"
	# Sanity of the measure: every bench unit was started once, and the
	# journal query sees it (else the "Started" figures would mean nothing).
	local u
	for u in $ADOPTABLE $OTHERS; do
		e2e_expect "$u active" active "$(awk -v u="$u" '$1 == u {print $3}' "$S/baseline")"
		e2e_expect "$u 'Started' lines" 1 "$(awk -v u="$u" '$1 == u {print $5}' "$S/baseline")"
	done
	e2e_log "units: $(tr '\n' ' ' <"$S/units")"
	# Services whose processes live in a cgroup below the unit's own.
	for u in /sys/fs/cgroup/system.slice/*.service/*/cgroup.procs; do
		[ -e "$u" ] && e2e_log "in a sub-cgroup: ${u#/sys/fs/cgroup} = $(tr '\n' ' ' <"$u")"
	done
	e2e_announce "BENCH services_running=$(grep -c -v -x -F "$DRIVER" "$S/units")"
	e2e_hold
	systemctl start --no-block "$DRIVER" || e2e_fail "cannot start the driver"
}

after_restart() {
	local t0 mu
	t0=$(cat "$S/restart-t0")
	# The same health as after an adoption (this script starts with
	# multi-user.target, so this is later than the restart's own figure).
	wait_recovered "$t0" any || e2e_fail "the restart: $WHY"
	e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
	e2e_log "rescue outcome: $(cat /run/initshim/adopt 2>/dev/null)"
	snap "$S/after-restart" || e2e_fail "cannot read the units' state after the restart"
	# crash -> multi-user.target active again (systemd's monotonic stamp).
	mu=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)
	e2e_announce "BENCH restart_multiuser_ms=$(((mu - t0) / 1000))"
	e2e_announce "BENCH restart_healthy_ms=$HEALTHY_MS"
	finish_ms restart "$t0"
	report restart "$S/before-restart" "$S/after-restart"
	others_state restart
	j=$(journal_takes restart)
	e2e_announce "BENCH journal_restart=${j// /,}"
	e2e_initshim_checks normal
	e2e_pass "$CYCLES crash-and-adopt cycles, a daemon-reexec, one crash under restart"
}

case $E2E_PHASE in
driver) driver ;;
rescue)
	e2e_announce "BENCH cycle_failed=$(cat "$S/cycle" 2>/dev/null)"
	e2e_fail "rescue mode holds: $(e2e_status_field last-takeover); adopt outcome: $(cat /run/initshim/adopt 2>/dev/null)" ;;
*)
	if [ -e "$S/restart-crashed" ]; then
		after_restart
	elif systemctl -q is-active "$DRIVER"; then
		# The driver's `systemctl start default.target` after an adoption.
		e2e_hold
	elif [ -e "$S/units" ]; then
		# systemd started default.target again before the restart crash, and
		# the driver is gone: an adoption fell back to restart.
		e2e_announce "BENCH cycle_failed=$(cat "$S/cycle" 2>/dev/null)"
		e2e_fail "cycle $(cat "$S/cycle" 2>/dev/null): systemd was started fresh during the adopt cycles (adopt outcome: $(cat /run/initshim/adopt 2>/dev/null))"
	else
		setup
	fi
	;;
esac
