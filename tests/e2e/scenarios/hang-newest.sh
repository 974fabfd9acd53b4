#!/bin/bash
# e2e-description: The newest systemd (Debian testing, forky) hangs (init.scope frozen): initshimctl takeover makes initshim PID 1 with services kept; Ctrl-Alt-Del from QEMU's monitor then reboots rescue mode
# e2e-bed: qemu
# e2e-image: forky
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-host-action: E2E-MARK hang-newest ready => sendkey ctrl-alt-delete
# e2e-expect-log: E2E-PASS hang-newest
# e2e-expect-log: cgroup /init.scope was frozen: thawed it
# e2e-expect-log: SIGINT from pid 0: reboot
# e2e-expect-log: reboot: Restarting system
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_hang_takeover_scenario
