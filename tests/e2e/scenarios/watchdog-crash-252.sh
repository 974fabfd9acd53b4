#!/bin/bash
# e2e-description: systemd 252 arms an i6300esb watchdog (RuntimeWatchdogSec=15s) and crashes; rescue mode (on-failure = hold) feeds it: the guest is up 4 periods later; initshimctl exec hands the device to a fresh systemd, which arms and feeds it; a second crash is taken over with the device, and initshimctl poweroff disarms it
# e2e-bed: qemu
# e2e-timeout: 480
# e2e-config: on-failure = hold
# e2e-qemu-args: -device i6300esb -action watchdog=reset
# e2e-modules: watchdog i6300esb
# e2e-systemd-conf: RuntimeWatchdogSec=15s
# e2e-result: host
# e2e-expect-log: E2E-PASS watchdog-crash-252
# e2e-expect-log: watchdog: took over /dev/watchdog0, fed every 7\.5 s \(timeout 15 s\)
# e2e-expect-log: watchdog: /dev/watchdog0 disarmed and closed for the next PID 1
# e2e-expect-log: E2E-MARK watchdog-crash-252 the fresh systemd feeds the watchdog
# e2e-expect-log: watchdog: /dev/watchdog0 disarmed for the shutdown
# e2e-expect-log: reboot: Power down
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_watchdog_scenario fed crash
