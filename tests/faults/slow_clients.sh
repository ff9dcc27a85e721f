#!/bin/bash
# Stalled and slow clients among healthy ones: 20 clients that never read and
# 5 that read at 1 MB/s, next to 5 normal ones, while 16 MB of tweets flow.
# The stalled ones are cut off at --client-buffer; the slow ones are cut off
# when they fall behind and catch up by Last-Event-ID; the normal ones are not
# slowed and see everything once, in order. Memory stays bounded while it
# happens, and fds return to baseline when everyone has gone.
. "$(dirname "$0")/lib.sh"
start_redis
start_fcgi --client-buffer 262144 --heartbeat-ms 500
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
warm_rest
fd0=$(proc_fds "$FCGI_PID"); rss0=$(proc_rss_kb "$FCGI_PID")
BASE=1700000000000
publish_tweet "$BASE-0" '{"id":"0","text":"start","user":{"screen_name":"f"}}'

python3 - "$NGINX_PORT" <<'PY' &
import socket, sys, time
socks = []
for _ in range(20):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /stream?preload=0 HTTP/1.1\r\nHost: t\r\n\r\n")
    socks.append(s)
time.sleep(100)
PY
stalled=$!
bf_track "$stalled"
N=4000
seq -f "%.0f-0" $((BASE + 1)) $((BASE + N)) >"$T/want"
sse_clients 5 "$T/normal" "$BASE-0" "$((BASE + N))-0" 100
normal=$SSE_PID
sse_clients 5 "$T/slow" "$BASE-0" "$((BASE + N))-0" 100 --slow 1048576
slow=$SSE_PID
sleep 1
python3 "$BF_ROOT/tests/faults/publisher.py" "$REDIS_PORT" "$BIRDFEED_PREFIX" "$BASE" "$N" 800 4000 >"$T/pub.out" & pub=$!
bf_track "$pub"
peak=0
while kill -0 "$pub" 2>/dev/null; do
    r=$(proc_rss_kb "$FCGI_PID"); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.2
done
wait "$pub" || fail "publisher"
SSE_PID=$normal wait_clients "$T/normal"
check_ids "$T/normal" "$T/want"
need_log "$T/fcgi.log"
cut=$(grep -c 'event=stream.slow_client' "$T/fcgi.log")
assert_ge "$cut" 20 "stalled clients cut off at the client buffer"
ok "20 stalled clients cut off ($cut cut-offs); the 5 normal clients got all $N tweets (16 MB) once, in order"
SSE_PID=$slow wait_clients "$T/slow"
check_ids "$T/slow" "$T/want"
ok "5 clients reading at 1 MB/s (a quarter of the flow) caught up by Last-Event-ID: all $N tweets once, in order; $(cat "$T/slow/summary")"
echo "responder RSS: baseline $rss0 kB, peak $peak kB"
rss_ok "$peak" "$rss0" 64 || fail "responder RSS peaked at $peak kB (baseline $rss0 kB)"
kill "$stalled"; wait "$stalled" 2>/dev/null
settle_fds "$FCGI_PID" "$fd0" 15 || fail "responder: $(proc_fds "$FCGI_PID") fds, baseline $fd0"
curl -sf "$BASE_URL/api/health" >/dev/null || fail "health"
no_sanitizer_report "$T/fcgi.log"
ok "RSS peak $peak kB (baseline $rss0 kB, bound +64 MB), fds back to baseline ($fd0), still serving"
stop_fcgi
