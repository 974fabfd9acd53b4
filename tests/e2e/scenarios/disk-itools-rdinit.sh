#!/bin/bash
# e2e-description: disk root through an initramfs-tools initramfs, rdinit=/sbin/initshim: initshim in the initramfs forks the guard before the initramfs's /init runs; the guard follows the switch-root to the disk's systemd 252 and takes its crash (kill -SEGV 1) over
# initramfs-tools' /init (a shell script) mounts the root and run-init execs the disk's /sbin/init.
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-cmdline: rdinit=/sbin/initshim
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-expect-log: initshim\[1\]: initrd stage: guard [0-9]+ attached, executing /init
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 switched root, the guard follows it
# e2e-expect-log: E2E-PASS disk-itools-rdinit
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIG
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: no systemd could be executed
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_disk_crash_scenario rdinit
