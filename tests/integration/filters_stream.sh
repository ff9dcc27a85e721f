#!/bin/bash
# Filtered streams through real nginx: ?filter=ID (one or several), ?q=, none;
# preload and Last-Event-ID resume give the newest *matching* tweets; a filter
# created, changed or deleted through one responder process changes what a
# stream on another process receives at once; filter-deleted ends the stream.
. "$(dirname "$0")/../lib.sh"

TOKEN="stream-test-token-$RANDOM"
printf '%s\n' "$TOKEN" >"$T/tokens"; chmod 600 "$T/tokens"
AUTH="Authorization: Bearer $TOKEN"; JSON="Content-Type: application/json"

start_redis
n=0
tw() {  # tw TEXT [HASHTAG]: publish one canonical tweet, id 2000-<n>
    n=$((n + 1))
    local tags=""; [ -n "${2:-}" ] && tags="\"$2\""
    publish_tweet "2000-$n" "{\"id\":\"$n\",\"text\":\"$1\",\"user\":{\"screen_name\":\"u$n\"},\"lang\":\"en\",\"hashtags\":[$tags],\"mentions\":[],\"urls\":[],\"retweet_count\":0}" \
        || fail "publish $n"
}
for i in $(seq 1 10); do tw "plain tweet $i"; done
tw "I love Rust lang"          # 11
tw "go go go" golang           # 12
tw "cats are great"            # 13
tw "more plain text"           # 14
tw "lang of rust, again"       # 15

# Process A serves the API, process B the streams: two responders, two nginx.
start_fcgi --tokens-file "$T/tokens"; A_PID=$FCGI_PID
start_nginx; A=$BASE_URL
start_fcgi --tokens-file "$T/tokens" --heartbeat-ms 300; B_PID=$FCGI_PID
start_nginx; B=$BASE_URL
wait_until 10 bash -c "curl -sf '$B/api/health' >/dev/null" || fail "B never saw redis"

post() { curl -s -o "$T/post" -w '%{http_code}' -X POST -H "$AUTH" -H "$JSON" --data "$1" "$A/api/filters"; }
assert_eq "$(post '{"name":"langs","track":["rust lang","#golang"]}')" 201 "create filter 1 through A"

# Unknown filters and bad q: JSON errors, never an event stream.
code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$B/stream?filter=99")
assert_eq "$code" 404 "unknown filter"
assert_contains "$(cat "$T/h")" "application/json" "404 is JSON"
assert_contains "$(cat "$T/b")" "no filter with id '99'" "404 names the id"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/stream?filter=1,abc")" 404 "one unknown id of two"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/stream?q=%21%21")" 400 "q without words"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/stream?q=a&q=b")" 400 "q twice"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/stream?filter=")" 400 "empty filter"
ok "unknown filter 404, bad q 400 (JSON)"

# Preload: the newest N matching tweets, oldest first (found by scanning back).
timeout 2 curl -sN "$B/stream?filter=1&preload=2" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | tr '\n' ' ')" "2000-12 2000-15 " "preload 2 matching"
timeout 2 curl -sN "$B/stream?filter=1" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | tr '\n' ' ')" "2000-11 2000-12 2000-15 " "default preload: every match"
timeout 2 curl -sN "$B/stream?q=CATS&preload=5" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | tr '\n' ' ')" "2000-13 " "q preload"
ok "preload gives the newest matching tweets"

# Live: a filtered stream, an ad-hoc one and an unfiltered one side by side.
curl -sN "$B/stream?filter=1&preload=0" >"$T/f1" & f1=$!
curl -sN "$B/stream?q=cats,dogs&preload=0" >"$T/q" & qp=$!
curl -sN "$B/stream?preload=0" >"$T/all" & allp=$!
for f in f1 q all; do wait_until 10 grep -q '^retry:' "$T/$f" || fail "stream $f did not start"; done
tw "rust lang news"            # 16: f1
tw "dogs and cats"             # 17: q
tw "nothing to see"            # 18: none
tw "ships" golang              # 19: f1 (hashtag)
wait_until 10 grep -q '^id: 2000-19' "$T/all" || fail "unfiltered stream got everything"
wait_until 10 grep -q '^id: 2000-19' "$T/f1" || fail "f1 got 19"
assert_eq "$(sse_ids "$T/f1" | tr '\n' ' ')" "2000-16 2000-19 " "filter stream: only matches"
assert_eq "$(sse_ids "$T/q" | tr '\n' ' ')" "2000-17 " "q stream: only matches"
assert_eq "$(sse_ids "$T/all" | wc -l)" 4 "no filter: everything"
ok "live: each stream gets what its selection matches"

# A change made through A applies at once to the stream open on B.
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$AUTH" -H "$JSON" \
    --data '{"name":"langs","track":["python"]}' "$A/api/filters/1")
assert_eq "$code" 200 "PUT through A"
sleep 0.5
tw "rust lang again"           # 20: no longer matches
tw "Python 4 released"         # 21: matches now
wait_until 10 grep -q '^id: 2000-21' "$T/f1" || fail "updated filter applies to the open stream"
assert_eq "$(sse_ids "$T/f1" | tr '\n' ' ')" "2000-16 2000-19 2000-21 " "after the update"
ok "a filter changed through process A changes what a stream on process B receives"

# A filter created through A is usable on B at once (even before B saw the notice).
assert_eq "$(post '{"name":"birds","track":["parrot"]}')" 201 "create filter 2 through A"
curl -sN "$B/stream?filter=2&filter=1&preload=0" >"$T/f2" & f2=$!
wait_until 10 grep -q '^retry:' "$T/f2" || fail "stream on the new filter"
tw "a parrot"                  # 22
tw "python parrot"             # 23
wait_until 10 grep -q '^id: 2000-23' "$T/f2" || fail "f2 live"
assert_eq "$(sse_ids "$T/f2" | tr '\n' ' ')" "2000-22 2000-23 " "several filters: either matches, each once"
ok "new filter usable on another process at once; several filters per stream"

# Resume a filtered stream: only matching tweets after the id.
timeout 2 curl -sN -H 'Last-Event-ID: 2000-12' "$B/stream?filter=1" >"$T/res"
assert_eq "$(sse_ids "$T/res" | tr '\n' ' ')" "2000-21 2000-23 " "resume with filter (current definition)"
ok "Last-Event-ID resume honours the filter"

# Delete through A: B's streams on that filter get filter-deleted and end.
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" "$A/api/filters/1")
assert_eq "$code" 204 "DELETE through A"
for _ in $(seq 1 100); do kill -0 "$f1" 2>/dev/null || break; sleep 0.05; done
kill -0 "$f1" 2>/dev/null && fail "the deleted filter's stream did not end"
wait "$f1" 2>/dev/null
grep -q '^event: filter-deleted' "$T/f1" || fail "no event: filter-deleted"
grep -q '^data: {"id":"1"}' "$T/f1" || fail "filter-deleted names the filter"
for _ in $(seq 1 100); do kill -0 "$f2" 2>/dev/null || break; sleep 0.05; done
kill -0 "$f2" 2>/dev/null && fail "a stream on filters 2 and 1 did not end"
kill -0 "$qp" 2>/dev/null || fail "the q stream ended too"
kill -0 "$allp" 2>/dev/null || fail "the unfiltered stream ended too"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$B/stream?filter=1")" 404 "deleted filter: 404"
ok "deleted filter: event: filter-deleted, its streams end, others stay; then 404"

kill "$qp" "$allp"; wait "$qp" "$allp" 2>/dev/null

# A filtered resume owed more than --client-buffer comes in parts: a part
# ends, the client resumes from its last id. Each part holds a tweet at
# least, even one longer than the whole buffer, so every resume gets further.
start_fcgi --client-buffer 4096; C_PID=$FCGI_PID
start_nginx; C=$BASE_URL
wait_until 10 bash -c "curl -sf '$C/api/health' >/dev/null" || fail "C never saw redis"
from="2000-$n"
big="cats$(printf ' meow%.0s' $(seq 1 1000))"      # 5 KB: over the 4 KB buffer alone
tw "cats first"; tw "$big"; tw "$big"; tw "cats last"
want="2000-$((n - 3)) 2000-$((n - 2)) 2000-$((n - 1)) 2000-$n "
got="" parts=0 leid=$from
while [ "$parts" -lt 6 ] && [ "$got" != "$want" ]; do
    parts=$((parts + 1))
    curl -sN --max-time 2 -H "Last-Event-ID: $leid" "$C/stream?q=cats" >"$T/part$parts"
    ids=$(sse_ids "$T/part$parts" | tr '\n' ' ')
    [ -n "$ids" ] || fail "resume part $parts from $leid: no tweet (the client would resume from $leid for ever)"
    got="$got$ids"
    leid=$(sse_ids "$T/part$parts" | tail -n 1)
done
assert_eq "$got" "$want" "resume over --client-buffer 4096, in $parts parts"
ok "a filtered resume over --client-buffer comes in parts, each with a tweet (one over the buffer too)"
stop_fcgi "$C_PID"
stop_fcgi "$B_PID"
stop_fcgi "$A_PID"
ok "responders exit cleanly"
