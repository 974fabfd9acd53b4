#!/bin/bash
# e2e-description: initshim hands the kernel's arguments and environment to systemd unchanged
# e2e-bed: qemu
# e2e-cmdline: e2etoken=abc e2earg
# e2e-timeout: 180
# shellcheck source=../lib/e2e.sh
. /usr/lib/initshim-e2e/lib/e2e.sh
e2e_wait_running 150
# The kernel gives init every command-line word it does not know itself:
# NAME=VALUE words as environment (next to HOME=/ and TERM=linux), plain
# words as arguments; words with a dot (e2e.scenario=) stay with the kernel.
argv=$(tr '\0' ' ' </proc/1/cmdline)
env=$(tr '\0' '\n' </proc/1/environ | sort | tr '\n' ' ')
e2e_log "PID 1 argv: $argv"
e2e_log "PID 1 environment: $env"
e2e_expect "PID 1 arguments after argv[0]" "e2earg " "${argv#* }"
e2e_expect "PID 1 environment" "HOME=/ TERM=linux e2etoken=abc " "$env"
e2e_expect "argv[0] names the binary PID 1 runs" "$(readlink -f "${argv%% *}")" "$(e2e_pid1_exe)"
e2e_pass
