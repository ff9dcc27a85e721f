#!/bin/bash
# --workers N: the master forks N workers sharing the socket, restarts one that
# dies, forwards SIGHUP, and on SIGTERM everything ends within 2 s.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --workers 2 --log-file "$T/fcgi-file.log"
start_nginx
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ]" || fail "two workers"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
ok "master with 2 workers"

for k in 1 2 3 4; do curl -sN "$BASE_URL/stream?preload=0" >"$T/s$k" & done
wait_until 10 bash -c "for k in 1 2 3 4; do grep -q '^retry:' $T/s\$k || exit 1; done" || fail "streams open"
victim=$(pgrep -P "$FCGI_PID" | head -1)
kill -KILL "$victim"
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ] && ! pgrep -P $FCGI_PID | grep -qx $victim" \
    || fail "killed worker not restarted"
grep -q 'event=master.worker_died' "$T/fcgi-file.log" || fail "death not logged"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health after restart"
publish_tweet "5000-1" '{"id":"1","text":"after a worker died"}'
got=0
for k in 1 2 3 4; do wait_until 3 grep -q '^id: 5000-1' "$T/s$k" && got=$((got + 1)); done
assert_ge "$got" 1 "streams of the surviving worker still receive"
ok "a killed worker is restarted; the other's streams go on"

mv "$T/fcgi-file.log" "$T/fcgi-file.log.1"
kill -HUP "$FCGI_PID"
wait_until 5 test -s "$T/fcgi-file.log" || fail "SIGHUP did not reopen the log"
grep -q 'event=worker.reload' "$T/fcgi-file.log" || fail "workers did not reload"
ok "SIGHUP reopens the log in master and workers"

kids=$(pgrep -P "$FCGI_PID" | tr '\n' ' ')
stop_fcgi
for p in $kids; do kill -0 "$p" 2>/dev/null && fail "worker $p outlived the master"; done
ok "SIGTERM: master and workers gone within 2 s"
