#!/bin/sh
# make test-valgrind: every unit-test binary given under valgrind memcheck.
# Any memory error or leak (definite or possible) fails the binary.
pass=0; fail=0
for t in "$@"; do
    log=$(mktemp)
    timeout 600 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
        --track-origins=yes --log-file="$log" "$t" >"$log.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && [ ! -s "$log" ]; then
        pass=$((pass + 1))
        printf 'valgrind %-28s ok (%s)\n' "$(basename "$t")" "$(tail -n 1 "$log.out")"
    else
        fail=$((fail + 1))
        cat "$log.out" "$log" >&2
        printf 'valgrind %-28s FAIL (exit %s)\n' "$(basename "$t")" "$rc"
    fi
    rm -f "$log" "$log.out"
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
