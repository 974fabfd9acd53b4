#!/bin/bash
# e2e-description: disk root, initramfs-tools initramfs with initshim's hook, no initshim on the command line: systemd 252 boots from the initramfs's /init as usual, no guard
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_expect "root file system" "/dev/vda ext4" "$(findmnt -n -o SOURCE,FSTYPE /)"
E2E_WITHOUT_INITSHIM=1
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_expect "initshim-guard processes" 0 "$(e2e_count_procs initshim-guard)"
e2e_expect "initshim processes" 0 "$(e2e_count_procs initshim)"
[ -e /run/initshim ] && e2e_fail "/run/initshim exists: initshim ran ($(ls /run/initshim))"
e2e_expect "PID 1's tracer" 0 "$(awk '$1 == "TracerPid:" { print $2 }' /proc/1/status)"
e2e_pass "systemd booted without initshim"
