#!/bin/bash
# GET /api/metrics through nginx over two responder processes (--workers 2):
# the figures are the sum over both (whichever answers), in a well-formed
# Prometheus text exposition; deployment figures come from Redis (stream,
# ingest lag, consumer-group lag, saved filters, running ingest processes); a
# slow client cut off shows up; a killed worker's figures drop out after
# their expiry; Redis down gives 503 + Retry-After, and its return is counted.
. "$(dirname "$0")/../lib.sh"
start_redis
echo "s3cret-token" >"$T/tokens"
start_fcgi --workers 2 --heartbeat-ms 500 --client-buffer 65536 --tokens-file "$T/tokens"
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responders never saw redis"
P=${BIRDFEED_PREFIX}metrics:proc:

# metric NAME: the value of the sample NAME (with its labels, as printed) in a fresh answer.
metric() { curl -s "$BASE_URL/api/metrics" | awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'; }
# metric_is NAME VALUE: does a fresh answer say so? (for wait_until)
metric_is() { [ "$(metric "$1")" = "$2" ]; }
# check_format FILE: every line of an exposition is valid text format 0.0.4.
check_format() {
    python3 - "$1" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (\S+)$' % (name, label, label))
types, helps, seen = {}, set(), set()
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the exposition must end in a newline"
for i, l in enumerate(lines[:-1], 1):
    def bad(why): sys.exit("line %d: %s: %r" % (i, why, l))
    if l.startswith("# HELP "):
        m = re.match(r'^# HELP (%s) (?:[^\\\n]|\\[\\n])*$' % name, l) or bad("bad HELP")
        if m.group(1) in helps: bad("second HELP")
        helps.add(m.group(1))
    elif l.startswith("# TYPE "):
        m = re.match(r'^# TYPE (%s) (counter|gauge)$' % name, l) or bad("bad TYPE")
        if m.group(1) in types: bad("second TYPE")
        if m.group(2) == "counter" and not m.group(1).endswith("_total"): bad("counter not ending in _total")
        types[m.group(1)] = m.group(2)
    elif l.startswith("#") or l == "":
        bad("stray line")
    else:
        m = sample.match(l) or bad("bad sample")
        if m.group(1) not in types: bad("sample before its TYPE")
        if m.group(1) != list(types)[-1]: bad("sample away from its family")
        if (m.group(1), m.group(2)) in seen: bad("duplicate sample")
        seen.add((m.group(1), m.group(2)))
        v = float(m.group(3))
        if types[m.group(1)] == "counter" and v < 0: bad("negative counter")
if not seen: sys.exit("no samples")
PY
}

wait_until 10 metric_is birdfeed_responder_processes 2 || fail "two processes publish (got $(metric birdfeed_responder_processes))"
code=$(curl -s -o "$T/m0" -D "$T/h0" -w '%{http_code}' "$BASE_URL/api/metrics")
assert_eq "$code" 200 "GET /api/metrics"
assert_contains "$(tr -d '\r' <"$T/h0")" "Content-Type: text/plain; version=0.0.4; charset=utf-8" "content type"
check_format "$T/m0" || fail "exposition format (idle)"
for n in streams_opened_total events_sent_total bytes_sent_total slow_clients_total heartbeats_sent_total \
         redis_reconnects_total streams_refused_total http_responses_total ingest_tweets_total; do
    grep -q "^# TYPE birdfeed_$n counter$" "$T/m0" || fail "counter birdfeed_$n declared"
done
for n in streams_open matcher_filters ring_events responder_processes stream_entries filters_saved \
         archive_lag_entries stream_newest_age_seconds ingest_processes; do
    grep -q "^# TYPE birdfeed_$n gauge$" "$T/m0" || fail "gauge birdfeed_$n declared"
done
assert_eq "$(metric birdfeed_streams_open)" 0 "no streams yet"
ok "idle: 200, text format 0.0.4, every family declared, 2 processes"

# Streams spread over both workers: open them until each worker holds some.
S=0
STREAMS=()
open_streams() {
    local k
    for k in $(seq 1 "$1"); do
        S=$((S + 1))
        curl -sN "$BASE_URL/stream?preload=0" >"$T/s$S" &
        bf_track $!
        STREAMS+=($!)
    done
    wait_until 10 bash -c "for k in \$(seq 1 $S); do grep -q '^retry:' $T/s\$k || exit 1; done" || fail "streams open"
}
spread() {   # both workers' published streams_open > 0 and the sum is S
    local keys k n sum=0 busy=0
    keys=$(rcli --scan --pattern "$P*")
    for k in $keys; do
        n=$(rcli HGET "$k" streams_open)
        sum=$((sum + n)); [ "$n" -gt 0 ] && busy=$((busy + 1))
    done
    [ "$sum" -eq "$S" ] && [ "$busy" -eq 2 ]
}
open_streams 8
for round in 1 2 3 4 5 6; do
    wait_until 5 spread && break
    [ "$round" -lt 6 ] || fail "streams never spread over both workers"
    open_streams 4
done
ok "$S streams open, spread over both workers"

# N tweets through birdfeed ingest: every stream gets each once.
N=5
for i in $(seq 1 $N); do
    printf '{"id":"%d","text":"metrics tweet %d","user":{"screen_name":"u"},"created_at":"2024-05-01T00:00:00Z"}\n' "$i" "$i"
done >"$T/tweets.ndjson"
"$BF" ingest "$T/tweets.ndjson" 2>"$T/ingest.err" || fail "ingest: $(cat "$T/ingest.err")"
for k in $(seq 1 $S); do
    wait_until 10 bash -c "[ \$(grep -c '^id: ' $T/s$k) -eq $N ]" || fail "stream $k got $(grep -c '^id: ' "$T/s$k") events"
done
want=$((S * N))
wait_until 10 metric_is birdfeed_events_sent_total "$want" || fail "events sent: got $(metric birdfeed_events_sent_total), want $want"
for ask in 1 2 3 4 5 6; do   # whichever process answers, the sums are the same
    curl -s "$BASE_URL/api/metrics" >"$T/m$ask"
    check_format "$T/m$ask" || fail "exposition format (answer $ask)"
    assert_eq "$(awk '$1 == "birdfeed_events_sent_total" { print $2 }' "$T/m$ask")" "$want" "events sent (answer $ask)"
    assert_eq "$(awk '$1 == "birdfeed_streams_open" { print $2 }' "$T/m$ask")" "$S" "streams open (answer $ask)"
    assert_eq "$(awk '$1 == "birdfeed_streams_opened_total" { print $2 }' "$T/m$ask")" "$S" "streams opened (answer $ask)"
    assert_eq "$(awk '$1 == "birdfeed_responder_processes" { print $2 }' "$T/m$ask")" 2 "processes (answer $ask)"
done
assert_ge "$(metric birdfeed_bytes_sent_total)" $((want * 60)) "bytes sent cover the events"
wait_until 5 bash -c "[ \$(curl -s '$BASE_URL/api/metrics' | awk '\$1 == \"birdfeed_heartbeats_sent_total\" { print \$2 }') -gt 0 ]" \
    || fail "heartbeats counted"
assert_eq "$(metric birdfeed_ring_events)" "$N" "ring holds the tweets"
assert_eq "$(metric birdfeed_stream_entries)" "$N" "stream length"
assert_eq "$(metric birdfeed_stream_entries_added_total)" "$N" "entries added"
age=$(metric birdfeed_stream_newest_age_seconds) || fail "ingest lag reported"
python3 -c "import sys; a = float(sys.argv[1]); sys.exit(not (0 <= a < 120))" "$age" || fail "newest age $age s"
assert_eq "$(metric 'birdfeed_streams_refused_total{reason="full"}')" 0 "nothing refused"
ok "events sent = $S streams x $N tweets = $want, summed over both processes in every answer; ingest lag ${age}s"

# Saved filters and the matcher; REST answers by class.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer s3cret-token' \
    -H 'Content-Type: application/json' -d '{"name":"m","track":["metrics"]}' "$BASE_URL/api/filters")
assert_eq "$code" 201 "filter created"
curl -s -o /dev/null "$BASE_URL/api/filters/999999"
wait_until 10 metric_is birdfeed_matcher_filters 1 || fail "matcher filters: $(metric birdfeed_matcher_filters)"
assert_eq "$(metric birdfeed_filters_saved)" 1 "saved filters"
wait_until 10 bash -c "[ \$(curl -s '$BASE_URL/api/metrics' | awk '\$1 == \"birdfeed_http_responses_total{code=\\\"4xx\\\"}\" { print \$2 }') -ge 1 ]" \
    || fail "4xx answers counted"
assert_ge "$(metric 'birdfeed_http_responses_total{code="2xx"}')" 2 "2xx answers counted"
ok "saved filters, matcher size and REST answers by status class"

# Archive lag: a consumer group that has read nothing lags by the whole
# stream; birdfeed archive's own group catches up and reports its progress.
rcli XGROUP CREATE "${BIRDFEED_PREFIX}tweets" archive 0 >/dev/null
assert_eq "$(metric 'birdfeed_archive_lag_entries{group="archive"}')" "$N" "archive lag"
rcli XREADGROUP GROUP archive a1 COUNT 2 STREAMS "${BIRDFEED_PREFIX}tweets" '>' >/dev/null
assert_eq "$(metric 'birdfeed_archive_lag_entries{group="archive"}')" $((N - 2)) "archive lag after reading 2"
assert_eq "$(metric 'birdfeed_archive_pending_entries{group="archive"}')" 2 "read, not acknowledged"
"$BF" migrate --db "sqlite:$T/archive.db" >/dev/null 2>&1 || fail "migrate"
"$BF" archive --once --db "sqlite:$T/archive.db" --group arch2 2>"$T/archive.err" || fail "archive: $(cat "$T/archive.err")"
assert_eq "$(metric 'birdfeed_archive_lag_entries{group="arch2"}')" 0 "archived group's lag"
assert_eq "$(metric 'birdfeed_archive_archived_total{group="arch2"}')" "$N" "archived"
assert_eq "$(metric 'birdfeed_archive_lost_total{group="arch2"}')" 0 "nothing lost"
metric 'birdfeed_archive_report_age_seconds{group="arch2"}' >/dev/null || fail "archive report age"
assert_eq "$(metric 'birdfeed_archive_duplicates_total{group="arch2"}')" 0 "no duplicates yet"
assert_eq "$(metric 'birdfeed_archive_redelivered_total{group="arch2"}')" 0 "nothing delivered again yet"
# Tweet 1 again under a new stream id (as a publisher resending after a
# failover), and the group's entries all delivered once more (as after a
# crash before XACK): the next run skips and counts both kinds.
rcli XADD "${BIRDFEED_PREFIX}tweets" '*' t '{"id":"1","text":"metrics tweet 1","user":{"screen_name":"u"},"created_at":"2024-05-01T00:00:00Z"}' >/dev/null
rcli XGROUP SETID "${BIRDFEED_PREFIX}tweets" arch2 0 >/dev/null
"$BF" archive --once --db "sqlite:$T/archive.db" --group arch2 2>"$T/archive.err" || fail "archive again: $(cat "$T/archive.err")"
assert_eq "$(metric 'birdfeed_archive_archived_total{group="arch2"}')" 0 "nothing new archived"
assert_eq "$(metric 'birdfeed_archive_duplicates_total{group="arch2"}')" 1 "tweet 1 under a new stream id"
assert_eq "$(metric 'birdfeed_archive_redelivered_total{group="arch2"}')" "$N" "entries delivered again"
ok "archive lag and pending per consumer group; birdfeed archive's progress (archived, duplicates, redelivered)"

# A running birdfeed ingest publishes its totals; they go when it ends.
(cat "$T/tweets.ndjson"; echo '{"not":"a tweet"}'; echo '{"delete":{"status":{"id":1,"id_str":"1","user_id":3}}}'
 sleep 6) | "$BF" ingest >/dev/null 2>&1 &
ing=$!
bf_track "$ing"
wait_until 10 metric_is birdfeed_ingest_processes 1 || fail "ingest process seen"
wait_until 10 metric_is birdfeed_ingest_tweets_total "$N" || fail "ingest total: $(metric birdfeed_ingest_tweets_total)"
assert_eq "$(metric birdfeed_ingest_rejected_total)" 1 "ingest rejected"
wait_until 10 metric_is birdfeed_ingest_skipped_total 1 || fail "ingest skipped: $(metric birdfeed_ingest_skipped_total)"
wait "$ing"
assert_eq "$(metric birdfeed_ingest_processes)" 0 "a finished ingest drops out at once"
ok "running ingest: processes, tweets, rejected and skipped lines"

# Kill one worker: its figures drop out once its hash expires; the restarted
# worker and the survivor make 2 processes again.
victim=$(pgrep -P "$FCGI_PID" | head -1)
vkey=$P$(hostname):$victim
vev=$(rcli HGET "$vkey" events_sent)
vst=$(rcli HGET "$vkey" streams_open)
[ -n "$vev" ] && [ -n "$vst" ] || fail "victim's hash $vkey"
before=$(metric birdfeed_events_sent_total)
kill -KILL "$victim"
wait_until 15 bash -c "[ \$(redis-cli -p $REDIS_PORT EXISTS '$vkey') -eq 0 ]" || fail "victim's hash never expired"
wait_until 10 metric_is birdfeed_responder_processes 2 || fail "processes after the kill: $(metric birdfeed_responder_processes)"
assert_eq "$(metric birdfeed_events_sent_total)" $((before - vev)) "events sent without the killed worker's"
assert_eq "$(metric birdfeed_streams_open)" $((S - vst)) "streams open without the killed worker's"
ok "killed worker ($vst streams, $vev events) dropped out after expiry"

# A slow client, straight to the responder over FastCGI, that never reads
# (the other streams closed first, so the load goes to it alone).
for p in "${STREAMS[@]}"; do kill "$p" 2>/dev/null; done
wait_until 10 metric_is birdfeed_streams_open 0 || fail "streams closed: $(metric birdfeed_streams_open)"
python3 - "$FCGI_PORT" <<'PY' &
import socket, struct, sys, time
def rec(t, content): return struct.pack(">BBHHBB", 1, t, 1, len(content), 0, 0) + content
def nv(k, v): return bytes([len(k), len(v)]) + k + v
params = b"".join(nv(k, v) for k, v in [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b"/stream"),
    (b"DOCUMENT_URI", b"/stream"), (b"REQUEST_URI", b"/stream?preload=0"), (b"QUERY_STRING", b"preload=0")])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(rec(1, struct.pack(">HB5x", 1, 0)) + rec(4, params) + rec(4, b"") + rec(5, b""))
time.sleep(60)
PY
bf_track $!
wait_until 10 bash -c "[ \$(curl -s '$BASE_URL/api/metrics' | awk '\$1 == \"birdfeed_streams_open\" { print \$2 }') -eq 1 ]" \
    || fail "slow client's stream open"
python3 - <<'PY' >"$T/big.ndjson"
import json
for i in range(400):
    print(json.dumps({"id": str(1000 + i), "text": "big %d %s" % (i, "x" * 20000), "user": {"screen_name": "u"},
                      "created_at": "2024-05-01T00:00:00Z"}))
PY
"$BF" ingest "$T/big.ndjson" 2>"$T/ingest.err" || fail "ingest: $(cat "$T/ingest.err")"
wait_until 15 metric_is birdfeed_slow_clients_total 1 || fail "slow clients: $(metric birdfeed_slow_clients_total)"
wait_until 10 metric_is birdfeed_streams_open 0 || fail "slow client's stream closed"
ok "a slow client cut off over --client-buffer is counted"

# Redis down: 503 JSON with Retry-After, like /api/health; a stream asked for
# meanwhile is refused with a retry-only 200 (and counted). Once Redis is back, both subscriptions are made again
# and the figures (kept in the processes) are published anew.
kill_redis
wait_until 10 bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$BASE_URL/api/health') = 503 ]" || fail "health sees Redis down"
code=$(curl -s -o "$T/down" -D "$T/hdown" -w '%{http_code}' "$BASE_URL/api/metrics")
assert_eq "$code" 503 "metrics with Redis down"
assert_contains "$(cat "$T/hdown")" "Retry-After:" "Retry-After"
assert_contains "$(cat "$T/hdown")" "application/json" "JSON error"
assert_contains "$(cat "$T/down")" '"code":"redis_unavailable"' "error code"
code=$(curl -s --max-time 5 -o "$T/sdown" -w '%{http_code}' "$BASE_URL/stream?preload=0")
assert_eq "$code" 200 "stream with Redis down (retry only)"
assert_eq "$(cat "$T/sdown")" "$(printf 'retry: 2000\n\n')" "stream with Redis down: only retry:"
ok "Redis down: REST 503 + Retry-After, streams a retry-only 200"
restart_redis
wait_until 20 metric_is birdfeed_redis_subscribed_processes 2 || fail "subscribed again: $(metric birdfeed_redis_subscribed_processes)"
assert_eq "$(metric birdfeed_redis_reconnects_total)" 2 "one reconnect per process"
assert_eq "$(metric 'birdfeed_streams_refused_total{reason="redis"}')" 1 "stream refused while Redis was down"
assert_eq "$(metric birdfeed_responder_processes)" 2 "both processes publish again"
ok "Redis back: reconnects and the refused stream counted, figures published again"

stop_fcgi
ok "responders stop cleanly"
