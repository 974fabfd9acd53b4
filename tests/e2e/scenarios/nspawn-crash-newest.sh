#!/bin/bash
# e2e-description: The newest systemd (Debian testing, forky; the version is in the verdict) as PID 1 of a container with a cgroup2 hierarchy (nspawn's unified mode, also on a hybrid host) crashes (SIGSEGV): it would exit and kill the container; initshim takes over and the container lives on
# e2e-bed: nspawn
# e2e-image: forky
# e2e-nspawn-cgroup: unified
# e2e-timeout: 120
# e2e-config: on-failure = hold
# e2e-expect-log: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# e2e-reject-log: Exiting PID 1
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_nspawn_crash_scenario
