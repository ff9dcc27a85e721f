#!/bin/bash
# tests/bench/archive.sh — the archive's numbers (issue 5): archive throughput
# (tweets/s) into SQLite and PostgreSQL for 100 000 tweets, and search latency
# over 100 000 archived tweets, on this machine, now. Durable settings as in
# production: SQLite WAL with synchronous=FULL, PostgreSQL with fsync and
# synchronous_commit on. Prints each figure with the command that made it.
#
#   bash tests/bench/archive.sh            (after make; BIRDFEED_BUILD=build by default)
#   BENCH_TWEETS=20000 bash tests/bench/archive.sh    a quicker run
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
N=${BENCH_TWEETS:-100000}
BATCH=${BENCH_BATCH:-500}
ROUNDS=${BENCH_ROUNDS:-200}
SEARCH=$BIRDFEED_BUILD/tests/bench/search_bench
[ -x "$SEARCH" ] || fail "build $SEARCH first (make)"

start_redis
start_postgres
SQ="sqlite:$T/archive.db"
"$BF" migrate --db "$SQ" >/dev/null && "$BF" migrate --db "$PG_URL" >/dev/null || fail "migrate"
echo "# birdfeed archive benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $N tweets, batch $BATCH"
echo "\$ birdfeed gen --canonical --count $N --seed 1 | birdfeed ingest --history $N"
"$BF" gen --canonical --count "$N" --seed 1 | "$BF" ingest --history "$N" 2>"$T/ingest.log" || fail "ingest: $(tail -2 "$T/ingest.log")"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" "$N" "stream length"

# archive_run ENGINE URL GROUP: time `birdfeed archive --once` over the whole stream.
archive_run() {
    local t0 t1 rows cpu
    echo "\$ birdfeed archive --once --db $2 --group $3 --batch $BATCH"
    t0=$(date +%s%N)
    local TIMEFORMAT='%U %S'     # bash's time: the archiver's user and system CPU
    { time "$BF" archive --once --db "$2" --group "$3" --batch "$BATCH" 2>"$T/$1.log"; } 2>"$T/$1.cpu" \
        || fail "$1: $(tail -2 "$T/$1.log")"
    t1=$(date +%s%N)
    rows=$(sed -n 's/.*event=archive.stop archived=\([0-9]*\).*/\1/p' "$T/$1.log")
    assert_eq "$rows" "$N" "$1 rows archived"
    cpu=$(awk '{ print $1 + $2 }' "$T/$1.cpu")
    awk -v n="$N" -v ns=$((t1 - t0)) -v e="$1" -v b="$BATCH" -v cpu="$cpu" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "archive %-9s %7d tweets in %6.2f s = %7.0f tweets/s wall (batch %d, durable commits; archiver CPU %.2f s = %.0f tweets per CPU-s; load %s)\n", e, n, ns / 1e9, n / (ns / 1e9), b, cpu, n / (cpu > 0 ? cpu : 0.01), load }'
}
archive_run sqlite "$SQ" bench_sq
archive_run postgres "$PG_URL" bench_pg

# Search latency: one connection, each query $ROUNDS times, 20 results a page.
# Words: the most frequent and a rarer one from the tweets, a two-word AND,
# a saved filter of three phrases, and the second page (keyset by id).
read -r common two rare < <(rcli --raw XRANGE "${BIRDFEED_PREFIX}tweets" - + COUNT 5000 | awk 'NR % 3 == 0' | python3 -c '
import collections, json, re, sys
c = collections.Counter()
for l in sys.stdin:
    if l.startswith("{"): c.update(set(w.lower() for w in re.findall(r"[^\W_]+", json.loads(l)["text"]) if len(w) > 3))
top = [w for w, _ in c.most_common(200)]
print(top[0], top[1], top[150])')
queries=("newest=" "common=$common" "two_words=$common $two" "rare=$rare" "filter=filter:$common $two,$rare,nosuchword"
         "common+page=$common")
for e in sqlite postgres; do
    [ $e = sqlite ] && db=$SQ || db=$PG_URL
    echo "\$ search_bench --db $db --rounds $ROUNDS $(printf "'%s' " "${queries[@]}")"
    "$SEARCH" --db "$db" --rounds "$ROUNDS" "${queries[@]}" | sed "s/^/search $e  /" || fail "search_bench $e"
done
