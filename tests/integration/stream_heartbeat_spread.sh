#!/bin/bash
# Heartbeats after an event that went to every stream: 64 streams through
# nginx fall silent at the same moment, and their `: ping`s must not all come
# in one pass. Each stream's first ping comes no sooner than --heartbeat-ms
# after the event and at most a quarter of it later; the 64 first pings are
# spread over a good part of that quarter, and so are the second ones (the
# cohort stays spread). tests/integration/heartbeat_spread.py holds the
# streams and times every line.
. "$(dirname "$0")/../lib.sh"
start_redis
start_fcgi --workers 1 --heartbeat-ms 2000
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "health"

BASE="127.0.0.1:$NGINX_PORT" STREAMS=64 HB_MS=2000 REDIS_PORT="$REDIS_PORT" \
    timeout 60 python3 "$BF_ROOT/tests/integration/heartbeat_spread.py" >"$T/spread.out" 2>&1 \
    || { cat "$T/spread.out"; fail "heartbeat spread (see above)"; }
cat "$T/spread.out"
grep -q '^ok first pings' "$T/spread.out" || fail "no verdict"
no_sanitizer_report "$T/fcgi.log"
ok "a cohort of 64 streams gets its pings spread over a quarter period, on time, twice"
