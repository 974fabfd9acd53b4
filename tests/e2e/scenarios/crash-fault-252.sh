#!/bin/bash
# e2e-description: systemd 252 as PID 1 crashes (fault); the guard turns it into initshim --rescue with every service alive; rescue mode reaps and reboots
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: E2E-PASS crash-fault-252
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# The fault is taken over at the crash handler's end, not after crash-timeout.
# e2e-reject-log: crash handler made no terminal syscall
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_scenario 252 /usr/lib/systemd/systemd fault
