#!/bin/bash
# make run (deploy/run.sh): everything comes up from a run directory, the
# page, the API and the live stream answer through nginx, tweets keep
# flowing, the printed token works, and Ctrl-C (SIGINT) stops every process
# it started.
. "$(dirname "$0")/../lib.sh"

export BIRDFEED_RUN_DIR=$T/run BIRDFEED_RUN_SKIP_SETUP=1 BIRDFEED_RATE=50
export BIRDFEED_PORT
BIRDFEED_PORT=$(free_port)
unset BIRDFEED_REDIS
start_make_run
assert_eq "$URL" "http://127.0.0.1:$BIRDFEED_PORT/" "URL"
assert_contains "$(cat "$T/run.out")" "open  $URL" "printed URL"
ok "make run is up at $URL"

page=$(curl -fsS "$URL") || fail "GET / failed"
assert_contains "$page" '<script src="app.js"' "demo page"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "${URL}app.js")" 200 "GET /app.js"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "${URL}style.css")" 200 "GET /style.css"
ok "the demo page is served"

assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "${URL}api/health")" 200 "GET /api/health"
filters=$(curl -fsS "${URL}api/filters")
assert_contains "$filters" '"name":"Owls and herons"' "demo filter 1"
assert_contains "$filters" '"name":"Coffee"' "demo filter 2"
ok "health answers and the demo filters exist"

# The feed runs: the stream's history grows.
rport=$(sed -n 's/^  Redis  *redis-cli -p //p' "$T/run.out")
[ -n "$rport" ] || fail "cannot find the Redis port"
n1=$(redis-cli -p "$rport" xlen ${BIRDFEED_PREFIX}tweets)
assert_ge "$n1" 500 "preloaded history"
wait_until 20 sh -c "[ \$(redis-cli -p $rport xlen ${BIRDFEED_PREFIX}tweets) -gt $n1 ]" || fail "no new tweets are being ingested"
ok "tweets keep flowing ($n1 and counting)"

# Live events through nginx.
timeout 8 curl -sN "${URL}stream?preload=0" >"$T/live.txt" 2>/dev/null
live=$(grep -c '^event: tweet' "$T/live.txt")
assert_ge "$live" 3 "live events in 8 s at 50/s"
ok "GET /stream delivers live tweets ($live in 8 s)"

token=$(sed -n 's/^  token  *//p' "$T/run.out")
[ -n "$token" ] || fail "no token printed"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"name":"probe","track":["owl"]}' "${URL}api/filters")
assert_eq "$code" 401 "POST without a token"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d '{"name":"probe","track":["owl"]}' "${URL}api/filters")
assert_eq "$code" 201 "POST with the printed token"
ok "the printed token can create filters"

mapfile -t pids < <(awk '{print $1}' "$T/run/pids")
assert_ge "${#pids[@]}" 5 "processes started"
stop_make_run
(exec 3<>"/dev/tcp/127.0.0.1/$BIRDFEED_PORT") 2>/dev/null && fail "port $BIRDFEED_PORT still open"
assert_contains "$(tail -n 1 "$T/run.out")" "stopped everything" "goodbye line"
[ -e "$T/run/run.pid" ] && fail "run.pid left behind"
ok "Ctrl-C stopped all ${#pids[@]} processes it started"
no_sanitizer_report "$T"/run/logs/*
ok "no sanitizer report in any log"
