#!/bin/bash
# The demo page on a private deployment (auth-reads=1) in headless Chromium
# (tests/browser/private.js): without a token it asks for one; a pasted
# reader token becomes an HttpOnly cookie (POST /api/tokens/refresh) that
# the page refreshes before it expires, so the feed stays open past the
# token's own 20 s — the stream ends at exp with `event: token-expired` and
# resumes with the fresh cookie, no gap, no duplicate; a reload goes
# straight back in; a #token= link scoped to one filter opens that filter
# only. No token in birdfeed's or nginx's logs.
. "$(dirname "$0")/../lib.sh"

need_chromium
ART=$BF_ROOT/tests/artifacts
mkdir -p "$ART"

ADMIN="admin-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$ADMIN" >"$T/tokens"; chmod 600 "$T/tokens"
head -c 48 /dev/urandom | base64 >"$T/jwt.key"; chmod 600 "$T/jwt.key"
start_redis
start_fcgi --workers 2 --auth-reads 1 --tokens-file "$T/tokens" --jwt-secret-file "$T/jwt.key" \
    --heartbeat-ms 2000 --retry-ms 1000 --log-level debug
start_nginx
wait_until 10 curl -fsS -o /dev/null -H "Authorization: Bearer $ADMIN" "$BASE_URL/api/health" || fail "health"
"$BF" filters add --name "Owls and herons" --track owl --track heron >/dev/null || fail "filters add"
"$BF" filters add --name "Coffee" --track coffee >/dev/null || fail "filters add"
"$BF" gen --count 600 --seed 21 | "$BF" ingest 2>>"$T/ingest.log" || fail "seed ingest"
start_feed 20 22

export BF_ADMIN=$ADMIN BF_TTL=20 BF_SCOPED_FILTER=1 BF_FILTER_TERMS="owl heron"
export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '${BIRDFEED_PREFIX}tweets' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
export BF_ARTIFACTS=$ART BF_CHROMIUM=$CHROMIUM
timeout 200 node "$BF_ROOT/tests/browser/private.js" "$BASE_URL/" 2>&1 | tee "$T/private.log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || fail "private-feed check failed (exit $rc)"

grep -q 'stream.token_expired' "$T/fcgi.log" || fail "no stream ended at its token's expiry (stream.token_expired)"
grep -q 'tokens.refreshed' "$T/fcgi.log" || fail "the page never refreshed its token"
# No token string in any log: every token this run made is in the debug log's
# place only as "tokens.created"/"tokens.refreshed" lines, never itself.
grep -hoE 'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' "$T/fcgi.log" "$T"/nginx/*.log | head -1 | grep -q . \
    && fail "a JWT appears in a log: $(grep -lE 'eyJ[A-Za-z0-9_-]+\.' "$T/fcgi.log" "$T"/nginx/*.log)"
grep -qF -- "$ADMIN" "$T/fcgi.log" "$T"/nginx/*.log && fail "the admin token appears in a log"
no_sanitizer_report "$T/fcgi.log"
ok "private feeds in the page: cookie, refresh before exp, resume after token-expired, scoped links; no token in the logs"
