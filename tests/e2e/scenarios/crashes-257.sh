#!/bin/bash
# e2e-description: Debian trixie's systemd 257, one boot through every crash kind: kill -ABRT 1 taken over with services kept, initshimctl exec; a real fault (ud2 at PID 1's pc) taken over, exec; kill -SEGV 1 restarted by on-failure = restart without duplicates; then Ctrl-Alt-Del makes that systemd reboot
# e2e-bed: qemu
# e2e-image: trixie
# e2e-timeout: 540
# e2e-config: on-failure = hold
# e2e-config: stop-timeout = 5s
# The last step is a reboot the guest cannot report: the host judges.
# e2e-result: host
# e2e-host-action: E2E-MARK crashes-257 ready => sendkey ctrl-alt-delete
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGABRT
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGILL
# e2e-expect-log: initshim-guard\[[0-9]+\]: PID 1 is initshim in rescue mode, [0-9]+ us after SIGSEGV
# e2e-expect-log: on-failure=restart: bringing up
# e2e-expect-log: E2E-PASS crashes-257
# e2e-expect-log: Reached target.*(Reboot|ctrl-alt-del)
# e2e-expect-log: reboot: Restarting system
# The fault is taken over at the crash handler's end, not after crash-timeout.
# e2e-reject-log: crash handler made no terminal syscall
# Ctrl-Alt-Del must reach the restarted systemd, not rescue mode.
# e2e-reject-log: SIGINT from pid 0
# e2e-reject-log: reboot: Power down
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_crash_chain_scenario
