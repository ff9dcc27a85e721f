#!/bin/bash
# GET /api/tweets through nginx and birdfeed-fcgi over a real archive:
# answers match `birdfeed search --json` byte for byte, pages, saved filters,
# 400 on bad parameters, 404 on unknown filters, 503 without or with an
# unreachable archive, injection-shaped queries never a 500. SQLite and
# PostgreSQL behind the same API give the same answers.
. "$(dirname "$0")/../lib.sh"
start_redis
start_postgres -c fsync=off
SQ="sqlite:$T/archive.db"
"$BF" migrate --db "$SQ" >/dev/null && "$BF" migrate --db "$PG_URL" >/dev/null || fail "migrate"
fill_tweets 3000 11
"$BF" archive --once --db "$SQ" --group sq 2>/dev/null || fail "archive into sqlite"
"$BF" archive --once --db "$PG_URL" --group pg 2>/dev/null || fail "archive into postgres"

start_fcgi --db "$SQ"
start_nginx
SQ_BASE=$BASE_URL
get() { curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' "$1"; }

code=$(get "$SQ_BASE/api/tweets?limit=5")
assert_eq "$code" 200 "GET /api/tweets"
assert_contains "$(cat "$T/head")" "application/json; charset=utf-8" "content type"
assert_eq "$(cat "$T/body")" "$("$BF" search --db "$SQ" --limit 5 --json)" "same as birdfeed search --json"
assert_eq "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["tweets"]), d["next"] == None)' "$T/body")" \
    "5 False" "five tweets and a next id"
ok "GET /api/tweets?limit=5: 200, the newest five and a next id"
code=$(get "$SQ_BASE/api/health")
assert_eq "$code" 200 "health with an archive"
assert_contains "$(cat "$T/body")" '"redis":"ok","archive":"ok"' "health names the archive"

# Walk every page of a query; the ids form one newest-first sequence.
want=$("$BF" search --db "$SQ" -q "alpha bravo" --limit 500 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tweets"]))')
before=""; : >"$T/ids"
for _ in $(seq 1 100); do
    code=$(get "$SQ_BASE/api/tweets?q=alpha+bravo&limit=7${before:+&before=$before}")
    assert_eq "$code" 200 "page"
    before=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as f:
    for t in d["tweets"]: f.write(t["id"] + "\n")
print(d["next"] or "")' "$T/body" "$T/ids")
    [ -n "$before" ] || break
done
assert_eq "$(wc -l <"$T/ids")" "$want" "all matches over the pages"
assert_eq "$(sort -u "$T/ids" | wc -l)" "$want" "no duplicates across pages"
sort -rn "$T/ids" | cmp -s - "$T/ids" || fail "pages not newest first"
ok "paging q=alpha bravo 7 at a time: all $want matches, newest first, once each"

# A saved filter: any phrase, and the language.
rcli HSET "${BIRDFEED_PREFIX}filters" 1 '{"id":"1","name":"f","track":["alpha bravo","#juliet"],"lang":["en"],"version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}' >/dev/null
code=$(get "$SQ_BASE/api/tweets?filter=1&limit=100")
assert_eq "$code" 200 "filter search"
python3 - "$T/body" <<'PY' || fail "filter results do not match the filter"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert len(d["tweets"]) == 100, len(d["tweets"])
tagged = 0
for t in d["tweets"]:
    w = set(x.lower() for x in re.findall(r"\w+", " ".join([t["text"]] + t["hashtags"] + t["mentions"] + [t["user"]["screen_name"]])))
    tags = set(h.lower() for h in t["hashtags"])
    assert t["lang"] == "en", t
    assert ({"alpha", "bravo"} <= w) or ("juliet" in tags), t   # "#juliet": the hashtag only
    tagged += "juliet" in tags and not {"alpha", "bravo"} <= w
assert tagged > 0, "no result came through the hashtag phrase"
PY
code=$(get "$SQ_BASE/api/tweets?filter=1&q=charlie&limit=50")
assert_eq "$code" 200 "filter and q"
python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tweets"]: assert "charlie" in t["text"].lower(), t' "$T/body" || fail "q narrows the filter"
code=$(get "$SQ_BASE/api/tweets?filter=99"); assert_eq "$code" 404 "unknown filter"
assert_contains "$(cat "$T/body")" '"code":"not_found"' "404 body"
code=$(get "$SQ_BASE/api/tweets?filter=x%27%3B"); assert_eq "$code" 404 "malformed filter id"
ok "saved filters: phrases OR'ed, language applied, q narrows; unknown filter 404"

# Several filters, as /stream takes them (filter=1,2 or filter=1&filter=2):
# a tweet any of them takes, each with its own languages, once, newest first,
# paged like any search.
rcli HSET "${BIRDFEED_PREFIX}filters" 2 '{"id":"2","name":"g","track":["kilo lima","alpha bravo"],"lang":["de"],"version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}' >/dev/null
all_pages() {   # all_pages QUERY: every id of the search, page by page (9 a page)
    local before="" page
    for _ in $(seq 1 300); do
        page=$(curl -s "$SQ_BASE/api/tweets?$1&limit=9${before:+&before=$before}")
        python3 -c 'import json,sys; [print(t["id"]) for t in json.loads(sys.argv[1])["tweets"]]' "$page"
        before=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["next"] or "")' "$page")
        [ -n "$before" ] || return 0
    done
}
for f in 1 2; do curl -s "$SQ_BASE/api/tweets?filter=$f&limit=500" | python3 -c '
import json, sys; [print(t["id"]) for t in json.load(sys.stdin)["tweets"]]'; done | sort -u >"$T/union"
all_pages "filter=1,2" >"$T/both"
n=$(wc -l <"$T/both")
assert_ge "$n" 20 "filter=1,2 finds tweets of both"
assert_eq "$(sort -u "$T/both")" "$(cat "$T/union")" "filter=1,2: the tweets of filter 1 and of filter 2, each once"
assert_eq "$(sort -u "$T/both" | wc -l)" "$n" "no tweet twice across the pages"
assert_eq "$(cat "$T/both")" "$(sort -rn "$T/both")" "newest first across the pages (tweet ids rise with the stream)"
assert_eq "$(all_pages "filter=1&filter=2")" "$(cat "$T/both")" "filter=1&filter=2 is filter=1,2"
curl -s "$SQ_BASE/api/tweets?filter=1,2&limit=500" | python3 -c '
import json, sys
ts = json.load(sys.stdin)["tweets"]
assert ts and all(t["lang"] in ("en", "de") for t in ts), "a language neither filter takes"
assert any(t["lang"] == "de" for t in ts) and any(t["lang"] == "en" for t in ts), "not both filters"' || fail "filter=1,2 languages"
for bad in "filter=1,99:404" "filter=1,,2:400" "filter=:400"; do
    code=$(get "$SQ_BASE/api/tweets?${bad%:*}"); assert_eq "$code" "${bad##*:}" "?${bad%:*}"
done
ok "filter=1,2 ($n tweets over pages of 9): the union of both filters, each tweet once, in order; an unknown id is a 404"

for bad in "limit=0" "limit=501" "limit=ten" "before=yesterday" "before=1-2-3" "q=%22%2A%3A" "x=1" "q=a&q=b" \
           "limit=5&limit=6"; do
    code=$(get "$SQ_BASE/api/tweets?$bad")
    assert_eq "$code" 400 "?$bad"
    assert_contains "$(cat "$T/body")" '"code":"bad_request"' "?$bad body"
done
assert_contains "$(get "$SQ_BASE/api/tweets?limit=0" >/dev/null; cat "$T/body")" "limit" "400 names the parameter"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "$SQ_BASE/api/tweets")
assert_eq "$code" 405 "POST /api/tweets"
ok "bad parameters: 400 with a JSON reason; POST 405"

for q in "'; DROP TABLE tweets;--" '"' 'alpha*' 'NEAR(alpha bravo)' 'alpha OR bravo' 'words:alpha' '!alpha & bravo' \
         '(alpha' '<->' '%' "\\" 'a:*'; do
    code=$(curl -s -o "$T/body" -w '%{http_code}' -G --data-urlencode "q=$q" "$SQ_BASE/api/tweets")
    case "$code" in 200|400) ;; *) fail "q=$q answered $code: $(cat "$T/body")" ;; esac
done
assert_eq "$(sqlite3 "$T/archive.db" 'SELECT count(*) FROM tweets')" 3000 "table intact"
ok "injection-shaped queries answer 200 or 400, never 500"

# PostgreSQL behind the API: the same answers.
start_fcgi --db "$PG_URL"
start_nginx
for qs in "limit=20" "q=alpha&limit=30" "q=caf%C3%A9+stra%C3%9Fe" "filter=1&limit=40" "filter=1,2&q=charlie&limit=40" "q=alpha&before=$(sed -n 10p "$T/ids")"; do
    a=$(curl -s "$SQ_BASE/api/tweets?$qs"); b=$(curl -s "$BASE_URL/api/tweets?$qs")
    assert_eq "$b" "$a" "postgres and sqlite answer ?$qs alike"
done
ok "the API answers the same from PostgreSQL and SQLite"

# PostgreSQL restarts under the responder: its kept connections are replaced
# on the next request, which still answers 200.
want=$(curl -s "$BASE_URL/api/tweets?limit=3")
bf_as_pg "$PG_BIN/pg_ctl" -D "$T/pg/data" -m fast -w -l "$T/pg/restart.log" restart >/dev/null || fail "pg_ctl restart"
bf_track "$(head -n 1 "$T/pg/data/postmaster.pid")"
for i in 1 2 3 4 5 6; do       # more requests than acceptor threads: every kept connection is hit
    code=$(get "$BASE_URL/api/tweets?limit=3")
    assert_eq "$code" 200 "request $i after the restart"
    assert_eq "$(cat "$T/body")" "$want" "same answer after the restart"
done
ok "PostgreSQL restarted: requests reconnect and answer 200"

# auth-reads: searching the archive is a read, so it needs a token too.
echo "archive-reader-token" > "$T/tokens"; chmod 600 "$T/tokens"
start_fcgi --db "$SQ" --tokens-file "$T/tokens" --auth-reads 1
start_nginx
code=$(get "$BASE_URL/api/tweets?limit=1")
assert_eq "$code" 401 "auth-reads: search without a token"
assert_contains "$(cat "$T/head")" "WWW-Authenticate: Bearer" "401 asks for a bearer token"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer archive-reader-token" "$BASE_URL/api/tweets?limit=1")
assert_eq "$code" 200 "auth-reads: search with a token"
ok "auth-reads: /api/tweets needs a token"

# No archive configured, or one that cannot be reached: 503 with a reason.
start_fcgi
start_nginx
code=$(get "$BASE_URL/api/tweets")
assert_eq "$code" 503 "no archive"
assert_contains "$(cat "$T/body")" '"code":"archive_unavailable"' "503 code"
assert_contains "$(cat "$T/body")" "no archive is configured" "503 says why"
assert_contains "$(cat "$T/head")" "Retry-After:" "503 without an archive has Retry-After"
code=$(get "$BASE_URL/api/health")
assert_eq "$code" 200 "health without an archive"
assert_contains "$(cat "$T/body")" '"archive":"not configured"' "health says none is configured"
start_fcgi --db "postgres://postgres@127.0.0.1:1/nope?connect_timeout=2"
start_nginx
code=$(get "$BASE_URL/api/tweets")
assert_eq "$code" 503 "unreachable archive"
assert_contains "$(cat "$T/head")" "Retry-After" "Retry-After"
code=$(get "$BASE_URL/api/health")
assert_eq "$code" 503 "health with an unreachable archive"
assert_contains "$(cat "$T/body")" '"code":"archive_unavailable"' "health names the archive as the failed part"
# A PostgreSQL that takes connections and never answers (a hung server, a
# proxy to a dead host), with no connect_timeout in the URL: the connect
# gives up after the default timeout, so a request answers 503 instead of
# holding its acceptor thread for ever.
/usr/bin/python3 - >"$T/mute.port" <<'PY' &
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(16)
print(l.getsockname()[1], flush=True)
held = []
while True:
    held.append(l.accept()[0])
PY
bf_track $!
wait_until 5 test -s "$T/mute.port" || fail "mute server did not start"
start_fcgi --db "postgres://postgres@127.0.0.1:$(cat "$T/mute.port")/nope" --acceptors 1
start_nginx
code=$(curl -s -o "$T/body" -D "$T/head" --max-time 30 -w '%{http_code}' "$BASE_URL/api/health")
assert_eq "$code" 503 "health with an archive that never answers"
assert_contains "$(cat "$T/body")" "timeout" "503 says the archive timed out"
code=$(curl -s -o /dev/null --max-time 30 -w '%{http_code}' "$BASE_URL/api/tweets")
assert_eq "$code" 503 "search with an archive that never answers"
# SIGTERM while the only acceptor waits on that archive (a 30 s connect
# timeout in the URL): the responder still exits within 2 s (stop_fcgi).
start_fcgi --db "postgres://postgres@127.0.0.1:$(cat "$T/mute.port")/nope?connect_timeout=30" --acceptors 1
start_nginx
curl -s -o /dev/null --max-time 40 "$BASE_URL/api/tweets" &
bf_track $!
sleep 1
stop_fcgi
start_fcgi --db "sqlite:$T/stale.db"
start_nginx
"$BF" migrate --db "sqlite:$T/stale.db" --to 1 >/dev/null
code=$(get "$BASE_URL/api/tweets")
assert_eq "$code" 503 "stale schema"
assert_contains "$(cat "$T/body")" "birdfeed migrate" "503 says to migrate"
ok "503 without an archive, with an unreachable one, with one that never answers (connect timeout; SIGTERM meanwhile still exits within 2 s), with a stale schema; /api/health reports the archive"
