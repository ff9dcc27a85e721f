#!/bin/bash
# Limits: --max-clients → 200 with only retry:; a client that stops reading is cut
# off at its --client-buffer while another stream gets every event; SIGTERM
# ends every open stream cleanly and the responder exits within 2 s.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --max-clients 2 --client-buffer 262144 --heartbeat-ms 1000
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

curl -sN "$BASE_URL/stream" >"$T/a" & a=$!
curl -sN "$BASE_URL/stream" >"$T/b" & b=$!
wait_until 10 bash -c "grep -q '^retry:' '$T/a' && grep -q '^retry:' '$T/b'" || fail "two streams"
code=$(curl -s --max-time 5 -o "$T/c" -D "$T/h" -w '%{http_code}' "$BASE_URL/stream")
assert_eq "$code" 200 "third stream over --max-clients 2: 200, so that EventSource retries"
assert_contains "$(cat "$T/h")" "text/event-stream" "an event stream"
assert_eq "$(cat "$T/c")" "$(printf 'retry: 5000\n\n')" "only retry: (5 s: another responder may have room)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 200 "REST still served at the stream limit"
kill "$b"; wait "$b" 2>/dev/null
wait_until 5 bash -c "curl -s --max-time 0.5 '$BASE_URL/stream' | grep -q '^retry: 2000'" \
    || fail "slot not freed after a client left"
ok "--max-clients: a retry-only 200, slot freed when a client leaves"

# A reader that never reads (tiny receive window), and stream a (reading).
python3 - "$NGINX_PORT" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /stream?preload=0 HTTP/1.1\r\nHost: t\r\n\r\n")
time.sleep(120)
PY
slow=$!
bf_track "$slow"
sleep 0.5
# ~18 MB of events: several times what the socket buffers between us and
# the slow reader hold (its 4 KB window, nginx's send buffer of up to 4 MB,
# the responder's 256 KB), paced to at most ~6 MB/s. The reading stream
# (curl) has about as much buffered on its side (nginx's send buffer and its
# own receive window), so it is cut off only if it stops reading for well
# over a second — the pace keeps a loaded machine from making it look slow.
N=3000
cat >"$T/gen.py" <<'PY'
import json, sys, time
pad = "x" * 6000
for i in range(int(sys.argv[1])):
    sys.stdout.write(json.dumps({"id": str(i + 1), "text": "big %d %s" % (i, pad), "user": {"screen_name": "u"},
                                 "created_at": "2024-05-01T00:00:00Z"}) + "\n")
    if i % 20 == 19:
        sys.stdout.flush()
        time.sleep(0.02)
PY
python3 "$T/gen.py" "$N" | "$BF" ingest >"$T/ingest.out" 2>&1 || fail "ingest: $(cat "$T/ingest.out")"
last=$(rcli XREVRANGE "${BIRDFEED_PREFIX}tweets" + - COUNT 1 | head -1)
wait_until 30 grep -q "^id: $last" "$T/a" || fail "reading stream did not get the last event"
assert_eq "$(sse_ids "$T/a" | sort -u | wc -l)" "$N" "reading stream got all $N events once"
assert_eq "$(sse_ids "$T/a" | wc -l)" "$N" "no duplicates"
python3 - "$T/a" "$N" <<'PY' || fail "event data damaged in transit (records split across partial writes)"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("data: "):
        t = json.loads(line[6:])
        assert t["text"].endswith(" " + "x" * 6000), t["id"]
        n += 1
assert n == int(sys.argv[2]), n
PY
log_grep "$T/fcgi.log" -q 'event=stream.slow_client' || fail "slow client not cut off"
health=$(curl -s "$BASE_URL/api/health")
assert_contains "$health" '"slow_cutoffs":1,' "health counts the cut-off"
assert_contains "$health" '"streams":1,' "health counts the open stream"
ok "a client that stops reading is cut off at its cap; the other got all $N events"

# SIGTERM with open streams: each gets a clean end, the process is gone within 2 s.
curl -sN "$BASE_URL/stream?preload=0" >"$T/d" & d=$!
wait_until 10 grep -q '^retry:' "$T/d" || fail "stream d"
t0=$(date +%s%N)
stop_fcgi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$a"; ra=$?
wait "$d"; rd=$?
assert_eq "$ra" 0 "stream a ended cleanly (curl exit)"
assert_eq "$rd" 0 "stream d ended cleanly (curl exit)"
ok "SIGTERM: streams ended cleanly, responder exited in ${ms} ms"
