#!/bin/bash
# EventSource never gives up: plain `new EventSource(…)` objects in headless
# Chromium (tests/browser/resume.js — no page code, no retry logic of our
# own), two through each of the shipped nginx, lighttpd and Apache configs,
# while tweets flow ten a second. The responder is stopped for 5 s
# (SIGTERM), then killed with its workers (SIGKILL) and left away for 5 s: the web servers
# answer the reconnects with a 200 event stream holding only "retry:", so
# every EventSource keeps reconnecting by itself and, once the responder is
# back, resumes by Last-Event-ID. At the end each one holds exactly the
# stream's tweets from its first on: nothing lost, nothing repeated, none
# closed for good.
. "$(dirname "$0")/../lib.sh"

need_chromium

start_redis
FCGI_ARGS=(--workers 2 --heartbeat-ms 2000 --retry-ms 1000)
start_fcgi "${FCGI_ARGS[@]}"
start_nginx
start_lighttpd
start_apache
wait_until 10 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "health never answered"

# Ten tweets a second until $T/stop appears.
(
    i=0
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        publish_tweet '*' "{\"id\":\"$i\",\"text\":\"resume test tweet number $i\",\"user\":{\"screen_name\":\"r\"}}" \
            >/dev/null 2>&1 || true
        sleep 0.1
    done
    touch "$T/stopped"
) &
bf_track $!

# A step: take the responder away for 5 s (SIGTERM or SIGKILL), start a
# new one on the same port. Its pid goes to $T/fcgi.pid for cleanup.
echo "$FCGI_PID" >"$T/fcgi.pid"
cat >"$T/responder-away.sh" <<SH
pid=\$(cat "$T/fcgi.pid")
workers=\$(pgrep -P "\$pid")
# SIGKILL is a crash: the workers die with the master (SIGTERM: the master stops them).
[ "\$1" = KILL ] && kill -KILL \$workers
kill -\$1 "\$pid"
for p in \$pid \$workers; do
    for _ in \$(seq 1 100); do kill -0 "\$p" 2>/dev/null || break; sleep 0.05; done
    kill -0 "\$p" 2>/dev/null && { echo "responder process \$p still running" >&2; exit 1; }
done
sleep 5
"$BF_FCGI" --listen 127.0.0.1:$FCGI_PORT ${FCGI_ARGS[*]} >>"$T/fcgi.log" 2>&1 </dev/null &
echo \$! >"$T/fcgi.pid"
echo \$! >>"$T/fcgi.pids"
for _ in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$FCGI_PORT) 2>/dev/null && exit 0; sleep 0.05; done
exit 1
SH
key="${BIRDFEED_PREFIX}tweets"
export BF_STEPS="[{\"name\":\"responder stopped (SIGTERM) for 5 s\",\"cmd\":\"bash $T/responder-away.sh TERM\"},
                  {\"name\":\"responder killed (SIGKILL), back after 5 s\",\"cmd\":\"bash $T/responder-away.sh KILL\"}]"
export BF_NEWEST="redis-cli -p $REDIS_PORT XREVRANGE '$key' + - COUNT 1 | head -n 1"
export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '$key' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
export BF_STOP="touch '$T/stop'; for _ in \$(seq 1 50); do [ -e '$T/stopped' ] && exit 0; sleep 0.1; done; exit 1"
export BF_PROFILE=$T/chromium-profile BF_CHROMIUM=$CHROMIUM

timeout 240 node "$BF_ROOT/tests/browser/resume.js" "$BASE_URL/" "$LIGHTTPD_URL/" "$APACHE_URL/" 2>&1 | tee "$T/resume.log"
rc=${PIPESTATUS[0]}
if [ -s "$T/fcgi.pids" ]; then while read -r p; do bf_track "$p"; done <"$T/fcgi.pids"; fi
[ "$rc" -eq 0 ] || fail "EventSources did not all resume (exit $rc)"

# The outages were really answered by the web servers: nginx logs the
# responder's 502 next to the 200 the browser got.
log_grep "$T/nginx/birdfeed-access.log" -q ' 200 13 .*upstream=502' \
    || fail "nginx never answered a stream with the retry answer: $(tail -n 3 "$T/nginx/birdfeed-access.log")"
no_sanitizer_report "$T/fcgi.log"
ok "EventSource never gives up: nginx, lighttpd and Apache answer a missing responder with retry"
