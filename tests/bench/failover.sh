#!/bin/bash
# The numbers of several hosts, on loopback "hosts" (127.0.0.2/.3/.4: a Redis
# master, two replicas, three Sentinels — the shipped deploy/redis.conf,
# redis-ha.conf and sentinel.conf):
#
# P7   a SIGKILL of the Redis master under load: the time from the kill to
#      the first tweet *published after it* reaching SSE clients through nginx
#      (gen --stamp | ingest --wait-replicas 1, responders reading through
#      the Sentinels), BENCH_ROUNDS kills in a row (the killed server comes
#      back as a replica before the next); also the silence each client saw
#      (last event before the kill to the first after) and whether every
#      published tweet reached every client exactly once.
# P7w  tweets/s of `birdfeed ingest --wait-replicas 1` against plain ingest
#      into the same master with two replicas, same file, alternating.
# P7f  fan-out: BENCH_SUBS subscribers through nginx at 100 tweets/s, the
#      responders reading from the master, then from the replicas
#      (--redis-read replica): delivery and p99 latency, and the master's CPU
#      per tweet beyond its idle load (what the master carries; with only
#      BENCH_WORKERS responder processes the difference is small — P7s gives
#      the cost of each subscription the replicas take off the master).
# P7s  what one Redis server carries: K plain subscriber connections (each
#      stands for a responder process, which holds one subscription to
#      `live`) receive every tweet of an ingest paced at BENCH_P7S_RATE
#      tweets/s (each tweet then travels alone, as in real life: at a steady
#      rate nothing batches them) into the master, which also feeds two
#      replicas: the master's CPU per tweet with no subscriber and per tweet
#      per subscriber (idle load taken off), and from them the responder
#      processes one Redis core can feed at that rate.
#
# Prints each measurement and summary lines starting "P7" at the end
# (tests/bench/run.sh shows them). Bounded in time; everything it starts is
# stopped on exit.
#   bash tests/bench/failover.sh                (after make)
#   BENCH_QUICK=1 bash tests/bench/failover.sh  (a short try)
# Environment: BENCH_DOWN_MS (Sentinel down-after-milliseconds, default 1000:
# the shipped 2000 plus the README's reasoning decide what to deploy),
# BENCH_ROUNDS (master kills, default 5), BENCH_RATE (tweets/s during P7,
# default 200), BENCH_N (tweets per P7w run, default 100000), BENCH_SUBS
# (P7f subscribers, default 1000), BENCH_SUBSCRIPTIONS (P7s subscriber
# connections, default 200), BENCH_P7S_RATE (default 1000), BENCH_ONLY="P7 P7w P7f P7s".
. "$(dirname "$0")/../lib.sh"
. "$BF_ROOT/tests/multihost.sh"

ROUNDS=${BENCH_ROUNDS:-5}
RATE=${BENCH_RATE:-200}
N=${BENCH_N:-100000}
SUBS=${BENCH_SUBS:-1000}
KSUB=${BENCH_SUBSCRIPTIONS:-200}
SRATE=${BENCH_P7S_RATE:-1000}
SECS=20
if [ -n "${BENCH_QUICK:-}" ]; then ROUNDS=1; N=20000; SUBS=100; SECS=5; KSUB=50; fi
SENTINEL_DOWN_MS=${BENCH_DOWN_MS:-1000}
ONLY=${BENCH_ONLY:-P7 P7w P7f P7s}
want() { case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }
SSELOAD=$BIRDFEED_BUILD/tests/bench/sseload
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() { sed 's/.*) //' "/proc/$1/stat" | awk -v t="$CLK_TCK" '{ print int(($12 + $13) * 1000 / t) }'; }
say() { echo "failover: $*" >&2; }
SUMMARY=()

redis_trio
key=${BIRDFEED_PREFIX}tweets
say "Redis master $(rn m), replicas $(rn r1) $(rn r2), Sentinels down-after ${SENTINEL_DOWN_MS} ms"

# A responder host at 127.0.0.5: birdfeed-fcgi (2 workers) and nginx.
# read_args: how the responders read ("" = from the master).
web_up() {
    [ -n "${FCGI_PID:-}" ] && { kill -TERM "$FCGI_PID" 2>/dev/null; wait "$FCGI_PID" 2>/dev/null; }
    [ -n "${NGINX_PID:-}" ] && { kill -TERM "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
    start_fcgi --workers 2 --backoff-max-ms 500 "$@"
    start_nginx
}
replica_reads() { "$BF_FCGI" --help 2>/dev/null | grep -q -- '--redis-read'; }

# ---- P7 -------------------------------------------------------------------------
if want P7; then
    if replica_reads; then web_up --redis-read replica; how="from the replicas"; else web_up; how="from the master (no --redis-read yet)"; fi
    mkdir -p "$T/p7"
    "$BF" gen --canonical --stamp --rate "$RATE" --count 0 --seed 7 2>/dev/null |
        "$BF" ingest --wait-replicas 1 --backoff-max-ms 500 --retries 100 >"$T/p7/ingest.out" 2>&1 &
    feed=$!
    bf_track "$feed"
    sleep 1
    python3 "$BF_ROOT/tests/faults/sseclient.py" "127.0.0.1:$NGINX_PORT" /stream "$T/p7" 4 --until never \
        --timeout $((ROUNDS * 25 + 20)) --follow-retry --events >"$T/p7/clients.out" 2>&1 &
    clients=$!
    bf_track "$clients"
    : >"$T/p7/kills"
    for round in $(seq 1 "$ROUNDS"); do
        sleep 3
        cur=$(sentinel_master); name=$(rn_name "$cur")
        echo "$(date +%s%6N) $name" >>"$T/p7/kills"
        rn_kill "$name"
        wait_failover "$cur" 30 || { say "round $round: no failover within 30 s"; break; }
        sleep 4
        rn_restart "$name"
        wait_until 30 sh -c "redis-cli -h ${RN_ADDR[$name]} -p ${RN_PORT[$name]} ROLE | head -1 | grep -qx slave" ||
            say "round $round: $name did not come back as a replica"
        sleep 2
    done
    sleep 3
    kill "$feed" 2>/dev/null; wait "$feed" 2>/dev/null
    sleep 2
    kill "$clients" 2>/dev/null; wait "$clients" 2>/dev/null
    final=$(sentinel_master); fname=$(rn_name "$final")
    rn_cli "$fname" --raw XRANGE "$key" - + | grep '^{' >"$T/p7/stream.json"
    python3 - "$T/p7" <<'PY' >"$T/p7/result"
import glob, json, os, statistics, sys
d = sys.argv[1]
kills = [int(l.split()[0]) for l in open(os.path.join(d, "kills"))]
stream = [json.loads(l)["id"] for l in open(os.path.join(d, "stream.json"))]
firsts, gaps, exact = [], [], 0
clients = sorted(glob.glob(os.path.join(d, "*.events")))
for f in clients:
    ev = [l.split() for l in open(f)]
    tids = [e[1] for e in ev]
    pos = {t: i for i, t in enumerate(stream)}
    # From its first tweet to its last, exactly the stream's tweets, once, in order.
    if tids and tids[0] in pos and tids[-1] in pos:
        exact += tids == stream[pos[tids[0]]:pos[tids[-1]] + 1]
    for k in kills:
        after = [int(e[2]) for e in ev if e[4] != "-" and int(e[4]) > k]
        before = [int(e[2]) for e in ev if int(e[2]) <= k]
        if after:
            firsts.append((min(after) - k) / 1e6)
            if before:
                gaps.append((min(after) - max(before)) / 1e6)
def s(v):
    return "median %.2f s, max %.2f s" % (statistics.median(v), max(v)) if v else "none"
print("kills=%d clients=%d first_after_kill: %s; silence: %s; clients with every tweet once in stream order: %d/%d"
      % (len(kills), len(clients), s(firsts), s(gaps), exact, len(clients)))
print("P7_MEDIAN=%.2f" % (statistics.median(firsts) if firsts else -1))
PY
    say "P7: $(head -1 "$T/p7/result")"
    med=$(sed -n 's/^P7_MEDIAN=//p' "$T/p7/result")
    SUMMARY+=("P7 master SIGKILL → first tweet published after it delivered: $(head -1 "$T/p7/result" | sed 's/;.*//; s/.*first_after_kill: //') over $ROUNDS kills (down-after ${SENTINEL_DOWN_MS} ms, responders reading $how; target ≤ 3 s: $(awk -v m="$med" 'BEGIN { print (m >= 0 && m <= 3) ? "met" : "NOT met" }'))")
    SUMMARY+=("P7 detail: $(head -1 "$T/p7/result")")
fi

# ---- P7w ------------------------------------------------------------------------
if want P7w; then
    m=$(sentinel_master); mname=$(rn_name "$m")
    "$BF" gen --canonical --count "$N" --seed 8 >"$T/w.ndjson"
    declare -A best=([plain]=0 [wait]=0)
    for round in 1 2 3; do
        for mode in plain wait; do
            rn_cli "$mname" DEL "$key" >/dev/null
            args=(); [ "$mode" = wait ] && args=(--wait-replicas 1)
            "$BF" ingest "${args[@]}" "$T/w.ndjson" >"$T/w.$mode.$round" 2>&1 || say "P7w: ingest $mode failed: $(tail -1 "$T/w.$mode.$round")"
            r=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$T/w.$mode.$round" | tail -1)
            say "P7w round $round $mode: ${r:-?} tweets/s"
            [ "${r:-0}" -gt "${best[$mode]}" ] && best[$mode]=$r
        done
    done
    SUMMARY+=("P7w ingest of $N canonical tweets, best of 3: plain ${best[plain]}/s, --wait-replicas 1 ${best[wait]}/s ($(awk -v a="${best[wait]}" -v b="${best[plain]}" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }') %)")
fi

# ---- P7f ------------------------------------------------------------------------
if want P7f; then
    if ! replica_reads; then
        SUMMARY+=("P7f fan-out from replicas vs master: not available: birdfeed-fcgi has no --redis-read yet")
    else
        m=$(sentinel_master); mname=$(rn_name "$m")
        for how in master replica; do
            if [ "$how" = replica ]; then web_up --redis-read replica; else web_up; fi
            "$SSELOAD" --conns "$SUBS" --ramp 1000 --expect $((SECS * 100)) --duration $((SECS + 30)) --settle 500 \
                --ready-file "$T/f.$how.ready" "http://127.0.0.1:$NGINX_PORT/stream?preload=0" >"$T/f.$how.out" 2>&1 &
            load=$!
            wait_until 60 test -f "$T/f.$how.ready" || say "P7f: subscribers not ready"
            # The master's CPU while idle for as long (Sentinels, replication,
            # the responders' statistics and ROLE checks) is taken off.
            i0=$(cpu_ms "${RN_PID[$mname]}"); sleep "$SECS"; i1=$(cpu_ms "${RN_PID[$mname]}")
            c0=$(cpu_ms "${RN_PID[$mname]}")
            "$BF" gen --canonical --stamp --rate 100 --count $((SECS * 100)) --seed 9 2>/dev/null | "$BF" ingest >/dev/null 2>&1
            wait "$load"
            c1=$(cpu_ms "${RN_PID[$mname]}")
            c1=$((c1 - (i1 - i0)))
            kvs=$(tail -1 "$T/f.$how.out")
            p99=$(tr ' ' '\n' <<<"$kvs" | sed -n 's/^p99_ms=//p'); pct=$(tr ' ' '\n' <<<"$kvs" | sed -n 's/^delivered_pct=//p')
            say "P7f $how: delivered ${pct:-?} %, p99 ${p99:-?} ms, master CPU $((c1 - c0)) ms for $((SECS * 100)) tweets"
            SUMMARY+=("P7f $SUBS subscribers, responders reading from the $how: delivered ${pct:-?} %, p99 ${p99:-?} ms, master CPU beyond idle $(awk -v c=$((c1 - c0)) -v n=$((SECS * 100)) 'BEGIN { printf "%.0f", 1000 * c / n }') µs per tweet")
        done
    fi
fi

# ---- P7s ------------------------------------------------------------------------
if want P7s; then
    m=$(sentinel_master); mname=$(rn_name "$m")
    SN=$((SRATE * SECS / 2)); [ "$SN" -lt 1000 ] && SN=1000   # tweets per measurement
    "$BF" gen --canonical --count "$SN" --seed 10 >"$T/s.ndjson"
    # measure K: the master's CPU (ms) for one ingest of N tweets with K subscriber connections.
    measure() {
        local k=$1 sub=""
        rn_cli "$mname" DEL "$key" >/dev/null
        if [ "$k" -gt 0 ]; then
            python3 - "${RN_ADDR[$mname]}" "${RN_PORT[$mname]}" "${BIRDFEED_PREFIX}live" "$k" "$SN" >"$T/s.sub.$k" 2>&1 <<'PY' &
import select, socket, sys, time
host, port, ch, k, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
cmd = ("*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(ch), ch)).encode()
socks = [socket.create_connection((host, port)) for _ in range(k)]
for s in socks:
    s.sendall(cmd)
need = {s.fileno(): b"message" for s in socks}
count = {s.fileno(): -1 for s in socks}      # the confirmation counts as one "*3" too
byfd = {s.fileno(): s for s in socks}
tail = {s.fileno(): b"" for s in socks}
print("subscribed", flush=True)
end = time.time() + 600
while time.time() < end and any(c < n for c in count.values()):
    r, _, _ = select.select(list(byfd.values()), [], [], 1)
    for s in r:
        d = tail[s.fileno()] + s.recv(1 << 20)
        count[s.fileno()] += d.count(b"*3\r\n")
        tail[s.fileno()] = d[-4:]
print("done", min(count.values()), flush=True)
PY
            sub=$!
            wait_until 30 sh -c "[ \"\$(redis-cli -h ${RN_ADDR[$mname]} -p ${RN_PORT[$mname]} PUBSUB NUMSUB ${BIRDFEED_PREFIX}live | tail -1)\" = $k ]" \
                || say "P7s: $k subscribers did not all subscribe"
        fi
        local c0 c1 i0 i1 t0 t1
        i0=$(cpu_ms "${RN_PID[$mname]}"); t0=$(date +%s%3N); sleep 2
        i1=$(cpu_ms "${RN_PID[$mname]}"); t1=$(date +%s%3N)
        c0=$(cpu_ms "${RN_PID[$mname]}"); local s0; s0=$(date +%s%3N)
        "$BF" ingest --rate "$SRATE" "$T/s.ndjson" >/dev/null 2>&1
        [ -n "$sub" ] && { wait_until 120 grep -q '^done' "$T/s.sub.$k"; kill "$sub" 2>/dev/null; wait "$sub" 2>/dev/null; }
        c1=$(cpu_ms "${RN_PID[$mname]}"); local s1; s1=$(date +%s%3N)
        # the run's CPU, less the idle load over as long a time
        awk -v c=$((c1 - c0)) -v i=$((i1 - i0)) -v ti=$((t1 - t0)) -v tr=$((s1 - s0)) 'BEGIN { printf "%d", c - i * tr / ti }'
    }
    base=$(measure 0); withk=$(measure "$KSUB")
    per_tweet=$(awk -v c="$base" -v n="$SN" 'BEGIN { printf "%.1f", 1000 * c / n }')
    per_sub=$(awk -v a="$withk" -v b="$base" -v n="$SN" -v k="$KSUB" 'BEGIN { printf "%.2f", 1000 * (a - b) / n / k }')
    say "P7s: master CPU beyond idle ${base} ms for $SN tweets at $SRATE/s alone, ${withk} ms with $KSUB subscriptions"
    cap=$(awk -v s="$per_sub" -v t="$per_tweet" -v r="$SRATE" 'BEGIN { if (s <= 0) { print "n/a"; exit } printf "%d", (1e6 / r - t) / s }')
    SUMMARY+=("P7s one Redis server (the master, feeding 2 replicas), tweets at $SRATE/s: $per_tweet µs CPU per tweet ingested, $per_sub µs per tweet per subscription; one core feeds about $cap responder processes at that rate ($KSUB subscriptions, $SN tweets)")
fi

for line in "${SUMMARY[@]}"; do echo "$line"; done
