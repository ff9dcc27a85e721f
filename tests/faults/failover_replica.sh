#!/bin/bash
# Responders reading from replicas through a replica's death and a master
# failover. A master and two replicas (127.0.0.2, .3, .4), three Sentinels.
# Responder A reads with `--redis-read replica --node 127.0.0.3` (r1, its
# node's replica); responder B with `--redis-read redis://<r2>` (that one
# server). Reconnecting SSE clients (Last-Event-ID, as EventSource) stream
# through both while ingest publishes through the Sentinels.
# (1) r1 SIGKILLed mid-stream: A's feed moves to r2 (a failover, counted);
#     no client loses or repeats an entry.
# (2) the master SIGKILLed: the Sentinels promote r2 (and, as Sentinel does,
#     drop its clients). A finds no replica left and waits — it never reads
#     from a master; B reads on from r2, warns once that it is a master now
#     and shows it in /api/health. r1 restarted rejoins as r2's replica: A
#     reads from it.
# Every client ends with every entry once, in order.
. "$(dirname "$0")/lib.sh"
. "$BF_ROOT/tests/multihost.sh"

redis_trio
key=${BIRDFEED_PREFIX}tweets
END=9000000000000-0
publish_on m 1-0 '{"id":"0","text":"start","user":{"screen_name":"f"}}'

# B first (its own nginx), then A (the nginx the helpers default to).
start_fcgi --redis-read "redis://$(rn r2)/0" --heartbeat-ms 500 --backoff-max-ms 500; B_PID=$FCGI_PID
start_nginx; B_URL=$BASE_URL; B_PORT=$NGINX_PORT
start_fcgi --redis-read replica --node 127.0.0.3 --heartbeat-ms 500 --backoff-max-ms 500; A_PID=$FCGI_PID
start_nginx; A_URL=$BASE_URL
feed() { curl -s "$1/api/health" | python3 -c 'import json,sys; f=json.load(sys.stdin)["responder"]["feed"]; print(f["server"], f["role"], f["failovers"])'; }
wait_until 15 sh -c "curl -s '$A_URL/api/health' | grep -q '\"server\":\"$(rn r1)\"'" || fail "A did not read from r1: $(feed "$A_URL")"
wait_until 15 sh -c "curl -s '$B_URL/api/health' | grep -q '\"server\":\"$(rn r2)\"'" || fail "B did not read from r2: $(feed "$B_URL")"

sse_clients 4 "$T/a" 1-0 "$END" 150; A_SSE=$SSE_PID
NGINX_PORT=$B_PORT sse_clients 2 "$T/b" 1-0 "$END" 150; B_SSE=$SSE_PID

# ---- (1) the replica A reads from dies mid-stream ---------------------------------
N=2400
"$BF" gen --count "$N" --seed 51 --canonical >"$T/in1.ndjson"
"$BF" ingest --wait-replicas 1 --rate 300 --retries 50 "$T/in1.ndjson" >"$T/ingest1.out" 2>&1 & ing=$!
bf_track "$ing"
sleep 3
before=$(grep -c . "$T/a/0.ids" 2>/dev/null || echo 0)
rn_kill r1
wait_until 20 sh -c "curl -s '$A_URL/api/health' | grep -q '\"server\":\"$(rn r2)\"'" \
    || fail "A's feed did not move to r2: $(feed "$A_URL")"
assert_eq "$(feed "$A_URL")" "$(rn r2) replica 1" "A's feed: server, role, failovers"
wait_pid "$ing" 120 || fail "ingest: $(tail -3 "$T/ingest1.out")"
log_grep "$T/fcgi.log" -q "hub.failover from=$(rn r1) to=$(rn r2)" || fail "no hub.failover line in the log"
ok "r1 SIGKILLed after client 0 had $before entries: A's feed moved to $(rn r2) (failovers 1), ingest finished"

# ---- (2) the master dies: r2 is promoted ---------------------------------------------
old=$(rn m)
rn_kill m
wait_failover "$old" 40 || fail "no failover within 40 s (see $T/sentinel-0/sentinel.log)"
assert_eq "$(sentinel_master)" "$(rn r2)" "the new master"
wait_until 20 grep -q "no replica of 'bf' to read from" "$T/fcgi.log" || fail "A did not say that no replica is left"
assert_contains "$(curl -s "$A_URL/api/health")" '"redis_subscribed":false' "A's health while no replica is left"
wait_until 20 sh -c "curl -s '$B_URL/api/health' | grep -q '\"role\":\"master\"'" || fail "B's health: $(feed "$B_URL")"
assert_eq "$(feed "$B_URL")" "$(rn r2) master 0" "B's feed: server, role, failovers"
sleep 2
assert_eq "$(grep -c 'hub.read_server_master' "$T/fcgi.log")" 1 "B's warnings that r2 is a master now"
assert_contains "$(curl -s "$A_URL/api/health")" '"redis_subscribed":false' "A's health, still no replica"
ok "master SIGKILLed, r2 promoted: A left it and waits for a replica; B reads on from r2, warned once, health says master"

rn_restart r1
wait_until 30 sh -c "curl -s '$A_URL/api/health' | grep -q '\"server\":\"$(rn r1)\"'" \
    || fail "A did not come back on r1: $(feed "$A_URL"); r1: $(rn_cli r1 ROLE | head -1)"
assert_eq "$(feed "$A_URL")" "$(rn r1) replica 2" "A's feed after r1 rejoined"
ok "r1 restarted as r2's replica: A reads from it (failovers 2)"

"$BF" gen --count 600 --seed 52 --canonical >"$T/in2.ndjson"
"$BF" ingest --wait-replicas 1 --retries 50 "$T/in2.ndjson" >"$T/ingest2.out" 2>&1 || fail "ingest after the failover: $(tail -3 "$T/ingest2.out")"
publish_on r2 "$END" '{"id":"end","text":"end","user":{"screen_name":"f"}}'
rn_cli r2 XRANGE "$key" "(1-0" + | grep -E '^[0-9]+-[0-9]+$' >"$T/want"
assert_eq "$(wc -l <"$T/want")" $((N + 600 + 1)) "entries on the new master"
SSE_PID=$A_SSE wait_clients "$T/a"
SSE_PID=$B_SSE wait_clients "$T/b"
check_ids "$T/a" "$T/want"
check_ids "$T/b" "$T/want"
ok "every client of A ($(cat "$T/a/summary")) and B ($(cat "$T/b/summary")) saw all $((N + 601)) entries once, in order"
stop_fcgi "$A_PID"
stop_fcgi "$B_PID"
