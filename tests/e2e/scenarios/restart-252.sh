#!/bin/bash
# e2e-description: systemd 252 crashes with on-failure=restart: left-over services are stopped, a fresh systemd reaches multi-user.target with one instance of each service, a scope in a kept slice runs on with its PID
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: on-failure = restart
# e2e-config: keep-cgroups = machine.slice
# e2e-config: stop-timeout = 5s
# e2e-expect-log: on-failure=restart: bringing up
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
marker=$E2E_STATE/restart-crashed
if [ ! -e "$marker" ]; then
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	e2e_start_probe_service
	# A "container": a scope in machine.slice, which the restart must keep.
	systemd-run --scope --slice=machine.slice --unit=e2e-kept /bin/sleep 2000000 >/dev/null 2>&1 &
	timeout 30 bash -c 'until systemctl is-active -q e2e-kept.scope; do sleep 0.1; done' ||
		e2e_fail "kept scope did not start"
	pgrep -f 'sleep 2000000' >"$E2E_STATE/kept.pid"
	pgrep -o -x systemd-journal >"$E2E_STATE/journald.pid"
	if [ "$(wc -l <"$E2E_STATE/kept.pid")" != 1 ] || [ ! -s "$E2E_STATE/journald.pid" ]; then
		e2e_fail "kept process ($(cat "$E2E_STATE/kept.pid")) or journald ($(cat "$E2E_STATE/journald.pid")) not found"
	fi
	e2e_log "kept scope pid $(cat "$E2E_STATE/kept.pid"), journald $(cat "$E2E_STATE/journald.pid")"
	touch "$marker"
	e2e_hold
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	exit 0
fi
# The fresh systemd started this service again.
e2e_wait_running 200
e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_expect "multi-user.target" active "$(systemctl is-active multi-user.target)"
for p in systemd-journal systemd-logind dbus-daemon systemd-udevd; do
	e2e_expect "number of $p processes (no second copy)" 1 "$(e2e_count_procs "$p")"
done
[ "$(pgrep -o -x systemd-journal)" != "$(cat "$E2E_STATE/journald.pid")" ] ||
	e2e_fail "journald was not restarted: the old copy was not stopped"
kept=$(cat "$E2E_STATE/kept.pid")
kill -0 "$kept" 2>/dev/null || e2e_fail "the process in the kept scope ($kept) was stopped"
grep -q 'machine.slice/e2e-kept.scope' "/proc/$kept/cgroup" || e2e_fail "kept process moved: $(cat "/proc/$kept/cgroup")"
e2e_log "ok: kept scope process $kept still runs in $(cat "/proc/$kept/cgroup")"
e2e_initshim_checks normal
[[ $(e2e_status_field last-takeover) == *"crash: SIGSEGV"* ]] || e2e_fail "last takeover: $(e2e_status_field last-takeover)"
e2e_pass "restarted with services once, kept scope alive"
