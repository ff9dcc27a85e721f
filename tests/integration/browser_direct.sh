#!/bin/bash
# Direct streams in a browser: plain `new EventSource(…)` objects in
# headless Chromium (tests/browser/resume.js), on a page nginx serves, read
# the responder's stream-listen port directly (another origin: CORS) while
# tweets flow ten a second, through two outages of the responder — stopped
# (SIGTERM) for 5 s, then killed with its workers (SIGKILL) and away for
# 5 s, when nothing at all answers the port (connection refused). Each
# EventSource keeps reconnecting by itself and resumes by Last-Event-ID; at
# the end each holds exactly the stream's tweets from its first on: nothing
# lost, nothing repeated, none closed for good. Then a private deployment:
# the page holds the reader-token cookie, and an EventSource on the stream
# port with withCredentials reads the private stream with it, while one
# without is refused (tests/browser/direct_private.js).
. "$(dirname "$0")/../lib.sh"

need_chromium

start_redis
SP=$(free_port) || fail "no free port"
FCGI_ARGS=(--workers 2 --heartbeat-ms 2000 --retry-ms 1000 --stream-listen "127.0.0.1:$SP" --cors-origins '*')
start_fcgi "${FCGI_ARGS[@]}"
start_nginx
wait_until 10 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "health never answered"
wait_until 10 bash -c "curl -s -m 1 -o /dev/null 'http://127.0.0.1:$SP/stream?preload=0'; [ \$? = 28 ]" \
    || fail "nothing streams on the stream-listen port"

publish_ticker "direct tweet number"
responder_away_script "$T/responder-away.sh" "$SP" "${FCGI_ARGS[@]}"
export BF_STEPS="[{\"name\":\"responder stopped (SIGTERM) for 5 s\",\"cmd\":\"bash $T/responder-away.sh TERM\"},
                  {\"name\":\"responder killed (SIGKILL), nothing on the port for 5 s\",\"cmd\":\"bash $T/responder-away.sh KILL\"}]"
export BF_STREAM_PATH="http://127.0.0.1:$SP/stream?preload=0"
export BF_PER_SERVER=3
resume_env

timeout 150 node "$BF_ROOT/tests/browser/resume.js" "$BASE_URL/" 2>&1 | tee "$T/resume.log"
rc=${PIPESTATUS[0]}
resume_cleanup fcgi.pids
[ "$rc" -eq 0 ] || fail "EventSources on the stream port did not all resume (exit $rc)"
ok "EventSource on a direct stream never gives up: a stopped and a killed responder, resumed with nothing lost or repeated"

# A private deployment: the page's origin (nginx's) named in cors-origins.
ADMIN="admin-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$ADMIN" >"$T/tokens"; chmod 600 "$T/tokens"
head -c 48 /dev/urandom | base64 >"$T/jwt.key"; chmod 600 "$T/jwt.key"
pid=$(cat "$T/fcgi.pid")                    # the last one the steps started: not this shell's child
kill -TERM "$pid"
wait_until 5 bash -c "! kill -0 $pid 2>/dev/null" || fail "the responder did not stop"
restart_fcgi --stream-listen "127.0.0.1:$SP" --auth-reads 1 --tokens-file "$T/tokens" --jwt-secret-file "$T/jwt.key" \
    --cors-origins "http://127.0.0.1:$NGINX_PORT"
wait_until 10 bash -c "curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$SP/stream' | grep -q 401" \
    || fail "the private stream port never answered 401 without a token"
BF_READER=$(curl -s -m 3 -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    --data '{"ttl":600}' "$BASE_URL/api/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
    || fail "mint a reader token"
export BF_READER
timeout 60 node "$BF_ROOT/tests/browser/direct_private.js" "$BASE_URL/" "http://127.0.0.1:$SP/stream?preload=3" 2>&1 \
    | tee "$T/private.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the private direct stream in the browser"
no_sanitizer_report "$T/fcgi.log"
ok "private direct streams in the browser: withCredentials sends the reader-token cookie to the stream port"
