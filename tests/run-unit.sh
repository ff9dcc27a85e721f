#!/bin/sh
# Run every unit-test binary given; print one line per binary and a total.
pass=0; fail=0; failed=""
for t in "$@"; do
    out=$(timeout 120 "$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    [ -n "$p" ] || { p=0; f=1; }
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out" | grep -v '^[0-9]* passed' >&2
        printf 'unit %-28s FAIL (exit %s)\n' "$(basename "$t")" "$rc"; failed="$failed $(basename "$t")"
    else
        printf 'unit %-28s %s\n' "$(basename "$t")" "$line"
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
