#!/bin/bash
# birdfeed archive into a real PostgreSQL (initdb in $T, loopback port):
# 100 000 tweets archived exactly; then 10 000 tweets archived into a second
# PostgreSQL database and into SQLite give the same search results on both
# engines, which also agree with an independent count; injection-shaped
# queries are inert on both; multilingual tweets from gen | ingest too.
. "$(dirname "$0")/../lib.sh"
start_redis
start_postgres -c fsync=off
KEY="${BIRDFEED_PREFIX}tweets"
SQ="sqlite:$T/archive.db"
"$BF" migrate --db "$PG_URL" >/dev/null || fail "migrate postgres"

N=100000
fill_tweets $N 5
"$BF" archive --once --db "$PG_URL" --group pg --batch 2000 2>"$T/pg.log" || fail "archive into postgres: $(tail -3 "$T/pg.log")"
assert_eq "$(pg_sql 'SELECT count(*) FROM tweets')" "$N" "rows archived"
assert_eq "$(pg_sql 'SELECT count(DISTINCT tweet_id) FROM tweets')" "$N" "distinct tweets"
need_log "$T/pg.log"
assert_contains "$(grep 'event=archive.stop' "$T/pg.log")" "archived=$N duplicates=0 lost=0 rejected=0" "summary"
for i in 1 4242 77777 $N; do
    rcli --raw XRANGE "$KEY" - + COUNT "$i" | tail -n 3 >"$T/entry"
    id=$(sed -n 1p "$T/entry"); json=$(sed -n 3p "$T/entry")
    assert_eq "$(pg_sql "SELECT json FROM tweets WHERE id = '$id'")" "$json" "entry $i ($id) stored byte for byte"
    assert_eq "$(pg_sql "SELECT ms || '-' || seq FROM tweets WHERE id = '$id'")" "$id" "entry $i keyed by its stream id"
done
assert_eq "$(pg_sql "SELECT count(*) FROM tweets WHERE tsv @@ 'alpha'::tsquery")" \
    "$(pg_sql "SELECT count(*) FROM tweets WHERE ' ' || words || ' ' LIKE '% alpha %'")" "tsvector agrees with the rows"
ok "$N tweets archived into PostgreSQL, spot checks byte for byte"

# The comparison data: 10 000 tweets in a fresh PostgreSQL database and in SQLite.
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE eq' >/dev/null || fail "createdb eq"
PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/eq"
pg_sql() { psql -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d eq -c "$1"; }
"$BF" migrate --db "$PG_URL" >/dev/null && "$BF" migrate --db "$SQ" >/dev/null || fail "migrate eq"
export BIRDFEED_PREFIX="eq:"
KEY="${BIRDFEED_PREFIX}tweets"
N=10000
fill_tweets $N 5
"$BF" archive --once --db "$PG_URL" --group pg --batch 2000 2>/dev/null || fail "archive eq into postgres"
"$BF" archive --once --db "$SQ" --group sq --batch 2000 2>"$T/sq.log" || fail "archive into sqlite"
assert_eq "$(pg_sql 'SELECT count(*) FROM tweets')" "$N" "postgres rows"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" "$N" "sqlite rows"

# The same queries on both engines: identical answers, page by page.
queries=("alpha" "alpha bravo" "ALPHA Bravo charlie" "café" "CAFÉ straße" "über naïve" "#Alpha" "@user3"
         "author42" "author42 alpha" "user7 india" "rust-go" "no-such-word" "")
for q in "${queries[@]}"; do
    for page in 1 2 3; do
        a=$("$BF" search --db "$PG_URL" -q "$q" --limit 50 --json ${b_pg:+--before "$b_pg"}) || fail "postgres search '$q'"
        b=$("$BF" search --db "$SQ" -q "$q" --limit 50 --json ${b_sq:+--before "$b_sq"}) || fail "sqlite search '$q'"
        [ "$a" = "$b" ] || fail "engines differ for '$q' page $page: $(diff <(echo "$a" | tr '{' '\n') <(echo "$b" | tr '{' '\n') | head -5)"
        b_pg=$(printf '%s' "$a" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next"] or "")')
        b_sq=$b_pg
        [ -n "$b_pg" ] || break
    done
    b_pg=""; b_sq=""
done
ok "${#queries[@]} queries give identical pages on PostgreSQL and SQLite"

# Total matches agree with each other and with a count made outside birdfeed.
rcli --raw XRANGE "$KEY" - + | python3 -c '
import json, re, sys
lines = sys.stdin.read().split("\n")
words = re.compile(r"\w+")     # letters, digits and "_", as lib/token cuts these ASCII and Latin words
def toks(t):
    s = " ".join([t["text"]] + t["hashtags"] + t["mentions"] + [t["user"]["screen_name"]])
    return set(w.lower() for w in words.findall(s))
counts = {"alpha bravo": 0, "café": 0, "author42 alpha": 0}
for i in range(2, len(lines), 3):
    if not lines[i].startswith("{"): continue
    tk = toks(json.loads(lines[i]))
    for q in counts:
        if all(w in tk for w in q.split()): counts[q] += 1
for q, n in counts.items(): print(q + "=" + str(n))
' >"$T/oracle"
for q in "alpha bravo" "café" "author42 alpha"; do
    want=$(sed -n "s/^$q=//p" "$T/oracle")
    pg_n=$(pg_sql "SELECT count(*) FROM tweets WHERE tsv @@ '${q// / \& }'::tsquery")
    sq_n=$(sqlite3 "$T/archive.db" "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH '$(echo "$q" | sed 's/\([^ ]*\)/"\1"/g')'")
    assert_eq "$pg_n" "$want" "postgres matches for '$q'"
    assert_eq "$sq_n" "$want" "sqlite matches for '$q'"
done
ok "match counts agree with an independent tokeniser on both engines"

# Injection-shaped and FTS-syntax queries: inert (no error, no effect).
inject=("'; DROP TABLE tweets;--" "alpha' OR '1'='1" '"' '"alpha' 'alpha*' '*' 'NEAR(alpha bravo)' 'alpha OR bravo'
        'alpha AND NOT bravo' 'words:alpha' 'alpha:*' '!alpha & bravo | charlie' '(alpha' 'alpha)' '^alpha'
        'alpha -bravo' '\x00' '%' '_' "\\" 'alpha;' '$1' '?' 'tsv @@ x' '<->' 'a:A' "$(printf 'x%.0s' $(seq 1 3000))")
for q in "${inject[@]}"; do
    for e in pg sq; do
        [ $e = pg ] && db=$PG_URL || db=$SQ
        "$BF" search --db "$db" -q "$q" --json >"$T/inj.$e" 2>"$T/inj.err"; rc=$?
        if [ "$rc" -ne 0 ]; then
            [ "$rc" -eq 2 ] || fail "query '$q' on $e: exit $rc: $(cat "$T/inj.err")"
            grep -q '^birdfeed search: q' "$T/inj.err" || fail "query '$q' rejected for another reason: $(cat "$T/inj.err")"
        fi
    done
    cmp -s "$T/inj.pg" "$T/inj.sq" || fail "engines disagree on '$q'"
done
assert_eq "$(pg_sql 'SELECT count(*) FROM tweets')" "$N" "postgres table intact"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" "$N" "sqlite table intact"
a=$("$BF" search --db "$PG_URL" -q "alpha OR bravo" --limit 5 --json); b=$("$BF" search --db "$PG_URL" -q "alpha or bravo" --limit 5 --json)
assert_eq "$a" "$b" "OR is a word, not an operator"
ok "${#inject[@]} injection-shaped queries are inert on both engines"

# Multilingual tweets from birdfeed gen through birdfeed ingest (seven
# languages, Japanese without spaces, Cyrillic, accents): words picked from
# the tweets themselves find the same tweets on both engines.
export BIRDFEED_PREFIX="ml:"
"$BF" gen --canonical --count 5000 --seed 9 | "$BF" ingest 2>"$T/ingest.log" || fail "gen | ingest: $(tail -2 "$T/ingest.log")"
"$BF" archive --once --db "$PG_URL" --group pg 2>/dev/null || fail "archive ml into postgres"
"$BF" archive --once --db "$SQ" --group sq 2>/dev/null || fail "archive ml into sqlite"
assert_eq "$(pg_sql 'SELECT count(*) FROM tweets')" $((N + 5000)) "postgres rows"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" $((N + 5000)) "sqlite rows"
rcli --raw XRANGE ml:tweets - + COUNT 5000 | awk 'NR % 3 == 0' | python3 -c '
import json, random, sys
rnd = random.Random(4)
tweets = [json.loads(l) for l in sys.stdin if l.startswith("{")]
langs = set()
while len(langs) < 7 or rnd.random() < 0.9:
    t = rnd.choice(tweets)
    w = t["text"].split()
    if not w: continue
    i = rnd.randrange(len(w))
    q = " ".join(w[i:i + rnd.randint(1, 2)]).replace(",", " ")   # one phrase: a comma would start another
    print(q.upper() if rnd.random() < 0.2 else q)
    langs.add(t.get("lang"))
' | head -n 30 >"$T/ml.queries"
nq=0; nonempty=0
while IFS= read -r q; do
    a=$("$BF" search --db "$PG_URL" -q "$q" --limit 200 --json 2>&1); ra=$?
    b=$("$BF" search --db "$SQ" -q "$q" --limit 200 --json 2>&1); rb=$?
    assert_eq "$ra" "$rb" "exit status for '$q'"
    [ "$a" = "$b" ] || fail "engines differ for '$q': $(diff <(echo "$a" | tr '{' '\n') <(echo "$b" | tr '{' '\n') | head -4)"
    nq=$((nq + 1))
    case "$a" in '{"tweets":[{'*) nonempty=$((nonempty + 1)) ;; esac
done <"$T/ml.queries"
assert_ge "$nonempty" $((nq * 3 / 4)) "most sampled queries find tweets"
ok "$nq multilingual queries sampled from gen tweets: same answers on both engines ($nonempty with results)"
