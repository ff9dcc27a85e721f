#!/bin/bash
# web-server-addrs: who may speak FastCGI to the responder. nginx reaches the
# responder from a chosen loopback source address (fastcgi_bind): from an
# allowed address it is served, from another it gets 502 (the connection is
# closed unanswered). libfcgi checks IPv4 peers only (FCGI_WEB_SERVER_ADDRS,
# which the setting sets); birdfeed checks the others itself: an IPv6 peer
# and an IPv4 peer arriving on an IPv6 socket (::ffff:a.b.c.d) are refused
# the same way. A responder listening beyond loopback without the setting
# warns at start (checked on 0.0.0.0 inside a network namespace of its own,
# so nothing is exposed); on loopback, or with the setting, it does not.
. "$(dirname "$0")/../lib.sh"
start_redis

# ---- the setting --------------------------------------------------------------------
out=$("$BF_FCGI" --web-server-addrs '127.0.0.2, ::1' --check-config 2>&1) || fail "--check-config: $out"
assert_contains "$out" "web-server-addrs     = 127.0.0.2, ::1  (flag)" "--check-config"
out=$(BIRDFEED_WEB_SERVER_ADDRS=10.1.2.3 "$BF_FCGI" --check-config 2>&1) || fail "--check-config: $out"
assert_contains "$out" "web-server-addrs     = 10.1.2.3  (env)" "--check-config, from the environment"
out=$(FCGI_WEB_SERVER_ADDRS=10.1.2.4 "$BF_FCGI" --check-config 2>&1) || fail "--check-config: $out"
assert_contains "$out" "web-server-addrs     = 10.1.2.4  (env FCGI_WEB_SERVER_ADDRS)" "--check-config, libfcgi's variable"
for bad in 'nginx.local' '127.0.0.2,,127.0.0.3' '127.0.0.300' '127.0.0.2;127.0.0.3'; do
    out=$("$BF_FCGI" --web-server-addrs "$bad" --check-config 2>&1); rc=$?
    assert_eq "$rc" 2 "--web-server-addrs '$bad'"
    assert_contains "$out" "web-server-addrs: " "--web-server-addrs '$bad'"
done
out=$(FCGI_WEB_SERVER_ADDRS=nginx "$BF_FCGI" --check-config 2>&1); rc=$?
assert_eq "$rc" 2 "FCGI_WEB_SERVER_ADDRS=nginx"
assert_contains "$out" "(from FCGI_WEB_SERVER_ADDRS)" "FCGI_WEB_SERVER_ADDRS=nginx"
ok "--check-config shows web-server-addrs (flag, BIRDFEED_WEB_SERVER_ADDRS, FCGI_WEB_SERVER_ADDRS); host names, empty entries and bad addresses: exit 2"

# nginx_from SOURCE: an nginx in front of $FCGI_ADDR whose upstream connections
# leave from SOURCE (fastcgi_bind); sets URL.
nginx_from() {
    NGINX_SED="s#^\( *\)fastcgi_pass birdfeed;#\1fastcgi_pass birdfeed; fastcgi_bind $1;#" start_nginx
    grep -q "fastcgi_bind $1;" "$T/nginx/birdfeed.conf" || fail "no fastcgi_pass line to add fastcgi_bind to"
    URL=$BASE_URL
}
status() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$1/api/health"; }

# ---- IPv4: libfcgi's check ---------------------------------------------------------------
start_fcgi --web-server-addrs 127.0.0.2
wait_until 10 grep -q 'event=worker.ready' "$T/fcgi.log" || fail "responder not ready"
log_grep "$T/fcgi.log" -q 'event=fcgi.web_server_addrs allowed=127.0.0.2 from=web-server-addrs' || fail "the list is not logged"
log_grep "$T/fcgi.log" -q 'fcgi.unguarded' && fail "a warning on loopback: $(grep unguarded "$T/fcgi.log")"
nginx_from 127.0.0.2; allowed=$URL
nginx_from 127.0.0.3; refused=$URL
assert_eq "$(status "$allowed")" 200 "/api/health through nginx from 127.0.0.2 ($(cat "$T/body"))"
timeout 2 curl -sN -D "$T/sh" "$allowed/stream?preload=0" >/dev/null
assert_contains "$(cat "$T/sh")" "text/event-stream" "a stream through nginx from 127.0.0.2"
assert_eq "$(status "$refused")" 502 "/api/health through nginx from 127.0.0.3"
log_grep "$T/nginx/error.log" -q 'upstream prematurely closed\|Connection reset by peer' || fail "nginx did not log the closed connection"
assert_eq "$(status "$allowed")" 200 "the allowed nginx, after the refusal"
ok "listening on 127.0.0.1, web-server-addrs 127.0.0.2: nginx from 127.0.0.2 served, from 127.0.0.3 refused (502)"

# ---- IPv6 and IPv4 on an IPv6 socket: birdfeed's own check ------------------------------
# start_at ADDR LOG ARGS…: a responder listening on ADDR:<free port> (ADDR as
# birdfeed takes it, e.g. [::1]); sets FCGI_PID, FCGI_ADDR.
start_at() { local addr=$1 log=$2; shift 2; bf_start birdfeed-fcgi "$log" start_at_once "$addr" "$log" "$@"; }
start_at_once() {
    local addr=$1 log=$2 port; shift 2
    port=$(free_port) || return 1
    "$BF_FCGI" --listen "$addr:$port" "$@" >>"$log" 2>&1 &
    FCGI_PID=$!; BF_START_PID=$FCGI_PID; FCGI_ADDR=$addr:$port
    bf_track "$FCGI_PID"
    bf_wait_serving 10 "$FCGI_PID" "$port" "$addr"
}
start_at '[::1]' "$T/v6.log" --web-server-addrs 127.0.0.2
nginx_from ::1
assert_eq "$(status "$URL")" 502 "/api/health from ::1, only 127.0.0.2 allowed"
wait_until 5 grep -q 'event=fcgi.peer_refused peer=::1 refused=1' "$T/v6.log" || fail "no refusal logged: $(tail -3 "$T/v6.log")"
start_at '[::1]' "$T/v6b.log" --web-server-addrs '127.0.0.2,::1'
nginx_from ::1
assert_eq "$(status "$URL")" 200 "/api/health from ::1, ::1 allowed"
ok "IPv6 (libfcgi lets every IPv6 peer in): ::1 refused unless listed, served when listed"

start_at '[::ffff:127.0.0.1]' "$T/mapped.log" --web-server-addrs 127.0.0.2
FCGI_ADDR=127.0.0.1:${FCGI_ADDR##*:}   # nginx connects over IPv4; the responder's IPv6 socket takes it
nginx_from 127.0.0.3
assert_eq "$(status "$URL")" 502 "/api/health from 127.0.0.3 on an IPv6 socket"
wait_until 5 grep -q 'event=fcgi.peer_refused peer=::ffff:127.0.0.3' "$T/mapped.log" || fail "no refusal logged: $(tail -3 "$T/mapped.log")"
nginx_from 127.0.0.2
assert_eq "$(status "$URL")" 200 "/api/health from 127.0.0.2 on an IPv6 socket"
ok "an IPv6 socket taking IPv4 peers (::ffff:127.0.0.3): refused unless listed, 127.0.0.2 served"

# A refused peer is closed at once: one that sends a whole request and then
# a byte every 0.3 s without ever closing must not hold the one acceptor
# (a lingering close would read it as long as bytes keep coming).
start_at '[::ffff:127.0.0.1]' "$T/linger.log" --web-server-addrs 127.0.0.2 --acceptors 1
port=${FCGI_ADDR##*:}
/usr/bin/python3 - "$port" >"$T/trickle.out" 2>&1 <<'PY' &
import socket, struct, sys, time
def rec(t, body):
    return struct.pack(">BBHHBB", 1, t, 1, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
params = pair(b"REQUEST_METHOD", b"GET") + pair(b"SCRIPT_NAME", b"/api/health") + pair(b"REQUEST_URI", b"/api/health")
s = socket.socket()
s.bind(("127.0.0.3", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(rec(1, struct.pack(">HB5x", 1, 0)) + rec(4, params) + rec(4, b""))
closed = "open"
for _ in range(100):               # 30 s of a byte every 0.3 s
    time.sleep(0.3)
    try:
        s.sendall(b"x")
    except OSError:
        closed = "closed"
        break
print("trickler: connection " + closed)
PY
trickle=$!
bf_track "$trickle"
wait_until 5 grep -q 'event=fcgi.peer_refused peer=::ffff:127.0.0.3' "$T/linger.log" || fail "trickler not refused: $(tail -3 "$T/linger.log")"
FCGI_ADDR=127.0.0.1:$port
nginx_from 127.0.0.2
assert_eq "$(status "$URL")" 200 "/api/health from 127.0.0.2 while a refused peer trickles bytes (one acceptor)"
wait_until 10 grep -q 'trickler: connection closed' "$T/trickle.out" || fail "the refused connection was not closed: $(cat "$T/trickle.out")"
ok "a refused peer is closed at once: a trickling one neither holds the acceptor nor stays open"

# A refused peer that connects and sends nothing is closed before a byte is
# read: libfcgi would read (blocking, without a deadline) for the request it
# never sends, holding the one acceptor from everyone else.
/usr/bin/python3 - "$port" >"$T/silent.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.3", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
try:
    print("silent: connection " + ("closed" if s.recv(1) == b"" else "answered"))
except socket.timeout:
    print("silent: connection left open")
except OSError as e:
    print("silent: connection closed (%s)" % e)
PY
silent=$!
bf_track "$silent"
sleep 0.5
assert_eq "$(status "$URL")" 200 "/api/health from 127.0.0.2 while a refused peer sits silent (one acceptor)"
wait_until 5 grep -q 'silent: connection closed' "$T/silent.out" || fail "the silent refused peer was not closed: $(cat "$T/silent.out")"
ok "a refused peer that sends nothing is closed before anything is read from it; the acceptor serves the web server"

# ---- the warning ---------------------------------------------------------------------------
# in_netns LOG ARGS…: a responder in a new network namespace (only its own
# loopback: nothing outside can reach it), until it is ready; then stopped.
in_netns() {
    local log=$1 pid; shift
    unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$BF_FCGI" "$@" >"$log" 2>&1 & pid=$!
    bf_track "$pid"
    wait_until 10 grep -q 'event=worker.ready' "$log" || fail "responder in a network namespace: $(tail -3 "$log")"
    stop_fcgi "$pid"
}
in_netns "$T/any.log" --listen "0.0.0.0:$(free_port)"
log_grep "$T/any.log" -q 'level=warn .*event=fcgi.unguarded listen=0.0.0.0:[0-9]* is reachable beyond loopback and web-server-addrs is unset' \
    || fail "no warning for 0.0.0.0: $(head -5 "$T/any.log")"
in_netns "$T/any6.log" --listen "[::]:$(free_port)"
log_grep "$T/any6.log" -q 'event=fcgi.unguarded listen=\[::\]:' || fail "no warning for [::]: $(head -5 "$T/any6.log")"
in_netns "$T/guarded.log" --listen "0.0.0.0:$(free_port)" --web-server-addrs 10.0.0.1
log_grep "$T/guarded.log" -q 'fcgi.unguarded' && fail "a warning although web-server-addrs is set"
in_netns "$T/lo.log" --listen "127.0.0.1:$(free_port)"
log_grep "$T/lo.log" -q 'fcgi.unguarded' && fail "a warning on loopback"
ok "the start warns on 0.0.0.0 and [::] without web-server-addrs, not with it, not on loopback"
no_sanitizer_report "$T/fcgi.log" "$T/v6.log" "$T/v6b.log" "$T/mapped.log"
