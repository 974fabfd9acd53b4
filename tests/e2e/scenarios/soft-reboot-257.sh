#!/bin/bash
# e2e-description: systemctl soft-reboot of systemd 257 keeps the guard (argv[0] marked '@'): after the new userspace (257 again) boots, the same guard process still traces PID 1 and a SEGV is still taken over
# e2e-bed: qemu
# e2e-image: trixie
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-expect-log: E2E-MARK soft-reboot-257 soft-rebooting
# e2e-expect-log: E2E-PASS soft-reboot-257
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_soft_reboot_scenario "$(e2e_image_major)" /usr/lib/systemd/systemd "$(e2e_image_major)" systemctl
