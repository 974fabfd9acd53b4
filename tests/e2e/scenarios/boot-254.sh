#!/bin/bash
# e2e-description: bookworm-backports' systemd 254 (initshim.version=254) boots to multi-user.target under initshim
# e2e-bed: qemu
# e2e-cmdline: initshim.version=254
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 254 /usr/lib/systemd-254/systemd
e2e_pass
