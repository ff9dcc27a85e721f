#!/bin/bash
# Direct streams: birdfeed-fcgi --stream-listen serves GET /stream itself,
# without a web server, while nginx in front serves the API. Over a real
# redis and 2 workers sharing the port: the status line and headers a
# browser needs (HTTP/1.1, Connection: close, no FastCGI bytes), live events,
# heartbeats, preload, Last-Event-ID resume (header and query), ?q=, a
# private stream read with a reader token minted through nginx (cookie and
# ?access_token=), HEAD, CORS, the API refused here, malformed heads (400,
# 431, 505), a request body (400), a head that never ends (408), heads held
# open by many connections not stalling other streams, and SIGTERM ending
# the open streams within 2 s.
. "$(dirname "$0")/../lib.sh"

ADMIN="admin-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$ADMIN" >"$T/tokens"; chmod 600 "$T/tokens"
head -c 48 /dev/urandom | base64 >"$T/jwt.key"; chmod 600 "$T/jwt.key"

start_redis
for i in $(seq 1 20); do publish_tweet "1000-$i" "{\"id\":\"$i\",\"text\":\"tweet $i\"}" || fail "publish"; done
SP=$(free_port) || fail "no free port"
start_fcgi --workers 2 --stream-listen "127.0.0.1:$SP" --heartbeat-ms 300 --retry-ms 1500 \
    --cors-origins 'http://page.example' --tokens-file "$T/tokens" --jwt-secret-file "$T/jwt.key"
start_nginx
D="http://127.0.0.1:$SP"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"
wait_until 10 bash -c "curl -s -m 1 -o /dev/null '$D/stream?preload=0'; [ \$? = 28 ]" \
    || fail "nothing streams on the stream-listen port: $(tail -n 5 "$T/fcgi.log")"

# Live events, one at a time, with the headers a browser needs and no FastCGI framing.
curl -sN -D "$T/live.h" "$D/stream?preload=0" >"$T/live" &
cpid=$!
wait_until 10 grep -q '^retry: 1500' "$T/live" || fail "no retry: line"
for i in 21 22 23; do
    publish_tweet "1000-$i" "{\"id\":\"$i\",\"text\":\"live $i\"}"
    wait_until 10 grep -q "^id: 1000-$i" "$T/live" || fail "event $i did not arrive on its own"
done
wait_until 5 grep -q '^: ping' "$T/live" || fail "no heartbeat"
kill "$cpid"; wait "$cpid" 2>/dev/null
h=$(tr -d '\r' <"$T/live.h")
assert_eq "$(head -n 1 <<<"$h")" "HTTP/1.1 200 OK" "status line"
assert_contains "$h" "Connection: close" "the close ends the answer"
assert_contains "$h" "Content-Type: text/event-stream; charset=utf-8" "content type"
assert_contains "$h" "Cache-Control: no-cache" "cache-control"
grep -qi '^status:\|^transfer-encoding\|^content-length' <<<"$h" && fail "CGI or length headers on a direct stream: $h"
assert_eq "$(sse_ids "$T/live" | tr '\n' ' ')" "1000-21 1000-22 1000-23 " "live ids"
grep -q '^data: {"id":"22","text":"live 22"}$' "$T/live" || fail "data line"
LC_ALL=C grep -q $'[\x01\x06]' "$T/live" && fail "FastCGI record bytes in the stream"
ok "live events, retry: and heartbeats straight from the responder, HTTP/1.1 with Connection: close"

# Preload, resume (header and query), ?q=.
timeout 2 curl -sN "$D/stream?preload=5" >"$T/pre"
assert_eq "$(sse_ids "$T/pre" | tr '\n' ' ')" "1000-19 1000-20 1000-21 1000-22 1000-23 " "preload 5"
timeout 2 curl -sN -H 'Last-Event-ID: 1000-20' "$D/stream" >"$T/res"
assert_eq "$(sse_ids "$T/res" | tr '\n' ' ')" "1000-21 1000-22 1000-23 " "resume by header"
timeout 2 curl -sN "$D/x/stream?lastEventId=1000-22" >"$T/res"
assert_eq "$(sse_ids "$T/res" | tr '\n' ' ')" "1000-23 " "resume by query, under a prefix"
timeout 2 curl -sN "$D/stream?q=live%2022" >"$T/q"
assert_eq "$(sse_ids "$T/q" | tr '\n' ' ')" "1000-22 " "?q= selects"
ok "preload, Last-Event-ID resume (header and query) and ?q= as behind the web server"

# HEAD, CORS, the API refused here, bad parameters.
code=$(curl -s -m 3 -I -o "$T/head" -w '%{http_code}' "$D/stream")
assert_eq "$code" 200 "HEAD /stream"
code=$(curl -s -m 3 -o /dev/null -D "$T/cors" -w '%{http_code}' -H 'Origin: http://page.example' "$D/stream?preload=x")
assert_eq "$code" 400 "a bad preload"
assert_contains "$(tr -d '\r' <"$T/cors")" "Access-Control-Allow-Origin: http://page.example" "CORS on direct answers"
timeout 1 curl -s -D "$T/cors" -o /dev/null -H 'Origin: http://page.example' "$D/stream?preload=0"
assert_contains "$(tr -d '\r' <"$T/cors")" "Access-Control-Allow-Origin: http://page.example" "CORS on a direct stream"
assert_contains "$(tr -d '\r' <"$T/cors")" "Access-Control-Allow-Credentials: true" "a named origin may send the cookie"
curl -s -m 3 -o /dev/null -D "$T/cors" -H 'Origin: http://page.example' "$BASE_URL/api/health"
grep -qi '^access-control-allow-credentials' "$T/cors" && fail "credentials allowed through the web server: $(cat "$T/cors")"
code=$(curl -s -m 3 -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$D/api/health")
assert_eq "$code" 404 "the API on the stream port"
assert_contains "$(cat "$T/b")" "served through the web server" "404 says where the API is"
code=$(curl -s -m 3 -o "$T/b" -D "$T/h" -w '%{http_code}' -H 'Last-Event-ID: 12-x' "$D/stream")
assert_eq "$code" 400 "a bad Last-Event-ID"
assert_contains "$(cat "$T/h")" "application/json" "400 is JSON"
ok "HEAD, CORS (credentials for named origins on this port only), the API only through the web server, bad parameters 400 JSON"

# Malformed heads, a body, a head that never ends: a status and a JSON error each.
py() { timeout 20 python3 "$BF_ROOT/tests/integration/stream_direct.py" "$SP" "$@"; }
out=$(py garbage) || fail "garbage: $out"
assert_contains "$out" "HTTP/1.1 400 Bad Request" "garbage"
assert_contains "$out" '"malformed request line"' "garbage's reason"
out=$(py version) || fail "version: $out"
assert_contains "$out" "HTTP/1.1 505" "HTTP/2.0 in the request line"
out=$(py many-fields) || fail "many-fields: $out"
assert_contains "$out" "HTTP/1.1 431" "100 header fields"
out=$(py big-head) || fail "big-head: $out"
assert_contains "$out" "HTTP/1.1 431" "9 000 bytes of headers"
assert_contains "$out" "over 8192 bytes" "the long head's reason"
out=$(py body) || fail "body: $out"
assert_contains "$out" "HTTP/1.1 400" "a request body"
assert_contains "$out" "no request body" "the body's reason"
out=$(py two-lengths) || fail "two-lengths: $out"
assert_contains "$out" "HTTP/1.1 400" "a second Content-Length"
out=$(py no-host) || fail "no-host: $out"
assert_contains "$out" "HTTP/1.1 400" "an HTTP/1.1 request without Host"
assert_contains "$out" "without a Host header field" "the missing Host's reason"
out=$(py half-close) || fail "half-close: $out"
assert_contains "$out" "HTTP/1.1 200 OK" "a whole head, then half-closed"
out=$(py chatty) || fail "chatty: $out"
assert_contains "$out" "ended" "a stream whose client sends more"
py gone >/dev/null || fail "gone"
ok "malformed heads 400/431/505, bodies 400, a half-closed head answered, a chatty client cut off (JSON errors)"

# 300 connections sending half a head (answered 408 only after
# body-timeout-ms, 10 s here) do not keep a stream from opening.
py hold 300 >"$T/hold" &
hold=$!
sleep 1
timeout 2 curl -sN "$D/stream?preload=2" >"$T/during"
assert_eq "$(sse_ids "$T/during" | tr '\n' ' ')" "1000-22 1000-23 " "a stream beside 300 half heads"
wait "$hold" || fail "hold: $(cat "$T/hold")"
ok "heads held open by 300 connections do not stall other streams"

# A private stream: a reader token minted through nginx, used on the stream port.
tok=$(curl -s -m 3 -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    --data '{"ttl":600}' "$BASE_URL/api/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
    || fail "mint a reader token"
stop_fcgi
start_fcgi --stream-listen "127.0.0.1:$SP" --auth-reads 1 --tokens-file "$T/tokens" --jwt-secret-file "$T/jwt.key" \
    --cors-origins '*'
wait_until 10 bash -c "curl -s -o /dev/null -w '%{http_code}' '$D/stream' | grep -q 401" || fail "401 without a token"
timeout 2 curl -sN --cookie "theme=dark; birdfeed_token=$tok" "$D/stream?preload=1" >"$T/priv"
assert_eq "$(sse_ids "$T/priv")" "1000-23" "a private stream with the cookie"
timeout 2 curl -sN "$D/stream?preload=1&access_token=$tok" >"$T/priv"
assert_eq "$(sse_ids "$T/priv")" "1000-23" "a private stream with ?access_token="
timeout 1 curl -s -D "$T/cors" -o /dev/null -H 'Origin: http://any.example' "$D/stream?preload=0&access_token=$tok"
assert_contains "$(tr -d '\r' <"$T/cors")" "Access-Control-Allow-Origin: http://any.example" "'*' allows any origin"
grep -qi '^access-control-allow-credentials' "$T/cors" && fail "credentials allowed to an origin only '*' allows"
ok "private streams: reader tokens (cookie, ?access_token=) on the stream port"

# Full processes leave new streams to those with room: 2 workers of 20
# streams each take a burst of 30 at once, whichever worker each connection
# reached first (a full one stops accepting); then 2 workers of 2 hold 4
# streams opened one by one, and a 5th is answered "retry: 5000" (every
# process full).
stop_fcgi
start_fcgi --workers 2 --max-clients 20 --stream-listen "127.0.0.1:$SP" --retry-ms 1500
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SP" || fail "stream port after restart"
out=$(py burst 30 0) || fail "burst: $out"
assert_eq "$out" "served 30 full 0" "a burst of 30 streams on 2 workers of 20"
stop_fcgi
start_fcgi --workers 2 --max-clients 2 --stream-listen "127.0.0.1:$SP" --retry-ms 1500 --body-timeout-ms 700
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SP" || fail "stream port after restart"
out=$(py slow-head) || fail "slow-head: $out"
assert_contains "$out" "HTTP/1.1 408" "a head that never ends"
ok "a late head: 408 after body-timeout-ms"
fill=()
for i in 1 2 3 4; do
    curl -sN "$D/stream?preload=1" >"$T/fill$i" &
    fill+=($!)
    wait_until 5 grep -q '^id: ' "$T/fill$i" || fail "stream $i of 4 was not served: $(tr -d '\r' <"$T/fill$i" | head -c 200)"
done
out=$(curl -sN -m 3 "$D/stream?preload=1" | tr -d '\r')
assert_eq "$out" "retry: 5000" "a 5th stream when every process is full"
kill "${fill[0]}"; wait "${fill[0]}" 2>/dev/null
wait_until 5 bash -c "timeout 1 curl -sN '$D/stream?preload=1' | grep -q '^id: '" || fail "a slot freed by a gone stream"
kill "${fill[@]:1}" 2>/dev/null; wait "${fill[@]:1}" 2>/dev/null
ok "full processes leave new streams to those with room; when all are full, retry: 5000 at once"

# SIGTERM ends the open direct streams within 2 s, cleanly.
curl -sN --cookie "birdfeed_token=$tok" "$D/stream?preload=0" >"$T/last" &
cpid=$!
wait_until 10 grep -q '^retry:' "$T/last" || fail "stream before SIGTERM"
stop_fcgi
wait_until 5 bash -c "! kill -0 $cpid 2>/dev/null" || fail "the stream stayed open after the responder stopped"
ok "SIGTERM: the direct streams end, clean exit, no sanitizer report"
