#!/bin/bash
# e2e-description: Debian's systemd 252 boots to multi-user.target under initshim
# e2e-bed: qemu
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_pass
