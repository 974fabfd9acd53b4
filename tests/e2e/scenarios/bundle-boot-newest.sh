#!/bin/bash
# e2e-description: the 252 (bookworm) root boots the newest systemd (forky) from a version bundle as PID 1 (its own systemd-executor, the root's units and helpers); kill -SEGV 1 is taken over with journald, logind, dbus and a service alive
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-bundle: forky systemd libsystemd-shared
# e2e-bundle-default: forky
# e2e-config: on-failure = hold
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
# shellcheck disable=SC1091 # written by host/beds.sh
. /usr/lib/initshim-e2e/image.env
newest=$E2E_BUNDLES
[ "$E2E_PHASE" = rescue ] || [ ! -e /usr/lib/systemd/systemd-executor ] ||
	e2e_fail "the 252 root has a /usr/lib/systemd/systemd-executor"
e2e_crash_scenario "$newest" "/usr/lib/initshim/bundles/$newest/systemd" kill-SEGV
