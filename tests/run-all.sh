#!/bin/bash
# make test: the layering check, unit tests, then integration tests, then one total line.
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp); trap 'rm -f "$out"' EXIT
sh tests/layers.sh 2>&1 | tee "$out"; lrc=${PIPESTATUS[0]}
sh tests/run-unit.sh "$@" 2>&1 | tee -a "$out"; urc=${PIPESTATUS[0]}
# shellcheck disable=SC2086
sh tests/run-integration.sh ${TESTS:-} 2>&1 | tee -a "$out"; irc=${PIPESTATUS[0]}
sum() { sed -n "s/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\\$1/p" "$out" | awk '{s+=$1} END {print s+0}'; }
p=$(sum 1); f=$(sum 2)
echo "total: $p passed, $f failed"
[ "$f" -eq 0 ] && [ "$lrc" -eq 0 ] && [ "$urc" -eq 0 ] && [ "$irc" -eq 0 ]
