#!/bin/bash
# redis-read: a responder reads from a Redis replica. A master and two
# replicas (127.0.0.2, .3, .4) with three Sentinels; the responder, told
# `--redis-read replica --node 127.0.0.3`, subscribes on the replica of its
# node and streams what ingest writes on the master; preloads and resumes
# are read there too (the replica's command counts say so, the master's
# stay at zero); a filter created through REST lands on the master and its
# deletion reaches the stream through the replica's subscription. Refused
# settings: 'replica' without Sentinels, a URL that is a master (one line,
# exit 2), a Sentinel URL. --check-config shows the setting; /api/health
# and /api/metrics show the server, its role, the lag and failovers.
. "$(dirname "$0")/../lib.sh"
. "$BF_ROOT/tests/multihost.sh"

TOKEN="replica-token-$RANDOM"
printf '%s\n' "$TOKEN" >"$T/tokens"; chmod 600 "$T/tokens"
AUTH="Authorization: Bearer $TOKEN"

redis_node m 127.0.0.2
redis_node r1 127.0.0.3 m
redis_node r2 127.0.0.4 m
sentinels m 127.0.0.2 127.0.0.3 127.0.0.4
key=${BIRDFEED_PREFIX}tweets

# ---- settings ------------------------------------------------------------------
out=$("$BF_FCGI" --redis-read replica --check-config 2>&1) || fail "--check-config: $out"
assert_contains "$out" "redis-read           = replica  (flag)" "--check-config shows redis-read"
out=$(BIRDFEED_REDIS_READ="redis://:sekrit@$(rn r1)/0" "$BF_FCGI" --check-config 2>&1) || fail "--check-config: $out"
assert_contains "$out" "redis-read           = redis://:***@$(rn r1)/0  (env)" "--check-config, from the environment"
case "$out" in *sekrit*) fail "--check-config printed the read server's password";; esac

out=$("$BF_FCGI" --redis "redis://$(rn m)/0" --redis-read replica --listen "127.0.0.1:$(free_port)" 2>&1); rc=$?
assert_eq "$rc" 2 "redis-read replica with a single-server redis URL"
assert_contains "$out" "redis-read 'replica' needs a redis+sentinel:// redis URL" "its reason"
out=$("$BF_FCGI" --redis-read "$SENTINEL_URL" --check-config 2>&1); rc=$?
assert_eq "$rc" 2 "redis-read given a Sentinel URL"
assert_contains "$out" "to read from a replica the Sentinels list, say 'replica'" "its reason"
out=$("$BF_FCGI" --redis-read "redis://$(rn m)/0" --listen "127.0.0.1:$(free_port)" 2>&1); rc=$?
assert_eq "$rc" 2 "redis-read naming the master"
assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "the refusal is one line ($out)"
assert_contains "$out" "redis-read: $(rn m) is a master, not a replica" "its reason"
ok "settings: --check-config shows redis-read (password hidden); 'replica' without Sentinels, a Sentinel URL and a master's URL are refused with exit 2"

# ---- a responder reading from the replica on its node ------------------------------
start_fcgi --redis-read replica --node 127.0.0.3 --tokens-file "$T/tokens"
start_nginx
health() { curl -s "$BASE_URL/api/health"; }
wait_until 15 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"server\":\"$(rn r1)\".*\"link\":\"connected\"'" \
    || fail "the feed did not settle on $(rn r1): $(health)"
numsub() { rn_cli "$1" PUBSUB NUMSUB "${BIRDFEED_PREFIX}live" | tail -1; }
assert_eq "$(numsub r1)" 1 "subscribers on r1 (the responder's feed)"
assert_eq "$(numsub m)" 0 "subscribers on the master"
assert_eq "$(numsub r2)" 0 "subscribers on r2"
h=$(health)
for want in '"read_from":"replica"' "\"server\":\"$(rn r1)\"" '"role":"replica"' "\"replica_of\":\"$(rn m)\"" \
            '"link":"connected"' '"failovers":0'; do
    assert_contains "$h" "$want" "/api/health"
done
printf '%s' "$h" | python3 -c 'import json,sys; f=json.load(sys.stdin)["responder"]["feed"]; assert isinstance(f["lag_bytes"], int) and f["lag_bytes"] >= 0, f' \
    || fail "lag_bytes is not a number: $h"
ok "--redis-read replica --node 127.0.0.3: the feed subscribed on $(rn r1) only; /api/health shows server, role, master, link, lag, failovers"

# ---- live: what ingest writes on the master streams through the replica --------------
curl -sN "$BASE_URL/stream?preload=0" >"$T/live" & live=$!
bf_track "$live"
wait_until 10 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"streams\":1,'" || fail "the stream did not open"
"$BF" gen --count 200 --seed 5 --canonical >"$T/in.ndjson"
"$BF" ingest "$T/in.ndjson" 2>"$T/ingest.err" || fail "ingest: $(cat "$T/ingest.err")"
rn_cli m --raw XRANGE "$key" - + | grep -E '^[0-9]+-[0-9]+$' >"$T/want.ids"
assert_eq "$(wc -l <"$T/want.ids")" 200 "entries on the master"
wait_until 20 sh -c "[ \$(grep -c '^id: ' '$T/live') -ge 200 ]" || fail "the stream got $(grep -c '^id: ' "$T/live") of 200"
kill "$live" 2>/dev/null; wait "$live" 2>/dev/null
sse_ids "$T/live" >"$T/live.ids"
cmp -s "$T/live.ids" "$T/want.ids" || fail "live ids differ from the master's: $(diff "$T/live.ids" "$T/want.ids" | head -3 | tr '\n' ' ')"
ok "200 tweets ingested on the master reached the stream through $(rn r1), in order, once"

# ---- history reads go to the replica ---------------------------------------------------
cmdcount() { rn_cli "$1" INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$2:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0; }
for n in m r1; do rn_cli "$n" CONFIG RESETSTAT >/dev/null; done
# Filtered streams take their preload and resume from Redis, never from the
# ring (the ring's frames were not matched against their selection).
timeout 3 curl -sN "$BASE_URL/stream?q=the&preload=5" >"$T/pre" || true
mid=$(sed -n 100p "$T/want.ids")
timeout 3 curl -sN -H "Last-Event-ID: $mid" "$BASE_URL/stream?q=the" >"$T/res" || true
assert_eq "$(sse_ids "$T/pre" | wc -l)" 5 "events in the filtered preload"
assert_ge "$(sse_ids "$T/res" | wc -l)" 1 "events in the filtered resume"
sse_ids "$T/res" | while read -r id; do grep -qx "$id" <(sed -n '101,$p' "$T/want.ids") || fail "resumed event $id is not after $mid"; done
assert_ge "$(cmdcount r1 xrevrange)" 1 "XREVRANGE calls on r1"
assert_ge "$(cmdcount r1 xrange)" 2 "XRANGE calls on r1"
assert_eq "$(cmdcount m xrevrange)" 0 "XREVRANGE calls on the master"
assert_eq "$(cmdcount m xrange)" 0 "XRANGE calls on the master"
ok "preload and resume read the history from $(rn r1) (XRANGE $(cmdcount r1 xrange), XREVRANGE $(cmdcount r1 xrevrange) there, none on the master)"

# ---- REST writes go to the master; its notices come back through the replica -----------
code=$(curl -s -o "$T/post" -w '%{http_code}' -X POST -H "$AUTH" -H 'Content-Type: application/json' \
       --data '{"name":"owls","track":["owl"]}' "$BASE_URL/api/filters")
assert_eq "$code" 201 "POST /api/filters ($(cat "$T/post"))"
fid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/post")
assert_contains "$(rn_cli m HGET "${BIRDFEED_PREFIX}filters" "$fid")" '"owls"' "the filter on the master"
curl -sN "$BASE_URL/stream?filter=$fid&preload=0" >"$T/filtered" & fs=$!
bf_track "$fs"
wait_until 10 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"streams\":1,'" || fail "the filtered stream did not open"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" "$BASE_URL/api/filters/$fid")
assert_eq "$code" 204 "DELETE /api/filters/$fid"
wait_until 10 grep -q '^event: filter-deleted' "$T/filtered" || fail "the stream did not hear of the deletion: $(cat "$T/filtered")"
wait_pid "$fs" 10 || true
ok "a filter created through REST landed on the master; its deletion reached the stream through $(rn r1)'s subscription"

# ---- /api/metrics -------------------------------------------------------------------------
wait_until 10 sh -c "curl -s '$BASE_URL/api/metrics' | grep -q '^birdfeed_feed_server_info{'" \
    || fail "no birdfeed_feed_server_info: $(curl -s "$BASE_URL/api/metrics" | grep feed_)"
m=$(curl -s "$BASE_URL/api/metrics")
proc=$(printf '%s\n' "$m" | sed -n 's/^birdfeed_feed_server_info{process="\([^"]*\)".*/\1/p')
assert_eq "${proc##*:}" "$FCGI_PID" "the process label's pid"
assert_contains "$m" "birdfeed_feed_server_info{process=\"$proc\",role=\"replica\",server=\"$(rn r1)\"} 1" "server info"
assert_contains "$m" "birdfeed_feed_failovers_total{process=\"$proc\"} 0" "failovers"
printf '%s\n' "$m" | grep -qE "^birdfeed_feed_replica_lag_bytes\{process=\"$proc\",server=\"$(rn r1)\"\} [0-9]+$" \
    || fail "no lag sample: $(printf '%s\n' "$m" | grep lag_bytes)"
ok "/api/metrics: the process's feed server and role, failovers and the replica's lag"

# ---- a replica promoted behind the Sentinels' back -----------------------------------------
# (Sentinel drops a promoted server's clients; REPLICAOF NO ONE by hand does
# not: the feed's ROLE check notices within a second and moves.)
rn_cli r1 REPLICAOF NO ONE >/dev/null
wait_until 10 sh -c "curl -s '$BASE_URL/api/health' | grep -q '\"server\":\"$(rn r2)\"'" \
    || fail "the feed stayed on r1, a master now: $(health)"
log_grep "$T/fcgi.log" -q "$(rn r1) is a master now (promoted by a failover?): reading from another replica" \
    || fail "no reason logged for leaving r1"
assert_contains "$(health)" '"failovers":1' "failovers after the move"
ok "r1 promoted by hand: the feed saw ROLE master within a second and moved to $(rn r2) (failovers 1)"

stop_fcgi
