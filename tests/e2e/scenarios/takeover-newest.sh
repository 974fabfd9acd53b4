#!/bin/bash
# e2e-description: The newest systemd (Debian testing, forky; the version is in the verdict) as PID 1 (guard attached) crashes (kill-SEGV): taken over with journald, logind, dbus and a service alive; rescue mode's initshimctl exec starts it fresh without duplicates
# e2e-bed: qemu
# e2e-image: forky
# e2e-timeout: 300
# e2e-config: on-failure = hold
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# e2e-expect-log: leaving rescue mode: stopping left-over services
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_exec_scenario
