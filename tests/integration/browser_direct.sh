#!/bin/bash
# Direct streams in a browser: plain `new EventSource(…)` objects in
# headless Chromium (tests/browser/resume.js), on a page nginx serves, read
# the responder's stream-listen port directly (another origin: CORS) while
# tweets flow ten a second, through two outages of the responder — stopped
# (SIGTERM) for 5 s, then killed with its workers (SIGKILL) and away for
# 5 s, when nothing at all answers the port (connection refused). Each
# EventSource keeps reconnecting by itself and resumes by Last-Event-ID; at
# the end each holds exactly the stream's tweets from its first on: nothing
# lost, nothing repeated, none closed for good.
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

# Ten tweets a second until $T/stop appears.
(
    i=0
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        publish_tweet '*' "{\"id\":\"$i\",\"text\":\"direct tweet number $i\",\"user\":{\"screen_name\":\"d\"}}" \
            >/dev/null 2>&1 || true
        sleep 0.1
    done
    touch "$T/stopped"
) &
bf_track $!

# A step: take the responder away (SIGTERM, or SIGKILL with its workers) for
# 5 s, then start a new one on the same ports.
echo "$FCGI_PID" >"$T/fcgi.pid"
args=$(printf '%q ' "${FCGI_ARGS[@]}")      # quoted: '*' stays '*'
cat >"$T/responder-away.sh" <<SH
pid=\$(cat "$T/fcgi.pid")
workers=\$(pgrep -P "\$pid")
[ "\$1" = KILL ] && kill -KILL \$workers
kill -\$1 "\$pid"
for p in \$pid \$workers; do
    for _ in \$(seq 1 100); do kill -0 "\$p" 2>/dev/null || break; sleep 0.05; done
    kill -0 "\$p" 2>/dev/null && { echo "responder process \$p still running" >&2; exit 1; }
done
(exec 3<>/dev/tcp/127.0.0.1/$SP) 2>/dev/null && { echo "the stream port still answers" >&2; exit 1; }
sleep 5
"$BF_FCGI" --listen 127.0.0.1:$FCGI_PORT $args >>"$T/fcgi.log" 2>&1 </dev/null &
new=\$!
echo \$new >"$T/fcgi.pid"
echo \$new >>"$T/fcgi.pids"
for _ in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SP) 2>/dev/null && break; sleep 0.05; done
sleep 0.2
kill -0 \$new 2>/dev/null || { echo "the new responder did not start: \$(tail -n 2 "$T/fcgi.log")" >&2; exit 1; }
SH
key="${BIRDFEED_PREFIX}tweets"
export BF_STEPS="[{\"name\":\"responder stopped (SIGTERM) for 5 s\",\"cmd\":\"bash $T/responder-away.sh TERM\"},
                  {\"name\":\"responder killed (SIGKILL), nothing on the port for 5 s\",\"cmd\":\"bash $T/responder-away.sh KILL\"}]"
export BF_STREAM_PATH="http://127.0.0.1:$SP/stream?preload=0"
export BF_PER_SERVER=3
export BF_NEWEST="redis-cli -p $REDIS_PORT XREVRANGE '$key' + - COUNT 1 | head -n 1"
export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '$key' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
export BF_STOP="touch '$T/stop'; for _ in \$(seq 1 50); do [ -e '$T/stopped' ] && exit 0; sleep 0.1; done; exit 1"
export BF_PROFILE=$T/chromium-profile BF_CHROMIUM=$CHROMIUM

timeout 150 node "$BF_ROOT/tests/browser/resume.js" "$BASE_URL/" 2>&1 | tee "$T/resume.log"
rc=${PIPESTATUS[0]}
if [ -s "$T/fcgi.pids" ]; then while read -r p; do bf_track "$p"; done <"$T/fcgi.pids"; fi
[ "$rc" -eq 0 ] || fail "EventSources on the stream port did not all resume (exit $rc)"
no_sanitizer_report "$T/fcgi.log"
ok "EventSource on a direct stream never gives up: a stopped and a killed responder, resumed with nothing lost or repeated"
