#!/bin/bash
# A client that never reads is cut off, through each web server, with a
# bounded amount of data: 7 MB of events. Left alone, the kernel would take
# about 8 MB of them before --client-buffer counts a byte (the responder's
# TCP send buffer grows to 4 MB, the web server's to the client as much);
# the responder keeps its own socket's share small, so the stalled client
# owes more than --client-buffer well before the 7 MB are out. A client that
# reads, through the same server, gets every event.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --client-buffer 65536 --heartbeat-ms 1000
start_nginx
start_lighttpd
start_apache
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

declare -A PORTS=([nginx]=$NGINX_PORT [lighttpd]=$LIGHTTPD_PORT [apache]=$APACHE_PORT)
for s in nginx lighttpd apache; do
    # The stalled one: asks for the stream, never reads a byte.
    python3 - "${PORTS[$s]}" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /stream?preload=0 HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(120)
PY
    bf_track $!
    curl -sN "http://127.0.0.1:${PORTS[$s]}/stream?preload=0" >"$T/read.$s" &
    bf_track $!
done
for s in nginx lighttpd apache; do
    wait_until 10 grep -q '^retry:' "$T/read.$s" || fail "$s: reading stream did not open"
done
wait_until 10 bash -c "curl -s '$BASE_URL/api/health' | grep -q '\"streams\":6,'" || fail "six streams open"

# 7 MB: 1200 events of ~6 kB, about 5 MB/s.
python3 - <<'PY' | "$BF" ingest >"$T/ingest.out" 2>&1 || fail "ingest: $(cat "$T/ingest.out")"
import json, sys, time
pad = "x" * 6000
for i in range(1200):
    sys.stdout.write(json.dumps({"id": str(i + 1), "text": "big %d %s" % (i, pad), "user": {"screen_name": "u"},
                                 "created_at": "2024-05-01T00:00:00Z"}) + "\n")
    if i % 20 == 19:
        sys.stdout.flush()
        time.sleep(0.02)
PY
wait_until 60 bash -c "[ \$(grep -c 'event=stream.slow_client' '$T/fcgi.log') -ge 3 ]" \
    || fail "stalled clients cut off: $(grep -c 'event=stream.slow_client' "$T/fcgi.log") of 3 within 60 s"
assert_eq "$(grep -c 'event=stream.slow_client' "$T/fcgi.log")" 3 "only the stalled clients were cut off"
last=$(rcli XREVRANGE "${BIRDFEED_PREFIX}tweets" + - COUNT 1 | head -1)
for s in nginx lighttpd apache; do
    wait_until 30 grep -q "^id: $last" "$T/read.$s" || fail "$s: the reading stream did not get the last event"
    assert_eq "$(sse_ids "$T/read.$s" | sort -u | wc -l)" 1200 "$s: the reading stream got all 1200 events"
done
health=$(curl -s "$BASE_URL/api/health")
assert_contains "$health" '"slow_cutoffs":3,' "health counts the cut-offs"
ok "a client that never reads is cut off through nginx, lighttpd and Apache with 7 MB sent; readers got all"
