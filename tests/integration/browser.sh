#!/bin/bash
# The demo page in headless Chromium (Debian's chromium, driven by npm
# playwright-core: tests/browser/check.js) against the stack make run
# starts — Redis, birdfeed-fcgi with 2 workers, nginx with the shipped
# config, birdfeed gen | birdfeed ingest, a saved filter — on free ports: the
# page loads, the preload renders, live tweets appear, tweet text is escaped,
# a filter and a search change the stream, and after a responder restart the
# page reconnects and continues with no gap and no duplicate. Screenshots go
# to tests/artifacts/.
. "$(dirname "$0")/../lib.sh"

need_chromium
ART=$BF_ROOT/tests/artifacts
mkdir -p "$ART"

start_redis
printf 'browser-%s\n' "$RANDOM$RANDOM" > "$T/tokens"
FCGI_ARGS=(--workers 2 --tokens-file "$T/tokens" --heartbeat-ms 2000 --retry-ms 1000)
start_fcgi "${FCGI_ARGS[@]}"
start_nginx
wait_until 10 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "health never answered"

"$BF" filters add --name "Owls and herons" --track owl --track heron >/dev/null || fail "filters add"
"$BF" gen --count 600 --seed 11 | "$BF" ingest 2>>"$T/ingest.log" || fail "seed ingest"
start_feed 20 12

# What check.js runs: restart the responder on the same port (SIGTERM, then
# a new process), publish a hostile tweet, list stream ids in a range.
fcgi_restart_script "$T/restart.sh" 0.5 "${FCGI_ARGS[@]}"
hostile='{"id":"999000001","text":"<img src=x onerror=window.__pwned=true> <b>bold</b> & \"quotes\"","user":{"screen_name":"mallory","name":"<script>window.__pwned=true</script>"},"created_at":"2024-05-01T00:00:00Z"}'
export BF_RESTART="bash $T/restart.sh"
printf '%s\n' "$hostile" >"$T/hostile.json"
export BF_PUBLISH="'$BF' ingest <'$T/hostile.json' 2>>'$T/ingest.log'"
export BF_XRANGE="redis-cli -p $REDIS_PORT XRANGE '${BIRDFEED_PREFIX}tweets' \"\$1\" \"\$2\" | grep -E '^[0-9]+-[0-9]+\$'"
export BF_XRANGE_FULL="redis-cli -p $REDIS_PORT XRANGE '${BIRDFEED_PREFIX}tweets' \"\$1\" \"\$2\""
# Three posts for the network badges: Bluesky and Mastodon through ingest, and
# one written straight to Redis without a "network" field (as canonical
# tweets were before there were networks) — XADD and PUBLISH in one script,
# as every publisher must (ingest does the same).
printf '%s' '{"id":"998","text":"old style network-probe-none","user":{"screen_name":"old"},"created_at":"2024-05-01T00:00:00Z"}' >"$T/none.json"
cat >"$T/networks.sh" <<SH
printf '%s\n' \
 '{"id":"at://did:plc:probe/app.bsky.feed.post/3kprobe","network":"bluesky","text":"from the sky network-probe-bluesky","user":{"screen_name":"probe.bsky.social"},"created_at":"2024-05-01T00:00:00Z","lang":"en","url":"https://bsky.app/profile/probe.bsky.social/post/3kprobe"}' \
 '{"id":"https://mastodon.example/@probe/1","network":"mastodon","text":"from the fediverse network-probe-mastodon","user":{"screen_name":"probe@mastodon.example"},"created_at":"2024-05-01T00:00:00Z","lang":"en","url":"https://mastodon.example/@probe/1"}' \
 | "$BF" ingest 2>>"$T/ingest.log" || exit 1
redis-cli -p $REDIS_PORT EVAL "local id = redis.call('XADD', KEYS[1], '*', 't', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1]) return id" 2 '${BIRDFEED_PREFIX}tweets' '${BIRDFEED_PREFIX}live' \
    "\$(cat '$T/none.json')" | grep -qE '^[0-9]+-[0-9]+\$'
SH
export BF_PUBLISH_NETWORKS="bash $T/networks.sh"
export BF_TOKEN
BF_TOKEN=$(cat "$T/tokens")
export BF_ARTIFACTS=$ART BF_PROFILE=$T/chromium-profile BF_CHROMIUM=$CHROMIUM

timeout 170 node "$BF_ROOT/tests/browser/check.js" "$BASE_URL/" 2>&1 | tee "$T/check.log"
rc=${PIPESTATUS[0]}
[ -s "$T/restart.sh.pid" ] && bf_track "$(cat "$T/restart.sh.pid")"
[ "$rc" -eq 0 ] || fail "browser check failed (exit $rc); screenshots in $ART"
no_sanitizer_report "$T/fcgi.log"
ok "screenshots: $ART/browser.png, browser-filter.png, browser-after-restart.png"
