#!/bin/bash
# ?matched=1 through real nginx: after each tweet of a filtered stream, an
# id-less `event: matched` names the stream's saved filters and `q` phrases
# that the tweet matched — in the preload, live and after a Last-Event-ID
# resume; a stream without it, next to it, gets the same tweet events and
# no matched event; matched=2 is a 400. With both filter= and q=, only
# tweets that one filter and one q phrase match come (filter picks, q
# narrows), and their matched events name both.
. "$(dirname "$0")/../lib.sh"

TOKEN="matched-test-$RANDOM"
printf '%s\n' "$TOKEN" >"$T/tokens"; chmod 600 "$T/tokens"
start_redis
n=0
tw() {  # tw TEXT: publish one canonical tweet, id 3000-<n>, tweet id t<n>
    n=$((n + 1))
    publish_tweet "3000-$n" "{\"id\":\"t$n\",\"network\":\"bluesky\",\"text\":\"$1\",\"user\":{\"screen_name\":\"u$n\"},\"created_at\":\"2024-05-01T00:00:00Z\",\"lang\":\"en\",\"hashtags\":[],\"mentions\":[],\"urls\":[],\"retweet_count\":0}" \
        || fail "publish $n"
}
tw "a red apple for sale"          # t1: filter 1
tw "nothing to see"               # t2: none
tw "a green pear and a banana"    # t3: filter 2, q "green pear"
start_fcgi --tokens-file "$T/tokens" --heartbeat-ms 300
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"
post() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" --data "$1" "$BASE_URL/api/filters"; }
assert_eq "$(post '{"name":"apples","track":["red apple"]}')" 201 "filter 1"
assert_eq "$(post '{"name":"fruit","track":["banana"]}')" 201 "filter 2"

assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/stream?filter=1&matched=2")" 400 "matched=2"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/stream?filter=1&matched=1&matched=1")" 400 "matched twice"
ok "matched must be 0 or 1, once"

# events FILE: "TYPE id=ID data" per event of a captured stream, one a line.
events() {
    python3 - "$1" <<'PY'
import sys
ev = {"event": "message", "id": "-", "data": []}
for line in open(sys.argv[1], encoding="utf-8").read().replace("\r\n", "\n").split("\n"):
    if line == "":
        if ev["data"]:
            print(ev["event"], "id=" + ev["id"], "\n".join(ev["data"]))
        ev = {"event": "message", "id": "-", "data": []}
    elif line.startswith(":"):
        continue
    else:
        k, _, v = line.partition(":")
        v = v[1:] if v.startswith(" ") else v
        if k == "data": ev["data"].append(v)
        elif k in ("event", "id"): ev[k] = v
PY
}
tweet_line() { printf 'tweet id=3000-%s %s\n' "$1" "$(redis-cli -p "$REDIS_PORT" --raw XRANGE "${BIRDFEED_PREFIX}tweets" "3000-$1" "3000-$1" | sed -n 3p)"; }

q="q=green%20pear,pineapple"
curl -sN "$BASE_URL/stream?filter=1,2&$q&matched=1" >"$T/m.sse" &
m=$!; bf_track $m
curl -sN "$BASE_URL/stream?filter=1,2&$q" >"$T/plain.sse" &
p=$!; bf_track $p
curl -sN "$BASE_URL/stream?filter=1,2&matched=1" >"$T/f.sse" &
f=$!; bf_track $f
curl -sN "$BASE_URL/stream?$q&matched=1" >"$T/q.sse" &
qs=$!; bf_track $qs
wait_until 10 sh -c "grep -q '^id: 3000-3' '$T/m.sse' && grep -q '^id: 3000-3' '$T/plain.sse' && grep -q '^id: 3000-3' '$T/f.sse' && grep -q '^id: 3000-3' '$T/q.sse'" || fail "preload"
tw "pineapple with a red apple"    # t4: filter 1, q "pineapple"
tw "no fruit here"                # t5: none
tw "banana bread"                 # t6: filter 2
tw "pineapple juice"              # t7: q "pineapple"
wait_until 10 sh -c "grep -q '^id: 3000-6' '$T/f.sse' && grep -q '^id: 3000-7' '$T/q.sse'" || fail "live tweets"
sleep 0.3
kill $m $p $f $qs 2>/dev/null
{
    tweet_line 3; echo 'matched id=- {"id":"t3","filters":["2"],"q":["green pear"]}'
    tweet_line 4; echo 'matched id=- {"id":"t4","filters":["1"],"q":["pineapple"]}'
} >"$T/want"
events "$T/m.sse" >"$T/got"
cmp -s "$T/want" "$T/got" || fail "filter+q matched stream: $(diff "$T/want" "$T/got" | head -c 800)"
grep '^tweet ' "$T/want" >"$T/want.plain"
events "$T/plain.sse" >"$T/got.plain"
cmp -s "$T/want.plain" "$T/got.plain" || fail "plain stream: $(diff "$T/want.plain" "$T/got.plain" | head -c 800)"
{
    tweet_line 1; echo 'matched id=- {"id":"t1","filters":["1"],"q":[]}'
    tweet_line 3; echo 'matched id=- {"id":"t3","filters":["2"],"q":[]}'
    tweet_line 4; echo 'matched id=- {"id":"t4","filters":["1"],"q":[]}'
    tweet_line 6; echo 'matched id=- {"id":"t6","filters":["2"],"q":[]}'
} >"$T/want.f"
events "$T/f.sse" >"$T/got.f"
cmp -s "$T/want.f" "$T/got.f" || fail "filters-only matched stream: $(diff "$T/want.f" "$T/got.f" | head -c 800)"
{
    tweet_line 3; echo 'matched id=- {"id":"t3","filters":[],"q":["green pear"]}'
    tweet_line 4; echo 'matched id=- {"id":"t4","filters":[],"q":["pineapple"]}'
    tweet_line 7; echo 'matched id=- {"id":"t7","filters":[],"q":["pineapple"]}'
} >"$T/want.q"
events "$T/q.sse" >"$T/got.q"
cmp -s "$T/want.q" "$T/got.q" || fail "q-only matched stream: $(diff "$T/want.q" "$T/got.q" | head -c 800)"
ok "preload and live: each tweet, then an id-less event: matched with its filters and q phrases (filter+q: both matched, filters only, q only); the stream next to it gets the same tweets and no matched event"

# Resume after t3: the matched events come with the resent tweets; the resume id is the tweet's.
timeout 3 curl -sN -H 'Last-Event-ID: 3000-3' "$BASE_URL/stream?filter=1,2&$q&matched=1" >"$T/r.sse"
events "$T/r.sse" >"$T/got.r"
sed -n '3,4p' "$T/want" >"$T/want.r"
timeout 3 curl -sN -H 'Last-Event-ID: 3000-3' "$BASE_URL/stream?filter=1,2&matched=1" >"$T/rf.sse"
events "$T/rf.sse" >"$T/got.rf"
sed -n '5,8p' "$T/want.f" >"$T/want.rf"
cmp -s "$T/want.rf" "$T/got.rf" || fail "resumed filters-only stream: $(diff "$T/want.rf" "$T/got.rf" | head -c 800)"
cmp -s "$T/want.r" "$T/got.r" || fail "resumed stream: $(diff "$T/want.r" "$T/got.r" | head -c 800)"
ok "Last-Event-ID resume: the tweets after it, each with its matched event"
stop_fcgi
