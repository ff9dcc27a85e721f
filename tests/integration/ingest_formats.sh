#!/bin/bash
# Every input format into a real Redis: the recorded samples of Twitter,
# Bluesky Jetstream and Mastodon (tests/samples/) ingest to exactly their
# canonical tweets; lines that are not posts are skipped and counted, never
# rejected, dead-lettered or counted towards --max-errors; a file of mixed
# events exits 0. Ids as long as TWEET_ID_MAX (256 bytes) go through Redis,
# the SQLite archive, search, filters and the responder (/stream,
# /api/tweets) whole; one byte more is rejected.
. "$(dirname "$0")/../lib.sh"
start_redis
S=$BF_ROOT/tests/samples

# wait_subscribed: until one `birdfeed tail` listens on live.
wait_subscribed() {
    wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB ${BIRDFEED_PREFIX}live | tail -n 1)\" = 1 ]" ||
        fail "tail did not subscribe"
}

for f in twitter:6:3 jetstream:4:9 mastodon:3:4; do
    name=${f%%:*} rest=${f#*:}; posts=${rest%%:*} skipped=${rest#*:}
    "$BF" tail --count "$posts" >"$T/$name.out" 2>"$T/$name.tail.err" &
    tpid=$!; bf_track $tpid
    wait_subscribed
    "$BF" ingest --dead-letter "$T/$name.dead" --max-errors 0 "$S/$name.ndjson" 2>"$T/$name.err"; rc=$?
    assert_eq "$rc" 0 "$name: exit status"
    assert_contains "$(cat "$T/$name.err")" "ingested $posts, skipped $skipped, rejected 0 in " "$name: summary"
    wait_until 10 sh -c "! kill -0 $tpid" || fail "$name: tail saw $(wc -l <"$T/$name.out") of $posts"
    cmp -s "$S/$name.canonical" "$T/$name.out" ||
        fail "$name: published tweets differ from $name.canonical: $(diff "$S/$name.canonical" "$T/$name.out" | head -c 800)"
    [ -s "$T/$name.dead" ] && fail "$name: skipped lines went to the dead-letter file"
    ok "$name sample: $posts posts published exactly as $name.canonical, $skipped lines skipped (not rejected, not dead-lettered, not counted by --max-errors 0)"
done

# All formats in one file, with a broken line of each new kind among them:
# only the broken lines are rejected, the stream goes on.
rcli DEL "${BIRDFEED_PREFIX}tweets" >/dev/null
{
    cat "$S/twitter.ndjson"
    echo '{"did":"did:plc:x","kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3k","record":{"text":"no date"}}}'
    cat "$S/jetstream.ndjson"
    echo '{"event":"update","payload":"{\"uri\":\"u\""}'
    cat "$S/mastodon.ndjson"
} >"$T/mixed.ndjson"
"$BF" ingest --dead-letter "$T/mixed.dead" "$T/mixed.ndjson" 2>"$T/mixed.err"; rc=$?
assert_eq "$rc" 1 "mixed with two broken lines: exit 1"
assert_contains "$(cat "$T/mixed.err")" "ingested 13, skipped 16, rejected 2 in " "mixed summary"
grep -q "^$T/mixed.ndjson:10: no commit.record.createdAt$" "$T/mixed.err" || fail "Jetstream reject: $(cat "$T/mixed.err")"
grep -q "^$T/mixed.ndjson:24: payload: not JSON: unexpected end of input at byte 10$" "$T/mixed.err" || fail "Mastodon reject: $(cat "$T/mixed.err")"
assert_eq "$(wc -l <"$T/mixed.dead")" 2 "only the broken lines dead-lettered"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" 13 "every post published"
ok "one file of every format: 13 posts, 16 skipped, the 2 broken lines reported as FILE:LINE and dead-lettered"

# Ids at the limit: a Mastodon status whose uri is 256 bytes, a Jetstream post
# whose AT URI is 256 bytes; through ingest, the archive, search, filters and
# the responder.
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
uri = "https://masto.example/users/longname/statuses/"
uri += "9" * (256 - len(uri))
did = "did:web:" + "b" * (256 - len("at:///app.bsky.feed.post/3kzz") - len("did:web:")) 
status = {"uri": uri, "url": "https://masto.example/@longname/1", "created_at": "2024-05-01T00:00:00.000Z",
          "visibility": "public", "language": "en", "account": {"acct": "longname"},
          "content": "<p>limitword from mastodon</p>", "tags": [], "mentions": []}
post = {"did": did, "time_us": 1714521600000000, "kind": "commit",
        "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3kzz",
                   "record": {"text": "limitword from bluesky", "createdAt": "2024-05-01T00:00:01Z"}}}
over = dict(status, uri=uri + "9")
open(T + "/long.ndjson", "w").write("\n".join(json.dumps(x) for x in (status, post, over)) + "\n")
open(T + "/long.ids", "w").write(uri + "\nat://" + did + "/app.bsky.feed.post/3kzz\n")
PY
mid=$(sed -n 1p "$T/long.ids") bid=$(sed -n 2p "$T/long.ids")
assert_eq "${#mid} ${#bid}" "256 256" "test ids are 256 bytes"
"$BF" migrate --db "sqlite:$T/archive.db" >/dev/null || fail "migrate"
start_fcgi --heartbeat-ms 300 --db "sqlite:$T/archive.db"
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"
curl -sN "$BASE_URL/stream?preload=0&q=limitword" >"$T/long.sse" &
cpid=$!; bf_track $cpid
wait_until 10 grep -q '^retry:' "$T/long.sse" || fail "stream did not open"
"$BF" ingest "$T/long.ndjson" 2>"$T/long.err"; rc=$?
assert_eq "$rc" 1 "one id over the limit rejected"
assert_contains "$(cat "$T/long.err")" "$T/long.ndjson:3: uri: longer than 256 bytes" "the 257-byte id named"
wait_until 10 sh -c "[ \$(grep -c '^data: ' '$T/long.sse') -ge 2 ]" || fail "the long-id tweets did not reach /stream: $(cat "$T/long.sse")"
kill "$cpid" 2>/dev/null
got=$(sed -n 's/^data: //p' "$T/long.sse" | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]')
assert_eq "$got" "$(cat "$T/long.ids")" "ids on /stream (matched by ?q=)"
"$BF" archive --once --db "sqlite:$T/archive.db" 2>"$T/archive.log" || fail "archive: $(tail -3 "$T/archive.log")"
assert_eq "$(sqlite3 "$T/archive.db" "SELECT tweet_id FROM tweets WHERE tweet_id LIKE 'https://masto.example/%' OR tweet_id LIKE 'at://did:web:%' ORDER BY ms, seq")" \
    "$(cat "$T/long.ids")" "archived tweet ids"
"$BF" search --db "sqlite:$T/archive.db" -q limitword --json >"$T/search.json" || fail "search"
assert_eq "$(python3 -c 'import json,sys; [print(t["id"]) for t in reversed(json.load(open(sys.argv[1]))["tweets"])]' "$T/search.json")" \
    "$(cat "$T/long.ids")" "ids found by search"
curl -sf "$BASE_URL/api/tweets?q=limitword" >"$T/api.json" || fail "GET /api/tweets"
assert_eq "$(python3 -c 'import json,sys; [print(t["id"]) for t in reversed(json.load(open(sys.argv[1]))["tweets"])]' "$T/api.json")" \
    "$(cat "$T/long.ids")" "ids from /api/tweets"
stop_fcgi
ok "256-byte ids (Mastodon URI, AT URI) whole through Redis, /stream, the archive, search and /api/tweets; 257 bytes rejected"
