#!/bin/bash
# The shipped nginx site's memory settings (small request pool blocks, a 4 KiB
# FastCGI read buffer, only the parameters the responder reads on /stream)
# and its unchunked stream lose nothing: a tweet of 60 KB and one near the
# 1 MiB line limit arrive whole and in order among small ones, a preload of 500 arrives, a recorded
# Chromium EventSource request (token cookie, Last-Event-ID) resumes after its
# id, Origin reaches the responder (CORS answer), and the REST API still gets
# its headers (bearer token, JSON body).
. "$(dirname "$0")/../lib.sh"
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
[ -x "$SSELOAD" ] || fail "$SSELOAD missing (make integration builds it)"
grep -q 'fastcgi_buffer_size 4k;' "$BF_ROOT/deploy/nginx/birdfeed.conf" || fail "the shipped site no longer sets fastcgi_buffer_size 4k: update this test"

start_redis
fill_tweets 600 3
rcli XRANGE "${BIRDFEED_PREFIX}tweets" - + | grep -E '^[0-9]+-[0-9]+$' >"$T/ids"
assert_eq "$(wc -l <"$T/ids")" 600 "seeded tweets"
printf 'reader-%s\n' "$RANDOM$RANDOM" >"$T/tokens"
start_fcgi --heartbeat-ms 500 --cors-origins "https://birdfeed.example" --tokens-file "$T/tokens"
start_nginx
wait_until 10 curl -sf "$BASE_URL/api/health" || fail "responder never saw redis"

# 1. Preload of 500 through the 4 KiB buffer: all of them, in order.
"$SSELOAD" --conns 3 --ramp 0 --expect 500 --duration 20 "$BASE_URL/stream?preload=500" >"$T/pre.out" 2>&1
line=$(grep '^conns=' "$T/pre.out")
assert_contains "$line" "delivered_pct=100.00" "preload 500 through nginx ($(head -n 1 "$T/pre.out"))"
assert_contains "$line" " ooo=0 dup=0 " "preload order"
ok "a preload of 500 arrives whole and in order"

# 2. Big events among small ones, live: 60 KB and ~1 MB (the default max-line
# is 1 MiB), each far over the 4 KiB buffer, then a small one.
curl -sN "$BASE_URL/stream?preload=0" >"$T/live" &
cpid=$!
wait_until 10 grep -q '^retry:' "$T/live" || fail "no retry: line"
# publish_file ID FILE: publish_tweet for a payload too big for one argument.
publish_file() {
    printf '%s' "$(cat "$2")" | rcli -x XADD "${BIRDFEED_PREFIX}tweets" "$1" t >/dev/null || return 1
    { printf '%s ' "$1"; printf '%s' "$(cat "$2")"; } | rcli -x PUBLISH "${BIRDFEED_PREFIX}live" >/dev/null
}
printf '{"id":"b","text":"%s"}' "$(head -c 45000 /dev/urandom | base64 -w 0)" >"$T/big60"
printf '{"id":"c","text":"%s"}' "$(head -c 750000 /dev/urandom | base64 -w 0)" >"$T/big1m"
publish_tweet "9000000000000-1" '{"id":"a","text":"small before"}'
publish_file "9000000000000-2" "$T/big60" || fail "publish 60 KB"
publish_file "9000000000000-3" "$T/big1m" || fail "publish 1 MB"
publish_tweet "9000000000000-4" '{"id":"d","text":"small after"}'
wait_until 20 grep -q '^id: 9000000000000-4' "$T/live" || fail "the small event after the big ones did not arrive"
kill "$cpid"; wait "$cpid" 2>/dev/null
assert_eq "$(sse_ids "$T/live" | tr '\n' ' ')" "9000000000000-1 9000000000000-2 9000000000000-3 9000000000000-4 " "ids around the big events"
for f in big60 big1m; do    # the data: line as a pattern file (too long for an argument)
    { printf 'data: '; cat "$T/$f"; echo; } >"$T/$f.line"
    grep -qxFf "$T/$f.line" "$T/live" || fail "the $f event arrived altered"
done
ok "events of 60 KB and 1 MB arrive whole through the 4 KiB buffer, in order"

# 3. Chromium's recorded request (cookie, Last-Event-ID 1764450000123-0 in the
# file): here Last-Event-ID names the 598th tweet, so the stream resumes after it.
sed -e "s/^Last-Event-ID: .*/Last-Event-ID: $(sed -n 598p "$T/ids")/" -e 's/^Referer: .*/Origin: https:\/\/birdfeed.example/' \
    "$BF_ROOT/tests/bench/chromium-stream.head" >"$T/browser.head"
grep -q '^Cookie: birdfeed_token=' "$T/browser.head" || fail "the recorded request has no token cookie"
hargs=()
while IFS= read -r l; do
    case $l in GET*|Host:*|'') ;; *) hargs+=(-H "$l");; esac
done <"$T/browser.head"
[ "$(cat "$T/browser.head" | wc -c)" -gt 900 ] || fail "the recorded request is only $(wc -c <"$T/browser.head") bytes"
timeout 3 curl -sN -D "$T/browser.h" "${hargs[@]}" "$BASE_URL/stream" >"$T/browser.txt"
tr -d '\r' <"$T/browser.h" >"$T/browser.hh"
assert_contains "$(head -n 1 "$T/browser.hh")" "200" "status for the browser request"
grep -qi '^Access-Control-Allow-Origin: https://birdfeed.example$' "$T/browser.hh" ||
    fail "Origin did not reach the responder (no CORS answer): $(cat "$T/browser.hh")"
assert_eq "$(grep -o '^id: [0-9-]*' "$T/browser.txt" | head -n 2 | tr '\n' ' ')" "id: $(sed -n 599p "$T/ids") id: $(sed -n 600p "$T/ids") " "resume after Last-Event-ID"
grep -qi '^Transfer-Encoding: chunked' "$T/browser.hh" && fail "/stream is chunked: $(cat "$T/browser.hh")"
ok "a recorded 920-byte Chromium request gets its stream (not chunked), resumes after Last-Event-ID, Origin passes"

# 4. REST keeps every header: a bearer token and If-Match on a filter.
tok=$(cat "$T/tokens")
code=$(curl -s -o "$T/post" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data '{"name":"owls","track":["owl"]}' "$BASE_URL/api/filters")
assert_eq "$code" 201 "POST /api/filters with a bearer token"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"name":"x","track":["x"]}' "$BASE_URL/api/filters")
assert_eq "$code" 401 "POST without a token"
ok "REST: bearer token and JSON body pass as before"
