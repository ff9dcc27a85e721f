#!/bin/bash
# Redis killed and restarted under open streams: streams stay open (heartbeats
# go on), new streams get 200 with only a retry: line meanwhile (EventSource
# reconnects on its own; any other status would stop it), and after the restart
# every stream sees every tweet exactly once, in order (backfill + dedupe).
. "$(dirname "$0")/../lib.sh"
start_redis --appendonly yes --appendfsync always
start_fcgi --heartbeat-ms 200 --backoff-max-ms 800
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

n=0
pub() { n=$((n + 1)); publish_tweet "2000-$n" "{\"id\":\"$n\",\"text\":\"t$n\"}" || fail "publish $n"; }
for _ in 1 2 3; do pub; done
pids=()
for k in 1 2 3; do
    curl -sN "$BASE_URL/stream?preload=0" >"$T/s$k" &
    pids+=($!)
done
wait_until 10 bash -c "grep -q '^retry:' '$T/s1' && grep -q '^retry:' '$T/s2' && grep -q '^retry:' '$T/s3'" || fail "streams did not open"
for _ in 4 5 6; do pub; done
wait_until 10 grep -q '^id: 2000-6' "$T/s3" || fail "live before the fault"

kill_redis
sleep 0.3
pings_before=$(grep -c '^: ping' "$T/s1")
sleep 1
pings_after=$(grep -c '^: ping' "$T/s1")
assert_ge "$pings_after" $((pings_before + 2)) "heartbeats while redis is down"
code=$(curl -s --max-time 5 -o "$T/b" -D "$T/h" -w '%{http_code}' "$BASE_URL/stream")
assert_eq "$code" 200 "new stream while redis is down: 200, so that EventSource retries"
assert_contains "$(cat "$T/h")" "text/event-stream" "an event stream"
assert_eq "$(cat "$T/b")" "$(printf 'retry: 2000\n\n')" "only a retry: line, then the end"
for p in "${pids[@]}"; do kill -0 "$p" || fail "a stream closed while redis was down"; done
ok "redis down: streams stay open with heartbeats, new streams get 200 with only retry:"

restart_redis
# Published before the responder resubscribes (it backs off): comes by backfill.
for _ in 7 8 9 10 11; do pub; done
wait_until 15 grep -q '^id: 2000-11' "$T/s1" || fail "backfill after restart"
# And live again.
for _ in 12 13 14; do pub; done
for k in 1 2 3; do
    wait_until 10 grep -q '^id: 2000-14' "$T/s$k" || fail "stream $k after restart"
done
want=$(seq 4 14 | sed 's/^/2000-/' | tr '\n' ' ')
for k in 1 2 3; do assert_eq "$(sse_ids "$T/s$k" | tr '\n' ' ')" "$want" "stream $k ids"; done
log_grep "$T/fcgi.log" -q 'hub.redis_up' || fail "no reconnect logged"
ok "redis restarted: every stream saw every tweet exactly once, in order"

# A second outage with tweets published through the outage window again, and a
# new stream resuming by Last-Event-ID from the middle.
kill_redis; sleep 0.5; restart_redis
for _ in 15 16; do pub; done
wait_until 15 grep -q '^id: 2000-16' "$T/s2" || fail "second backfill"
timeout 2 curl -sN -H 'Last-Event-ID: 2000-12' "$BASE_URL/stream" >"$T/resume"
assert_eq "$(sse_ids "$T/resume" | tr '\n' ' ')" "2000-13 2000-14 2000-15 2000-16 " "resume after outages"
want=$(seq 4 16 | sed 's/^/2000-/' | tr '\n' ' ')
assert_eq "$(sse_ids "$T/s2" | tr '\n' ' ')" "$want" "stream 2 after two outages"
ok "second outage: no gap, no duplicate; resume works"

for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
stop_fcgi
ok "clean exit"
