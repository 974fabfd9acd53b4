#!/bin/bash
# e2e-description: systemd 257 with CrashAction=reboot (systemd.crash_action=reboot) crashes (kill-SEGV): the operator's choice wins, the guard lets the crash handler's reboot() through and takes nothing over
# e2e-bed: qemu
# e2e-image: trixie
# e2e-cmdline: systemd.crash_action=reboot
# e2e-timeout: 180
# e2e-config: on-failure = hold
# The guest cannot report the reboot it is in: the host judges.
# e2e-result: host
# e2e-expect-log: E2E-MARK crash-action-reboot-257 crashing
# e2e-expect-log: initshim-guard\[[0-9]+\]: guard: crashed PID 1 reboots \(crash_reboot\): letting it
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: PID 1 is initshim in rescue mode
# e2e-reject-log: E2E-PASS crash-action-reboot-257
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_action_scenario reboot
