#!/bin/bash
# tests/bench/heartbeat.sh — what a heartbeat pass does to an event behind it.
#
# One responder process (--heartbeat-ms HB_MS, default 10000) behind the
# shipped nginx site (4 workers), HB_STREAMS idle streams (default 10000)
# opened by sseload. Each round publishes tweet A, which goes to every stream
# (so all of them fall silent together), then tweet B, stamped with its
# publish time, and reports B's latency over all streams:
#   quiet   B half a period after A: no ping is due, B's own broadcast only;
#   on-ping B one period (+20 ms) after A, when every stream's ping is due.
# The responder's CPU over the round and the pings it sent are printed too,
# then the median p50 and p99 of each kind.
#
#   bash tests/bench/heartbeat.sh                      # 3 rounds of each (3 minutes)
#   HB_ROUNDS=5 HB_STREAMS=10000 HB_MS=10000 …          # the knobs (these are the README's)
#   HB_FCGI=/path/to/birdfeed-fcgi bash tests/bench/heartbeat.sh   # another build
#
# Not a test: it prints figures. It needs nginx, redis-server and sseload
# (make build/tests/bench/sseload); run it on an idle machine.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
. tests/bench/lib.sh
set -u

need_sseload heartbeat
N=${HB_STREAMS:-10000}
HB=${HB_MS:-10000}
ROUNDS=${HB_ROUNDS:-3}
BF_FCGI=${HB_FCGI:-$BF_FCGI}
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -gt $((N + 200)) ] || { echo "heartbeat: ulimit -n $(ulimit -n) is too low for $N streams" >&2; exit 2; }

start_redis
FCGI_UNIX=1 start_fcgi --workers 1 --heartbeat-ms "$HB" --max-clients $((N + 100))
d=$T/nginx; mkdir -p "$d"
port=$(free_port)
bench_site deploy/nginx/birdfeed.conf "$FCGI_ADDR" "127.0.0.1:$port reuseport" "$d" >"$d/site.conf"
nginx_site_conf "$d" 4 19000 "$d/site.conf"   # reuseport: about N/4 streams, N/2 connections, a worker
nginx_run "$d" "$port" || fail "nginx did not start"
url="http://127.0.0.1:$port/stream?preload=0"
workers=$(pgrep -P "$FCGI_PID" | paste -sd, -)

# health KEY: a number from the responder's /api/health (one process).
health() {
    local v i
    for i in 1 2 3 4 5; do
        v=$(curl -s -m 5 "http://127.0.0.1:$port/api/health" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.2
    done
    fail "/api/health has no $1"
}
streams_closed() { [ "$(health streams)" = 0 ]; }
tweet() {   # ID [SENT_US]
    local stamp=""
    [ -n "${2:-}" ] && stamp=",\"sent_us\":$2"
    publish_tweet '*' "{\"id\":\"$1\",\"text\":\"to all\"$stamp}" >/dev/null
}

# round KIND: one sseload run, A, B after the KIND's delay; prints one line.
round() {
    local kind=$1 delay lp line c0 c1 p0 p1
    case $kind in quiet) delay=$((HB / 2));; on-ping) delay=$((HB + 20));; esac
    wait_until 30 streams_closed || fail "the last round's streams are still open"
    rm -f "$T/ready"
    "$SSELOAD" --conns "$N" --ramp 3000 --duration $((N / 3000 + HB * 3 / 1000 + 60)) --expect 2 \
        --settle 500 --ready-file "$T/ready" "$url" >"$T/load.out" 2>&1 &
    lp=$!
    wait_until $((N / 3000 + 60)) test -e "$T/ready" || { kill "$lp"; fail "no plateau: $(head -c 300 "$T/load.out")"; }
    # Let the streams' opening writes age past a period and their pings go
    # out: A is then what all of them last got, and no ping is pending.
    sleep $((HB / 1000 + N / 3000 + 2))
    p0=$(health heartbeats); c0=$(cpu_ms "$FCGI_PID,$workers")
    tweet "a$RANDOM"
    sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
    tweet "b$RANDOM" "$(date +%s%6N)"
    wait "$lp"
    c1=$(cpu_ms "$FCGI_PID,$workers"); p1=$(health heartbeats)
    line=$(grep '^conns=' "$T/load.out")
    python3 - "$kind" "$line" $((c1 - c0)) $((p1 - p0)) <<'PY'
import sys
kv = dict(x.split('=', 1) for x in sys.argv[2].split() if '=' in x)
print(f"{sys.argv[1]:8} B over {kv['connected']} streams: p50 {kv['p50_ms']} ms, p99 {kv['p99_ms']} ms, "
      f"max {kv['max_ms']} ms; delivered {kv['delivered_pct']} %; responder CPU {sys.argv[3]} ms; "
      f"pings in the round {sys.argv[4]}")
PY
}

echo "heartbeat: $N streams, --heartbeat-ms $HB, $BF_FCGI, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do round quiet; round on-ping; done | tee "$T/rounds"
python3 - "$T/rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for kind in ("quiet", "on-ping"):
    r = [x for x in rows if x and x[0] == kind]
    if r:
        print(f"median of {len(r)} {kind} rounds: B p50 {statistics.median(float(x[6]) for x in r):.1f} ms, "
              f"p99 {statistics.median(float(x[9]) for x in r):.1f} ms")
PY
echo "heartbeat: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
