#!/bin/bash
# birdfeed-fcgi started the way deploy/systemd/birdfeed-fcgi.{socket,service}
# start it, without systemd: the listening socket already bound, handed over
# as fd 0 (StandardInput=socket), the unit's own ExecStart command line, the
# settings from birdfeed.env.example (EnvironmentFile=). Then nginx in front:
# health answers, events stream, and SIGTERM (systemd's KillSignal) ends it
# cleanly, workers included.
. "$(dirname "$0")/../lib.sh"

start_redis
svc=$BF_ROOT/deploy/systemd/birdfeed-fcgi.service
exec_start=$(sed -n 's/^ExecStart=//p' "$svc")
[ -n "$exec_start" ] || fail "no ExecStart= in $svc"
read -r -a argv <<<"$exec_start"
argv[0]=$BF_FCGI                               # /usr/local/bin/birdfeed-fcgi → this build
assert_contains "${argv[*]}" "--workers" "ExecStart runs several workers"

# EnvironmentFile=: the example's active lines, with Redis pointed at ours.
while IFS='=' read -r k v; do
    [ "$k" = BIRDFEED_REDIS ] && continue
    export "$k=$v"
done < <(grep -E '^BIRDFEED_[A-Z_]+=' "$BF_ROOT/deploy/systemd/birdfeed.env.example")
export BIRDFEED_PREFIX=bft:                    # the harness's prefix, as publish_tweet uses

# The socket unit's part: bind and listen, then exec the service with the
# socket as standard input (what systemd does for StandardInput=socket).
FCGI_PORT=$(free_port); FCGI_ADDR=127.0.0.1:$FCGI_PORT
python3 - "$FCGI_PORT" "${argv[@]}" >>"$T/fcgi.log" 2>&1 <<'PY' &
import os, socket, sys
port, argv = int(sys.argv[1]), sys.argv[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(4096)
os.dup2(s.fileno(), 0)
os.execv(argv[0], argv)
PY
FCGI_PID=$!
bf_track "$FCGI_PID"
start_nginx
wait_until 15 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "no health through nginx: $(tail -n 5 "$T/fcgi.log")"
assert_contains "$(curl -fsS "$BASE_URL/api/health")" '"redis":"ok"' "health"
ok "the unit's command line serves from the socket on fd 0 (${argv[*]:1})"

curl -sN "$BASE_URL/stream?preload=0" >"$T/live" 2>/dev/null &
cpid=$!
wait_until 10 grep -q '^retry:' "$T/live" || fail "stream did not start"
publish_tweet "3000-1" '{"id":"1","text":"socket activated"}'
wait_until 10 grep -q '^id: 3000-1' "$T/live" || fail "event did not arrive"
ok "events stream through it"

mapfile -t workers < <(pgrep -P "$FCGI_PID")
assert_ge "${#workers[@]}" 2 "worker processes"
kill -TERM "$FCGI_PID"
wait_until 5 bash -c "! kill -0 $FCGI_PID 2>/dev/null" || fail "still running 5 s after SIGTERM"
wait "$FCGI_PID"; rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
wait_until 5 bash -c "! kill -0 $cpid 2>/dev/null" || fail "the open stream was not ended"
for w in "${workers[@]}"; do kill -0 "$w" 2>/dev/null && fail "worker $w survived SIGTERM"; done
no_sanitizer_report "$T/fcgi.log"
ok "SIGTERM ends the streams and every worker; exit 0"
