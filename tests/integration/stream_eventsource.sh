#!/bin/bash
# A real EventSource implementation (npm "eventsource", tests/node/) receives
# the preload and live events through nginx, and after the responder restarts
# it reconnects with Last-Event-ID and misses nothing, duplicates nothing.
. "$(dirname "$0")/../lib.sh"
command -v node >/dev/null || fail "node is not installed (deploy/install-deps.sh installs it)"
NODE_DIR=$BF_ROOT/tests/node
if [ ! -d "$NODE_DIR/node_modules/eventsource" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) || fail "npm ci failed: $(tail -5 "$T/npm.log")"
fi
start_redis
for i in 1 2 3; do publish_tweet "4000-$i" "{\"id\":\"$i\",\"text\":\"es $i\"}"; done
start_fcgi --retry-ms 300
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

node "$NODE_DIR/es_client.js" "$BASE_URL/stream?preload=2" 6 30000 >"$T/es.out" 2>"$T/es.err" &
np=$!
wait_until 10 grep -q '^tweet 4000-3 ' "$T/es.out" || fail "preload not received: $(cat "$T/es.out" "$T/es.err")"
publish_tweet "4000-4" '{"id":"4","text":"es 4"}'
wait_until 10 grep -q '^tweet 4000-4 4$' "$T/es.out" || fail "live event not received"
ok "EventSource receives preload and live events"

# Restart the responder on the same port: the stream ends cleanly, the client
# reconnects (retry: 300) with Last-Event-ID 4000-4.
stop_fcgi
publish_tweet "4000-5" '{"id":"5","text":"es 5"}'     # while no responder runs
restart_fcgi --retry-ms 300
wait_until 10 grep -q '^tweet 4000-5 5$' "$T/es.out" || fail "no resume after restart: $(cat "$T/es.out")"
publish_tweet "4000-6" '{"id":"6","text":"es 6"}'
publish_tweet "4000-7" '{"id":"7","text":"es 7"}'
wait "$np" || fail "client did not get 6 tweets: $(cat "$T/es.out")"
assert_eq "$(sed -n 's/^tweet \([^ ]*\) .*/\1/p' "$T/es.out" | tr '\n' ' ')" \
    "4000-2 4000-3 4000-4 4000-5 4000-6 4000-7 " "ids seen by EventSource"
assert_ge "$(grep -c '^open' "$T/es.out")" 2 "reconnected"
ok "EventSource reconnects with Last-Event-ID: no gap, no duplicate"
stop_fcgi
