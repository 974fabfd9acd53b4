#!/bin/bash
# e2e-description: Debian trixie's systemd 257 hangs (init.scope frozen): initshimctl takeover makes initshim PID 1 with services kept; Ctrl-Alt-Del from QEMU's monitor then reboots rescue mode
# e2e-bed: qemu
# e2e-image: trixie
# e2e-timeout: 240
# e2e-config: on-failure = hold
# e2e-result: host
# e2e-host-action: E2E-MARK hang-257 ready => sendkey ctrl-alt-delete
# e2e-expect-log: E2E-PASS hang-257
# e2e-expect-log: cgroup /init.scope was frozen: thawed it
# e2e-expect-log: SIGINT from pid 0: reboot
# e2e-expect-log: reboot: Restarting system
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_hang_takeover_scenario
