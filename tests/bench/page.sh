#!/bin/bash
# tests/bench/page.sh — the demo page under a fast stream: Redis, the
# responder and nginx on free ports (tests/lib.sh), birdfeed gen at RATE
# tweets/s into birdfeed ingest, and headless Chromium measuring the page
# for SECONDS (tests/browser/smooth.js): frames/s, long tasks, tweets/s
# received, JS heap and DOM size at start and end.
#
#   bash tests/bench/page.sh [RATE] [SECONDS]      (defaults 300 and 20)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
RATE=${1:-300}
SECONDS_RUN=${2:-20}
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) \
    || fail "npm ci in tests/browser failed"
start_redis
start_fcgi --workers 2
start_nginx
"$BF" gen --count 500 --seed 5 | "$BF" ingest 2>/dev/null || fail "seed ingest"
mkfifo "$T/feed"
"$BF" ingest <"$T/feed" 2>"$T/ingest.log" &
bf_track $!
"$BF" gen --rate "$RATE" --count 0 --seed 6 >"$T/feed" &
bf_track $!
echo "page bench: $RATE tweets/s through nginx, $SECONDS_RUN s measured"
node tests/browser/smooth.js "$BASE_URL/" "$SECONDS_RUN" || fail "smooth.js failed"
