#!/bin/bash
# make bench: every benchmark, figures only (docs/performance.md).
set -u
cd "$(dirname "$0")/../.."
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB, kernel $(uname -r), $(date -u +%F)"
for b in tests/bench/*.sh; do
        [ "$b" = tests/bench/run.sh ] && continue
        echo "== $b"
        "$b" || echo "(benchmark $b failed)"
done
