#!/bin/bash
# One query language, live and archived: the same queries over the same
# tweets give the same answers from a live stream (/stream?q=, through nginx
# and a real responder, both as tweets arrive and as preload from history),
# from the archive on SQLite and on PostgreSQL (GET /api/tweets?q=) and from
# `birdfeed search`. Every answer must also be the one the rules promise
# (README, "Query language"): underscores join, diacritics are optional for
# the one who searches, #/@ ask for the hashtag/mention only, emoji are
# words, CJK, Thai and Khmer runs are found by one character or by adjacent
# pairs, Greek and Cyrillic fold case (final sigma too), commas separate
# phrases, and a Bluesky or Mastodon handle is found by the words it is made
# of, text written decomposed (Hangul jamo, kana with a combining mark) is
# found by the composed query, fullwidth signs are signs. Saved filters with
# languages agree too (`/stream?filter=`, `/api/tweets?filter=`):
# "en" takes "en-GB" and "EN", "pt-br" takes Bluesky's "pt-BR". Saved
# filters and q together are one rule everywhere: filter picks (any of the
# filters), q narrows (any of its phrases).
. "$(dirname "$0")/../lib.sh"
start_redis
start_postgres -c fsync=off
SQ="sqlite:$T/archive.db"
"$BF" migrate --db "$SQ" >/dev/null && "$BF" migrate --db "$PG_URL" >/dev/null || fail "migrate"

# The tweets: id, text, hashtags, mentions, author.
python3 - >"$T/tweets.ndjson" <<'PY'
import json
rows = [
    ("101", "foo_bar is one word", [], [], "ann"),
    ("102", "foo and bar apart", [], [], "bob"),
    ("103", "hello there", [], [], "cafe_fan"),
    ("104", "Un café à Paris", [], [], "ann"),
    ("105", "CAFE LATTE", [], [], "bob"),
    ("106", "new release #Alpha", ["Alpha"], [], "carl"),
    ("107", "alpha version out", [], [], "carl"),
    ("108", "ping @Dora please", [], ["Dora"], "ann"),
    ("109", "dora the explorer", [], [], "eve"),
    ("110", "fire \U0001F525\U0001F525 tonight", [], [], "ann"),
    ("111", "thumbs \U0001F44D\U0001F3FD up", [], [], "bob"),
    ("112", "family \U0001F468\u200d\U0001F469\u200d\U0001F467 day", [], [], "bob"),
    ("113", "vive la France \U0001F1EB\U0001F1F7", [], [], "carl"),
    ("114", "今日は晴れ", [], [], "jp1"),
    ("115", "今は日曜", [], [], "jp2"),
    ("116", "東京タワー #東京", ["東京"], [], "jp3"),
    ("117", "ΟΔΟΣ ΑΘΗΝΑ", [], [], "gr1"),
    ("118", "η οδός", [], [], "gr2"),
    ("119", "Москва ждёт", [], [], "ru1"),
    ("120", "МОСКВА ждет", [], [], "ru2"),
    ("121", "Straße gesperrt", [], [], "de1"),
    ("122", "strasse offen", [], [], "de2"),
    ("123", "ＡＢＣ fullwidth", [], [], "jp4"),
    ("124", "Tiếng Việt", [], [], "vn1"),
    ("125", "서울에서 만나요", [], [], "kr1"),
    ("126", "posted from the sky", [], [], "alice.bsky.social"),
    ("127", "hi @bob@mastodon.social", [], ["bob@mastodon.social"], "carl"),
    ("135", "\u1112\u1161\u11ab\u1100\u116e\u11a8 written in jamo", [], [], "kr2"),
    ("136", "\u304b\u3099\u3063\u3053\u3046 decomposed", [], [], "jp5"),
    ("137", "\uff03\uff54\uff41\uff47 fullwidth", [], [], "fw1"),
    ("138", "Москва_city mixed", [], [], "ru3"),
    ("139", "ชอบกาแฟมาก", [], [], "th1"),
    ("140", "กาแฟดำ ร้อน", [], [], "th2"),
    ("141", "ไปกินข้าว", [], [], "th3"),
    ("142", "ខ្ញុំចូលចិត្តកាហ្វេ", [], [], "km1"),
    ("130", "langprobe one", [], [], "lp", "en-GB"),
    ("131", "langprobe two", [], [], "lp", "EN"),
    ("132", "langprobe three", [], [], "lp", "pt-BR"),
    ("133", "langprobe four", [], [], "lp", "pt"),
    ("134", "langprobe five", [], [], "lp", "eng"),
]
for i, text, tags, ments, author, *lang in rows:
    print(json.dumps({"id": i, "text": text, "user": {"screen_name": author}, "created_at": "2026-01-01T00:00:00Z",
                      "lang": lang[0] if lang else "en", "hashtags": tags, "mentions": ments, "urls": [],
                      "retweet_count": 0}, ensure_ascii=False, separators=(",", ":")))
PY
# Saved filters with languages, and the tweets each must find.
"$BF" filters add --name "lang en" --track langprobe --lang en >/dev/null || fail "filters add (en)"
"$BF" filters add --name "lang pt-br" --track langprobe --lang pt-br >/dev/null || fail "filters add (pt-br)"
"$BF" filters add --name "cafe or alpha" --track cafe --track "#alpha" >/dev/null || fail "filters add (3)"
printf '1\t130 131\n2\t132\n3\t104 105 106\n' >"$T/filters"
# filter= and q= together: (any of the filters) and (any of the q phrases).
# The archive is asked each too (/api/tweets?filter=1,2 as /stream takes it).
cat >"$T/combined" <<'EOF'
1	one	130
1	one,two	130 131
1	three	
2	langprobe,foo	132
3	paris,version	104
3	café,new	104 106
3	#alpha,latte	105 106
1,2	two,three	131 132
1,3	latte,one	105 130
2,3	one	
EOF

# The queries and the tweets each must find.
cat >"$T/queries" <<'EOF'
foo_bar	101
foo	102
foo bar	102
cafe_fan	103
@cafe_fan	103
cafe	104 105
café	104
CAFÉ	104
#alpha	106
alpha	106 107
alpha version	107
@dora	108
dora	108 109
🔥	110
👍	111
👍🏽	111
👩	112
🇫🇷	113
日	114 115
今日	114
晴れ	114
東京	116
#東京	116
タワー	116
οδος	117 118
ΟΔΌΣ	118
αθηνα	117
москва	119 120
ждет	119 120
ждёт	119
strasse	121 122
straße	121
abc	123
viet	124
việt	124
서울	125
한국	135
がっこう	136
#tag	137
tag	137
москва_city	138
กาแฟ	139 140
ชอบ	139
ข้าว	141
กิน	141
កាហ្វេ	142
@alice.bsky.social	126
@bob@mastodon.social	127
social	126 127
cafe,🔥	104 105 110
#alpha,dora	106 108 109
EOF
nq=$(wc -l <"$T/queries")

start_fcgi --db "$SQ"
start_nginx
# Live: one stream per query, open before the tweets arrive, and one unfiltered.
i=0
while IFS=$'\t' read -r q _; do
    i=$((i + 1))
    curl -sN -G --data-urlencode "q=$q" --data-urlencode "preload=0" "$BASE_URL/stream" >"$T/live.$i" &
    bf_track $!
done <"$T/queries"
curl -sN "$BASE_URL/stream?preload=0" >"$T/live.all" & bf_track $!
while IFS=$'\t' read -r f _; do
    curl -sN "$BASE_URL/stream?filter=$f&preload=0" >"$T/live.f$f" & bf_track $!
done <"$T/filters"
i=0
while IFS=$'\t' read -r f q _; do
    i=$((i + 1))
    curl -sN -G --data-urlencode "filter=$f" --data-urlencode "q=$q" --data-urlencode "preload=0" "$BASE_URL/stream" >"$T/live.c$i" &
    bf_track $!
done <"$T/combined"
nc=$(wc -l <"$T/combined")
for f in all f1 f2 f3 $(seq 1 "$nq") $(seq -f 'c%g' 1 "$nc"); do wait_until 10 grep -q '^retry:' "$T/live.$f" || fail "stream $f did not start: $(head -c 300 "$T/live.$f")"; done
"$BF" ingest "$T/tweets.ndjson" 2>"$T/ingest.log" || fail "ingest: $(tail -3 "$T/ingest.log")"
nt=$(wc -l <"$T/tweets.ndjson")
wait_until 10 bash -c "[ \$(grep -c '^data:' '$T/live.all') -ge $nt ]" || fail "the unfiltered stream did not get all $nt tweets"

# The tweet ids in an SSE capture or a {"tweets":[…]} answer, sorted.
ids_sse() { python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l[6:])["id"] for l in open(sys.argv[1], encoding="utf-8") if l.startswith("data: {"))))' "$1"; }
ids_json() { python3 -c '
import json, sys
print(" ".join(sorted(t["id"] for t in json.load(open(sys.argv[1], encoding="utf-8"))["tweets"])))' "$1"; }

i=0
while IFS=$'\t' read -r q want; do
    i=$((i + 1))
    wait_until 10 bash -c "[ \"\$(python3 -c 'import sys; print(sum(1 for l in open(sys.argv[1]) if l.startswith(\"data: {\")))' '$T/live.$i')\" -ge $(echo "$want" | wc -w) ]" || true
    assert_eq "$(ids_sse "$T/live.$i")" "$want" "live stream ?q=$q"
done <"$T/queries"
ok "$nq queries on live streams: each got exactly the tweets the rules promise"
while IFS=$'\t' read -r f want; do
    assert_eq "$(ids_sse "$T/live.f$f")" "$want" "live stream ?filter=$f"
    curl -sN --max-time 3 "$BASE_URL/stream?filter=$f&preload=100" >"$T/pre.f$f"
    assert_eq "$(ids_sse "$T/pre.f$f")" "$want" "preload ?filter=$f"
done <"$T/filters"
ok "saved filters with languages, live and as preload: en takes en-GB and EN, pt-br takes pt-BR"
i=0
while IFS=$'\t' read -r f q want; do
    i=$((i + 1))
    assert_eq "$(ids_sse "$T/live.c$i")" "$want" "live stream ?filter=$f&q=$q"
    curl -sN --max-time 3 -G --data-urlencode "filter=$f" --data-urlencode "q=$q" --data-urlencode "preload=100" \
        "$BASE_URL/stream" >"$T/pre.c$i"
    assert_eq "$(ids_sse "$T/pre.c$i")" "$want" "preload ?filter=$f&q=$q"
done <"$T/combined"
ok "$nc filter+q selections, live and as preload: the filters pick, q narrows"

# Preload: the same matcher over the stream's history.
i=0; pre=()
while IFS=$'\t' read -r q _; do
    i=$((i + 1))
    curl -sN --max-time 3 -G --data-urlencode "q=$q" --data-urlencode "preload=100" "$BASE_URL/stream" >"$T/pre.$i" &
    pre+=($!)
done <"$T/queries"
wait "${pre[@]}"
i=0
while IFS=$'\t' read -r q want; do
    i=$((i + 1))
    assert_eq "$(ids_sse "$T/pre.$i")" "$want" "preload ?q=$q"
done <"$T/queries"
ok "$nq queries as preload from the stream's history: the same answers"

# The archive: the same tweets on both engines.
"$BF" archive --once --db "$SQ" --group sq 2>"$T/arch.sq" || fail "archive into sqlite: $(tail -3 "$T/arch.sq")"
"$BF" archive --once --db "$PG_URL" --group pg 2>"$T/arch.pg" || fail "archive into postgres: $(tail -3 "$T/arch.pg")"
archive_answers() {   # archive_answers NAME: /api/tweets?q= for every query
    local i=0 q want code
    while IFS=$'\t' read -r q want; do
        i=$((i + 1))
        code=$(curl -s -o "$T/$1.$i" -w '%{http_code}' -G --data-urlencode "q=$q" --data-urlencode "limit=500" \
            "$BASE_URL/api/tweets")
        assert_eq "$code" 200 "$1 /api/tweets?q=$q"
        assert_eq "$(ids_json "$T/$1.$i")" "$want" "$1 /api/tweets?q=$q"
    done <"$T/queries"
    while IFS=$'\t' read -r f want; do
        code=$(curl -s -o "$T/$1.f$f" -w '%{http_code}' "$BASE_URL/api/tweets?filter=$f&limit=500")
        assert_eq "$code" 200 "$1 /api/tweets?filter=$f"
        assert_eq "$(ids_json "$T/$1.f$f")" "$want" "$1 /api/tweets?filter=$f (languages as live)"
    done <"$T/filters"
    i=0
    while IFS=$'\t' read -r f q want; do
        i=$((i + 1))
        code=$(curl -s -o "$T/$1.c$i" -w '%{http_code}' -G --data-urlencode "filter=$f" --data-urlencode "q=$q" \
            --data-urlencode "limit=500" "$BASE_URL/api/tweets")
        assert_eq "$code" 200 "$1 /api/tweets?filter=$f&q=$q"
        assert_eq "$(ids_json "$T/$1.c$i")" "$want" "$1 /api/tweets?filter=$f&q=$q (as live)"
    done <"$T/combined"
}
archive_answers sqlite
i=0
while IFS=$'\t' read -r q want; do
    i=$((i + 1))
    "$BF" search --db "$SQ" -q "$q" --limit 500 --json >"$T/cli.$i" || fail "birdfeed search -q '$q'"
    assert_eq "$(ids_json "$T/cli.$i")" "$want" "birdfeed search -q $q"
done <"$T/queries"
start_fcgi --db "$PG_URL"
start_nginx
archive_answers postgres
ok "$nq queries against the archive (SQLite and PostgreSQL through /api/tweets, birdfeed search), saved filters with languages and filter+q too: the same answers"

# The same query errors on both sides: a phrase without words, an empty phrase.
for q in '!!' 'a,,b' ' , '; do
    live=$(curl -s -G --data-urlencode "q=$q" "$BASE_URL/stream")
    arch=$(curl -s -G --data-urlencode "q=$q" "$BASE_URL/api/tweets")
    lm=$(printf '%s' "$live" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["message"])')
    am=$(printf '%s' "$arch" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["message"])')
    assert_eq "$am" "${lm#parameter }" "the same reason for q='$q'"   # /stream says "parameter q: …"
done
ok "invalid queries are refused with the same reason live and in the archive"
