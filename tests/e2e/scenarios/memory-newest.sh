#!/bin/bash
# e2e-description: The newest systemd (Debian testing, forky; the version is in the verdict) over a (test-sized) memory-limit: a new guard with the limit asks for a state-preserving re-exec, every service keeps its PID and PID 1 its version; then kill -SEGV of the re-executed PID 1 is taken over by that guard with journald, logind, dbus and a service alive; rescue mode's `initshimctl exec` starts it fresh without duplicates and without a second re-exec
# e2e-bed: qemu
# e2e-image: forky
# e2e-timeout: 360
# e2e-config: on-failure = hold
# e2e-expect-log: memory: PID 1 resident memory [0-9]+ MiB, limit 4 MiB: state-preserving re-exec
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# e2e-expect-log: leaving rescue mode: stopping left-over services
# systemd 257+ refuses a SIGTERM re-exec with under 16 MiB free on /run/systemd.
# e2e-reject-log: Refusing to reexecute
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_memory_takeover_scenario
