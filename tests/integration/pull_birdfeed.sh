#!/bin/bash
# birdfeed pull from another birdfeed's /stream (Server-Sent Events whose
# events carry ids): a second deployment mirrors the first. When the
# upstream responder goes away mid-stream and comes back, pull reconnects
# with Last-Event-ID and the upstream resends what it missed: every tweet
# arrives exactly once, in order, and no gap is counted.
. "$(dirname "$0")/../lib.sh"

start_redis; UP_REDIS=$REDIS_PORT; UP_URL=$BIRDFEED_REDIS
n=0
tw() {  # tw: publish one canonical tweet upstream (ingest's script: XADD + PUBLISH)
    n=$((n + 1))
    publish_tweet '*' "{\"id\":\"m$n\",\"network\":\"mastodon\",\"text\":\"mirrored $n\",\"user\":{\"screen_name\":\"u$n\"},\"created_at\":\"2024-05-01T00:00:00Z\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0}" \
        || fail "publish $n"
}
for _ in 1 2 3; do tw; done
start_fcgi --heartbeat-ms 300 --retry-ms 200; UP_FCGI=$FCGI_PID
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "upstream responder never saw redis"

unset REDIS_PORT; start_redis; DOWN_REDIS=$REDIS_PORT
"$BF" pull --redis "redis://127.0.0.1:$DOWN_REDIS/0" --stall-ms 3000 "$BASE_URL/stream" 2>"$T/pull.err" &
pid=$!; bf_track $pid
wait_until 15 sh -c "[ \$(redis-cli -p $DOWN_REDIS XLEN ${BIRDFEED_PREFIX}tweets) -ge 3 ]" || fail "preload not mirrored: $(cat "$T/pull.err")"
REDIS_PORT=$UP_REDIS
for _ in 4 5; do tw; done
wait_until 10 sh -c "[ \$(redis-cli -p $DOWN_REDIS XLEN ${BIRDFEED_PREFIX}tweets) -ge 5 ]" || fail "live tweets not mirrored: $(cat "$T/pull.err")"
ok "a birdfeed /stream mirrored: the preload, then live tweets"

# The upstream responder goes away; tweets go on upstream; it comes back.
stop_fcgi "$UP_FCGI"
for _ in 6 7 8; do tw; done
wait_until 10 grep -q 'reconnecting' "$T/pull.err" || fail "pull did not notice the end: $(cat "$T/pull.err")"
FCGI_PORT_WAS=$FCGI_PORT
"$BF_FCGI" --redis "$UP_URL" --listen "127.0.0.1:$FCGI_PORT_WAS" --heartbeat-ms 300 --retry-ms 200 >>"$T/fcgi.log" 2>&1 &
bf_track $!
wait_until 30 sh -c "[ \$(redis-cli -p $DOWN_REDIS XLEN ${BIRDFEED_PREFIX}tweets) -ge 8 ]" ||
    fail "missed tweets not resent after the reconnect: $(redis-cli -p $DOWN_REDIS XLEN ${BIRDFEED_PREFIX}tweets); $(cat "$T/pull.err")"
tw
wait_until 10 sh -c "[ \$(redis-cli -p $DOWN_REDIS XLEN ${BIRDFEED_PREFIX}tweets) -ge 9 ]" || fail "live after the reconnect"
kill -TERM $pid; wait $pid; rc=$?
assert_eq "$rc" 0 "pull exit status"
got=$(redis-cli -p "$DOWN_REDIS" --raw XRANGE "${BIRDFEED_PREFIX}tweets" - + | grep '^{' | python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))')
assert_eq "$got" "m1 m2 m3 m4 m5 m6 m7 m8 m9" "every tweet once, in order"
assert_contains "$(cat "$T/pull.err")" "resuming after event " "resumed with Last-Event-ID"
grep -q "^ingested 9, skipped 0, rejected 0 in .*; 0 duplicates dropped; [1-9][0-9]* reconnects, 0 gaps; interrupted$" "$T/pull.err" ||
    fail "summary: $(tail -n 1 "$T/pull.err")"
ok "the upstream responder stopped and came back: pull resumed with Last-Event-ID, the 3 tweets it missed came, nothing twice, no gap"
