#!/bin/bash
# A Last-Event-ID ahead of the stream. Beyond every clock the responder knows
# (the newest id, its wall clock) by more than 5 s, the id cannot be from this
# stream: `event: reset` (data: the oldest id held) and the preload. A little
# ahead (a replica behind the one the browser read before, a clock a little
# off): resume after it — ids up to it count as seen, later ones come live.
# Both for the whole stream (served from the ring) and a filtered one (from
# Redis).
. "$(dirname "$0")/../lib.sh"
start_redis
NOW=$(date +%s%3N)
OLD=$((NOW - 60000))
publish_tweet "$OLD-1" '{"id":"1","text":"cats one"}' || fail "publish"
publish_tweet "$OLD-2" '{"id":"2","text":"cats two"}' || fail "publish"
start_fcgi --heartbeat-ms 300
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

# events FILE: "event/id" pairs of a captured stream, in order ("tweet/ID", "reset/DATA").
events() {
    awk '/^event: /{e=$2} /^id: /{id=$2} /^data: /{d=$2} /^\r?$/{if (e=="reset") print "reset/" d; else if (e=="tweet") print "tweet/" id; e=""; id=""; d=""}' "$1" | tr '\n' ' '
}

for q in "" "q=cats"; do
    what=${q:-whole stream}
    # Far ahead: ten minutes past every clock.
    far="$((NOW + 600000))-0"
    timeout 2 curl -sN -H "Last-Event-ID: $far" "$BASE_URL/stream?$q" >"$T/far"
    assert_eq "$(events "$T/far")" "reset/$OLD-1 tweet/$OLD-1 tweet/$OLD-2 " "$what: far-ahead id gets reset + preload"
    ok "$what: a Last-Event-ID 10 min ahead gets event: reset (oldest id held) and the preload"
done

# A little ahead (2 s): no reset, no preload; an id at or below it is taken
# as seen, a later one comes live.
last=$OLD
for q in "" "q=cats"; do
    what=${q:-whole stream}
    now=$(date +%s%3N)
    base=$(( (now > last ? now : last) + 1000 ))     # above every id so far; 3 s past the clocks
    near=$((base + 2000))
    last=$((near + 1000))
    curl -sN -H "Last-Event-ID: $near-0" "$BASE_URL/stream?$q" >"$T/near" & c=$!
    bf_track "$c"
    wait_until 10 grep -q '^retry:' "$T/near" || fail "$what: stream did not open"
    # The responder clamps nothing: these ids are what a lagging replica would
    # still send after the browser saw $near-0 elsewhere.
    publish_tweet "$base-0" '{"id":"3","text":"cats seen already"}' || fail "publish"
    publish_tweet "$near-0" '{"id":"4","text":"cats the one it has"}' || fail "publish"
    publish_tweet "$((near + 1000))-0" '{"id":"5","text":"cats new"}' || fail "publish"
    wait_until 10 grep -q "^id: $((near + 1000))-0" "$T/near" || fail "$what: the newer tweet did not come"
    kill "$c"; wait "$c" 2>/dev/null
    assert_eq "$(events "$T/near")" "tweet/$((near + 1000))-0 " "$what: only the tweet after the id, no reset"
    ok "$what: a Last-Event-ID 2 s ahead resumes after it (no reset, nothing at or below it)"
done
stop_fcgi
