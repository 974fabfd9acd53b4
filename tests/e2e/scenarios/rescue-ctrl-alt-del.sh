#!/bin/bash
# e2e-description: in rescue mode (no systemd), Ctrl-Alt-Del from QEMU's monitor arrives as SIGINT and initshim reboots in order
# e2e-bed: qemu
# e2e-timeout: 120
# e2e-hide: /usr/lib/systemd/systemd
# e2e-hide: /usr/lib/systemd-247/systemd
# e2e-hide: /usr/lib/systemd-254/systemd
# e2e-result: host
# e2e-host-action: E2E-MARK rescue-ctrl-alt-del ready => sendkey ctrl-alt-delete
# e2e-expect-log: SIGINT from pid 0: reboot
# e2e-expect-log: reboot: Restarting system
# e2e-reject-log: Kernel panic
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
[ "$E2E_PHASE" = rescue ] || e2e_fail "a systemd ran: $(e2e_pid1_exe)"
e2e_initshim_checks rescue
e2e_hold
e2e_mark ready
