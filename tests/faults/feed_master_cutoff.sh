#!/bin/bash
# A responder reading the master (redis-read unset) through a Sentinel URL
# while the master is cut off rather than killed, as failover_partition.sh
# cuts it: it refuses new clients and drops the Sentinels' and the
# replicas' connections. The feed's links, made before, still work and ROLE
# on them still says "master" — only the Sentinels know that they promoted
# a replica. The feed hears their +switch-master notice, moves to the new
# master and streams what is published there: reconnecting SSE clients
# through nginx, whose streams stay open across the move, get every entry
# once, in order.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"
REDIS_NODE_ARGS=(--min-replicas-to-write 0)   # the cut-off master takes writes: the worst case
redis_trio
key=${BIRDFEED_PREFIX}tweets
END=9000000000000-0
publish_on m 1-0 '{"id":"0","text":"start","user":{"screen_name":"f"}}'

start_fcgi --heartbeat-ms 500 --backoff-max-ms 500
start_nginx
feed() { curl -s "$BASE_URL/api/health" | python3 -c 'import json,sys; f=json.load(sys.stdin)["responder"]["feed"]; print(f["server"], f["role"], f["failovers"])'; }
wait_until 15 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"server\":\"$(rn m)\"'" || fail "the feed did not read from the master: $(feed)"
sse_clients 3 "$T/c" 1-0 "$END" 120

"$BF" gen --count 400 --seed 61 --canonical >"$T/in1.ndjson"
"$BF" ingest --wait-replicas 1 "$T/in1.ndjson" >"$T/ingest1.out" 2>&1 || fail "ingest before the cut: $(tail -3 "$T/ingest1.out")"
wait_until 20 sh -c "[ \$(grep -c . '$T/c/0.ids' 2>/dev/null || echo 0) -ge 400 ]" || fail "client 0 did not get the first 400 entries"

# Cut the master off.
old=$(rn m)
rn_cut_off m
wait_failover "$old" 40 || fail "no failover within 40 s (see $T/sentinel-0/sentinel.log)"
new=$(sentinel_master); newname=$(rn_name "$new")
assert_eq "$(rn_cut_cli m ROLE | head -1)" master "the cut-off master still says it is one"
wait_until 20 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"server\":\"$new\"'" \
    || fail "the feed stayed on the cut-off master: $(feed); $(grep -E 'hub\.(failover|redis_down)' "$T/fcgi.log" | tail -3)"
assert_eq "$(feed)" "$new master 1" "the feed: server, role, failovers"
log_grep "$T/fcgi.log" -q "the Sentinels switched the master away from $old" || fail "the move's reason is not in the log"
log_grep "$T/fcgi.log" -q "hub.failover from=$old to=$new" || fail "no hub.failover line in the log"
ok "master $old cut off (ROLE still master on it): the feed heard +switch-master and moved to $new"

"$BF" gen --count 400 --seed 62 --canonical >"$T/in2.ndjson"
"$BF" ingest "$T/in2.ndjson" >"$T/ingest2.out" 2>&1 || fail "ingest after the failover: $(tail -3 "$T/ingest2.out")"
publish_on "$newname" "$END" '{"id":"end","text":"end","user":{"screen_name":"f"}}'
rn_cli "$newname" XRANGE "$key" "(1-0" + | grep -E '^[0-9]+-[0-9]+$' >"$T/want"
assert_eq "$(wc -l <"$T/want")" 801 "entries on the new master"
wait_clients "$T/c"
check_ids "$T/c" "$T/want"
ok "every client ($(cat "$T/c/summary")) saw all 801 entries once, in order, across the move"
stop_fcgi
