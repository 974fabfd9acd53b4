#!/bin/bash
# e2e-description: systemd 252 over a (test-sized) memory limit: a new guard with the limit asks for a state-preserving re-exec; every service keeps its PID
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-expect-log: memory: PID 1 resident memory [0-9]+ MiB, limit 4 MiB: state-preserving re-exec
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_memory_reexec 252 /usr/lib/systemd/systemd 4M
e2e_pass "state-preserving re-exec on memory, services kept"
