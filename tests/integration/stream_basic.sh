#!/bin/bash
# GET /stream through real nginx + redis: headers, retry:, events one by one as
# they are published, preload count and order, Last-Event-ID resume (header and
# query) with no gap and no duplicate, event: reset after trimming, 400s.
. "$(dirname "$0")/../lib.sh"
start_redis
for i in $(seq 1 20); do publish_tweet "1000-$i" "{\"id\":\"$i\",\"text\":\"tweet $i\"}" || fail "publish"; done
start_fcgi --heartbeat-ms 300 --retry-ms 1500
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

# Live events arrive one at a time, each before the next is published.
curl -sN -D "$T/live.h" "$BASE_URL/stream?preload=0" >"$T/live" &
cpid=$!
wait_until 10 grep -q '^retry: 1500' "$T/live" || fail "no retry: line"
for i in 21 22 23; do
    publish_tweet "1000-$i" "{\"id\":\"$i\",\"text\":\"live $i\"}"
    wait_until 10 grep -q "^id: 1000-$i" "$T/live" || fail "event $i did not arrive on its own"
done
wait_until 5 grep -q '^: ping' "$T/live" || fail "no heartbeat"
kill "$cpid"; wait "$cpid" 2>/dev/null
assert_contains "$(cat "$T/live.h")" "Content-Type: text/event-stream; charset=utf-8" "content type"
assert_contains "$(cat "$T/live.h")" "Cache-Control: no-cache" "cache-control"
assert_eq "$(sse_ids "$T/live" | tr '\n' ' ')" "1000-21 1000-22 1000-23 " "live ids"
grep -q '^event: tweet' "$T/live" || fail "event: tweet"
grep -q '^data: {"id":"22","text":"live 22"}$' "$T/live" || fail "data line"
ok "live events arrive one by one, with headers, retry: and heartbeats"

# Preload: the newest N, oldest first, then live.
timeout 2 curl -sN "$BASE_URL/stream?preload=5" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | tr '\n' ' ')" "1000-19 1000-20 1000-21 1000-22 1000-23 " "preload 5"
timeout 2 curl -sN "$BASE_URL/stream" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | wc -l)" 23 "default preload (500) gives all 23"
ok "preload count and order"

# Resume: header and query; nothing before, nothing twice.
timeout 2 curl -sN -H 'Last-Event-ID: 1000-17' "$BASE_URL/stream" >"$T/res" &
rpid=$!
sleep 0.5
publish_tweet "1000-24" '{"id":"24","text":"after resume"}'
wait "$rpid"
assert_eq "$(sse_ids "$T/res" | tr '\n' ' ')" "1000-18 1000-19 1000-20 1000-21 1000-22 1000-23 1000-24 " "resume by header"
timeout 1 curl -sN "$BASE_URL/stream?lastEventId=1000-22" >"$T/res"
assert_eq "$(sse_ids "$T/res" | tr '\n' ' ')" "1000-23 1000-24 " "resume by query"
ok "Last-Event-ID resume (header and query): no gap, no duplicate"

# Trimmed history: event: reset with the oldest id, then the preload.
rcli XTRIM "${BIRDFEED_PREFIX}tweets" MAXLEN 4 >/dev/null
start_fcgi            # a fresh process: its ring starts from the trimmed stream
start_nginx
timeout 1 curl -sN -H 'Last-Event-ID: 1000-3' "$BASE_URL/stream?preload=2" >"$T/reset"
assert_contains "$(cat "$T/reset")" "$(printf 'event: reset\ndata: 1000-21')" "reset event names the oldest id"
assert_eq "$(sse_ids "$T/reset" | tr '\n' ' ')" "1000-23 1000-24 " "preload after reset"
ok "event: reset after trimming, then the preload"

# Bad input: 400 JSON, never an event stream.
for q in 'preload=x' 'preload=-1' 'preload=999999' 'lastEventId=abc' 'preload=1&preload=2' 'filter=zz%ZZ'; do
    code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$BASE_URL/stream?$q")
    assert_eq "$code" 400 "GET /stream?$q"
    assert_contains "$(cat "$T/h")" "application/json" "400 is JSON for $q"
done
code=$(curl -s -o "$T/b" -w '%{http_code}' -H 'Last-Event-ID: 12-x' "$BASE_URL/stream")
assert_eq "$code" 400 "bad Last-Event-ID header"
assert_contains "$(cat "$T/b")" "Last-Event-ID" "400 names the header"
ok "bad parameters: 400 JSON"

stop_fcgi
ok "SIGTERM: clean exit, no sanitizer report"
