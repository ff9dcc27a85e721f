#!/bin/bash
# Redis SIGKILLed and restarted twice while `birdfeed ingest` publishes at
# 400 tweets/s and 10 clients stream through nginx (Redis with AOF,
# appendfsync always, as the README's delivery guarantee asks). Ingest
# finishes with every line in the stream exactly once; every client sees
# every stream entry exactly once, in order; the responder recovers by itself
# and its fds return to baseline.
. "$(dirname "$0")/lib.sh"
start_redis --appendonly yes --appendfsync always
start_fcgi --heartbeat-ms 500 --backoff-max-ms 500
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
warm_rest
fd0=$(proc_fds "$FCGI_PID")
N=3000
"$BF" gen --count "$N" --seed 8 --canonical >"$T/in.ndjson"
publish_tweet "1-0" '{"id":"0","text":"start","user":{"screen_name":"f"}}'
END=9000000000000-0
sse_clients 10 "$T/c" "1-0" "$END" 90
"$BF" ingest --rate 400 --retries 50 "$T/in.ndjson" >"$T/ingest.out" 2>&1 & ing=$!
bf_track "$ing"
for k in 1 2; do
    sleep 2
    kill_redis
    sleep 1
    restart_redis
done
wait "$ing"; rc=$?
assert_eq "$rc" 0 "ingest exit status across two Redis kills ($(tail -3 "$T/ingest.out" | tr '\n' ' '))"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" $((N + 1)) "stream length (tweets + start marker)"
rcli --raw XRANGE "${BIRDFEED_PREFIX}tweets" - + | grep '^{' | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin][1:]
want = [json.loads(l)["id"] for l in open(sys.argv[1])]
sys.exit(0 if sorted(ids) == sorted(want) and len(set(ids)) == len(ids) else 1)' "$T/in.ndjson" \
    || fail "the stream does not hold every input tweet exactly once"
ok "ingest through two Redis SIGKILLs: all $N tweets in the stream exactly once"

wait_until 20 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health after the restarts"
publish_tweet "$END" '{"id":"end","text":"end","user":{"screen_name":"f"}}'
wait_clients "$T/c"
rcli XRANGE "${BIRDFEED_PREFIX}tweets" "(1-0" + | grep -E '^[0-9]+-[0-9]+$' >"$T/want"
assert_eq "$(wc -l <"$T/want")" $((N + 1)) "ids to compare"
check_ids "$T/c" "$T/want"
ok "10 clients streaming through both outages saw all $((N + 1)) entries once, in order ($(cat "$T/c/summary"))"
warm_rest
settle_fds "$FCGI_PID" "$fd0" 10 || fail "responder: $(proc_fds "$FCGI_PID") fds, baseline $fd0"
no_sanitizer_report "$T/fcgi.log"
ok "responder fds back to baseline ($fd0) with no restart of its own"
stop_fcgi
