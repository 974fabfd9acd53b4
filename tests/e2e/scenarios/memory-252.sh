#!/bin/bash
# e2e-description: systemd 252 over a (test-sized) memory limit: a new guard with the limit asks for a state-preserving re-exec; every service keeps its PID
# e2e-bed: qemu
# e2e-timeout: 240
# Pings every 2 s: the re-exec must read as start-up to the liveness check,
# not as failures (the new guard reads these too).
# e2e-config: liveness-interval = 2s
# e2e-config: liveness-timeout = 5s
# e2e-expect-log: memory: PID 1 resident memory [0-9]+ MiB, limit 4 MiB: state-preserving re-exec
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_memory_reexec 252 /usr/lib/systemd/systemd 4M
g=$(cat /run/initshim/guard.pid)
timeout 30 bash -c 'until initshimctl status | grep -q "^check-liveness: ok: Ping answered"; do sleep 0.5; done' ||
	e2e_fail "liveness not ok after the re-exec: $(initshimctl status | grep '^check-liveness')"
e2e_expect "liveness failures of the new guard" 0 "$(dmesg | grep -c "initshim-guard\[$g\]: health: liveness failed")"
e2e_pass "state-preserving re-exec on memory, services kept"
