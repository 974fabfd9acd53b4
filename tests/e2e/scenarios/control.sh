#!/bin/bash
# e2e-description: control: systemd 252 boots as PID 1 without initshim (rdinit=/lib/systemd/systemd)
# e2e-bed: qemu
# e2e-cmdline: rdinit=/lib/systemd/systemd
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
E2E_WITHOUT_INITSHIM=1
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_pass
