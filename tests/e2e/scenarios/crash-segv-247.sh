#!/bin/bash
# e2e-description: systemd 247 as PID 1 crashes (kill-SEGV); the guard turns it into initshim --rescue with every service alive; rescue mode reaps and reboots
# e2e-bed: qemu
# e2e-timeout: 240
# e2e-cmdline: initshim.version=247
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: E2E-PASS crash-segv-247
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_scenario 247 /usr/lib/systemd-247/systemd kill-SEGV
