#!/bin/bash
# --workers N: the master forks N workers sharing the socket, restarts one that
# dies, forwards SIGHUP, and on SIGTERM everything ends within 2 s; no worker
# outlives a master that dies (SIGKILL).
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --workers 2 --log-file "$T/fcgi-file.log"
start_nginx
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ]" || fail "two workers"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"
ok "master with 2 workers"

# Open streams until both workers hold some (the kernel picks which worker
# accepts), so killing one always leaves streams on the other.
streams=0
held_by() { ss -Htnp state established "( sport = :$FCGI_PORT )" | grep -c "pid=$1,"; }
workers=$(pgrep -P "$FCGI_PID" | tr '\n' ' ')
w1=${workers%% *}; w2=$(echo $workers | cut -d' ' -f2)
while [ "$streams" -lt 40 ]; do
    streams=$((streams + 1))
    curl -sN "$BASE_URL/stream?preload=0" >"$T/s$streams" &
    wait_until 10 grep -q '^retry:' "$T/s$streams" || fail "stream $streams did not open"
    [ "$streams" -ge 4 ] && [ "$(held_by "$w1")" -ge 1 ] && [ "$(held_by "$w2")" -ge 1 ] && break
done
victim=$w1
survivor_streams=$(held_by "$w2")
assert_ge "$survivor_streams" 1 "streams held by the worker that stays"
kill -KILL "$victim"
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ] && ! pgrep -P $FCGI_PID | grep -qx $victim" \
    || fail "killed worker not restarted"
log_grep "$T/fcgi-file.log" -q 'event=master.worker_died' || fail "death not logged"
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health after restart"
publish_tweet "5000-1" '{"id":"1","text":"after a worker died"}'
got=0
for k in $(seq 1 "$streams"); do wait_until 3 grep -q '^id: 5000-1' "$T/s$k" && got=$((got + 1)); done
assert_eq "$got" "$survivor_streams" "every stream of the surviving worker receives, the killed one's ended"
ok "a killed worker is restarted; the other's streams go on"

mv "$T/fcgi-file.log" "$T/fcgi-file.log.1"
kill -HUP "$FCGI_PID"
wait_until 5 test -s "$T/fcgi-file.log" || fail "SIGHUP did not reopen the log"
log_grep "$T/fcgi-file.log" -q 'event=worker.reload' || fail "workers did not reload"
ok "SIGHUP reopens the log in master and workers"

kids=$(pgrep -P "$FCGI_PID" | tr '\n' ' ')
stop_fcgi
for p in $kids; do kill -0 "$p" 2>/dev/null && fail "worker $p outlived the master"; done
ok "SIGTERM: master and workers gone within 2 s"

# A master killed (SIGKILL) just after it restarted a worker: the new worker
# must not live on alone, holding the port (a new master could not bind it)
# and serving with one worker's --max-clients. The kernel sends it SIGTERM
# when the master dies; it ends its streams and exits.
restart_fcgi --workers 2 --log-file "$T/fcgi-file.log"
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ]" || fail "two workers after the restart"
first=$(pgrep -P "$FCGI_PID" | head -n 1)
kill -KILL "$first"
wait_until 10 bash -c "[ \$(pgrep -c -P $FCGI_PID) -eq 2 ] && ! pgrep -P $FCGI_PID | grep -qx $first" \
    || fail "the killed worker was not restarted"
kids=$(pgrep -P "$FCGI_PID" | tr '\n' ' ')
kill -KILL "$FCGI_PID"; wait "$FCGI_PID" 2>/dev/null
for p in $kids; do
    wait_until 5 bash -c "! kill -0 $p 2>/dev/null" || fail "worker $p outlived its master (SIGKILL) by 5 s"
done
restart_fcgi --workers 2
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health from the master started next"
ok "a master killed just after restarting a worker: every worker ends, the next master takes the port"
