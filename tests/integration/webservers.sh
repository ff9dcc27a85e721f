#!/bin/bash
# The shipped web-server configs, each run for real in front of birdfeed-fcgi:
# nginx (deploy/nginx), lighttpd (deploy/lighttpd) and Apache (deploy/apache,
# mod_proxy_fcgi). Through each: the demo page is served at /, events on
# /stream arrive one at a time (each before the next is published) and
# uncompressed, heartbeats pass, Last-Event-ID resume works (header and
# query), stream errors stay JSON 400s, and the REST API answers, request
# bodies included.
. "$(dirname "$0")/../lib.sh"

start_redis
seq_no=0
publish() {  # publish the next tweet; its id goes to $LAST_ID
    seq_no=$((seq_no + 1))
    LAST_ID=2000-$seq_no
    publish_tweet "$LAST_ID" "{\"id\":\"$seq_no\",\"text\":\"tweet $seq_no\",\"user\":{\"screen_name\":\"bird\"}}" \
        || fail "publish $seq_no"
}
for _ in 1 2 3 4 5; do publish; done

printf 'webservers-token-%s\n' "$RANDOM$RANDOM" > "$T/tokens"
chmod 600 "$T/tokens"
TOKEN=$(cat "$T/tokens")
FCGI_ARGS=(--heartbeat-ms 400 --retry-ms 1000 --tokens-file "$T/tokens")

# One responder behind all three servers, on loopback TCP as the shipped
# configs expect it (their 127.0.0.1:9000 becomes a free port).
start_fcgi "${FCGI_ARGS[@]}"
start_nginx
start_lighttpd
start_apache

check_server() {
    local name=$1 base=$2
    local out=$T/$name
    mkdir -p "$out"

    # / — the demo page and its files.
    local page
    page=$(curl -fsS "$base/") || fail "$name: GET / failed"
    assert_contains "$page" '<script src="app.js"' "$name: demo page"
    assert_contains "$(curl -fsS -o /dev/null -w '%{content_type}' "$base/app.js")" "javascript" "$name: app.js type"
    assert_contains "$(curl -fsS -o /dev/null -w '%{content_type}' "$base/style.css")" "text/css" "$name: style.css type"

    # /api/health
    wait_until 10 curl -fsS -o /dev/null "$base/api/health" || fail "$name: /api/health never answered 200"
    assert_contains "$(curl -fsS "$base/api/health")" '"redis":"ok"' "$name: health body"

    # /api/metrics — Prometheus text.
    local mh
    mh=$(curl -fsS -D- -o "$out/metrics" "$base/api/metrics") || fail "$name: GET /api/metrics"
    assert_contains "$mh" "text/plain" "$name: metrics content type"
    grep -q '^birdfeed_streams_open ' "$out/metrics" || fail "$name: metrics body: $(head -c 300 "$out/metrics")"

    # /stream — live events one at a time, uncompressed even when gzip is offered.
    curl -sN --compressed -D "$out/live.h" "$base/stream?preload=0" >"$out/live" 2>/dev/null &
    local cpid=$! id ids=""
    wait_until 10 grep -q '^retry: 1000' "$out/live" || fail "$name: no retry: line (buffered?)"
    for _ in 1 2 3; do
        publish
        id=$LAST_ID
        ids="$ids$id "
        wait_until 10 grep -q "^id: $id" "$out/live" || fail "$name: event $id did not arrive on its own"
    done
    wait_until 5 grep -q '^: ping' "$out/live" || fail "$name: no heartbeat came through"
    kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
    assert_eq "$(sse_ids "$out/live" | tr '\n' ' ')" "$ids" "$name: live ids"
    assert_contains "$(cat "$out/live.h")" "text/event-stream" "$name: content type"
    grep -qi '^Content-Encoding:' "$out/live.h" && fail "$name: the stream was compressed: $(cat "$out/live.h")"
    ok "$name: events arrive one at a time, uncompressed, with heartbeats"

    # Resume after the first of those three: the other two, nothing else.
    local first=${ids%% *} rest=${ids#* }
    timeout 2 curl -sN -H "Last-Event-ID: $first" "$base/stream" >"$out/resume" 2>/dev/null
    assert_eq "$(sse_ids "$out/resume" | tr '\n' ' ')" "$rest" "$name: resume by Last-Event-ID header"
    timeout 2 curl -sN "$base/stream?lastEventId=$first" >"$out/resume2" 2>/dev/null
    assert_eq "$(sse_ids "$out/resume2" | tr '\n' ' ')" "$rest" "$name: resume by lastEventId query"
    ok "$name: Last-Event-ID resume, no gap and no duplicate"

    # Stream errors come through as JSON 400s (the browser stops retrying).
    local code
    code=$(curl -s -o "$out/bad" -D "$out/bad.h" -w '%{http_code}' "$base/stream?preload=x")
    assert_eq "$code" 400 "$name: bad preload"
    assert_contains "$(cat "$out/bad.h")" "application/json" "$name: 400 is JSON"

    # REST with a request body: create, read, delete a filter.
    code=$(curl -s -o "$out/post" -D "$out/post.h" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"via $name\",\"track\":[\"owl\"]}" "$base/api/filters")
    assert_eq "$code" 201 "$name: POST /api/filters ($(cat "$out/post"))"
    local loc
    loc=$(sed -n 's/^Location: *//Ip' "$out/post.h" | tr -d '\r')
    local fid=${loc##*/}
    [ -n "$fid" ] || fail "$name: no Location on 201"
    assert_contains "$(curl -fsS "$base/api/filters/$fid")" "\"via $name\"" "$name: GET the new filter"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d '{"name":"x","track":["y"]}' "$base/api/filters")
    assert_eq "$code" 401 "$name: POST without a token"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$base/api/filters/$fid")
    assert_eq "$code" 204 "$name: DELETE"
    ok "$name: REST API answers (health, metrics, filters with bodies, 401, 204)"
}

check_server nginx "$BASE_URL"
check_server lighttpd "$LIGHTTPD_URL"
check_server apache "$APACHE_URL"

log_grep "$T/apache/error.log" -q AH01146 && fail "apache ignored flushpackets (worker sharing): $(grep AH01146 "$T/apache/error.log")"
ok "apache: no worker sharing warning"

# ---- browsers: query strings never logged; a missing responder is "retry" ----
# A reader token may come as ?access_token= (EventSource cannot send
# headers): the access logs hold paths only.
probe="probe-token-$RANDOM$RANDOM"
for base in "$BASE_URL" "$LIGHTTPD_URL" "$APACHE_URL"; do
    timeout 2 curl -sN -o /dev/null "$base/stream?preload=0&access_token=$probe"
    curl -s -o /dev/null "$base/api/filters?access_token=$probe"
done
curl -s -D "$T/apache-stream.h" -o /dev/null -m 2 "$APACHE_URL/stream?preload=0"
assert_contains "$(tr -d '\r' <"$T/apache-stream.h")" "Connection: close" "apache: no keep-alive after a stream"
ok "apache: /stream answers Connection: close (a dead responder closes the browser's connection at once)"

# nginx reload with streams open: the old worker closes them after
# worker_shutdown_timeout (10 s, deploy/nginx/birdfeed-main.conf) instead of
# living as long as they do; the client sees its stream end (and a browser
# would reconnect to a new worker).
timeout 120 curl -sN -o "$T/reload.stream" "$BASE_URL/stream?preload=0" & reload_curl=$!
wait_until 10 grep -q '^retry:' "$T/reload.stream" || fail "nginx: stream before the reload"
old=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
kill -HUP "$NGINX_PID"
wait_until 10 bash -c "[ \"\$(pgrep -P $NGINX_PID | tr '\n' ' ')\" != '$old' ]" || fail "nginx started no new worker"
for w in $old; do
    wait_until 40 bash -c "! kill -0 $w" || fail "nginx: old worker $w still alive 40 s after a reload (worker_shutdown_timeout missing?)"
done
wait_until 5 bash -c "! kill -0 $reload_curl" || fail "nginx: the stream outlived its old worker"
ok "nginx reload: the old worker ends its streams and exits (worker_shutdown_timeout)"

# lighttpd graceful restart (SIGUSR1) with a stream open: after
# server.graceful-shutdown-timeout the stream ends and lighttpd serves again.
timeout 120 curl -sN -o "$T/lreload.stream" "$LIGHTTPD_URL/stream?preload=0" & lreload_curl=$!
wait_until 10 grep -q '^retry:' "$T/lreload.stream" || fail "lighttpd: stream before the restart"
kill -USR1 "$LIGHTTPD_PID"
wait_until 40 bash -c "! kill -0 $lreload_curl" || fail "lighttpd: a stream held a graceful restart 40 s (graceful-shutdown-timeout missing?)"
wait_until 10 curl -fsS -o /dev/null "$LIGHTTPD_URL/api/health" || fail "lighttpd: not serving after the graceful restart"
need_log "$T"/lighttpd/*.log
grep -h WARNING "$T"/lighttpd/*.log && fail "lighttpd warned about its config"
ok "lighttpd graceful restart: the stream ends after the shutdown timeout, lighttpd serves again, no config warning"

# No responder at all: /stream answers 200 text/event-stream with only
# "retry: 2000" through each server; /api/ keeps its 5xx; a direct request
# for the helper is refused.
stop_fcgi
for name in nginx lighttpd apache; do
    case $name in nginx) base=$BASE_URL;; lighttpd) base=$LIGHTTPD_URL;; apache) base=$APACHE_URL;; esac
    code=$(curl -s -m 5 -o "$T/$name.retry" -D "$T/$name.retry.h" -w '%{http_code}' \
        -H "Last-Event-ID: $LAST_ID" "$base/stream?filter=1&access_token=$probe")
    assert_eq "$code" 200 "$name: /stream without a responder"
    assert_contains "$(tr -d '\r' <"$T/$name.retry.h" | grep -i '^content-type:')" "text/event-stream" "$name: retry answer type"
    assert_eq "$(od -An -c "$T/$name.retry" | tr -s ' ')" " r e t r y : 2 0 0 0 \n \n" "$name: retry answer body"
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/api/health")
    case $code in 502|503|504) ;; *) fail "$name: /api/health without a responder answered $code, want a 5xx";; esac
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/birdfeed-errors/retry.cgi")
    [ "$code" = 200 ] && fail "$name: the retry helper answers when asked directly"
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/birdfeed-errors/retry.asis")
    [ "$code" = 200 ] && fail "$name: the retry helper answers when asked directly"
done
ok "no responder: /stream is 200 text/event-stream with only 'retry: 2000' through nginx, lighttpd and Apache; /api/ stays 5xx"

for f in "$T"/nginx/*.log "$T"/lighttpd/*.log "$T"/apache/*.log "$T/fcgi.log"; do
    [ -f "$f" ] || continue
    grep -q -- "$probe" "$f" && fail "?access_token= reached $f: $(grep -m1 -- "$probe" "$f")"
done
log_grep "$T/nginx/birdfeed-access.log" -q '"GET /stream HTTP/1.1" 200' || fail "nginx access log has no /stream lines"
log_grep "$T/lighttpd/birdfeed-access.log" -q '"GET /stream HTTP/1.1" 200' || fail "lighttpd access log has no /stream lines"
log_grep "$T/apache/birdfeed-access.log" -q '"GET /stream HTTP/1.1" 200' || fail "apache access log has no /stream lines"
ok "?access_token= never in the web servers' access or error logs, nor birdfeed's (responder up and down)"
