#!/bin/bash
# e2e-description: systemd 252 crashes with on-failure=adopt: simple, notify (WatchdogSec=), forking and PrivateTmp= services keep their PID, MainPID and invocation id, are not started again, survive past their watchdog; a frozen one is killed by its watchdog, kill -9 restarts per Restart=, stop is clean; socket units keep their listening sockets (Accept=yes on TCP answers, Accept=no on a datagram starts its service, the image's socket units of adopted services stay running and none refuses to start); a RemainAfterExit= oneshot is adopted as exited and not run again; a unit not running at the crash is not adopted
# e2e-bed: qemu
# e2e-timeout: 300
# e2e-config: on-failure = adopt
# e2e-config: stop-timeout = 5s
# e2e-expect-log: on-failure=adopt: adopting [0-9]+ running services, [1-9][0-9]* exited services and [1-9][0-9]* socket units
# e2e-expect-log: guard: kept copies of PID 1.s [1-9][0-9]* listening sockets for rescue mode
# e2e-expect-log: on-failure=adopt: connected systemd-journald.service.s .PID [0-9]+. notify socket to the new
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_adopt_scenario
