#!/bin/bash
# Guest half of tests/e2e/demo.sh: a short, readable tour of a machine whose
# PID 1 went kernel -> /sbin/initshim -> systemd. Runs as the e2e scenario "demo".
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
show_sh() { printf '$ %s\n' "$1"; sh -c "$1" 2>&1 | sed 's/^/  /'; }

step "Waiting for systemd to finish booting"
show timeout 150 systemctl is-system-running --wait

step "PID 1 is Debian's systemd, started by initshim"
show readlink /proc/1/exe
show systemctl show -p Version
show_sh "dmesg | grep -E 'initshim(-guard)?\\['"

step "initshim's view (initshimctl status)"
show initshimctl status

step "PID 1 and initshim's own processes (the guard traces PID 1)"
show_sh "ps -o pid,ppid,stat,comm,args -p \"1 \$(pgrep -d ' ' '^initshim')\""

step "Services are up"
show systemctl --no-pager --no-legend list-units --type=service --state=running

step "Powering off through systemd (the guard steps aside for systemd-shutdown)"
e2e_pass
