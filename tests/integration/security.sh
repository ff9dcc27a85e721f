#!/bin/bash
# Security (issue 8 item 6) through real nginx + birdfeed-fcgi + redis:
# CORS allow-list (echo only allowed origins, preflight OPTIONS, never a
# control byte echoed), nosniff + no-store on API answers, tokens absent from
# error bodies and logs, and the responder running as an unprivileged user
# that writes nothing outside its runtime directory.
. "$(dirname "$0")/../lib.sh"

TOKEN="sec-Token-$RANDOM$RANDOM$RANDOM"
RUN=$T/run                      # the responder's runtime directory
mkdir -p "$RUN"
printf '%s\n' "$TOKEN" >"$RUN/tokens"
chmod 600 "$RUN/tokens"
chown -R nobody:nogroup "$RUN"

start_redis
marker=$T/marker; touch "$marker"; sleep 1   # find -newer has 1 s granularity on some filesystems
# Unprivileged: no root, no groups, no capabilities, no way to gain them.
# One attempt (bf_start): it logs to its runtime directory, so a port lost
# to another process shows there.
start_as_nobody() {
    FCGI_PORT=$(free_port) || return 1; FCGI_ADDR=127.0.0.1:$FCGI_PORT
    setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
        "$BF_FCGI" --listen "127.0.0.1:$FCGI_PORT" --workers 2 --log-file "$RUN/fcgi.log" --log-level debug \
        --tokens-file "$RUN/tokens" --cors-origins "https://app.example, https://b.example" \
        --redis "redis://127.0.0.1:$REDIS_PORT/0" >>"$T/fcgi.out" 2>&1 &
    FCGI_PID=$!; BF_START_PID=$FCGI_PID
    bf_track "$FCGI_PID"
    bf_wait_serving 10 "$FCGI_PID" "$FCGI_PORT"
}
BF_START_ALSO=$T/fcgi.out bf_start "birdfeed-fcgi as nobody" "$RUN/fcgi.log" start_as_nobody
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health as nobody"

# req METHOD URL [curl args…]: sets CODE, BODY and HEADERS (lower-cased names).
req() {
    local m=$1 u=$2; shift 2
    CODE=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" "$@" "$u")
    BODY=$(cat "$T/b"); HEADERS=$(tr -d '\r' <"$T/h" | sed 's/^\([^:]*\):/\L\1:/')
}
hdr() { printf '%s\n' "$HEADERS" | sed -n "s/^$1: //p" | head -1; }

# --- the process ---------------------------------------------------------
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$FCGI_PID/status")
assert_eq "$uids" "65534 65534 65534 65534" "responder uids (real, effective, saved, fs)"
for w in $(pgrep -P "$FCGI_PID"); do
    assert_eq "$(awk '/^Uid:/ {print $3}' "/proc/$w/status")" 65534 "worker $w uid"
    assert_eq "$(awk '/^CapEff:/ {print $2}' "/proc/$w/status")" 0000000000000000 "worker $w capabilities"
done
req POST "$BASE_URL/api/filters" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    --data '{"name":"sec","track":["alpha"]}'
assert_eq "$CODE" 201 "create a filter as nobody"
ok "runs as nobody (uid 65534, no capabilities, 2 workers) and serves reads and writes"

# --- CORS ----------------------------------------------------------------
req GET "$BASE_URL/api/health" -H "Origin: https://app.example"
assert_eq "$(hdr access-control-allow-origin)" "https://app.example" "allowed origin echoed"
assert_eq "$(hdr vary)" "Origin" "Vary: Origin"
assert_contains "$(hdr access-control-expose-headers)" "ETag" "ETag readable by scripts"
req GET "$BASE_URL/api/health" -H "Origin: https://b.example"
assert_eq "$(hdr access-control-allow-origin)" "https://b.example" "second allowed origin"
for o in "https://evil.example" "https://app.example.evil" "null" "https://APP.example"; do
    req GET "$BASE_URL/api/filters" -H "Origin: $o"
    assert_eq "$CODE" 200 "GET with origin $o"
    assert_eq "$(hdr access-control-allow-origin)" "" "origin $o not echoed"
done
code=$(curl -s -m 2 -o "$T/s" -D "$T/sh" -w '%{http_code}' -H "Origin: https://app.example" "$BASE_URL/stream?preload=0")
assert_eq "$code" 200 "stream with an allowed origin"
assert_contains "$(tr -d '\r' <"$T/sh")" "Access-Control-Allow-Origin: https://app.example" "stream echoes the origin"
curl -s -m 2 -o /dev/null -D "$T/sh" -H "Origin: https://evil.example" "$BASE_URL/stream?preload=0"
grep -qi "access-control-allow-origin" "$T/sh" && fail "stream echoed a foreign origin"
ok "CORS: only listed origins echoed (API and stream), with Vary and Expose-Headers"

req OPTIONS "$BASE_URL/api/filters" -H "Origin: https://app.example" \
    -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: authorization, content-type"
assert_eq "$CODE" 204 "preflight on /api/filters"
assert_eq "$(hdr access-control-allow-origin)" "https://app.example" "preflight origin"
assert_contains "$(hdr access-control-allow-methods)" "POST" "preflight methods"
assert_contains "$(hdr access-control-allow-headers)" "Authorization" "preflight headers"
assert_contains "$(hdr allow)" "GET" "preflight Allow"
req OPTIONS "$BASE_URL/api/filters/1" -H "Origin: https://app.example" -H "Access-Control-Request-Method: PUT"
assert_eq "$CODE" 204 "preflight on a filter"
assert_contains "$(hdr access-control-allow-methods)" "DELETE" "filter methods"
assert_contains "$(hdr access-control-allow-headers)" "If-Match" "If-Match allowed"
req OPTIONS "$BASE_URL/stream" -H "Origin: https://app.example" -H "Access-Control-Request-Headers: last-event-id"
assert_eq "$CODE" 204 "preflight on /stream"
assert_contains "$(hdr access-control-allow-headers)" "Last-Event-ID" "Last-Event-ID allowed"
req OPTIONS "$BASE_URL/api/filters" -H "Origin: https://evil.example" -H "Access-Control-Request-Method: DELETE"
assert_eq "$CODE" 204 "preflight from a foreign origin"
assert_eq "$(hdr access-control-allow-origin)$(hdr access-control-allow-methods)" "" "foreign preflight gets no grant"
req OPTIONS "$BASE_URL/api/nothing-here" -H "Origin: https://app.example"
assert_eq "$CODE" 404 "preflight on an unknown resource"
ok "preflight OPTIONS: 204 with methods/headers for listed origins only; 404 for unknown resources"

# --- headers on API answers ----------------------------------------------
for u in /api/health /api/filters /api/filters/1 /api/filters/999 /api/nothing "/api/filters?x=%00"; do
    req GET "$BASE_URL$u"
    assert_eq "$(hdr x-content-type-options)" "nosniff" "nosniff on $u ($CODE)"
    assert_eq "$(hdr cache-control)" "no-store" "no-store on $u ($CODE)"
    assert_contains "$(hdr content-type)" "application/json" "JSON on $u"
done
req DELETE "$BASE_URL/api/filters/1"
assert_eq "$CODE" 401 "delete without a token"
assert_eq "$(hdr cache-control)" "no-store" "no-store on 401"
ok "X-Content-Type-Options: nosniff and Cache-Control: no-store on answers and errors"

# --- tokens stay secret ----------------------------------------------------
for auth in "Bearer $TOKEN" "Bearer ${TOKEN}x" "Bearer  $TOKEN" "Basic $TOKEN" "bearer $TOKEN extra" "Bearer $TOKEN$(printf '\t')"; do
    req DELETE "$BASE_URL/api/filters/999" -H "Authorization: $auth"
    case "$BODY$HEADERS" in *"$TOKEN"*) fail "a token is echoed for '$auth' ($CODE)";; esac
    req POST "$BASE_URL/api/filters" -H "Authorization: $auth" -H "Content-Type: application/json" --data '{"name":1}'
    case "$BODY$HEADERS" in *"$TOKEN"*) fail "a token is echoed in a 400 for '$auth'";; esac
done
curl -s "$BASE_URL/api/metrics" >"$T/metrics"
grep -q '^birdfeed_' "$T/metrics" || fail "no metrics to check: $(head -c 300 "$T/metrics")"
grep -q -- "$TOKEN" "$T/metrics" && fail "the token appears in /api/metrics"
kill -HUP "$FCGI_PID"
sleep 0.3
for f in "$RUN/fcgi.log" "$T/fcgi.out" "$T"/nginx/*.log; do
    [ -f "$f" ] || continue
    if grep -q -- "$TOKEN" "$f"; then fail "the token appears in $f"; fi
done
log_grep "$RUN/fcgi.log" -q "http.reply" || fail "debug log has no request lines, so the check above proved nothing"
ok "tokens never in answers, metrics or logs (debug level, right, wrong and malformed Authorization, SIGHUP reload)"

# --- nothing written outside the runtime directory ------------------------
stray=$(find /tmp /var /run /dev/shm /work "$BIRDFEED_BUILD" -xdev -user nobody -newer "$marker" 2>/dev/null | grep -v -e "^$RUN/" -e "^$RUN$")
assert_eq "$stray" "" "files written by nobody outside $RUN"
[ -s "$RUN/fcgi.log" ] || fail "the runtime directory holds no log"
# And it could not have: the places an attacker would aim at are closed to it.
for d in "$BF_ROOT" "$BIRDFEED_BUILD" /etc "$T"; do
    setpriv --reuid=nobody --regid=nogroup --clear-groups touch "$d/.bf-write-probe" 2>/dev/null &&
        { rm -f "$d/.bf-write-probe"; fail "nobody can write into $d"; }
done
kill -TERM "$FCGI_PID"
wait_until 5 bash -c "! kill -0 $FCGI_PID" || fail "responder as nobody did not stop on SIGTERM"
no_sanitizer_report "$RUN/fcgi.log" "$T/fcgi.out"
ok "as nobody, only the runtime directory was written (log), and the tree, build and /etc are closed to it"
