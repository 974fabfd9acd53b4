#!/bin/bash
# e2e-description: systemd 252 over a (test-sized) memory limit: the guard asks for a state-preserving re-exec; every service keeps its PID
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-config: memory-limit = 4M
# e2e-config: liveness-interval = 2s
# e2e-config: liveness-timeout = 5s
# e2e-expect-log: memory: PID 1 resident memory [0-9]+ MiB, limit 4 MiB: state-preserving re-exec
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_start_probe_service
e2e_record_pids
timeout 90 bash -c 'until initshimctl status | grep -q "history: .*PID 1 re-executed"; do sleep 0.5; done' ||
	e2e_fail "no re-exec: $(initshimctl status | grep -E 'check-memory|history')"
timeout 60 bash -c 'until systemctl show -p Version >/dev/null 2>&1; do sleep 0.2; done' || e2e_fail "PID 1 does not answer after the re-exec"
e2e_check_pids
e2e_expect "PID 1 executable" /usr/lib/systemd/systemd "$(e2e_pid1_exe)"
e2e_initshim_checks normal
e2e_pass "state-preserving re-exec on memory, services kept"
