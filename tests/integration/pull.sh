#!/bin/bash
# birdfeed pull against local sources that replay the recorded samples
# (tests/integration/pull_servers.py), cut the connection mid-stream and
# stall it: Bluesky Jetstream over WebSocket resumes with cursor= and drops
# the posts it gets twice; a Mastodon SSE stream (with a Bearer token that
# never shows in any output) and NDJSON over HTTP cannot resume, so their
# gaps are counted; https:// and wss:// with --cacert; a refused source and
# an unreachable one exit 3; SIGTERM stops at once. Every post the sources
# delivered whole is published exactly once, as its canonical form.
. "$(dirname "$0")/../lib.sh"
S=$BF_ROOT/tests/samples
PY3=/usr/bin/python3                      # Debian's, with python3-websockets
[ -x "$PY3" ] || PY3=python3
"$PY3" -c 'import websockets' 2>/dev/null || fail "python3-websockets is missing (deploy/install-deps.sh installs it)"
start_redis
KEY="${BIRDFEED_PREFIX}tweets"

# serve MODE SAMPLE SCRIPT [ARGS…]: a source on a free port; sets SRV_PORT.
serve() {
    local mode=$1 sample=$2 script=$3
    shift 3
    SRV_PORT=$(free_port)
    : >"$T/$mode.log"
    "$PY3" "$BF_ROOT/tests/integration/pull_servers.py" "$mode" "$SRV_PORT" "$S/$sample.ndjson" "$T/$mode.log" \
        "$script" "$@" >"$T/$mode.srv" 2>&1 &
    SRV_PID=$!
    bf_track $SRV_PID
    wait_until 10 grep -q ready "$T/$mode.srv" || fail "$mode server did not start: $(cat "$T/$mode.srv")"
}
# posts_in_stream: the canonical tweets in the stream, oldest first.
posts_in_stream() { rcli --raw XRANGE "$KEY" - + | grep '^{'; }
# stop_pull PID: SIGTERM, which must end pull within 3 s; sets PULL_RC.
stop_pull() {
    kill -TERM "$1"
    for _ in $(seq 1 60); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$1" 2>/dev/null && fail "pull still running 3 s after SIGTERM"
    wait "$1"; PULL_RC=$?
}

"$BF" pull 2>"$T/usage.err"; assert_eq "$?" 2 "pull without a URL"
"$BF" pull ftp://example.invalid/x 2>"$T/usage.err"; assert_eq "$?" 2 "pull of an ftp:// URL"
assert_contains "$(cat "$T/usage.err")" "not an http://, https://, ws:// or wss:// URL" "usage message"
ok "usage errors exit 2"

# ---- Jetstream: cut, then a stall, then the rest; resumed with cursor= each time.
serve jetstream jetstream "cut:5,stall:4,rest"
"$BF" pull --stall-ms 2000 "ws://127.0.0.1:$SRV_PORT/subscribe?wantedCollections=app.bsky.feed.post&cursor=0" \
    2>"$T/js.err" &
pid=$!; bf_track $pid
wait_until 60 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN $KEY) -ge 4 ] && [ \$(wc -l <'$T/jetstream.log') -ge 3 ]" ||
    fail "Jetstream posts: $(rcli XLEN "$KEY"); $(cat "$T/js.err")"
stop_pull $pid
assert_eq "$PULL_RC" 0 "pull exit status after SIGTERM"
posts_in_stream >"$T/js.got"
cmp -s "$S/jetstream.canonical" "$T/js.got" || fail "Jetstream posts differ: $(diff "$S/jetstream.canonical" "$T/js.got" | head -c 600)"
t5=$(sed -n 5p "$S/jetstream.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["time_us"])')
t8=$(sed -n 8p "$S/jetstream.ndjson" | python3 -c 'import json,sys; print(json.load(sys.stdin)["time_us"])')
assert_eq "$(sed -n 's/^conn \([123]\) path=\([^ ]*\) cursor=\([^ ]*\) .*/\1 \2 \3/p' "$T/jetstream.log" | head -n 3 | tr '\n' ' ')" \
    "1 /subscribe 0 2 /subscribe $t5 3 /subscribe $t8 " "connections and their cursors"
assert_contains "$(cat "$T/js.err")" "the connection dropped (no WebSocket close); reconnecting in " "the cut is said"
assert_contains "$(cat "$T/js.err")" "the connection stalled: nothing received for 2000 ms" "the stall is said"
grep -q "^ingested 4, skipped [0-9]*, rejected 0 in .*; 1 duplicates dropped; [0-9]* reconnects, 0 gaps; interrupted$" "$T/js.err" ||
    fail "Jetstream summary: $(tail -n 1 "$T/js.err")"
ok "Jetstream over WebSocket: cut and stalled, resumed with cursor= the last time_us, the replayed post dropped, every post once and exactly as jetstream.canonical; SIGTERM ends it"
kill "$SRV_PID"

# ---- Mastodon SSE with a Bearer token: cut mid-event, a stall, then the rest.
rcli DEL "$KEY" >/dev/null
token="tok-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$token" >"$T/token"
chmod 600 "$T/token"
serve sse mastodon "cut:2,stall:0,rest" "$token"
"$BF" pull --stall-ms 1000 --bearer-file "$T/token" --log-level debug --dead-letter "$T/sse.dead" \
    "http://127.0.0.1:$SRV_PORT/api/v1/streaming/public?access_token=$token" 2>"$T/sse.err" &
pid=$!; bf_track $pid
wait_until 30 sh -c "[ \$(wc -l <'$T/sse.log') -ge 3 ]" || fail "SSE reconnects: $(cat "$T/sse.log") $(cat "$T/sse.err")"
sleep 1.5                                  # the rest, then heartbeats
stop_pull $pid
assert_eq "$PULL_RC" 0 "pull exit status"
posts_in_stream >"$T/sse.got"
head -n 2 "$S/mastodon.canonical" >"$T/sse.want"
cmp -s "$T/sse.want" "$T/sse.got" || fail "Mastodon posts differ: $(diff "$T/sse.want" "$T/sse.got" | head -c 600)"
assert_eq "$(grep -c "auth=Bearer $token " "$T/sse.log")" "$(wc -l <"$T/sse.log")" "every request carried the token"
grep -q "^ingested 2, skipped 4, rejected 0 in .*; 0 duplicates dropped; 2 reconnects, 2 gaps; interrupted$" "$T/sse.err" ||
    fail "SSE summary: $(tail -n 1 "$T/sse.err")"
assert_eq "$(grep -c 'this source cannot resume: what it sends meanwhile is lost (a gap)' "$T/sse.err")" 2 "gaps said"
grep -qF -- "$token" "$T/sse.err" && fail "the token shows in pull's output"
[ -s "$T/sse.dead" ] && fail "skipped events went to the dead letters"
ok "Mastodon SSE: cut mid-event and stalled, 2 gaps counted and said, the 2 whole posts published once, delete/status.update/notification/private skipped, Bearer token sent and never shown"
kill "$SRV_PID"

# ---- SSE with event ids longer than a header line's usual 255 bytes: the
# reconnection resumes after the last whole event with its id, all of it.
rcli DEL "$KEY" >/dev/null
export SSE_ID_BYTES=1000
serve sse mastodon "cut:2,rest" "$token"
unset SSE_ID_BYTES
"$BF" pull --stall-ms 2000 --bearer-file "$T/token" "http://127.0.0.1:$SRV_PORT/api/v1/streaming/public" 2>"$T/sseid.err" &
pid=$!; bf_track $pid
wait_until 30 grep -q '^conn 2 ' "$T/sse.log" || fail "SSE with long ids did not reconnect: $(cat "$T/sse.log") $(cat "$T/sseid.err")"
stop_pull $pid
want_id="$(printf 'i%.0s' $(seq 1 1000))-1"
assert_eq "$(sed -n 's/^conn 2 .* last-event-id=//p' "$T/sse.log")" "$want_id" "Last-Event-ID of the reconnection: the whole 1002-byte id"
assert_contains "$(cat "$T/sseid.err")" "resuming after event iiiiiiiiii" "the resume said"
ok "SSE ids of 1002 bytes: the reconnection sends the last whole event's id, all of it"
kill "$SRV_PID"

# ---- NDJSON over HTTP: cut mid-line; the next answer starts over (duplicates dropped); --once.
rcli DEL "$KEY" >/dev/null
serve ndjson twitter "cut:3,rest"
"$BF" pull --once --stall-ms 2000 "http://127.0.0.1:$SRV_PORT/capture.ndjson" 2>"$T/nd.err"; rc=$?
assert_eq "$rc" 0 "pull --once exit status"
posts_in_stream >"$T/nd.got"
cmp -s "$S/twitter.canonical" "$T/nd.got" || fail "NDJSON posts differ: $(diff "$S/twitter.canonical" "$T/nd.got" | head -c 600)"
grep -q "^ingested 6, skipped 4, rejected 0 in .*; 2 duplicates dropped; 1 reconnects, 1 gaps$" "$T/nd.err" ||
    fail "NDJSON summary: $(tail -n 1 "$T/nd.err")"
ok "NDJSON over HTTP: cut mid-line, read again from the start, the 2 posts seen twice dropped, each of the 6 once; --once stops at the clean end"
kill "$SRV_PID"

# ---- TLS: https:// and wss:// with --cacert; without it, the certificate is refused.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || fail "openssl req"
rcli DEL "$KEY" >/dev/null
serve ndjson twitter "rest" "$T/cert.pem" "$T/key.pem"
"$BF" pull --once --retries 0 "https://127.0.0.1:$SRV_PORT/x.ndjson" 2>"$T/tls-bad.err"; rc=$?
assert_eq "$rc" 3 "https without the CA: exit status"
assert_contains "$(cat "$T/tls-bad.err")" "unreachable after 1 attempts" "certificate refused"
"$BF" pull --once --cacert "$T/cert.pem" "https://127.0.0.1:$SRV_PORT/x.ndjson" 2>"$T/tls.err" || fail "https with --cacert: $(cat "$T/tls.err")"
assert_eq "$(rcli XLEN "$KEY")" 6 "posts over https"
kill "$SRV_PID"
rcli DEL "$KEY" >/dev/null
serve jetstream jetstream "rest" "$T/cert.pem" "$T/key.pem"
"$BF" pull --stall-ms 60000 --cacert "$T/cert.pem" "wss://127.0.0.1:$SRV_PORT/subscribe" 2>"$T/wss.err" &
pid=$!; bf_track $pid
wait_until 20 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN $KEY) -ge 4 ]" || fail "wss posts: $(cat "$T/wss.err")"
stop_pull $pid
assert_eq "$PULL_RC" 0 "wss pull exit status"
ok "TLS: https:// and wss:// with --cacert; an unknown certificate refused (exit 3)"
kill "$SRV_PID"

# ---- A source that refuses (HTTP 404) exits 3 at once; one that never answers, after --retries.
serve ndjson twitter "status:404"
"$BF" pull "http://127.0.0.1:$SRV_PORT/missing" 2>"$T/404.err"; rc=$?
assert_eq "$rc" 3 "404: exit status"
assert_contains "$(cat "$T/404.err")" "404" "404 said"
assert_eq "$(wc -l <"$T/ndjson.log")" 1 "a refusal is not retried"
kill "$SRV_PID"
dead=$(free_port)
"$BF" pull --retries 2 --backoff-max-ms 50 "ws://127.0.0.1:$dead/subscribe" 2>"$T/dead.err"; rc=$?
assert_eq "$rc" 3 "nobody listening: exit status"
assert_contains "$(cat "$T/dead.err")" "unreachable after 3 attempts" "gave up after --retries"
ok "a refusing source (404) exits 3 at once; an unreachable one after --retries attempts"
