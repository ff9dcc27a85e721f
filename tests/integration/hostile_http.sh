#!/bin/bash
# Hostile HTTP input through real nginx + birdfeed-fcgi (2 workers) + redis +
# a SQLite archive: REST bodies, headers, CR/LF injection, query strings,
# paths and methods (tests/integration/hostile_http.py sends them byte for
# byte). Each gets its documented 4xx, never a 5xx or a hang; the workers
# never die; valid requests next to them work; a stream opened before the
# barrage receives every tweet published during it, once, in order.
. "$(dirname "$0")/../lib.sh"

TOKEN="hostile-$RANDOM$RANDOM"
printf '%s\n' "$TOKEN" >"$T/tokens"; chmod 600 "$T/tokens"
start_redis
DB="sqlite:$T/archive.db"
"$BF" migrate --db "$DB" >/dev/null || fail "migrate"
start_fcgi --workers 2 --tokens-file "$T/tokens" --max-body 16384 --preload-max 100 --cors-origins '*' --db "$DB"
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"

curl -sN "$BASE_URL/stream?preload=0" >"$T/live" & live=$!
bf_track "$live"
wait_until 10 grep -q '^retry:' "$T/live" || fail "stream before the barrage"
# Tweets keep coming while the hostile requests run.
(
    for i in $(seq 1 60); do
        publish_tweet "$((1700000000000 + i))-0" \
            "{\"id\":\"$i\",\"text\":\"steady $i\",\"user\":{\"screen_name\":\"u\"},\"created_at\":\"2024-05-01T00:00:00Z\",\"lang\":\"en\"}"
        sleep 0.2
    done
) & pub=$!
bf_track "$pub"

BASE="127.0.0.1:$NGINX_PORT" TOKEN="$TOKEN" FCGI_PID="$FCGI_PID" \
    timeout 100 python3 "$BF_ROOT/tests/integration/hostile_http.py" || fail "hostile requests (see above)"

wait "$pub"
wait_until 10 grep -q "^id: 1700000000060-0" "$T/live" || fail "the stream did not get the last tweet"
assert_eq "$(sse_ids "$T/live" | tr '\n' ' ')" "$(seq -f '17000000000%02g-0' 1 60 | tr '\n' ' ')" \
    "stream saw all 60 tweets once, in order"
log_grep "$T/fcgi.log" -E 'Sanitizer|runtime error|worker.*(died|signal)' && fail "crash or sanitizer report in fcgi.log"
log_grep "$T/nginx/error.log" -E "upstream sent invalid|upstream prematurely closed" && fail "nginx saw a broken answer from the responder"
ok "a stream open through the barrage saw all 60 tweets once, in order; no crash, no invalid upstream answer"
stop_fcgi
