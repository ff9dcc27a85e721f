#!/bin/bash
# Coalesced writes (--coalesce-ms): 300 streams through nginx over a unix
# socket, the hub allowed to hold live events for up to a second between
# write passes. Every stream still gets every event exactly once and in
# order, and events still held when SIGTERM arrives go out before the streams
# end. (Whether a given event was held depends on timing, which a test must
# not assert on; the figures are in `make bench` and README "Performance".)
. "$(dirname "$0")/../lib.sh"
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
[ -x "$SSELOAD" ] || fail "no $SSELOAD (make builds tests/bench/)"
ulimit -n 20000 || fail "cannot raise the fd limit"
N=300
start_redis
FCGI_UNIX=1 start_fcgi --coalesce-ms 1000
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

"$BIRDFEED_BUILD/birdfeed-fcgi" --coalesce-ms 1001 --check-config >/dev/null 2>"$T/range.err" &&
    fail "--coalesce-ms 1001 was accepted"
assert_contains "$(cat "$T/range.err")" "coalesce-ms" "the range error names the setting"
ok "--coalesce-ms is bounded (0..1000) with a clear error"

"$SSELOAD" --conns $N --ramp 2000 --expect 150 --duration 60 --settle 500 \
    --ready-file "$T/ready" "$BASE_URL/stream?preload=0" >"$T/load.out" 2>"$T/load.err" &
lp=$!
wait_until 40 test -f "$T/ready" || fail "sseload never reached the plateau: $(cat "$T/load.err")"
# Bursts of events a few ms apart: write passes meet events that arrive while
# the hub holds the previous ones.
for i in $(seq 1 100); do
    publish_tweet "4000-$i" "{\"id\":\"$i\",\"text\":\"held $i\",\"sent_us\":$(date +%s%6N)}" || fail "publish"
done
# The last 50 go out right before SIGTERM: the shutdown must flush them.
for i in $(seq 101 150); do
    publish_tweet "4000-$i" "{\"id\":\"$i\",\"text\":\"held $i\",\"sent_us\":$(date +%s%6N)}" || fail "publish"
done
# Every event is in the streams' queues (held or sent) before SIGTERM, so
# what must arrive is known: all 150 on every stream.
queued() { curl -sf "$BASE_URL/api/health" | sed -n 's/.*"events_queued":\([0-9]*\).*/\1/p'; }
all_queued() { [ "$(queued)" -ge $((N * 150)) ] 2>/dev/null; }
wait_until 20 all_queued || fail "the hub queued only $(queued) of $((N * 150)) events"
stop_fcgi
wait "$lp" || fail "sseload failed: $(cat "$T/load.err")"
kv=$(tail -1 "$T/load.out")
get() { printf '%s\n' "$kv" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
assert_eq "$(get connected)" $N "connected"
assert_eq "$(get failed)" 0 "failed connections"
assert_eq "$(get delivered_pct)" "100.00" "delivered (150 events on each stream)"
assert_eq "$(get ooo)" 0 "out of order"
assert_eq "$(get dup)" 0 "duplicates"
ok "$N streams, coalescing on: 150 events each, exactly once, in order, the last ones flushed at SIGTERM ($(head -1 "$T/load.out"))"
