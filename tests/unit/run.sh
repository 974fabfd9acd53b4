#!/bin/bash
# Run each cmocka unit test binary; print a summary line.
set -u
pass=0 failed=0
for t in "$@"; do
        if "$t"; then pass=$((pass + 1)); else failed=$((failed + 1)); echo "FAIL $t"; fi
done
echo "unit: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
