#!/bin/bash
# e2e-description: orphans pile up as zombies under a frozen systemd 252: the zombie check fails, the guard takes over, rescue mode reaps them all
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-config: liveness-interval = 0
# e2e-config: zombie-age = 3s
# e2e-config: zombie-limit = 50
# e2e-config: reexec-timeout = 5s
# e2e-result: host
# e2e-expect-log: E2E-PASS zombies-252
# e2e-expect-log: zombies failed: [0-9]+ zombie children of PID 1
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
if [ "$E2E_PHASE" = rescue ]; then
	e2e_initshim_checks rescue
	reason=$(e2e_status_field last-takeover)
	[[ $reason == *zombie* ]] || e2e_fail "takeover reason: $reason"
	e2e_wait_no_zombies 10
	e2e_pass "zombie pile-up detected, taken over, reaped"
fi
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_hold
echo 1 >/sys/fs/cgroup/init.scope/cgroup.freeze
e2e_orphan_storm 200
e2e_log "zombies under frozen PID 1: $(e2e_zombies_of_pid1)"
