#!/bin/bash
# Filters and search work the same on every network: the recorded samples
# of Twitter, Bluesky and Mastodon (tests/samples/) are ingested, and live
# filters (/stream?q= and saved filters with a language) and the archive's
# search find posts of each network by their words, hashtags, mentions and
# language alike.
. "$(dirname "$0")/../lib.sh"
S=$BF_ROOT/tests/samples
start_redis
"$BF" ingest "$S/twitter.ndjson" "$S/jetstream.ndjson" "$S/mastodon.ndjson" 2>"$T/ingest.err" ||
    fail "ingest: $(cat "$T/ingest.err")"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" 13 "posts of three networks"

TOKEN="networks-$RANDOM"
printf '%s\n' "$TOKEN" >"$T/tokens"; chmod 600 "$T/tokens"
"$BF" migrate --db "sqlite:$T/archive.db" >/dev/null || fail "migrate"
start_fcgi --tokens-file "$T/tokens" --db "sqlite:$T/archive.db"
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"

# ids_for QUERY: the ids /stream?q=QUERY preloads, oldest first, as "network:id" words.
ids_for() {
    timeout 2 curl -sN -G --data-urlencode "q=$1" --data-urlencode preload=50 "$BASE_URL/stream" >"$T/q.sse"
    sed -n 's/^data: //p' "$T/q.sse" | python3 -c 'import json,sys; print(" ".join(t["network"] + ":" + t["id"].rsplit("/", 1)[-1] for t in map(json.loads, sys.stdin)))'
}
M1=mastodon:103270115826048975
M2=mastodon:activity
B1=bluesky:3l3qo2vuowo2b
B2=bluesky:3l3qo2vuowo2d
B3=bluesky:3l3qo2vuowo2h
assert_eq "$(ids_for '#food')" "$M1 $M2" "#food (Mastodon tags, a boost too)"
assert_eq "$(ids_for '#atproto')" "$B1" "#atproto (a Bluesky #tag facet)"
assert_eq "$(ids_for '#birds')" "$B3" "#birds (Bluesky, a facet's tag)"
assert_eq "$(ids_for 'fish chips')" "$M1 $M2" "words of Mastodon's HTML content"
assert_eq "$(ids_for 'emojis equal')" "twitter:1050118621198921728 twitter:1050333621198921730" "words of Twitter's full text (a retweet too)"
assert_eq "$(ids_for '@bsky.app')" "$B1" "a Bluesky mention"
assert_eq "$(ids_for 'was für')" "$B2" "non-ASCII words of a Bluesky post"
assert_eq "$(ids_for 'Q&A, #food')" "twitter:1050318621198921729 $M1 $M2" "Twitter's decoded &amp; and a hashtag, two phrases"
# authors and mentions by handle: a Bluesky handle, a Mastodon user@server
assert_eq "$(ids_for '@atproto.com')" "$B1" "a Bluesky author by handle"
assert_eq "$(ids_for '@noiob@awoo.space')" "$M1 $M2 mastodon:103270115826049000" "a Mastodon account: mentioned, booster, author"
ok "?q= finds posts of every network by words, hashtags, mentions and authors"

post() { curl -s -o "$T/post" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" --data "$1" "$BASE_URL/api/filters"; }
assert_eq "$(post '{"name":"german","track":["tag","quote"],"lang":["de"]}')" 201 "a filter with a language"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/post")
timeout 2 curl -sN "$BASE_URL/stream?filter=$id&preload=50" >"$T/f.sse"
assert_eq "$(sed -n 's/^data: //p' "$T/f.sse" | python3 -c 'import json,sys; print(" ".join(t["network"] + ":" + t["lang"] for t in map(json.loads, sys.stdin)))')" \
    "mastodon:de" "lang filter: Mastodon's language de taken; the Bluesky post with 'Tag' has langs [en, de], so lang en, left out"
ok "a saved filter with a language reads every network's lang"

"$BF" archive --once --db "sqlite:$T/archive.db" 2>"$T/archive.log" || fail "archive: $(tail -3 "$T/archive.log")"
search() { "$BF" search --db "sqlite:$T/archive.db" -q "$1" --json | python3 -c 'import json,sys; print(" ".join(t["network"] + ":" + t["id"].rsplit("/", 1)[-1] for t in reversed(json.load(sys.stdin)["tweets"])))'; }
assert_eq "$(search 'fish chips')" "$M1 $M2" "search: Mastodon words"
assert_eq "$(search 'jetstream live')" "$B1" "search: Bluesky words"
assert_eq "$(search 'emojis')" "twitter:1050118621198921728 twitter:1050333621198921730" "search: Twitter words"
ok "the archive's search finds posts of every network"
stop_fcgi
