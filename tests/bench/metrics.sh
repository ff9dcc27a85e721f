#!/bin/bash
# tests/bench/metrics.sh — what GET /api/metrics costs: time per scrape through
# nginx (keep-alive) as the number of process hashes it sums grows (2 real
# responder processes plus simulated ones, as a large deployment would
# publish), with GET /api/health beside it for the fixed cost of a request.
#
#   bash tests/bench/metrics.sh            (after make; BIRDFEED_BUILD=build by default)
#   BENCH_REQUESTS=200 bash tests/bench/metrics.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
R=${BENCH_REQUESTS:-500}

start_redis
start_fcgi --workers 2
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responders never saw redis"
wait_until 10 bash -c "curl -s '$BASE_URL/api/metrics' | grep -qx 'birdfeed_responder_processes 2'" \
    || fail "two processes never published"

cat >"$T/scrape.py" <<'PY'
import http.client, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
cpu0, t0 = time.process_time(), time.perf_counter()
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("%s: %d %s" % (path, r.status, body[:200]))
wall = (time.perf_counter() - t0) / n * 1e6
print("%-14s %6d requests  %8.0f us each (wall clock, client included)  %6d bytes" % (path, n, wall, len(body)))
PY

# fake N: N simulated process hashes (as many fields as a responder writes), expiring like real ones.
fake() {
    python3 - "$1" "${BIRDFEED_PREFIX}metrics:proc:bench:" <<'PY' | rcli --pipe >/dev/null
import sys
n, base = int(sys.argv[1]), sys.argv[2].encode()
fields = [b"streams_open", b"streams_opened", b"events_sent", b"bytes_sent", b"slow_clients", b"heartbeats",
          b"redis_reconnects", b"streams_refused_full", b"streams_refused_redis", b"http_1xx", b"http_2xx",
          b"http_3xx", b"http_4xx", b"http_5xx", b"redis_subscribed", b"matcher_filters", b"ring_events"]
def cmd(*a):
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
out = sys.stdout.buffer
for i in range(n):
    key = base + str(i).encode()
    args = [b"HSET", key]
    for f in fields:
        args += [f, str(i + 7).encode()]
    out.write(cmd(*args) + cmd(b"PEXPIRE", key, b"600000"))
PY
}

echo "# birdfeed /api/metrics cost, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: bash tests/bench/metrics.sh (BENCH_REQUESTS=$R)"
python3 "$T/scrape.py" "$NGINX_PORT" /api/health "$R" || fail "health"
for n in 0 98 998; do
    fake "$n"            # keys bench:0 … bench:n-1 (a rerun overwrites them)
    got=$(curl -s "$BASE_URL/api/metrics" | awk '$1 == "birdfeed_responder_processes" { print $2 }')
    printf '%-5s process hashes: ' "$got"
    python3 "$T/scrape.py" "$NGINX_PORT" /api/metrics "$R" || fail "metrics"
done
