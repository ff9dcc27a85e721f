#!/bin/bash
# EventSource never gives up: plain `new EventSource(…)` objects in headless
# Chromium (tests/browser/resume.js — no page code, no retry logic of our
# own), two through each of the shipped nginx, lighttpd and Apache configs,
# while tweets flow ten a second, through five outages:
#   - the responder stopped (SIGTERM) for 5 s, then killed with its workers
#     (SIGKILL) and away for 5 s: the web servers answer the reconnects with
#     a 200 event stream holding only "retry: 2000";
#   - Redis stopped for 5 s (open streams may ride it out), then Redis down
#     while the responder restarts: the responder answers new streams with
#     200 and only "retry: 2000" until Redis is back;
#   - every responder over capacity for 5 s (--max-clients filled by other
#     streams): the responder answers 200 and only "retry: 5000".
# Each EventSource keeps reconnecting by itself and resumes by
# Last-Event-ID; at the end each holds exactly the stream's tweets from its
# first on: nothing lost, nothing repeated, none closed for good.
. "$(dirname "$0")/../lib.sh"

need_chromium

start_redis --appendonly yes --appendfsync always     # the stream survives a Redis restart
FCGI_ARGS=(--workers 2 --heartbeat-ms 2000 --retry-ms 1000 --max-clients 5)
start_fcgi "${FCGI_ARGS[@]}"
start_nginx
start_lighttpd
start_apache
wait_until 10 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "health never answered"

publish_ticker "resume test tweet number"
responder_away_script "$T/responder-away.sh" "$FCGI_PORT" "${FCGI_ARGS[@]}"
# Redis away for 5 s; with "restart", the responder restarts meanwhile, so
# every browser must open a new stream while Redis is down.
cat >"$T/redis-away.sh" <<SH
redis-cli -p $REDIS_PORT shutdown >/dev/null 2>&1
for _ in \$(seq 1 100); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 || break; sleep 0.05; done
if [ "\$1" = restart ]; then
    pid=\$(cat "$T/fcgi.pid"); kill -TERM "\$pid"
    for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
    "$BF_FCGI" --listen 127.0.0.1:$FCGI_PORT ${FCGI_ARGS[*]} >>"$T/fcgi.log" 2>&1 </dev/null &
    echo \$! >"$T/fcgi.pid"; echo \$! >>"$T/fcgi.pids"
fi
sleep 5
redis-server --port $REDIS_PORT --bind 127.0.0.1 --dir "$T/redis" --save '' --daemonize no \\
    --logfile "$T/redis/redis.log" --appendonly yes --appendfsync always </dev/null >/dev/null 2>&1 &
echo \$! >>"$T/redis.pids"
for _ in \$(seq 1 100); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && exit 0; sleep 0.05; done
exit 1
SH
# Every responder over capacity for 5 s: a new responder (--max-clients 5 per
# worker) whose slots other streams take first; the browsers' reconnects get
# the responder's own "retry: 5000" until those streams go.
cat >"$T/full.sh" <<SH
bash "$T/responder-away.sh" TERM 0 || exit 1
: >"$T/fillers"
# Streams (curl, held open) until three new streams in a row get only the
# responder's "retry: 5000"; "retry: 2000" means it has no Redis yet.
full=0
for _ in \$(seq 1 300); do
    case "\$(curl -s -m 1 "$BASE_URL/stream?preload=0" | tr -d '\\r')" in
        "retry: 5000") full=\$((full + 1)); [ \$full -ge 3 ] && break ;;
        "retry: 2000") full=0; sleep 0.1 ;;
        *) full=0; curl -sN -o /dev/null "$BASE_URL/stream?preload=0" </dev/null & echo \$! >>"$T/fillers" ;;
    esac
done
[ \$full -ge 3 ] || { echo "the responder never filled up" >&2; exit 1; }
sleep 5
kill \$(cat "$T/fillers") 2>/dev/null
exit 0
SH
export BF_STEPS="[{\"name\":\"responder stopped (SIGTERM) for 5 s\",\"cmd\":\"bash $T/responder-away.sh TERM\"},
                  {\"name\":\"responder killed (SIGKILL), back after 5 s\",\"cmd\":\"bash $T/responder-away.sh KILL\"},
                  {\"name\":\"Redis stopped for 5 s\",\"cmd\":\"bash $T/redis-away.sh\",\"quiet_ok\":true},
                  {\"name\":\"Redis down for 5 s while the responder restarts\",\"cmd\":\"bash $T/redis-away.sh restart\"},
                  {\"name\":\"every responder over capacity for 5 s\",\"cmd\":\"bash $T/full.sh\"}]"
resume_env

timeout 240 node "$BF_ROOT/tests/browser/resume.js" "$BASE_URL/" "$LIGHTTPD_URL/" "$APACHE_URL/" 2>&1 | tee "$T/resume.log"
rc=${PIPESTATUS[0]}
resume_cleanup fcgi.pids redis.pids fillers
[ "$rc" -eq 0 ] || fail "EventSources did not all resume (exit $rc)"

# The outages were really answered by the web servers: nginx logs the
# responder's 502 next to the 200 the browser got.
log_grep "$T/nginx/birdfeed-access.log" -q ' 200 13 .*upstream=502' \
    || fail "nginx never answered a stream with the retry answer: $(tail -n 3 "$T/nginx/birdfeed-access.log")"
# And the responder answered for itself while Redis was down or it was full.
log_grep "$T/nginx/birdfeed-access.log" -q ' 200 13 .*upstream=200' \
    || fail "the responder never answered a stream with only retry: $(tail -n 3 "$T/nginx/birdfeed-access.log")"
no_sanitizer_report "$T/fcgi.log"
ok "EventSource never gives up: a missing responder (web servers), Redis down and every responder full (the responder) all answer with retry"
