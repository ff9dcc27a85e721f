#!/bin/bash
# One responder worker SIGKILLed while 30 clients stream through nginx: the
# master starts a new one; the killed worker's clients reconnect (through
# nginx, to the others) with Last-Event-ID and every client ends up with every
# tweet exactly once, in order. Afterwards the surviving workers' fds return
# to their baseline and they keep serving.
. "$(dirname "$0")/lib.sh"
start_redis
start_fcgi --workers 3 --heartbeat-ms 500
start_nginx
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 3 ]" || fail "three workers"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
BASE=1700000000000
publish_tweet "$BASE-0" '{"id":"0","text":"start","user":{"screen_name":"f"}}'
warm_rest
declare -A fd0 rss0
for w in $(workers); do fd0[$w]=$(proc_fds "$w"); rss0[$w]=$(proc_rss_kb "$w"); done

N=400
seq -f "%.0f-0" $((BASE + 1)) $((BASE + N)) >"$T/want"
sse_clients 30 "$T/c" "$BASE-0" "$((BASE + N))-0" 90
python3 "$BF_ROOT/tests/faults/publisher.py" "$REDIS_PORT" "$BIRDFEED_PREFIX" "$BASE" "$N" 100 >"$T/pub.out" & pub=$!
bf_track "$pub"
sleep 1.5
# The worker with the most open connections holds streams: kill it.
victim=$(for w in $(workers); do echo "$(proc_fds "$w") $w"; done | sort -n | tail -1 | cut -d' ' -f2)
[ "$(proc_fds "$victim")" -gt "${fd0[$victim]}" ] || fail "no worker holds streams"
kill -KILL "$victim"
wait "$pub" || fail "publisher"
wait_clients "$T/c"
check_ids "$T/c" "$T/want"
r=$(sed -n 's/.*reconnects=\([0-9]*\).*/\1/p' "$T/c/summary")
assert_ge "$r" 1 "clients of the killed worker reconnected"
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 3 ]" || fail "the master did not replace the killed worker"
ok "worker $victim SIGKILLed under 30 streams: $r reconnects, all 30 clients got all $N tweets once, in order; worker replaced"

warm_rest
for w in "${!fd0[@]}"; do
    [ "$w" = "$victim" ] && continue
    settle_fds "$w" "${fd0[$w]}" 10 || fail "worker $w: $(proc_fds "$w") fds, baseline ${fd0[$w]}"
    rss=$(proc_rss_kb "$w")
    rss_ok "$rss" "${rss0[$w]}" 16 || fail "worker $w RSS $rss kB, baseline ${rss0[$w]} kB"
done
for _ in 1 2 3 4 5 6; do
    curl -sf "$BASE_URL/api/health" >/dev/null || fail "health after the fault"
done
code=$(curl -s -m 2 -o "$T/last" -w '%{http_code}' -H "Last-Event-ID: $((BASE + N - 2))-0" "$BASE_URL/stream")
assert_contains "$(cat "$T/last")" "id: $((BASE + N))-0" "resume after the fault"
grep -E 'Sanitizer|runtime error' "$T/fcgi.log" && fail "sanitizer report"
ok "surviving workers back to their fd baseline, RSS within 16 MB; health and resume keep working"
stop_fcgi
