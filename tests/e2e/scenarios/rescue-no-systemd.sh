#!/bin/bash
# e2e-description: no systemd can be executed: initshim stays PID 1 in rescue mode, reaps, serves the FIFO and powers off on request
# e2e-bed: qemu
# e2e-timeout: 120
# e2e-hide: /usr/lib/systemd/systemd
# e2e-hide: /usr/lib/systemd-247/systemd
# e2e-hide: /usr/lib/systemd-254/systemd
# e2e-result: host
# e2e-expect-log: no systemd could be executed; staying PID 1 in rescue mode
# e2e-expect-log: E2E-PASS rescue-no-systemd
# e2e-expect-log: reboot: Power down
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
[ "$E2E_PHASE" = rescue ] || e2e_fail "a systemd ran: $(e2e_pid1_exe)"
e2e_initshim_checks rescue
e2e_expect "takeover reason" "boot: no systemd could be executed" "$(e2e_status_field last-takeover)"
e2e_orphan_storm 500
e2e_wait_no_zombies 10
out=$(initshimctl frobnicate 2>&1) && e2e_fail "unknown command accepted"
[[ $out == *"unknown command 'frobnicate'"* ]] || e2e_fail "not the refusal of an unknown command: $out"
e2e_log "refused as it should: $out"
e2e_verdict PASS "rescue mode without systemd"
e2e_hold
initshimctl poweroff || e2e_console "initshimctl poweroff failed"
