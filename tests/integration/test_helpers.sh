#!/bin/bash
# The test helpers themselves (tests/lib.sh, tests/multihost.sh): every
# start_* helper survives a lost port race (free_port hands out a port another
# process binds first: the server fails with "Address already in use" and the
# helper starts it again on another port); a helper that gives up shows the
# server's log; a check over a log that does not exist fails and says so.
. "$(dirname "$0")/../lib.sh"

# A port held by a process that is not ours, for the whole test.
python3 - "$T/held" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
PY
bf_track $!
wait_until 10 test -s "$T/held" || fail "the port holder did not start"
HELD=$(cat "$T/held")

# free_port hands out the held port once after each arm_race, as if another
# process had bound it between free_port's check and the server's bind.
. "$BF_ROOT/tests/multihost.sh"
eval "real_$(declare -f free_port)"
free_port() { if rm "$T/race" 2>/dev/null; then echo "$HELD"; else real_free_port; fi; }
eval "real_$(declare -f free_port_on)"
free_port_on() { if rm "$T/race" 2>/dev/null; then echo "$HELD"; else real_free_port_on "$@"; fi; }
arm_race() { : >"$T/race"; }

# race WHAT PORTVAR CMD…: CMD starts a server on the held port first; it must
# come up on another port, having said it lost the first.
race() {
    local what=$1 var=$2; shift 2
    arm_race
    "$@" 2>"$T/$what.err" || fail "$what: start failed: $(cat "$T/$what.err")"
    [ ! -e "$T/race" ] || fail "$what: the race was never run (free_port not called)"
    [ "${!var}" != "$HELD" ] || fail "$what: runs on the port another process holds"
    assert_contains "$(cat "$T/$what.err")" "note: $what lost its port to another process (attempt 1)" "$what: the lost race is said"
    ok "$what started on a new port after losing port $HELD"
}

race redis REDIS_PORT start_redis
assert_eq "$(rcli ping)" PONG "redis answers on $REDIS_PORT"
race birdfeed-fcgi FCGI_PORT start_fcgi
race nginx NGINX_PORT start_nginx
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/health")" 200 "nginx → responder on the new ports"
race lighttpd LIGHTTPD_PORT start_lighttpd
race apache APACHE_PORT start_apache
race postgres PG_PORT start_postgres
assert_eq "$(pg_sql 'SELECT 1')" 1 "postgres answers on $PG_PORT"

# tests/multihost.sh: a Redis node and a Sentinel (here on 127.0.0.1).
race "redis node a" 'RN_PORT[a]' redis_node a 127.0.0.1
race "Sentinel 0" 'SENT_PORT[0]' sentinels a 127.0.0.1
assert_eq "$(sentinel_master)" "127.0.0.1:${RN_PORT[a]}" "the Sentinel names node a"

# A restart that must keep its port (restart_redis) waits for it instead.
kill_redis
port=$REDIS_PORT
restart_redis
assert_eq "$REDIS_PORT" "$port" "restart_redis keeps its port"
ok "restart_redis came back on port $port"

# Giving up shows the server's log: a server that cannot start at all.
out=$( (REDIS_PORT= start_redis --no-such-option yes) 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "a redis that cannot start was reported started"
assert_contains "$out" "redis did not start; the end of $T/redis/redis.log" "the give-up names the log"
assert_contains "$out" "no-such-option" "the give-up shows what the server said"
ok "a server that cannot start fails with its log"

# Checks over logs require the log.
out=$( (log_grep "$T/never-written.log" -q 'anything' && fail "matched") 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "a grep over a missing log passed"
assert_contains "$out" "log $T/never-written.log does not exist" "missing log named"
printf 'event=x\n' >"$T/some.log"
log_grep "$T/some.log" -q 'event=x' || fail "log_grep misses a line that is there"
! log_grep "$T/some.log" -q 'event=y' || fail "log_grep finds a line that is not there"
out=$( (need_log "$T/some.log" "$T/other.log") 2>&1) && fail "need_log passed with one log missing"
assert_contains "$out" "log $T/other.log does not exist" "need_log names the missing one"
ok "checks over a missing log fail and say so"
