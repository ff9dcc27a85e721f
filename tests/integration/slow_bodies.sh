#!/bin/bash
# Slow or stalled request bodies never hold the threads that open streams.
# Apache passes a body on to the responder as it arrives (nginx reads it
# whole first), so 50 connections send POST /api/filters through Apache one
# byte a second, with no token, to 2 workers × 4 acceptor threads; meanwhile
# new streams open through nginx on the same responders. Their first bytes
# must come within 2 s — a bound that only fails when acceptor threads are
# held (each held thread costs seconds), not a latency figure. The slow
# posts are answered 401 from their headers, before their bodies come
# (Apache hands the answer on once the body is in), and a slow body that
# could succeed (a valid token) gets 408 after --body-timeout-ms.
. "$(dirname "$0")/../lib.sh"
start_redis
echo "tok-$RANDOM$RANDOM" >"$T/tokens"; chmod 600 "$T/tokens"
TOKEN=$(cat "$T/tokens")
start_fcgi --workers 2 --acceptors 4 --tokens-file "$T/tokens" --body-timeout-ms 1500
start_nginx
start_apache
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"
wait_until 10 bash -c "curl -sf '$APACHE_URL/api/health' >/dev/null" || fail "apache does not reach the responder"

# slow.py PORT N SECONDS [TOKEN [REQUEST [HEADER]]]: N connections each send a
# POST /api/filters (or REQUEST, e.g. "PUT /api/filters/1", with one more
# HEADER line) whose body (SECONDS bytes) comes one byte a second; then
# print, per connection, the status line of the answer (Apache passes it on
# once the body is in).
cat >"$T/slow.py" <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
auth = "Authorization: Bearer %s\r\n" % sys.argv[4] if len(sys.argv) > 4 else ""
request = sys.argv[5] if len(sys.argv) > 5 else "POST /api/filters"
extra = sys.argv[6] + "\r\n" if len(sys.argv) > 6 else ""
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("%s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n%s%s\r\n" % (request, secs, auth, extra)).encode())
    conns.append(s)
for k in range(secs):
    time.sleep(1)
    for s in conns:
        s.sendall(b" ")
for s in conns:
    s.settimeout(10)
    try:
        print(s.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace") or "none")
    except OSError as e:
        print("error", e)
PY
python3 "$T/slow.py" "$APACHE_PORT" 50 12 >"$T/slow.out" & slow=$!
bf_track "$slow"
# Every slow post reached a responder and was answered from its headers
# alone, its body still on the way.
wait_until 5 bash -c "[ \$(grep -c 'event=auth.denied' '$T/fcgi.log') -eq 50 ]" \
    || fail "the slow posts were not all answered from their headers: $(grep -c 'event=auth.denied' "$T/fcgi.log")"
# first_byte PORT PATH: seconds from sending a GET to the first byte of the answer (9 when none in 8 s).
first_byte() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % sys.argv[2]).encode())
s.settimeout(8)
try:
    print("%.3f" % (time.time() - t0) if s.recv(1) else 9)
except OSError:
    print(9)
PY
}
for i in $(seq 1 8); do
    first=$(first_byte "$NGINX_PORT" "/stream?preload=0")
    awk -v t="$first" 'BEGIN { exit !(t < 2.0) }' \
        || fail "stream $i through nginx: first byte after ${first}s while slow bodies arrive through Apache"
done
ok "8 streams opened through nginx, each first byte within 2 s, while 50 slow bodies arrive through Apache"
kill -0 "$slow" || fail "the slow posts ended before the streams were tried"
wait "$slow" || fail "slow.py failed"
assert_eq "$(grep -c '^HTTP/1.1 401' "$T/slow.out")" 50 "every slow post got its 401"
ok "50 slow posts without a token were answered 401 from their headers, before their bodies came"

# A slow body with a valid token would be read: it is cut off at --body-timeout-ms.
python3 "$T/slow.py" "$APACHE_PORT" 1 5 "$TOKEN" >"$T/slow408.out" || fail "slow.py failed"
assert_eq "$(cat "$T/slow408.out")" "HTTP/1.1 408 Request Timeout" "a slow body with a token: 408"
ok "a body that does not arrive within --body-timeout-ms gets 408"

# If-Match is a header too: a PUT whose If-Match cannot match (a weak tag)
# is answered 412 from its headers, not 408 once its slow body timed out.
python3 "$T/slow.py" "$APACHE_PORT" 1 5 "$TOKEN" "PUT /api/filters/1" 'If-Match: W/"1"' >"$T/slow412.out" || fail "slow.py failed"
assert_eq "$(cat "$T/slow412.out")" "HTTP/1.1 412 Precondition Failed" "a slow PUT with a weak If-Match"
ok "PUT with an If-Match that cannot match: 412 from the headers, before the body"

# Answered connections were closed off the acceptors and none is left open.
wait_until 40 bash -c "[ \$(ss -tn state established '( sport = :$FCGI_PORT )' | tail -n +2 | wc -l) -eq 0 ]" \
    || fail "responder connections still open: $(ss -tn state established "( sport = :$FCGI_PORT )" | tail -n +2 | wc -l)"
ok "every answered connection closed"
stop_fcgi
