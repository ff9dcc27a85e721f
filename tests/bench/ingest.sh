#!/bin/bash
# P5 (README, Performance: ingest keeps up with redis-benchmark): birdfeed ingest against redis-benchmark running the very
# same XADD+PUBLISH script, pipelined, on one private Redis, in one run,
# alternating. Prints the commands, each run's figure, and three summary
# lines at the end (tests/bench/run.sh shows the last three).
#   bash tests/bench/ingest.sh            (after make)
#   BENCH_ROUNDS=5 BENCH_N=200000 bash tests/bench/ingest.sh
. "$(dirname "$0")/../lib.sh"

N=${BENCH_N:-200000}          # canonical tweets per ingest run and requests per redis-benchmark run
NV=${BENCH_NV:-100000}        # v1.1 objects per run
ROUNDS=${BENCH_ROUNDS:-5}
[ -n "${BENCH_QUICK:-}" ] && { N=50000; NV=25000; ROUNDS=2; }
HISTORY=100000

command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found (apt-get install redis-tools)"; exit 1; }
start_redis
KEY=${BIRDFEED_PREFIX}tweets
CH=${BIRDFEED_PREFIX}live

# The script ingest runs (lib/pub.c). Checked below: after a SCRIPT FLUSH and
# one ingest, Redis must hold exactly this text under its SHA1.
SCRIPT="local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2])
return id
"
SHA=$(printf '%s' "$SCRIPT" | sha1sum | cut -d' ' -f1)

"$BF" gen --canonical --count "$N" --seed 1 >"$T/canon.ndjson" || fail "gen --canonical"
"$BF" gen --count "$NV" --seed 2 >"$T/v11.ndjson" || fail "gen v1.1"
# A sample tweet of the average canonical size, for redis-benchmark.
SAMPLE=$(head -n 20000 "$T/canon.ndjson" | awk '{ n++; s += length($0); l[n] = $0 }
    END { avg = s / n; b = 1; for (i = 1; i <= n; i++) if ((length(l[i]) - avg)^2 < (length(l[b]) - avg)^2) b = i; print l[b] }')

rcli SCRIPT FLUSH >/dev/null
"$BF" ingest --history $HISTORY "$T/canon.ndjson" 2>/dev/null || fail "warm-up ingest"
[ "$(rcli SCRIPT EXISTS "$SHA")" = 1 ] || fail "ingest's script differs from the one benchmarked here"

# Redis's own CPU time (utime + stime, clock ticks): per tweet, it does not
# depend on what else the machine is running, unlike the rates.
TCK=$(getconf CLK_TCK)
redis_ticks() { awk '{ print $14 + $15 }' "/proc/$REDIS_PID/stat"; }
# ticks_note FILE BEFORE: append the µs of Redis CPU per tweet since BEFORE to FILE
ticks_note() { echo "$(( ($(redis_ticks) - $2) * 1000000 / TCK * 100 / N ))" >>"$1"; }

# ingest_rate FILE|- [ARGS…]: run ingest on FILE (or on birdfeed gen through a
# pipe for "-"), print tweets/s from its summary line.
ingest_rate() {
    local src=$1 out
    rcli DEL "$KEY" >/dev/null
    if [ "$src" = - ]; then
        out=$("$BF" gen --count "$N" --seed 3 | "$BF" ingest --history $HISTORY 2>&1 >/dev/null)
    else
        out=$("$BF" ingest --history $HISTORY "$src" 2>&1 >/dev/null)
    fi
    echo "$out" | sed -n 's/^ingested [0-9]*, skipped [0-9]*, rejected 0 in [0-9.]* s (\([0-9]*\)\/s).*/\1/p' | tail -n 1
}
rb_rate() {
    rcli DEL "$KEY" >/dev/null
    redis-benchmark -p "$REDIS_PORT" -c 1 -P 64 -n "$N" -q EVALSHA "$SHA" 2 "$KEY" "$CH" $HISTORY "$SAMPLE" 2>&1 |
        tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1 | cut -d. -f1
}
best() { sort -n | tail -n 1; }

echo "# P5: birdfeed ingest vs redis-benchmark, same script (sha $SHA), one Redis, $ROUNDS rounds alternating"
echo "#   birdfeed gen --canonical --count $N > canon.ndjson; birdfeed ingest canon.ndjson"
echo "#   redis-benchmark -c 1 -P 64 -n $N EVALSHA $SHA 2 ${KEY} ${CH} $HISTORY '<canonical tweet, ${#SAMPLE} B>'"
echo "#   birdfeed gen --count $NV > v11.ndjson; birdfeed ingest v11.ndjson   ($(( $(wc -c <"$T/v11.ndjson") / NV )) B a line)"
echo "#   birdfeed gen --count $N | birdfeed ingest"
: >"$T/rb"; : >"$T/canon"; : >"$T/v11"; : >"$T/pipe"; : >"$T/rb.cpu"; : >"$T/canon.cpu"
for r in $(seq 1 "$ROUNDS"); do
    t0=$(redis_ticks); rb=$(rb_rate); ticks_note "$T/rb.cpu" "$t0"
    t0=$(redis_ticks); c=$(ingest_rate "$T/canon.ndjson"); ticks_note "$T/canon.cpu" "$t0"
    v=$(ingest_rate "$T/v11.ndjson"); p=$(ingest_rate -)
    echo "round $r: redis-benchmark ${rb:-?}/s | ingest canonical ${c:-?}/s | ingest v1.1 ${v:-?}/s | gen | ingest ${p:-?}/s"
    echo "${rb:-0}" >>"$T/rb"; echo "${c:-0}" >>"$T/canon"; echo "${v:-0}" >>"$T/v11"; echo "${p:-0}" >>"$T/pipe"
done
RB=$(best <"$T/rb"); C=$(best <"$T/canon"); V=$(best <"$T/v11"); P=$(best <"$T/pipe")
[ "$RB" -gt 0 ] && [ "$C" -gt 0 ] && [ "$V" -gt 0 ] || fail "a run failed (redis-benchmark $RB, canonical $C, v1.1 $V)"
PCT=$(( C * 100 / RB ))
# Redis CPU per tweet, in hundredths of a µs, median of the rounds
med() { sort -n | awk '{ v[NR] = $1 } END { printf "%d.%02d", v[int((NR + 1) / 2)] / 100, v[int((NR + 1) / 2)] % 100 }'; }
echo "Redis CPU per tweet (median): redis-benchmark $(med <"$T/rb.cpu") µs, ingest canonical $(med <"$T/canon.cpu") µs"
echo "ingest canonical (file): $C tweets/s, best of $ROUNDS; redis-benchmark same script -c 1 -P 64: $RB/s; ratio $PCT % (target ≥ 80 %)"
echo "ingest v1.1 (file): $V tweets/s (target ≥ 30 000/s); gen --count $N | ingest: $P tweets/s"
echo "P5 $( [ "$PCT" -ge 80 ] && [ "$V" -ge 30000 ] && echo met || echo NOT met ): canonical $PCT % of redis-benchmark, v1.1 $V/s"
