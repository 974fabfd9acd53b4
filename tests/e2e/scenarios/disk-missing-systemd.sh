#!/bin/bash
# e2e-description: disk root (initramfs-tools), init=/sbin/initshim, the default version's binary is missing: initshim says it cannot execute it and boots the next candidate, systemd 252
# e2e-bed: disk
# e2e-initramfs: initramfs-tools
# e2e-cmdline: init=/sbin/initshim
# e2e-timeout: 180
# e2e-config: version gone = /usr/lib/systemd-999/systemd
# e2e-config: default = gone
# e2e-expect-log: initshim\[1\]: cannot execute /usr/lib/systemd-999/systemd
# e2e-expect-log: initshim\[1\]: executing /lib/systemd/systemd
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
[ ! -e /usr/lib/systemd-999/systemd ] || e2e_fail "/usr/lib/systemd-999/systemd exists"
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_versions_expect '^gone .* refused: .*\[default\]' "'gone' refused as the default"
e2e_pass "the missing default was passed over, 252 booted"
