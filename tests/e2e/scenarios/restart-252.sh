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
	touch "$marker"
	e2e_kept_scope_then_segv
	exit 0
fi
e2e_restarted_with_kept_scope 'machine.slice/e2e-kept.scope'
e2e_pass "restarted with services once, kept scope alive"
