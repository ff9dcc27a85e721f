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

grep -q AH01146 "$T/apache/error.log" && fail "apache ignored flushpackets (worker sharing): $(grep AH01146 "$T/apache/error.log")"
ok "apache: no worker sharing warning"
