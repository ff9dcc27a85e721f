#!/bin/bash
# Connection churn: bursts of streams opened and dropped (some in the middle
# of a large preload, while events flow) leave the responder serving, with its
# file descriptors back at their baseline and no stream slot leaked.
. "$(dirname "$0")/../lib.sh"
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
ulimit -n 20000
start_redis
python3 -c '
import json
for i in range(3000):
    print(json.dumps({"id": str(i + 1), "text": "churn %d %s" % (i, "y" * 800), "user": {"screen_name": "c"},
                      "created_at": "2024-05-01T00:00:00Z"}))' >"$T/seed.ndjson"
"$BF" ingest "$T/seed.ndjson" >/dev/null 2>&1 || fail "seed ingest"
start_fcgi --max-clients 500
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
fds() { ls /proc/"$FCGI_PID"/fd | wc -l; }
base=$(fds)

"$BF" gen --canonical --rate 200 --count 0 2>/dev/null | "$BF" ingest >/dev/null 2>&1 &
gp=$!
bf_track "$gp"
for round in 1 2 3; do
    "$SSELOAD" --conns 300 --ramp 0 --duration 1 "$BASE_URL/stream?preload=3000" >/dev/null 2>&1 &
    sp=$!
    cps=()
    for k in $(seq 1 20); do
        timeout 0.$((RANDOM % 9 + 1)) curl -sN "$BASE_URL/stream?preload=3000" >/dev/null 2>&1 &
        cps+=($!)
    done
    sleep 0.3
    kill -KILL "$sp" 2>/dev/null      # drop 300 streams at once, mid-preload
    wait "$sp" "${cps[@]}" 2>/dev/null
    kill -0 "$FCGI_PID" || fail "responder died in round $round"
done
kill "$gp" 2>/dev/null
wait_until 10 bash -c "[ \$(ls /proc/$FCGI_PID/fd | wc -l) -le $base ]" || fail "fds: $(fds) after churn, $base before"
ok "3 rounds of 320 streams dropped mid-preload: fds back to $base"

# Every slot came back: --max-clients 500 streams can open again.
"$SSELOAD" --conns 500 --ramp 0 --expect 1 --duration 20 "$BASE_URL/stream?preload=1" >"$T/again" 2>&1 || fail "sseload"
kv=$(tail -1 "$T/again")
assert_contains "$kv" "connected=500 " "500 streams after churn"
assert_contains "$kv" "failed=0 " "no stream refused after churn"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 200 "health after churn"
ok "no stream slot leaked; responder still serving"
stop_fcgi
