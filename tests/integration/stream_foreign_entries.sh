#!/bin/bash
# Entries of the Redis stream that are no tweets (another writer's, with no
# `t` field) are passed over, however many stand in a row: a filtered stream
# resuming from Redis (pages of 500), the responder's feed filling the gap
# after its subscription dropped (pages of 1 000) and `birdfeed tail` doing
# the same each reach the tweet behind 1 100 of them, instead of reading the
# same page again for ever.
. "$(dirname "$0")/../lib.sh"
start_redis
OLD=$(( $(date +%s%3N) - 60000 ))
key=${BIRDFEED_PREFIX}tweets
# foreign FROM TO: entries OLD-FROM … OLD-TO with a field `other`, not published.
foreign() {
    rcli EVAL "for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
redis.call('XADD', KEYS[1], ARGV[1] .. '-' .. i, 'other', 'x') end" 1 "$key" "$OLD" "$1" "$2" >/dev/null \
        || fail "XADD of the foreign entries"
}
publish_tweet "$OLD-1" '{"id":"1","text":"cats one"}' || fail "publish"
foreign 2 1101
publish_tweet "$OLD-1200" '{"id":"2","text":"cats two"}' || fail "publish"
start_fcgi --heartbeat-ms 300 --backoff-max-ms 200
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

curl -sN -H "Last-Event-ID: $OLD-1" "$BASE_URL/stream?q=cats" >"$T/resume" & c=$!
bf_track "$c"
wait_until 10 grep -q "^id: $OLD-1200" "$T/resume" || fail "the filtered resume did not get past the foreign entries: $(head -c 300 "$T/resume")"
kill "$c"; wait "$c" 2>/dev/null
assert_eq "$(sse_ids "$T/resume" | tr '\n' ' ')" "$OLD-1200 " "ids of the filtered resume"
ok "a filtered stream resuming from Redis passes 1 100 entries that are no tweets"

# A live stream and a tail; then, unpublished, 1 100 foreign entries and a
# tweet behind them, which only the backfills after a dropped subscription find.
curl -sN "$BASE_URL/stream?preload=0" >"$T/live" & c=$!
bf_track "$c"
"$BF" tail --ids >"$T/tail.out" 2>"$T/tail.err" & tail_pid=$!
bf_track "$tail_pid"
wait_until 10 grep -q '^retry:' "$T/live" || fail "the live stream did not open"
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB ${BIRDFEED_PREFIX}live | tail -n 1)\" = 2 ]" \
    || fail "tail and the feed are not both subscribed"
publish_tweet "$OLD-1300" '{"id":"3","text":"cats three"}' || fail "publish"
wait_until 10 grep -q "^$OLD-1300 " "$T/tail.out" || fail "tail did not print the live tweet: $(cat "$T/tail.err")"
foreign 1301 2400
rcli XADD "$key" "$OLD-2500" t '{"id":"4","text":"cats four"}' >/dev/null || fail "XADD"
rcli CLIENT KILL TYPE pubsub >/dev/null
wait_until 15 grep -q "^id: $OLD-2500" "$T/live" \
    || fail "the feed's backfill did not get past the foreign entries: $(grep -E 'hub\.' "$T/fcgi.log" | tail -3)"
assert_eq "$(sse_ids "$T/live" | tr '\n' ' ')" "$OLD-1300 $OLD-2500 " "ids of the live stream"
ok "the feed's backfill after a dropped subscription passes 1 100 entries that are no tweets"
wait_until 15 grep -q "^$OLD-2500 " "$T/tail.out" || fail "tail's backfill did not get past the foreign entries: $(cat "$T/tail.err")"
assert_eq "$(cut -d' ' -f1 "$T/tail.out" | tr '\n' ' ')" "$OLD-1300 $OLD-2500 " "ids tail printed"
ok "tail's backfill after a dropped subscription passes them too"
kill "$c" "$tail_pid"; wait "$c" "$tail_pid" 2>/dev/null
stop_fcgi
no_sanitizer_report "$T/fcgi.log"
ok "no sanitizer report"
