#!/bin/bash
# Integration tests: run every test_* function of tests/integration/t_*.sh in
# its own subshell, as root. Prints one line per test and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
        echo "integration tests need root (PID and mount namespaces)" >&2
        exit 1
fi
. tests/integration/lib.sh
pass=0 failed=0
only=("$@")
# The injection mechanism on its own (TAP; no namespace needed), and the
# D-Bus probe against a real systemd in a container (77: none available).
if [ ${#only[@]} -eq 0 ]; then
        start=$SECONDS
        out=$(tests/integration/dbusping-real.sh 2>&1); rc=$?
        if [ $rc -eq 0 ]; then
                pass=$((pass + 1)); echo "PASS dbusping_real_systemd ($((SECONDS - start))s)"
        elif [ $rc -eq 77 ]; then
                echo "SKIP dbusping_real_systemd (no real systemd to run here)"
        else
                failed=$((failed + 1)); echo "FAIL dbusping_real_systemd"; echo "$out" | tail -n 30 | sed 's/^/    /'
        fi
        if out=$(build/tests/test_inject 2>&1); then
                pass=$((pass + 1)); echo "PASS test_inject ($(echo "$out" | tail -n1))"
        else
                failed=$((failed + 1)); echo "FAIL test_inject"; echo "$out" | grep -v '^ok' | sed 's/^/    /'
        fi
fi
for f in tests/integration/t_*.sh; do
        for t in $(bash -c ". tests/integration/lib.sh; . $f; declare -F" | awk '{print $3}' | grep '^test_'); do
                if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $t " ]]; then continue; fi
                start=$SECONDS
                out=$(bash -c "set -u; . tests/integration/lib.sh; . $f; trap ns_stop EXIT; $t" 2>&1)
                rc=$?
                if [ $rc -eq 0 ]; then
                        pass=$((pass + 1)); echo "PASS $t ($((SECONDS - start))s)"
                else
                        failed=$((failed + 1)); echo "FAIL $t ($((SECONDS - start))s)"
                        echo "$out" | sed 's/^/    /' | tail -n 60
                fi
        done
done
echo "integration: $pass passed, $failed failed"
[ $failed -eq 0 ]
