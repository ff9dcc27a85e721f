#!/bin/bash
# birdfeed archive into a real SQLite file: 100 000 tweets archived exactly
# (count and spot checks against the stream), lag and progress published,
# re-running is idempotent, search pages walk every match newest first, and
# stream trimming that overtakes the archive is reported with its count.
. "$(dirname "$0")/../lib.sh"
start_redis
DB="sqlite:$T/archive.db"
KEY="${BIRDFEED_PREFIX}tweets"
"$BF" archive --help | grep -q -- '--consumer NAME' || fail "archive --help"
"$BF" migrate --db "$DB" >/dev/null || fail "migrate"

N=100000
fill_tweets $N 1
assert_eq "$(rcli XLEN "$KEY")" "$N" "stream filled"
"$BF" archive --once --db "$DB" --batch 1000 2>"$T/archive.log" || fail "archive --once: $(tail -5 "$T/archive.log")"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" "$N" "rows archived"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(DISTINCT tweet_id) FROM tweets')" "$N" "distinct tweets"
assert_eq "$(sqlite3 "$T/archive.db" "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'alpha OR bravo OR zulu'")" \
    "$(sqlite3 "$T/archive.db" "SELECT count(*) FROM tweets WHERE ' ' || words || ' ' GLOB '* alpha *' OR ' ' || words || ' ' GLOB '* bravo *' OR ' ' || words || ' ' GLOB '* zulu *'")" \
    "full-text index agrees with the rows"
# The first progress line shows the whole stream as lag; the last shows none.
need_log "$T/archive.log"
assert_contains "$(grep -m1 'event=archive.progress' "$T/archive.log")" "lag=$N" "lag before archiving"
assert_contains "$(grep 'event=archive.stop' "$T/archive.log")" "archived=$N duplicates=0 lost=0 rejected=0" "summary"
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}archive:archive" lag)" 0 "lag published"
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}archive:archive" archived)" "$N" "archived published"
last=$(rcli --raw XREVRANGE "$KEY" + - COUNT 1 | head -n1)
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}archive:archive" last_id)" "$last" "last id published"
assert_eq "$(rcli XPENDING "$KEY" archive | head -n1)" 0 "nothing left pending"
ok "$N tweets archived into SQLite, lag and progress published"

# Spot checks: the first, the last and entries in between are stored byte for byte.
rcli --raw XRANGE "$KEY" - + COUNT 1 >"$T/first"
rcli --raw XREVRANGE "$KEY" + - COUNT 1 >"$T/last"
mid=$(rcli --raw XRANGE "$KEY" - + COUNT 54321 | sed -n '$!d; p' ) # last line of the 54 321st entry is its JSON
for f in "$T/first" "$T/last"; do
    id=$(sed -n 1p "$f"); json=$(sed -n 3p "$f")
    assert_eq "$(sqlite3 "$T/archive.db" "SELECT json FROM tweets WHERE id = '$id'")" "$json" "row $id"
done
mid_id=$(rcli --raw XRANGE "$KEY" - + COUNT 54321 | tail -n 3 | head -n1)
assert_eq "$(sqlite3 "$T/archive.db" "SELECT json FROM tweets WHERE id = '$mid_id'")" "$mid" "row $mid_id"
ms=${mid_id%-*}; seq=${mid_id#*-}
assert_eq "$(sqlite3 "$T/archive.db" "SELECT ms || '-' || seq || ' ' || tweet_id || ' ' || author || ' ' || lang FROM tweets WHERE id = '$mid_id'")" \
    "$ms-$seq $(python3 -c 'import json,sys; t=json.loads(sys.argv[1]); print(t["id"], t["user"]["screen_name"], t["lang"])' "$mid")" \
    "columns of $mid_id"
ok "spot checks: first, 54 321st and last entries stored byte for byte with their columns"

# Running again stores nothing twice.
"$BF" archive --once --db "$DB" 2>"$T/again.log" || fail "second archive --once"
need_log "$T/again.log"
assert_contains "$(grep 'event=archive.stop' "$T/again.log")" "archived=0" "nothing new"
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" "$N" "still N rows"
ok "archive again: idempotent"

# Search: pages of 500 over every tweet with "alpha bravo", newest first, no
# duplicates, and their number equals what the full-text index counts.
want=$(sqlite3 "$T/archive.db" "SELECT count(*) FROM tweets_fts WHERE tweets_fts MATCH 'alpha bravo'")
assert_ge "$want" 1000 "enough matches to page through"
before=""; : >"$T/ids"
for _ in $(seq 1 200); do
    "$BF" search --db "$DB" -q "Alpha; BRAVO!" --limit 500 --json ${before:+--before "$before"} >"$T/page" || fail "search page"
    python3 - "$T/page" >>"$T/ids" <<'PY' || fail "page is not the expected JSON"
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["tweets"]:
    words = (t["text"] + " " + " ".join(t["hashtags"]) + " " + " ".join(t["mentions"]) + " " + t["user"]["screen_name"]).lower()
    assert "alpha" in words and "bravo" in words, t
    print(t["id"])
print("NEXT", d["next"] or "")
PY
    before=$(sed -n 's/^NEXT //p' "$T/ids" | tail -n1)
    [ -n "$before" ] || break
done
sed -i '/^NEXT/d' "$T/ids"
assert_eq "$(wc -l <"$T/ids")" "$want" "every match once over all pages"
assert_eq "$(sort -u "$T/ids" | wc -l)" "$want" "no tweet on two pages"
# Tweet ids were assigned in stream order, so newest first means descending ids.
sort -rn "$T/ids" | cmp -s - "$T/ids" || fail "pages are not newest first"
ok "search pages: $want matches for 'alpha bravo', newest first, each once"

out=$("$BF" search --db "$DB" --limit 3) || fail "newest"
assert_eq "$(printf '%s\n' "$out" | head -n1 | cut -d' ' -f1)" "$last" "search without -q starts at the newest"
out=$("$BF" search --db "$DB" --limit 0 2>&1); assert_eq "$?" 2 "--limit 0"
out=$("$BF" search --db "$DB" --limit 501 2>&1); assert_eq "$?" 2 "--limit over the cap"
out=$("$BF" search --db "$DB" --before yesterday 2>&1); assert_eq "$?" 2 "--before not an id"
assert_contains "$out" "not a stream id" "--before error"
ok "search: newest first without -q, bad --limit/--before are usage errors"

# Trimming overtakes the archive: a consumer took 10 entries and died, then
# the stream was trimmed far past the group. Everything gone is counted.
export BIRDFEED_PREFIX="trim:"
fill_tweets 1000 2
"$BF" archive --once --db "$DB" --group g --consumer c1 2>/dev/null || fail "first trim-test archive"
fill_tweets 600 3
rcli XREADGROUP GROUP g c1 COUNT 10 STREAMS trim:tweets '>' >/dev/null
rcli XTRIM trim:tweets MAXLEN 50 >/dev/null
"$BF" archive --once --db "$DB" --group g --consumer c1 2>"$T/trim.log"; rc=$?
assert_eq "$rc" 1 "--once exits 1 when entries were lost"
lost=$(sed -n 's/.*event=archive.overtaken lost=\([0-9]*\).*/\1/p' "$T/trim.log" | awk '{s+=$1} END {print s+0}')
assert_eq "$lost" 550 "lost entries counted (10 pending + 540 never read)"
assert_contains "$(cat "$T/trim.log")" "level=error" "loss logged as an error"
assert_contains "$(cat "$T/trim.log")" "stream trimming overtook the archive" "loss explained"
assert_eq "$(rcli HGET trim:archive:g lost)" 550 "lost published"
assert_eq "$(rcli HGET trim:archive:g lag)" 0 "lag right again after the loss"
assert_eq "$(sqlite3 "$T/archive.db" "SELECT count(*) FROM tweets WHERE tweet_id LIKE '3%'")" 50 "the 50 left were archived"
ok "trimming past the archive: 550 lost entries reported loudly, the rest archived"

# Entries that are not canonical tweets are skipped with a reason, not fatal.
rcli XADD trim:tweets '*' t 'not json' >/dev/null
rcli XADD trim:tweets '*' other x >/dev/null
rcli XADD trim:tweets '*' t $'{"id":"9","text":"bad \xff byte"}' >/dev/null
rcli XADD trim:tweets '*' t '{"id":"8","text":"fine tweet"}' >/dev/null
# A tweet that writes terminal control sequences (OSC title, bell, C1 CSI).
rcli XADD trim:tweets '*' t '{"id":"7","text":"evil \u001b]0;owned\u0007 \u009b2J\ttab\nline","user":{"screen_name":"x\u001b[31m"}}' >/dev/null
"$BF" archive --once --db "$DB" --group g --consumer c1 2>"$T/bad.log"; rc=$?
assert_eq "$rc" 1 "--once exits 1 when entries were rejected"
need_log "$T/bad.log"
assert_eq "$(grep -c 'event=archive.rejected' "$T/bad.log")" 3 "three rejected"
assert_contains "$(cat "$T/bad.log")" "invalid UTF-8" "reason for the bad byte"
assert_contains "$(cat "$T/bad.log")" "no field t" "reason for the missing field"
assert_eq "$(sqlite3 "$T/archive.db" "SELECT text FROM tweets WHERE tweet_id = '8'")" "fine tweet" "good entry stored"
assert_eq "$(rcli XPENDING trim:tweets g | head -n1)" 0 "rejected entries acknowledged"
ok "malformed entries rejected with reasons; the archiver goes on"
# birdfeed search prints tweets for people: no control character of a tweet
# reaches the terminal (each becomes a space), in the text or the author.
out=$("$BF" search --db "$DB" -q evil) || fail "search evil"
assert_eq "$(printf '%s' "$out" | LC_ALL=C grep -c $'[\x01-\x1f\x7f]\|\xc2[\x80-\x9f]')" 0 "no control characters printed"
assert_contains "$out" "@x [31m  evil  ]0;owned   2J tab line" "controls shown as spaces"
ok "search's text output holds no control character a tweet carried"

# An archiver that died for good under another name: its unacknowledged
# entries are taken over once idle long enough (--claim-idle-ms), and the one
# trimmed meanwhile is counted as lost.
export BIRDFEED_PREFIX="claim:"
"$BF" migrate --db "sqlite:$T/claim.db" >/dev/null
fill_tweets 100 4
rcli XGROUP CREATE claim:tweets archive 0 >/dev/null
rcli XREADGROUP GROUP archive ghost COUNT 30 STREAMS claim:tweets '>' >/dev/null
rcli XDEL claim:tweets "$(rcli --raw XRANGE claim:tweets - + COUNT 1 | head -n1)" >/dev/null
"$BF" archive --once --db "sqlite:$T/claim.db" --consumer live 2>"$T/claim1.log"; rc=$?
assert_eq "$rc" 1 "exit 1: one entry was lost"
assert_contains "$(cat "$T/claim1.log")" "event=archive.overtaken lost=1" "the trimmed pending entry counted"
assert_eq "$(sqlite3 "$T/claim.db" 'SELECT count(*) FROM tweets')" 70 "a recent consumer's entries are left to it"
assert_eq "$(rcli XPENDING claim:tweets archive | head -n1)" 29 "still pending for the ghost"
"$BF" archive --once --db "sqlite:$T/claim.db" --consumer live --claim-idle-ms 0 2>"$T/claim2.log" || fail "take over"
assert_eq "$(sqlite3 "$T/claim.db" 'SELECT count(*) FROM tweets')" 99 "abandoned entries archived"
assert_contains "$(cat "$T/claim2.log")" "event=archive.claimed entries=29" "take-over logged"
assert_eq "$(rcli XPENDING claim:tweets archive | head -n1)" 0 "nothing pending"
ok "entries abandoned by another consumer are taken over; the trimmed one is reported lost"
