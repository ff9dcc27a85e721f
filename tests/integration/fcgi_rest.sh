#!/bin/bash
# birdfeed-fcgi's REST plumbing through real nginx and redis: routing under any
# mount point, JSON errors (404, 405 + Allow, 400), GET /api/health.
. "$(dirname "$0")/../lib.sh"

"$BF_FCGI" --help | grep -q -- '--listen' || fail "--help lists --listen"
"$BF_FCGI" --check-config | grep -q '^heartbeat-ms' || fail "--check-config prints settings"
out=$("$BF_FCGI" --workers 0 2>&1); [ $? -eq 2 ] || fail "--workers 0 is a usage error"
assert_contains "$out" "--workers" "usage error names the flag"
out=$("$BF_FCGI" </dev/null 2>&1); [ $? -eq 2 ] || fail "fd 0 not a socket exits 2"
assert_contains "$out" "not a socket" "fd 0 check says why"
ok "command line: --help, --check-config, usage errors, fd 0 check"

start_redis
start_fcgi
start_nginx
body=$(curl -s -D "$T/h" "$BASE_URL/api/health")
assert_contains "$(cat "$T/h")" "200" "health status"
assert_contains "$(cat "$T/h")" "application/json; charset=utf-8" "health content type"
assert_contains "$body" '"redis":"ok"' "health body"
ok "GET /api/health 200 when redis answers"

code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$BASE_URL/api/nope")
assert_eq "$code" 404 "unknown route"
assert_contains "$(cat "$T/b")" '"error":{"code":"not_found"' "404 body"
assert_contains "$(cat "$T/h")" "X-Content-Type-Options: nosniff" "nosniff"
assert_contains "$(cat "$T/h")" "Cache-Control: no-store" "no-store"
ok "unknown route: 404 JSON"

code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' -X POST --data '{}' "$BASE_URL/api/health")
assert_eq "$code" 405 "wrong method"
assert_contains "$(cat "$T/h")" "Allow: GET" "405 Allow"
assert_contains "$(cat "$T/b")" '"code":"method_not_allowed"' "405 body"
ok "wrong method: 405 + Allow"

code=$(curl -s -o "$T/b" -w '%{http_code}' "$BASE_URL/api/health?x=%ZZ")
assert_eq "$code" 400 "malformed query"
assert_contains "$(cat "$T/b")" 'malformed percent escape' "400 says why"
code=$(curl -s -o "$T/b" -w '%{http_code}' "$BASE_URL/api/health?x=%C3%28")
assert_eq "$code" 400 "invalid UTF-8 in query"
code=$(curl -s -o "$T/b" -w '%{http_code}' "$BASE_URL/api/health?x=a%00b")
assert_eq "$code" 400 "NUL in query"
ok "malformed queries: 400 JSON"

# Mounted under a prefix: the same routes answer.
nginx_port_root=$NGINX_PORT
start_nginx /birdfeed
code=$(curl -s -o "$T/b" -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 200 "health under /birdfeed"
code=$(curl -s -o "$T/b" -w '%{http_code}' "$BASE_URL/api/other")
assert_eq "$code" 404 "404 under /birdfeed"
ok "routes work under a mount prefix"

kill_redis
code=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "http://127.0.0.1:$nginx_port_root/api/health")
assert_eq "$code" 503 "health with redis down"
assert_contains "$(cat "$T/b")" '"redis":' "503 names redis"
assert_contains "$(cat "$T/h")" "Retry-After" "503 Retry-After"
restart_redis
code=$(curl -s -o "$T/b" -w '%{http_code}' "http://127.0.0.1:$nginx_port_root/api/health")
assert_eq "$code" 200 "health after redis is back"
ok "health 503 while redis is down, 200 again after"

# The other two ways to get the listen socket: a unix socket path, and fd 0
# from spawn-fcgi (the FastCGI convention).
tcp_pid=$FCGI_PID
FCGI_UNIX=1 start_fcgi
start_nginx
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 200 "health over a unix socket (--listen PATH)"
stop_fcgi
[ -e "$FCGI_SOCK" ] && fail "socket file left behind after exit"
sp_port=$(free_port)
spawn-fcgi -n -a 127.0.0.1 -p "$sp_port" -- "$BF_FCGI" >>"$T/fcgi.log" 2>&1 &
sp_pid=$!; bf_track "$sp_pid"
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$sp_port" || fail "spawn-fcgi"
FCGI_ADDR=127.0.0.1:$sp_port
start_nginx
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 200 "health with the socket on fd 0 (spawn-fcgi)"
stop_fcgi "$sp_pid"
ok "listen socket: unix path (removed at exit) and fd 0 from spawn-fcgi"
FCGI_PID=$tcp_pid

kill -TERM "$FCGI_PID"
for _ in $(seq 1 40); do kill -0 "$FCGI_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$FCGI_PID" 2>/dev/null && fail "birdfeed-fcgi still running 2 s after SIGTERM"
wait "$FCGI_PID"; rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
ok "SIGTERM: idle responder exits 0 within 2 s"
