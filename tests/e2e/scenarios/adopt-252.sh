#!/bin/bash
# e2e-description: systemd 252 crashes with on-failure=adopt: a simple service and a notify service with WatchdogSec= keep their PID, MainPID and invocation id, are not started again, survive past their watchdog, and stop cleanly
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: on-failure = adopt
# e2e-config: stop-timeout = 5s
# e2e-expect-log: on-failure=adopt: adopting [0-9]+ running services
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
marker=$E2E_STATE/adopt-crashed
units="e2e-simple.service e2e-notify.service"
if [ ! -e "$marker" ]; then
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	cat >/etc/systemd/system/e2e-simple.service <<-'UNIT'
	[Service]
	ExecStart=/bin/sleep 1000000
	UNIT
	cat >/etc/systemd/system/e2e-notify.service <<-'UNIT'
	[Service]
	Type=notify
	NotifyAccess=all
	WatchdogSec=6s
	Restart=on-failure
	ExecStart=/bin/bash -c 'systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 1; done'
	UNIT
	# The operator's step after an adoption (docs/recovery.md "Adopt"):
	# systemd queues nothing after --deserialize, so this scenario's own
	# second phase (initshim-e2e.service) runs only once this adopted
	# service has started default.target.
	cat >/etc/systemd/system/e2e-operator.service <<-'UNIT'
	[Service]
	ExecStart=/bin/bash -c 'until [ -e /run/initshim/adopt ] && [ "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd ] && systemctl start --no-block default.target; do sleep 1; done; exec sleep infinity'
	UNIT
	systemctl daemon-reload
	systemctl start e2e-operator.service || e2e_fail "cannot start the operator's stand-in"
	systemctl start $units || e2e_fail "cannot start the test services"
	for u in $units; do
		systemctl show -p MainPID --value "$u" >"$E2E_STATE/$u.pid"
		systemctl show -p InvocationID --value "$u" >"$E2E_STATE/$u.id"
		e2e_log "$u: pid $(cat "$E2E_STATE/$u.pid") invocation $(cat "$E2E_STATE/$u.id")"
	done
	touch "$marker"
	e2e_hold
	e2e_log "sending SIGSEGV to PID 1"
	kill -SEGV 1
	exit 0
fi
e2e_wait_running 200
e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_log "adopt outcome: $(cat /run/initshim/adopt 2>/dev/null)"
grep -q '^adopting' /run/initshim/adopt || e2e_fail "not adopted: $(cat /run/initshim/adopt)"
check_units() {
	local u pid
	for u in $units; do
		pid=$(cat "$E2E_STATE/$u.pid")
		kill -0 "$pid" 2>/dev/null || e2e_fail "$u: its process $pid is gone"
		e2e_expect "$u MainPID" "$pid" "$(systemctl show -p MainPID --value "$u")"
		e2e_expect "$u ActiveState" active "$(systemctl show -p ActiveState --value "$u")"
		e2e_expect "$u SubState" running "$(systemctl show -p SubState --value "$u")"
		e2e_expect "$u InvocationID" "$(cat "$E2E_STATE/$u.id")" "$(systemctl show -p InvocationID --value "$u")"
		e2e_expect "$u NRestarts" 0 "$(systemctl show -p NRestarts --value "$u")"
	done
}
check_units
# The notify service's watchdog (6 s) is armed from the adoption, and fed:
# no kill. Wait for two periods by systemd's own clock, then check again.
since=$(systemctl show -p ActiveEnterTimestampMonotonic --value e2e-notify.service)
e2e_log "notify service active since monotonic $since"
sleep_until=$(($(cut -d' ' -f1 /proc/uptime | tr -d .)0000 + 13000000))
timeout 30 bash -c "until [ \$(cut -d' ' -f1 /proc/uptime | tr -d .)0000 -ge $sleep_until ]; do sleep 0.5; done"
check_units
# Started once, before the crash, and never again.
for u in $units; do
	n=$(journalctl -b -o cat -u "$u" | grep -c '^Started ')
	e2e_expect "$u 'Started' lines in the journal" 1 "$n"
done
# Stop works, with the cgroup systemd knows: nothing left over.
systemctl stop e2e-simple.service || e2e_fail "cannot stop e2e-simple"
e2e_expect "e2e-simple after stop" inactive "$(systemctl is-active e2e-simple.service)"
kill -0 "$(cat "$E2E_STATE/e2e-simple.service.pid")" 2>/dev/null && e2e_fail "e2e-simple's process survived its stop"
systemctl start e2e-simple.service || e2e_fail "cannot start e2e-simple again"
journalctl -b -o cat -u e2e-simple.service | grep -q 'left-over process' && e2e_fail "left-over process on restart"
systemctl start default.target || e2e_fail "systemctl start default.target failed"
e2e_expect "multi-user.target" active "$(systemctl is-active multi-user.target)"
e2e_pass "services adopted across a crash: same PIDs, no restart"
