#!/bin/bash
# e2e-description: disk root through an initramfs-tools initramfs, init=/sbin/initshim: systemd 252 boots under initshim; kill -SEGV 1 is taken over into rescue mode with every service alive; rescue mode reaps and reboots
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-cmdline: init=/sbin/initshim
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: initshim\[1\]: executing /lib/systemd/systemd
# e2e-expect-log: E2E-PASS disk-itools-init
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_disk_crash_scenario init
