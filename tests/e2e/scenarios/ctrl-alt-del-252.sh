#!/bin/bash
# e2e-description: Ctrl-Alt-Del sent from QEMU's monitor makes systemd 252 (under initshim) reboot the guest
# e2e-bed: qemu
# e2e-timeout: 180
# The guest cannot report a reboot it is in the middle of: the host judges.
# e2e-result: host
# e2e-host-action: E2E-MARK ctrl-alt-del-252 ready => sendkey ctrl-alt-delete
# e2e-expect-log: Reached target.*(Reboot|ctrl-alt-del)
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: reboot: Power down
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_wait_running 150
e2e_hold
e2e_mark ready
