#!/bin/bash
# e2e-description: soft-reboot of bookworm-backports' systemd 254 (initshim.version=254; 254's soft-reboot.target, as its systemctl starts it) keeps the guard: 254 re-executes its compile-time /lib/systemd/systemd, the root's 252, whose new userspace the same guard still traces, and a SEGV of that 252 is still taken over
# e2e-bed: qemu
# e2e-cmdline: initshim.version=254
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-expect-log: E2E-MARK soft-reboot-254 soft-rebooting
# e2e-expect-log: E2E-PASS soft-reboot-254
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_soft_reboot_scenario 254 /usr/lib/systemd-254/systemd 252 units
