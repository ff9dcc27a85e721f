#!/bin/sh
# Run integration tests (tests/integration/*.sh, or those named), each in its
# own process with a time limit; print a line per test and a total.
cd "$(dirname "$0")/.." || exit 2
[ $# -gt 0 ] || set -- tests/integration/*.sh
pass=0; fail=0
mkdir -p build/test-logs
for t in "$@"; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    log=build/test-logs/$name.log
    start=$(date +%s)
    timeout -k 10 "${BF_TEST_TIMEOUT:-300}" bash "$t" >"$log" 2>&1; rc=$?
    secs=$(( $(date +%s) - start ))
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1)); printf 'integration %-28s ok (%ss, %s checks)\n' "$name" "$secs" "$(grep -c '^ok - ' "$log")"
    else
        fail=$((fail + 1)); printf 'integration %-28s FAIL (exit %s, %ss)\n' "$name" "$rc" "$secs"
        tail -n 40 "$log" | sed 's/^/    /'
    fi
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
