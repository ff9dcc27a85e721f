#!/bin/bash
# nginx reloaded (SIGHUP) twice while 20 clients stream and tweets flow: old
# nginx workers keep their streams or the clients reconnect to the new ones;
# every client gets every tweet once, in order; new streams open after the
# reload; the responder's fds return to baseline once the clients are gone.
. "$(dirname "$0")/lib.sh"
start_redis
start_fcgi --heartbeat-ms 500
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
warm_rest
fd0=$(proc_fds "$FCGI_PID"); rss0=$(proc_rss_kb "$FCGI_PID")
BASE=1700000000000
publish_tweet "$BASE-0" '{"id":"0","text":"start","user":{"screen_name":"f"}}'
N=300
seq -f "%.0f-0" $((BASE + 1)) $((BASE + N)) >"$T/want"
sse_clients 20 "$T/c" "$BASE-0" "$((BASE + N))-0" 90
python3 "$BF_ROOT/tests/faults/publisher.py" "$REDIS_PORT" "$BIRDFEED_PREFIX" "$BASE" "$N" 60 >"$T/pub.out" & pub=$!
bf_track "$pub"
old=$(pgrep -P "$NGINX_PID" | sort | tr '\n' ' ')
sleep 1.5
kill -HUP "$NGINX_PID"
wait_until 10 bash -c "[ \"\$(pgrep -P $NGINX_PID | sort | tr '\n' ' ')\" != '$old' ]" || fail "nginx did not start new workers"
code=$(curl -s -m 1 -o "$T/new" -w '%{http_code}' -H "Last-Event-ID: $BASE-0" "$BASE_URL/stream")
grep -q "^id: $((BASE + 1))-0" "$T/new" || fail "a new stream after the reload got nothing (status $code): $(head -c 300 "$T/new")"
sleep 1.5
kill -HUP "$NGINX_PID"
wait "$pub" || fail "publisher"
wait_clients "$T/c"
check_ids "$T/c" "$T/want"
ok "two nginx reloads under 20 streams: every client got all $N tweets once, in order; $(cat "$T/c/summary")"
settle_fds "$FCGI_PID" "$fd0" 10 || fail "responder: $(proc_fds "$FCGI_PID") fds, baseline $fd0"
rss=$(proc_rss_kb "$FCGI_PID")
rss_ok "$rss" "$rss0" 16 || fail "responder RSS $rss kB, baseline $rss0 kB"
curl -sf "$BASE_URL/api/health" >/dev/null || fail "health after reloads"
ok "responder fds back to baseline ($fd0), RSS $rss0 → $rss kB; still serving"
stop_fcgi
