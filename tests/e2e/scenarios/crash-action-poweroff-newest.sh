#!/bin/bash
# e2e-description: the newest systemd (Debian testing) with CrashAction=poweroff (systemd.crash_action=poweroff) crashes (kill-SEGV): the operator's choice wins, the guard lets the crash handler's reboot(RB_POWER_OFF) through and takes nothing over
# e2e-bed: qemu
# e2e-image: forky
# e2e-cmdline: systemd.crash_action=poweroff
# e2e-timeout: 180
# e2e-config: on-failure = hold
# The guest cannot report the power-off it is in: the host judges.
# e2e-result: host
# e2e-expect-log: E2E-MARK crash-action-poweroff-newest crashing
# e2e-expect-log: initshim-guard\[[0-9]+\]: guard: crashed PID 1 reboots \(crash_reboot\): letting it
# e2e-expect-log: reboot: Power down
# e2e-reject-log: PID 1 is initshim in rescue mode
# e2e-reject-log: E2E-PASS crash-action-poweroff-newest
# e2e-reject-log: reboot: Restarting system
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_action_scenario poweroff
