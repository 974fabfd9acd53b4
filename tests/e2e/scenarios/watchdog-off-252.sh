#!/bin/bash
# e2e-description: the control of watchdog-crash-252: the same bed with watchdog = off; the unfed i6300esb must reset the guest (QEMU exits) after the takeover
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-config: watchdog = off
# e2e-qemu-args: -device i6300esb -action watchdog=reset
# e2e-modules: watchdog i6300esb
# e2e-systemd-conf: RuntimeWatchdogSec=15s
# e2e-result: host
# e2e-expect-log: E2E-MARK watchdog-off-252 waiting for the watchdog to reset the guest
# e2e-reject-log: E2E-FAIL watchdog-off-252
# e2e-reject-log: E2E-PASS watchdog-off-252
# e2e-reject-log: reboot: (Restarting system|Power down|System halted)
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_watchdog_scenario reset crash
