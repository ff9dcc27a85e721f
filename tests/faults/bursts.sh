#!/bin/bash
# Thousands of stream connections opened and dropped in bursts (half closed
# cleanly, half reset) while 5 long-lived clients stream: the long-lived ones
# get every tweet once, in order; after each burst the workers' fds return to
# their baseline and memory stays bounded; REST keeps answering.
. "$(dirname "$0")/lib.sh"
start_redis
start_fcgi --workers 2 --heartbeat-ms 1000
start_nginx
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ]" || fail "two workers"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
BASE=1700000000000
publish_tweet "$BASE-0" '{"id":"0","text":"start","user":{"screen_name":"f"}}'
N=300
seq -f "%.0f-0" $((BASE + 1)) $((BASE + N)) >"$T/want"
sse_clients 5 "$T/c" "$BASE-0" "$((BASE + N))-0" 100
# Baseline once warm: the long-lived streams open, each worker's REST Redis
# connection made (opened lazily by the first request a worker serves).
warm_rest
sleep 1
declare -A fd0 rss0
for w in $(workers); do fd0[$w]=$(proc_fds "$w"); rss0[$w]=$(proc_rss_kb "$w"); done
python3 "$BF_ROOT/tests/faults/publisher.py" "$REDIS_PORT" "$BIRDFEED_PREFIX" "$BASE" "$N" 10 >"$T/pub.out" & pub=$!
bf_track "$pub"

cat >"$T/burst.py" <<'PY'
import selectors, socket, struct, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
socks, opened = [], 0
for i in range(count):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
    sel.register(s, selectors.EVENT_WRITE, [i, b""])
deadline = time.time() + 30
pending = count
while pending and time.time() < deadline:
    for key, ev in sel.select(timeout=1):
        s, st = key.fileobj, key.data
        if ev & selectors.EVENT_WRITE and not st[1]:
            try:
                s.send(b"GET /stream?preload=0 HTTP/1.1\r\nHost: t\r\n\r\n")
            except OSError:
                pass
            st[1] = b" "
            sel.modify(s, selectors.EVENT_READ, st)
            continue
        try:
            c = s.recv(4096)
        except OSError:
            c = b""
        st[1] += c
        if b"\r\n\r\n" in st[1] or not c:
            if b" 200 " in st[1].split(b"\r\n")[0]:
                opened += 1
            sel.unregister(s)
            pending -= 1
for i, s in enumerate(socks):
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # reset
    s.close()
print(opened)
PY
for b in 1 2 3; do
    opened=$(python3 "$T/burst.py" "$NGINX_PORT" 1500)
    assert_ge "$opened" 1400 "burst $b: streams opened of 1500"
    for w in "${!fd0[@]}"; do
        settle_fds "$w" "${fd0[$w]}" 20 || fail "burst $b: worker $w still has $(proc_fds "$w") fds (baseline ${fd0[$w]})"
    done
    curl -sf "$BASE_URL/api/health" >/dev/null || fail "health after burst $b"
    echo "burst $b: $opened streams opened and dropped; fds $(for w in "${!fd0[@]}"; do printf '%s→%s ' "${fd0[$w]}" "$(proc_fds "$w")"; done)"
done
wait "$pub" || fail "publisher"
wait_clients "$T/c"
check_ids "$T/c" "$T/want"
ok "3 bursts of 1500 streams opened and dropped (half reset): the 5 long-lived clients got all $N tweets once, in order"
for w in "${!fd0[@]}"; do
    rss=$(proc_rss_kb "$w")
    echo "worker $w: RSS ${rss0[$w]} kB → $rss kB"
    rss_ok "$rss" "${rss0[$w]}" 32 || fail "worker $w RSS $rss kB, baseline ${rss0[$w]} kB"
done
kill -0 "$FCGI_PID" || fail "master gone"
[ "$(workers | tr '\n' ' ')" = "$(printf '%s\n' "${!fd0[@]}" | sort -n | tr '\n' ' ')" ] || fail "a worker was replaced (crashed?)"
no_sanitizer_report "$T/fcgi.log"
ok "fds back to baseline on every worker, RSS within 32 MB, same workers as at the start"
stop_fcgi
