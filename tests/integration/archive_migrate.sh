#!/bin/bash
# birdfeed migrate on a real SQLite file and a real PostgreSQL: from empty,
# from each earlier version (data kept), idempotent, concurrent, refusing a
# database newer than the binary, and archive/search refusing a stale schema.
. "$(dirname "$0")/../lib.sh"

"$BF" migrate --help | grep -q -- '--to VERSION' || fail "migrate --help lists --to"
out=$("$BF" migrate 2>&1); rc=$?
assert_eq "$rc" 2 "migrate without --db is a usage error"
assert_contains "$out" "--db" "says how to name the database"
out=$("$BF" migrate --db mysql://x 2>&1); rc=$?
assert_eq "$rc" 3 "unknown URL scheme"
assert_contains "$out" "sqlite: or postgres://" "names the accepted schemes"
ok "usage errors"

start_postgres -c fsync=off
LATEST=$(ls "$BF_ROOT"/sql/sqlite/*.sql | wc -l)
assert_eq "$(ls "$BF_ROOT"/sql/postgres/*.sql | wc -l)" "$LATEST" "both dialects have the same migrations"
assert_ge "$LATEST" 2 "at least two migrations"

# A fresh database for each step: a new file, or a new PostgreSQL database.
n_db=0
fresh_db() {   # fresh_db ENGINE: a new empty database, its URL in $db
    n_db=$((n_db + 1))
    if [ "$1" = sqlite ]; then db="sqlite:$T/m$n_db.db"; return; fi
    psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE m$n_db" >/dev/null || fail "createdb"
    db="postgres://postgres@127.0.0.1:$PG_PORT/m$n_db"
}
# sql URL STATEMENT: run SQL directly in the database, unaligned output.
sql() {
    case "$1" in
    sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
    *) psql -X -q -A -t "$1" -c "$2" ;;
    esac
}
TWEET='{"id":"42","text":"Old row from version VERSION","user":{"screen_name":"keeper"},"created_at":"2026-01-01T00:00:00Z","lang":"en","hashtags":[],"mentions":[],"urls":[],"retweet_count":0}'

for engine in sqlite postgres; do
    fresh_db $engine
    out=$("$BF" migrate --db "$db") || fail "$engine: migrate from empty"
    assert_contains "$out" "from version 0 to $LATEST ($LATEST applied)" "$engine: migrate output"
    assert_eq "$(sql "$db" 'SELECT count(*) FROM schema_version')" "$LATEST" "$engine: versions recorded"
    out=$("$BF" migrate --db "$db") || fail "$engine: second migrate"
    assert_contains "$out" "already at version $LATEST" "$engine: idempotent"
    assert_eq "$(sql "$db" 'SELECT count(*) FROM schema_version')" "$LATEST" "$engine: nothing recorded twice"
    out=$(cd / && "$BF" migrate --status --db "$db") || fail "$engine: --status"
    assert_contains "$out" "version $LATEST, newest known $LATEST (up to date)" "$engine: status"
    ok "$engine: migrate from empty to $LATEST, idempotent, from any directory"

    for from in $(seq 1 $((LATEST - 1))); do
        fresh_db $engine
        "$BF" migrate --db "$db" --to "$from" >/dev/null || fail "$engine: migrate --to $from"
        assert_eq "$(sql "$db" 'SELECT max(version) FROM schema_version')" "$from" "$engine: stopped at $from"
        out=$("$BF" search --db "$db" -q old 2>&1); rc=$?
        assert_eq "$rc" 3 "$engine: search refuses schema $from"
        assert_contains "$out" "run 'birdfeed migrate'" "$engine: says what to do"
        # A row written at this version survives the upgrade and is searchable after it.
        json=${TWEET/VERSION/$from}
        # (SQLite's rid is the stream id folded: ms * 2^20 + seq.)
        [ $engine = sqlite ] && rid="rid, " rv="$((1000 << 20)), " || rid="" rv=""
        sql "$db" "INSERT INTO tweets (${rid}ms, seq, id, tweet_id, author, lang, created_at, text, words, json)
                   VALUES (${rv}1000, 0, '1000-0', '42', 'keeper', 'en', '2026-01-01T00:00:00Z',
                           'Old row from version $from', 'old row from version $from keeper', '$json')" \
            || fail "$engine: insert at version $from"
        out=$("$BF" migrate --db "$db") || fail "$engine: migrate from $from"
        assert_contains "$out" "from version $from to $LATEST" "$engine: from $from"
        out=$("$BF" search --db "$db" -q "old keeper" --json) || fail "$engine: search after migrating from $from"
        assert_eq "$out" "{\"tweets\":[$json],\"next\":null}" "$engine: row kept from version $from"
        ok "$engine: migrate from version $from to $LATEST keeps data"
    done

    out=$("$BF" migrate --db "$db" --to 1 2>&1); rc=$?
    assert_eq "$rc" 1 "$engine: --to below the current version"
    assert_contains "$out" "only go forward" "$engine: says why"
    out=$("$BF" migrate --db "$db" --to $((LATEST + 1)) 2>&1); rc=$?
    assert_eq "$rc" 1 "$engine: --to beyond the newest"

    # A database from a newer birdfeed is refused by migrate, archive and search.
    sql "$db" "INSERT INTO schema_version (version, name) VALUES ($((LATEST + 1)), 'future')" >/dev/null
    out=$("$BF" migrate --db "$db" 2>&1); rc=$?
    assert_eq "$rc" 1 "$engine: migrate refuses a newer database"
    assert_contains "$out" "newer than this birdfeed knows ($LATEST): upgrade birdfeed" "$engine: refusal says why"
    assert_eq "$(sql "$db" 'SELECT count(*) FROM tweets')" 1 "$engine: newer database untouched"
    out=$("$BF" search --db "$db" -q old 2>&1); rc=$?
    assert_eq "$rc" 3 "$engine: search refuses a newer database"
    assert_contains "$out" "upgrade birdfeed" "$engine: search says why"
    ok "$engine: refuses a database newer than the binary; --to checked"

    # Version 4 keeps one row per tweet: a tweet archived twice before it
    # (under two stream ids, as a batch published again after a Redis
    # failover) keeps its lowest stream id; the unique index refuses a third.
    fresh_db $engine
    "$BF" migrate --db "$db" --to 3 >/dev/null || fail "$engine: migrate --to 3"
    while read -r sid tid; do
        ms=${sid%-*} seq=${sid#*-}
        j="{\"id\":\"$tid\",\"text\":\"dup $tid at $sid\",\"user\":{\"screen_name\":\"d\"}}"
        [ $engine = sqlite ] && rid="rid, " rv="$(( (ms << 20) + seq )), " || rid="" rv=""
        sql "$db" "INSERT INTO tweets (${rid}ms, seq, id, tweet_id, author, lang, created_at, text, words, json)
                   VALUES (${rv}$ms, $seq, '$sid', '$tid', 'd', 'en', NULL, 'dup $tid at $sid', 'dup', '$j')" \
            || fail "$engine: insert $sid at version 3"
    done <<'ROWS'
1000-5 7
1000-1 7
1000-3 8
2000-0 7
1000-2 9
3000-7 8
ROWS
    "$BF" migrate --db "$db" >/dev/null || fail "$engine: migrate 3 → $LATEST with duplicates"
    assert_eq "$(sql "$db" "SELECT id || ' ' || tweet_id FROM tweets ORDER BY ms, seq" | tr '\n' ',')" \
        "1000-1 7,1000-2 9,1000-3 8," "$engine: one row per tweet, the lowest stream id kept"
    out=$("$BF" search --db "$db" -q dup --json) || fail "$engine: search after the dedup"
    assert_eq "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tweets"]))')" 3 \
        "$engine: the full-text index lost the removed rows too"
    [ $engine = sqlite ] && rid="rid, " rv="$(( (4000 << 20) )), " || rid="" rv=""
    sql "$db" "INSERT INTO tweets (${rid}ms, seq, id, tweet_id, text, words, json)
               VALUES (${rv}4000, 0, '4000-0', '7', 'x', 'x', '{}')" >/dev/null 2>&1 \
        && fail "$engine: a second row for tweet 7 was accepted"
    ok "$engine: migration to one row per tweet keeps each tweet's first entry"

    # Several migrators at once (deploys start many): one applies, all succeed.
    fresh_db $engine
    pids=()
    for i in 1 2 3 4; do "$BF" migrate --db "$db" >"$T/conc$i.out" 2>&1 & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || fail "$engine: a concurrent migrate failed: $(cat "$T"/conc*.out)"; done
    assert_eq "$(sql "$db" 'SELECT count(*) FROM schema_version')" "$LATEST" "$engine: concurrent migrations recorded once"
    ok "$engine: four concurrent migrates apply each migration once"
done

start_redis
fresh_db sqlite
"$BF" migrate --db "$db" --to 1 >/dev/null
out=$("$BF" archive --once --db "$db" 2>&1); rc=$?
assert_eq "$rc" 3 "archive refuses an old schema"
assert_contains "$out" "run 'birdfeed migrate'" "archive says what to do"
ok "archive refuses a schema that is not current"

# The tokenizer's version: an archive made with this birdfeed records it;
# one whose words an older tokenizer cut (the stored version set back by
# hand, the words with it) is refused by search, archive and the responder
# until `birdfeed migrate` recomputes every row's words.
TOKEN_VERSION=$(sed -n 's/^#define TOKEN_VERSION \([0-9][0-9]*\).*/\1/p' "$BF_ROOT/lib/token.h")
assert_ge "${TOKEN_VERSION:-0}" 1 "lib/token.h defines TOKEN_VERSION"
"$BF" gen --count 300 --canonical --seed 7 | "$BF" ingest 2>"$T/ingest.log" || fail "ingest: $(tail -3 "$T/ingest.log")"
for engine in sqlite postgres; do
    fresh_db $engine
    "$BF" migrate --db "$db" >/dev/null || fail "$engine: migrate"
    assert_eq "$(sql "$db" 'SELECT version FROM token_version')" "$TOKEN_VERSION" "$engine: a new archive records the tokenizer's version"
    "$BF" archive --once --db "$db" --group "tok$engine" 2>"$T/arch.log" || fail "$engine: archive: $(tail -3 "$T/arch.log")"
    assert_eq "$(sql "$db" 'SELECT count(*) FROM tweets')" 300 "$engine: archived"
    sql "$db" "SELECT id || ' ' || words FROM tweets ORDER BY ms, seq" >"$T/words.$engine"
    word=$(sql "$db" "SELECT words FROM tweets ORDER BY ms LIMIT 1" | tr ' ' '\n' | grep -E '^[a-z]{4,}$' | head -1)
    [ -n "$word" ] || fail "$engine: no plain word in the first row's words"
    want=$("$BF" search --db "$db" -q "$word" --limit 500 --json) || fail "$engine: search $word"

    # As an older tokenizer left it: other words, an older version.
    sql "$db" "UPDATE tweets SET words = 'zzz'; UPDATE token_version SET version = $((TOKEN_VERSION - 1))" >/dev/null
    out=$("$BF" migrate --status --db "$db") || fail "$engine: migrate --status"
    assert_contains "$out" "words cut by tokenizer version $((TOKEN_VERSION - 1)), this birdfeed's $TOKEN_VERSION (run birdfeed migrate)" "$engine: status"
    out=$("$BF" search --db "$db" -q "$word" 2>&1); rc=$?
    assert_eq "$rc" 3 "$engine: search refuses words of an older tokenizer"
    assert_contains "$out" "cut by tokenizer version $((TOKEN_VERSION - 1)), this birdfeed's is $TOKEN_VERSION: run 'birdfeed migrate'" "$engine: search says why"
    out=$("$BF" archive --once --db "$db" --group "tok$engine" 2>&1); rc=$?
    assert_eq "$rc" 3 "$engine: archive refuses them"
    assert_contains "$out" "run 'birdfeed migrate'" "$engine: archive says why"
    start_fcgi --db "$db"
    start_nginx
    code=$(curl -s -o "$T/api.json" -w '%{http_code}' -G --data-urlencode "q=$word" "$BASE_URL/api/tweets")
    assert_eq "$code" 503 "$engine: /api/tweets refuses them"
    assert_contains "$(cat "$T/api.json")" "run 'birdfeed migrate'" "$engine: /api/tweets says why"

    out=$("$BF" migrate --db "$db") || fail "$engine: migrate re-words"
    assert_contains "$out" "words of 300 rows recomputed by tokenizer version $TOKEN_VERSION (cut by version $((TOKEN_VERSION - 1)))" "$engine: migrate says what it did"
    assert_eq "$(sql "$db" 'SELECT version FROM token_version')" "$TOKEN_VERSION" "$engine: version recorded"
    sql "$db" "SELECT id || ' ' || words FROM tweets ORDER BY ms, seq" >"$T/words2.$engine"
    cmp -s "$T/words.$engine" "$T/words2.$engine" || fail "$engine: words after migrate differ from the archiver's: $(diff "$T/words.$engine" "$T/words2.$engine" | head -5)"
    assert_eq "$("$BF" search --db "$db" -q "$word" --limit 500 --json)" "$want" "$engine: search finds what it found before"
    code=$(curl -s -o "$T/api.json" -w '%{http_code}' -G --data-urlencode "q=$word" --data-urlencode "limit=500" "$BASE_URL/api/tweets")
    assert_eq "$code" 200 "$engine: /api/tweets answers again"
    assert_eq "$(cat "$T/api.json")" "$want" "$engine: /api/tweets finds the same"
    out=$("$BF" migrate --db "$db") || fail "$engine: migrate again"
    assert_eq "$out" "$engine schema already at version $LATEST" "$engine: nothing more to do"
    stop_fcgi

    # Words a newer birdfeed cut: refused, never cut back.
    sql "$db" "UPDATE token_version SET version = $((TOKEN_VERSION + 1))" >/dev/null
    out=$("$BF" migrate --db "$db" 2>&1); rc=$?
    assert_eq "$rc" 1 "$engine: migrate refuses words of a newer tokenizer"
    assert_contains "$out" "newer than this birdfeed's ($TOKEN_VERSION): upgrade birdfeed" "$engine: says why"
    out=$("$BF" search --db "$db" -q "$word" 2>&1); rc=$?
    assert_eq "$rc" 3 "$engine: search refuses them"
    assert_contains "$out" "upgrade birdfeed" "$engine: search says why"
    ok "$engine: words of another tokenizer version refused by search, archive and /api/tweets; migrate recomputes older ones (the same words as the archiver wrote), refuses newer ones"
done
