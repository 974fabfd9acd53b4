#!/bin/bash
# e2e-description: a candidate that crashes right after the switch (the scripted fake systemd, told to crash) is marked bad, and rescue mode's restart brings back the last good version, systemd 252
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: version broken = /usr/lib/initshim-e2e/fake-systemd
# e2e-config: on-failure = restart
# e2e-config: stop-timeout = 5s
# e2e-config: switch-grace = 20s
# e2e-expect-log: marked /usr/lib/initshim-e2e/fake-systemd bad: crashed right after a switch
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
marker=$E2E_STATE/switched
if [ ! -e "$marker" ]; then
	e2e_boot_checks 252 /usr/lib/systemd/systemd
	initshimctl versions | grep -q '^broken .* ok: systemd 252 (fake)' || e2e_fail "broken candidate: $(initshimctl versions)"
	touch /run/fake-systemd.start-crash "$marker"
	e2e_hold
	initshimctl exec broken >"$E2E_STATE/exec.out" 2>&1
	exit 0
fi
# The fresh systemd after the rollback started this service again.
e2e_wait_running 200
e2e_log "initshimctl exec broken said: $(cat "$E2E_STATE/exec.out")"
grep -q "failed after the switch" "$E2E_STATE/exec.out" || e2e_fail "exec answered: $(cat "$E2E_STATE/exec.out")"
e2e_expect "PID 1 executable (the last good version)" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_expect "manager version" 252 "$(e2e_manager_major)"
initshimctl versions | grep -q '^broken .*marked bad: crashed right after a switch' ||
	e2e_fail "not marked bad: $(initshimctl versions)"
initshimctl status | grep -q '^last-switch: /usr/lib/systemd/systemd -> /usr/lib/initshim-e2e/fake-systemd: error: .*failed after the switch' ||
	e2e_fail "status lacks the switch's outcome: $(initshimctl status)"
e2e_initshim_checks normal
e2e_pass "crashing candidate rolled back to 252"
