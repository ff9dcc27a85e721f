#!/bin/bash
# The benchmark client itself: sseload must count exactly what a browser's
# EventSource would see. First against crafted streams (chunked and plain
# bodies cut into tiny pieces, CRLF / LF / lone-CR line ends, multi-line data,
# comments, typed events, a repeated and an out-of-order id, an unterminated
# last event, an HTTP error), then against a real nginx + Nchan fed by
# nchanpub, then the plateau (--pid-rss, --ready-file) hand-off, then the
# birdfeed stack itself (preload and live tweets through nginx).
. "$(dirname "$0")/../lib.sh"
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
NCHANPUB=$BIRDFEED_BUILD/tests/bench/nchanpub
[ -x "$SSELOAD" ] && [ -x "$NCHANPUB" ] || fail "build the bench programs first (make)"

# kv KEY LINE: the value of KEY in a key=value line.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tail -n 1; }

# --- crafted streams ------------------------------------------------------
cat >"$T/fixture.py" <<'EOF'
import socket, sys, threading, time
now = int(time.time() * 1e6)
body = (
    b"retry: 1000\r\n: comment\r\n\r\n"
    b"id: 1-1\r\nevent: tweet\r\ndata: {\"a\":1,\"sent_us\":" + str(now).encode() + b"}\r\n\r\n"
    b"id: 1-2\ndata: line1\ndata: line2 \"sent_us\":" + str(now).encode() + b"\n\n"
    b"id: 1-2\rdata: x\r\r"
    b"id: 1-1\ndata: y\n\n"
    b"event: reset\ndata: {}\n\n"
    b"id: 2-0\ndata\n\n"
    b"id: 3-0\n\n"
    b"data: never dispatched\n"
)
def chunked(b):
    out, i, sizes = b"", 0, [1, 7, 3, 30, 2, 11, 5]
    k = 0
    while i < len(b):
        n = sizes[k % len(sizes)]; k += 1
        out += b"%x\r\n" % len(b[i:i + n]) + b[i:i + n] + b"\r\n"
        i += n
    return out + b"0\r\n\r\n"
def serve(c):
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d: return
        req += d
    path = req.split(b" ")[1]
    if path == b"/chunked":
        data = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(body)
    elif path == b"/plain":
        data = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: close\r\n\r\n" + body
    else:
        data = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(0, len(data), 4):           # tiny pieces: every boundary gets cut
        c.sendall(data[i:i + 4]); time.sleep(0.0005)
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 "$T/fixture.py" "$T/fixture.port" & bf_track $!      # it picks a free port itself
wait_until 10 test -s "$T/fixture.port" || fail "fixture server did not start"
FPORT=$(cat "$T/fixture.port")

# Each twice: waking for every piece, and pausing 2 ms after each wake-up
# (--batch-us, as P3+ runs it), so that many pieces arrive between reads.
for run in "chunked 0" "plain 0" "chunked 2000" "plain 2000"; do
    read -r kind batch <<<"$run"
    out=$("$SSELOAD" --conns 3 --ramp 0 --duration 20 --batch-us "$batch" "http://127.0.0.1:$FPORT/$kind") || fail "sseload $kind exited $?"
    line=$(tail -n 1 <<<"$out")
    assert_eq "$(kv connected "$line")" 3 "$kind: connected"
    assert_eq "$(kv events "$line")" 15 "$kind: events (5 per stream)"
    assert_eq "$(kv dup "$line")" 3 "$kind: duplicated ids"
    assert_eq "$(kv ooo "$line")" 3 "$kind: out-of-order ids"
    assert_eq "$(kv other_events "$line")" 3 "$kind: typed (reset) events"
    assert_eq "$(kv comments "$line")" 3 "$kind: comments"
    assert_eq "$(kv lat_samples "$line")" 6 "$kind: latency samples"
    assert_eq "$(kv closed "$line")" 3 "$kind: streams ended by the server"
    assert_eq "$(kv stop "$line")" closed "$kind: stop reason"
    ok "$kind stream cut into 4-byte pieces parsed exactly (--batch-us $batch)"
done

out=$("$SSELOAD" --conns 2 --ramp 0 --duration 10 "http://127.0.0.1:$FPORT/missing" 2>"$T/err") || fail "sseload 404 exited $?"
line=$(tail -n 1 <<<"$out")
assert_eq "$(kv failed "$line")" 2 "404: failed"
assert_eq "$(kv failed_http "$line")" 2 "404: failed_http"
assert_contains "$(cat "$T/err")" "404 Not Found" "404: reason on stderr"
ok "an HTTP error counts as a failed connection, with its status line"

"$SSELOAD" --conns 1 http://10.1.2.3:80/ 2>"$T/err" && fail "a non-loopback address was accepted"
assert_contains "$(cat "$T/err")" "loopback" "non-loopback refusal"
"$SSELOAD" --conns 0 "http://127.0.0.1:$FPORT/" 2>/dev/null; assert_eq "$?" 2 "usage error exit code"
"$SSELOAD" --batch-us 100001 "http://127.0.0.1:$FPORT/" 2>/dev/null; assert_eq "$?" 2 "--batch-us over its bound"
ok "refuses non-loopback targets and bad options"

# --- a real nginx + Nchan ---------------------------------------------------
command -v nginx >/dev/null || fail "nginx is not installed (make deps)"
[ -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || fail "libnginx-mod-nchan is not installed (make deps)"
mkdir -p "$T/nchan"
for _ in 1 2 3 4 5; do         # a free port can be taken between the check and the bind: retry
    NPORT=$(free_port)
    sed "s#@DIR@#$T/nchan#g; s#@PORT@#$NPORT#g; s#@WORKERS@#2#g; s#@GENERIC@##" "$BF_ROOT/tests/bench/nchan.conf" >"$T/nchan/nginx.conf"
    nginx -p "$T/nchan" -e "$T/nchan/error.log" -c "$T/nchan/nginx.conf" & NGPID=$!
    wait_until 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$NPORT) || ! kill -0 $NGPID" 2>/dev/null
    kill -0 "$NGPID" 2>/dev/null && break
done
bf_track "$NGPID"
kill -0 "$NGPID" 2>/dev/null || fail "nginx+nchan did not start: $(cat "$T/nchan/error.log")"

"$SSELOAD" --conns 40 --ramp 400 --expect 150 --duration 60 --settle 300 --ready-file "$T/subscribed" \
    --hist-out "$T/nchan.hist" "http://127.0.0.1:$NPORT/sub" >"$T/load.out" &
LOADPID=$!
wait_until 20 test -e "$T/subscribed" || fail "40 subscribers did not connect"
"$NCHANPUB" --rate 300 --count 150 "http://127.0.0.1:$NPORT/pub" >"$T/pub.out" || fail "nchanpub: $(cat "$T/pub.out")"
wait "$LOADPID" || fail "sseload exited $?"
line=$(tail -n 1 "$T/load.out")
assert_eq "$(kv sent "$(cat "$T/pub.out")")" 150 "messages published"
assert_eq "$(kv connected "$line")" 40 "nchan: connected"
assert_eq "$(kv events "$line")" 6000 "nchan: events"
assert_eq "$(kv delivered_pct "$line")" 100.00 "nchan: delivered"
assert_eq "$(kv ooo "$line")" 0 "nchan: out of order"
assert_eq "$(kv dup "$line")" 0 "nchan: duplicated"
assert_eq "$(kv lat_samples "$line")" 6000 "nchan: every event carried sent_us"
assert_eq "$(kv stop "$line")" expect "nchan: stopped once all had their events"
ok "40 Nchan subscribers x 150 messages counted exactly: $(head -n 1 "$T/load.out")"

# --until-idle: no --expect, the run ends once events stop coming.
"$SSELOAD" --conns 10 --until-idle 700 --duration 30 --settle 300 --ready-file "$T/idle-ready" \
    "http://127.0.0.1:$NPORT/sub" >"$T/idle.out" &
LOADPID=$!
wait_until 20 test -e "$T/idle-ready" || fail "10 subscribers did not connect"
"$NCHANPUB" --rate 200 --count 50 --conns 2 "http://127.0.0.1:$NPORT/pub" >/dev/null || fail "nchanpub --conns 2"
wait "$LOADPID" || fail "sseload exited $?"
line=$(tail -n 1 "$T/idle.out")
assert_eq "$(kv events "$line")" 500 "until-idle: events"
assert_eq "$(kv stop "$line")" idle "until-idle: stop reason"
assert_eq "$(kv delivered_pct "$line")" na "until-idle: no expectation"
ok "--until-idle ends the run after the last event; two publishing connections"

# --- plateau: RSS and the ready file, then one broadcast --------------------
NGPIDS=$(for p in $(pgrep -f "nginx: worker process"); do [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$(cat "$T/nchan/nginx.pid")" ] && echo "$p"; done | paste -sd,)
[ -n "$NGPIDS" ] || fail "no nginx workers found"
"$SSELOAD" --conns 30 --ramp 0 --expect 1 --duration 30 --settle 300 --pid-rss "$NGPIDS" \
    --ready-file "$T/ready" "http://127.0.0.1:$NPORT/sub" >"$T/plateau.out" &
LOADPID=$!
wait_until 20 test -e "$T/ready" || fail "no ready file at the plateau"
"$NCHANPUB" --rate 10 --count 1 "http://127.0.0.1:$NPORT/pub" >/dev/null || fail "broadcast publish"
wait "$LOADPID" || fail "sseload exited $?"
line=$(tail -n 1 "$T/plateau.out")
assert_eq "$(kv plateau "$line")" 1 "plateau reached"
assert_eq "$(kv events "$line")" 30 "broadcast reached all"
[[ "$(kv rss_idle_kb "$line")" =~ ^[0-9]+$ ]] || fail "rss_idle_kb not a number: $line"
assert_ge "$(kv rss_idle_kb "$line")" 1 "rss_idle_kb"
ok "plateau: RSS sampled, ready file written, broadcast counted"

# --- the birdfeed stack: redis, responder, nginx; gen | ingest publishes -----
start_redis
start_fcgi --workers 2
start_nginx
"$BF" gen --canonical --stamp --count 60 | "$BF" ingest >/dev/null 2>&1 || fail "gen | ingest (history)"
out=$("$SSELOAD" --conns 5 --ramp 0 --expect 50 --duration 30 "$BASE_URL/stream?preload=50") || fail "sseload preload exited $?"
line=$(tail -n 1 <<<"$out")
assert_eq "$(kv events "$line")" 250 "birdfeed preload: events"
assert_eq "$(kv delivered_pct "$line")" 100.00 "birdfeed preload: delivered"
assert_eq "$(kv ooo "$line")" 0 "birdfeed preload: out of order"
assert_eq "$(kv dup "$line")" 0 "birdfeed preload: duplicated"
assert_eq "$(kv lat_samples "$line")" 250 "birdfeed preload: every tweet carried sent_us"
ok "birdfeed preload of 50 (event: tweet, ms-seq ids) counted exactly"

"$SSELOAD" --conns 20 --ramp 200 --expect 40 --duration 60 --settle 300 --ready-file "$T/bf-ready" \
    --hist-out "$T/bf.hist" "$BASE_URL/stream?preload=0" >"$T/bf.out" &
LOADPID=$!
wait_until 20 test -e "$T/bf-ready" || fail "20 birdfeed subscribers did not connect"
"$BF" gen --canonical --stamp --rate 200 --count 40 --seed 7 | "$BF" ingest >/dev/null 2>&1 || fail "gen | ingest (live)"
wait "$LOADPID" || fail "sseload exited $?"
line=$(tail -n 1 "$T/bf.out")
assert_eq "$(kv events "$line")" 800 "birdfeed live: events"
assert_eq "$(kv ooo "$line")" 0 "birdfeed live: out of order"
assert_eq "$(kv dup "$line")" 0 "birdfeed live: duplicated"
assert_eq "$(kv stop "$line")" expect "birdfeed live: stop reason"
ok "20 birdfeed subscribers x 40 live tweets counted exactly: $(head -n 1 "$T/bf.out")"

# --hist-out / --hist-merge: the latency histograms of two runs merge into
# one set of quantiles (P3+ merges its client processes' this way). One file
# alone gives that run's own figures; two give every sample once, the
# larger maximum, and a p99 between the two runs' p99s.
nline=$(tail -n 1 "$T/load.out")
one=$("$SSELOAD" --hist-merge "$T/nchan.hist") || fail "--hist-merge of one file exited $?"
for k in lat_samples p50_ms p99_ms max_ms; do assert_eq "$(kv $k "$one")" "$(kv $k "$nline")" "one histogram: $k"; done
both=$("$SSELOAD" --hist-merge "$T/nchan.hist" "$T/bf.hist") || fail "--hist-merge of two files exited $?"
assert_eq "$(kv files "$both")" 2 "merged: files"
assert_eq "$(kv lat_samples "$both")" 6800 "merged: every sample once"
assert_eq "$(kv max_ms "$both")" "$(awk -v a="$(kv max_ms "$nline")" -v b="$(kv max_ms "$line")" 'BEGIN { print (a > b ? a : b) }')" "merged: the larger maximum"
awk -v m="$(kv p99_ms "$both")" -v a="$(kv p99_ms "$nline")" -v b="$(kv p99_ms "$line")" \
    'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a; exit !(m >= lo && m <= hi) }' \
    || fail "merged p99 $(kv p99_ms "$both") is not between the runs' $(kv p99_ms "$nline") and $(kv p99_ms "$line")"
printf 'sseload-hist 4480 3 10\n5 2\nfive 1\n' >"$T/bad.hist"
"$SSELOAD" --hist-merge "$T/nchan.hist" "$T/bad.hist" >/dev/null 2>"$T/err" && fail "a broken histogram file was merged"
grep -q "bad.hist:3: want \"INDEX COUNT\"" "$T/err" || fail "no FILE:LINE reason for a broken histogram: $(cat "$T/err")"
ok "histograms of two runs merge into one: $both"

# --- --retry and --source: a reconnect storm against a port not yet open ------
# 60 connections, ramp 0, from three source addresses, toward a server that
# only listens 1.5 s later (first against a port that never opens): every connection is refused at first and gets in by
# retrying; the server sees the three addresses.
"$SSELOAD" --conns 60 --ramp 0 --retry --source 127.0.0.2,127.0.0.3,127.0.0.4 --duration 3 \
    "http://127.0.0.1:$(free_port)/stream?preload=0" >"$T/noport.out" 2>&1
assert_contains "$(grep '^conns=' "$T/noport.out")" "connected=0" "retry against a closed port ends unconnected"
line=$(grep '^conns=' "$T/noport.out")
[ "$(kv retries "$line")" -gt 60 ] || fail "no retries counted: $line"
port=$(free_port)
python3 - "$port" "$T/sources" <<'PY' &
import socket, sys, time
time.sleep(1.5)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
seen, conns = set(), []
s.settimeout(8)
try:
    while len(conns) < 60:
        c, a = s.accept(); seen.add(a[0]); conns.append(c)
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nid: 1-1\ndata: {}\n\n")
finally:
    open(sys.argv[2], "w").write(" ".join(sorted(seen)))
    time.sleep(1)
PY
srv=$!
"$SSELOAD" --conns 60 --ramp 0 --retry --source 127.0.0.2,127.0.0.3,127.0.0.4 --expect 1 --duration 20 \
    "http://127.0.0.1:$port/" >"$T/storm.out" 2>&1
wait "$srv"
line=$(grep '^conns=' "$T/storm.out")
assert_eq "$(kv connected "$line")" 60 "storm: connected after retrying"
assert_eq "$(kv delivered_pct "$line")" "100.00" "storm: delivered"
[ "$(kv retries "$line")" -ge 60 ] || fail "storm: every connection should have retried: $line"
assert_eq "$(cat "$T/sources")" "127.0.0.2 127.0.0.3 127.0.0.4" "source addresses seen by the server"
ok "--retry gets a storm of 60 in once the port opens ($(kv retries "$line") retries); --source spreads them over 3 addresses"
