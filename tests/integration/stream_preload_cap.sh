#!/bin/bash
# A preload is at most --client-buffer bytes of tweets (at least one): asking
# for ?preload=50 of 20 KB tweets with a 256 KB client buffer gives the
# newest dozen, from the hub's memory (unfiltered) and from Redis (filtered),
# never 50 of them queued at once to one client (nor held in memory by the
# acceptor, whatever the tweets' size). Small tweets are unaffected.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --client-buffer 262144
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

python3 - <<'PY' | "$BF" ingest >"$T/ingest.out" 2>&1 || fail "ingest: $(cat "$T/ingest.out")"
import json
for i in range(60):
    print(json.dumps({"id": "s%d" % i, "text": "small %d" % i, "user": {"screen_name": "u"},
                      "created_at": "2024-05-01T00:00:00Z"}))
for i in range(60):
    print(json.dumps({"id": "b%d" % i, "text": "big %d %s" % (i, "x" * 20000), "user": {"screen_name": "u"},
                      "created_at": "2024-05-01T00:00:00Z"}))
PY
newest=$(rcli XREVRANGE "${BIRDFEED_PREFIX}tweets" + - COUNT 1 | head -1)
wait_until 10 bash -c "curl -s '$BASE_URL/api/health' | grep -q '\"ring_frames\":120'" || fail "the hub holds the 120 tweets"

check_cap() {   # NAME URL: events within the cap, the newest last, all big, in order
    curl -sN --max-time 3 "$2" >"$T/$1" 2>/dev/null
    local n; n=$(sse_ids "$T/$1" | wc -l)
    [ "$n" -ge 1 ] && [ "$n" -le 13 ] || fail "$1: $n events preloaded, want 1..13 (262144 bytes of ~20 KB tweets)"
    assert_eq "$(sse_ids "$T/$1" | tail -1)" "$newest" "$1: the newest tweet comes last"
    assert_eq "$(sse_ids "$T/$1" | sort -t- -k1,1n -k2,2n | uniq | tr '\n' ' ')" "$(sse_ids "$T/$1" | tr '\n' ' ')" "$1: in order, once each"
    echo "$1: $n events"
}
check_cap ring "$BASE_URL/stream?preload=50"
check_cap filtered "$BASE_URL/stream?q=big&preload=50"
curl -sN --max-time 3 "$BASE_URL/stream?q=small&preload=50" >"$T/small" 2>/dev/null
assert_eq "$(sse_ids "$T/small" | wc -l)" 50 "small tweets: all 50 asked for"
ok "a preload stops at --client-buffer bytes (from the hub's memory and from Redis), the newest tweets; small ones unaffected"
stop_fcgi
