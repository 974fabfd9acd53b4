#!/bin/bash
# e2e-description: bullseye's systemd 247 (initshim.version=247) boots to multi-user.target under initshim
# e2e-bed: qemu
# e2e-cmdline: initshim.version=247
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 247 /usr/lib/systemd-247/systemd
e2e_pass
