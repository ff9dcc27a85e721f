#!/bin/bash
# Through nginx, lighttpd and Apache: HEAD is answered like GET without a body
# (monitors use it), for the REST resources and /stream (headers only, no
# stream held); a request URI over birdfeed's limit (4 KB, below what all
# three servers pass by default with room for headers) gets a JSON 414, while
# a long ?q= under it opens its stream.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --heartbeat-ms 300      # lighttpd and Apache notice a gone client on their next write
start_nginx
start_lighttpd
start_apache
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

for url in "$BASE_URL" "$LIGHTTPD_URL" "$APACHE_URL"; do
    case $url in "$BASE_URL") s=nginx;; "$LIGHTTPD_URL") s=lighttpd;; *) s=apache;; esac
    # HEAD on REST: the GET's status and headers, no body.
    for path in /api/health /api/filters /api/tweets; do
        get=$(curl -s -o "$T/gb" -D "$T/gh" -w '%{http_code}' "$url$path")
        head=$(curl -s -I -o "$T/hh" --max-time 5 -w '%{http_code}' "$url$path"; echo " $?")
        assert_eq "$head" "$get 0" "$s: HEAD $path answers as GET does"
        assert_eq "$(grep -i '^content-type' "$T/hh" | tr -d '\r')" "$(grep -i '^content-type' "$T/gh" | tr -d '\r')" \
            "$s: HEAD $path content type"
    done
    grep -qi '^Retry-After:' "$T/hh" || fail "$s: HEAD /api/tweets without an archive: 503 without Retry-After"
    # HEAD on /stream: the stream's headers, then the end: nothing held.
    code=$(curl -s -I -o "$T/sh" --max-time 5 -w '%{http_code}' "$url/stream"; echo " $?")
    assert_eq "$code" "200 0" "$s: HEAD /stream answers at once"
    grep -qi '^Content-Type: text/event-stream' "$T/sh" || fail "$s: HEAD /stream content type: $(cat "$T/sh")"
    wait_until 10 bash -c "curl -s '$BASE_URL/api/health' | grep -q '\"streams\":0,'" || fail "$s: HEAD /stream held a stream"
    code=$(curl -s -I -o /dev/null -w '%{http_code}' "$url/stream?filter=999")
    assert_eq "$code" 404 "$s: HEAD /stream with an unknown filter is the GET's 404"
    ok "$s: HEAD answers like GET without a body (REST and /stream)"

    # The URI limit.
    phrase=$(printf 'p%.0s' $(seq 1 45))          # 45 bytes
    q=$(for i in $(seq 1 80); do printf '%s%02d,' "$phrase" "$i"; done); q=${q%,}   # 80 × 48 bytes
    code=$(curl -s -o "$T/long" --max-time 2 -w '%{http_code}' "$url/stream?preload=0&q=$q")
    assert_eq "$code" 200 "$s: a ${#q}-byte ?q= under the URI limit"
    grep -q '^retry:' "$T/long" || fail "$s: the long-q stream did not open"
    q2=$q,$(for i in $(seq 81 100); do printf '%s%02d,' "$phrase" "$i"; done); q2=${q2%,}
    code=$(curl -s -o "$T/over" -w '%{http_code}' "$url/stream?preload=0&q=$q2")
    assert_eq "$code" 414 "$s: a ${#q2}-byte ?q= over the URI limit"
    assert_contains "$(cat "$T/over")" '"code":"uri_too_long"' "$s: 414 is birdfeed's JSON"
    # What birdfeed's filter limits would take (400 phrases of 58 bytes) no server passes.
    big=$(for i in $(seq 1 400); do printf 'q%.0s' $(seq 1 55); printf '%03d,' "$i"; done)
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/stream?preload=0&q=${big%,}")
    case $code in 414|431|400) ;; *) fail "$s: a ${#big}-byte q answered $code";; esac
    ok "$s: ?q= up to the URI limit opens its stream, beyond it a JSON 414"
done
stop_fcgi
