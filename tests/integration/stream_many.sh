#!/bin/bash
# 1 000 concurrent streams on one responder process through nginx: every
# stream gets every event exactly once, in order (tests/bench/sseload client).
. "$(dirname "$0")/../lib.sh"
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
[ -x "$SSELOAD" ] || fail "no $SSELOAD (make builds tests/bench/)"
ulimit -n 20000 || fail "cannot raise the fd limit"
N=1000
start_redis
start_fcgi
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

"$SSELOAD" --conns $N --ramp 2000 --expect 20 --duration 60 --settle 500 --pid-rss "$FCGI_PID" \
    --ready-file "$T/ready" "$BASE_URL/stream?preload=0" >"$T/load.out" 2>"$T/load.err" &
lp=$!
wait_until 40 test -f "$T/ready" || fail "sseload never reached the plateau: $(cat "$T/load.err")"
for i in $(seq 1 20); do
    publish_tweet "3000-$i" "{\"id\":\"$i\",\"text\":\"many $i\",\"sent_us\":$(date +%s%6N)}" || fail "publish"
done
wait "$lp" || fail "sseload failed: $(cat "$T/load.err")"
kv=$(tail -1 "$T/load.out")
get() { printf '%s\n' "$kv" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
assert_eq "$(get connected)" $N "connected"
assert_eq "$(get failed)" 0 "failed connections"
assert_eq "$(get delivered_pct)" "100.00" "delivered"
assert_eq "$(get ooo)" 0 "out of order"
assert_eq "$(get dup)" 0 "duplicates"
ok "$N streams on one process: 20 events each, exactly once, in order ($(head -1 "$T/load.out"))"
echo "rss: $(get rss_pids) per-stream bytes: $(get rss_per_conn_b)"
stop_fcgi
ok "clean exit"
