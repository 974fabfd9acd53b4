#!/bin/bash
# e2e-description: systemd 252 boots to multi-user.target under initshim as PID 1 of a systemd-nspawn container
# e2e-bed: nspawn
# e2e-timeout: 120
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_boot_checks 252 /usr/lib/systemd/systemd
e2e_pass
