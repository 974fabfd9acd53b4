#!/bin/bash
# e2e-description: disk root through a dracut initramfs, rdinit=/sbin/initshim: initshim in the initramfs forks the guard before the initramfs's /init runs; the guard follows the switch-root to the disk's systemd 252 and takes its crash (kill -SEGV 1) over
# dracut's /init, systemd in the initramfs, switches root with its state serialized to the disk's systemd.
# e2e-bed: disk
# e2e-initramfs: dracut
# e2e-cmdline: rdinit=/sbin/initshim
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: initshim\[1\]: initrd stage: guard [0-9]+ attached, executing /init
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 switched root, the guard follows it
# e2e-expect-log: E2E-PASS disk-dracut-rdinit
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: no systemd could be executed
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_disk_crash_scenario rdinit
