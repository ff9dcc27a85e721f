#!/bin/bash
# Hostile ingest input: lines of every broken shape between valid tweets, in
# every input format (Twitter, canonical, Bluesky Jetstream, Mastodon).
# Each broken line is reported as FILE:LINE: reason and written verbatim to
# the dead-letter file; every valid tweet next to them is published once;
# lines that are valid but not posts are skipped (neither reported nor
# dead-lettered); ingest never crashes and exits 1 (some rejected). Also
# through stdin, with CRLF line ends, a line over --max-line, and a file
# without a final newline.
. "$(dirname "$0")/../lib.sh"
start_redis

python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
def tw(i, **kw):
    d = {"id": str(i), "text": "valid tweet %d" % i, "user": {"screen_name": "u%d" % i},
         "created_at": "2024-05-01T00:00:00Z", "lang": "en"}
    d.update(kw)
    return json.dumps(d).encode()
bad = [
    b"not json at all", b"{", b"}", b"[]", b"null", b"42", b"\"a string\"", b"{\"id\":",
    b"{\"id\":\"1\"} trailing", b"{\"id\":\"1\",}", b"{'id':'1'}",
    b"\xff\xfe\xfd", b"{\"id\":\"77\",\"text\":\"bad \xc0\xaf utf8\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"78\",\"text\":\"surrogate \xed\xa0\x80\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"79\",\"text\":\"lone \\ud800 escape\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"80\",\"text\":\"nul \x00 byte\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"81\",\"text\":\"ctl \x01 byte\",\"user\":{\"screen_name\":\"x\"}}",
    b"[" * 100000 + b"]" * 100000,
    b"{\"a\":" * 5000 + b"1" + b"}" * 5000,
    b"{\"text\":\"no id\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":{\"nested\":1},\"text\":\"id object\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"\",\"text\":\"empty id\",\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"82\",\"text\":123,\"user\":{\"screen_name\":\"x\"}}",
    b"{\"id\":\"83\",\"text\":\"no user\"}",
    b"{\"id\":\"84\",\"text\":\"huge number\",\"user\":{\"screen_name\":\"x\"},\"retweet_count\":1e999999}",
    b"{\"id\":\"85\",\"network\":\"twitter\",\"text\":\"t\",\"user\":{\"screen_name\":\"x\"},\"created_at\":\"2024-05-01T00:00:00Z\",\"url\":\"javascript:alert(1)\"}",
    b"{\"id\":\"" + b"x" * 257 + b"\",\"text\":\"id too long\",\"user\":{\"screen_name\":\"x\"}}",
    # Bluesky Jetstream
    b"{\"did\":\"not a did\",\"kind\":\"commit\"}",
    b"{\"did\":\"did:plc:a\",\"kind\":\"surprise\"}",
    b"{\"did\":\"did:plc:a\",\"kind\":\"commit\",\"commit\":\"create\"}",
    b"{\"did\":\"did:plc:a\",\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"../x\",\"record\":{}}}",
    b"{\"did\":\"did:plc:a\",\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3k\",\"record\":{\"createdAt\":\"2024-09-09T19:46:02Z\"}}}",
    b"{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3k\",\"record\":{\"text\":\"t\",\"facets\":[{\"index\":{\"byteStart\":-1}}]}}}",
    b"{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3k\",\"record\":{\"text\":\"t\",\"langs\":\"en\"}}}",
    # Mastodon
    b"{\"event\":\"update\",\"payload\":\"{not json\"}",
    b"{\"event\":\"update\",\"payload\":\"{\\\"content\\\":\\\"x\\\",\\\"account\\\":{\\\"acct\\\":\\\"a\\\"}}\"}",
    b"{\"uri\":\"https://m.example/1\",\"content\":[],\"created_at\":\"2024-05-01T00:00:00Z\",\"account\":{\"acct\":\"a\"}}",
    b"{\"uri\":\"https://m.example/2\",\"content\":\"" + b"<b>" * 5000 + b"\",\"created_at\":\"2024-05-01T00:00:00Z\",\"account\":{\"acct\":\"a\"}}",
    b"{\"uri\":\"https://m.example/3\",\"content\":\"x\",\"url\":\"javascript:alert(1)\",\"created_at\":\"2024-05-01T00:00:00Z\",\"account\":{\"acct\":\"a\"}}",
]
# valid, and not posts: skipped, never reported or dead-lettered
skip = [
    b"{\"delete\":{\"status\":{\"id\":1,\"id_str\":\"1\"}}}",
    b"{\"limit\":{\"track\":12}}",
    b"{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"identity\",\"identity\":{\"did\":\"did:plc:a\",\"handle\":\"a.example\"}}",
    b"{\"did\":\"did:plc:a\",\"time_us\":2,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.like\",\"rkey\":\"3k\",\"record\":{}}}",
    b"{\"event\":\"delete\",\"payload\":\"109\"}",
    b"{\"id\":\"3\",\"type\":\"follow\",\"account\":{\"acct\":\"a\"}}",
]
lines, want = [], []
n = 1000
for b in bad:
    lines.append(tw(n)); want.append(str(n)); n += 1
    lines.append(b)
for b in skip:
    lines.append(tw(n)); want.append(str(n)); n += 1
    lines.append(b)
lines.append(tw(n)); want.append(str(n)); n += 1
open(T + "/in.ndjson", "wb").write(b"\n".join(lines) + b"\n")
open(T + "/bad.count", "w").write(str(len(bad)))
open(T + "/skip.count", "w").write(str(len(skip)))
open(T + "/want.ids", "w").write("\n".join(want) + "\n")
# CRLF line ends, blank lines, a final line without newline, through stdin.
crlf = b"\r\n".join([tw(5001), b"", b"   ", tw(5002), b"{broken", tw(5003)])
open(T + "/crlf.ndjson", "wb").write(crlf)
# A line over --max-line 4096 between two valid ones.
big = json.dumps({"id": "6002", "text": "x" * 10000, "user": {"screen_name": "x"}}).encode()
open(T + "/long.ndjson", "wb").write(b"\n".join([tw(6001), big, tw(6003)]) + b"\n")
PY

"$BF" ingest --dead-letter "$T/dead" "$T/in.ndjson" >"$T/out" 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "ingest exit status with rejected lines"
nbad=$(cat "$T/bad.count") nskip=$(cat "$T/skip.count")
assert_contains "$(cat "$T/err")" "ingested $(wc -l <"$T/want.ids"), skipped $nskip, rejected $nbad in " "summary"
assert_eq "$(grep -c "^$T/in.ndjson:[0-9]*: " "$T/err")" "$nbad" "one FILE:LINE: reason per broken line"
for l in $(seq 2 2 $((nbad * 2))); do
    grep -q "^$T/in.ndjson:$l: ." "$T/err" || fail "line $l not reported: $(head -c 600 "$T/err")"
done
assert_eq "$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().count(b"\n"))' "$T/dead")" "$nbad" "dead-letter lines"
python3 - "$T" <<'PY' || fail "dead-letter file is not the broken lines verbatim"
import sys
T = sys.argv[1]
lines = open(T + "/in.ndjson", "rb").read().split(b"\n")[:-1]
dead = open(T + "/dead", "rb").read().split(b"\n")[:-1]
nbad = int(open(T + "/bad.count").read())
sys.exit(0 if dead == lines[1:2 * nbad:2] else 1)
PY
got=$(rcli --raw XRANGE "${BIRDFEED_PREFIX}tweets" - + | grep '^{' | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]')
assert_eq "$got" "$(cat "$T/want.ids")" "every valid tweet published once, in order"
no_sanitizer_report "$T/err"
ok "$nbad broken shapes (syntax, UTF-8, NUL, nesting 100 000 deep, types, huge numbers, long ids, Jetstream and Mastodon events): each reported with its line, dead-lettered verbatim; $nskip lines that are not posts skipped; $(wc -l <"$T/want.ids") valid tweets published once"

before=$(rcli XLEN "${BIRDFEED_PREFIX}tweets")
"$BF" ingest <"$T/crlf.ndjson" >"$T/out" 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "stdin with one broken line"
assert_eq "$(grep -c '^-:[0-9]*: \|^<stdin>:[0-9]*: \|^stdin:[0-9]*: ' "$T/err")" 1 "one reject on stdin"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" $((before + 3)) "CRLF lines, blank lines skipped, last line without newline"
ok "stdin: CRLF line ends, blank lines and a final line without newline; the broken one reported"

before=$(rcli XLEN "${BIRDFEED_PREFIX}tweets")
"$BF" ingest --max-line 4096 "$T/long.ndjson" >"$T/out" 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "a line over --max-line"
assert_contains "$(cat "$T/err")" "$T/long.ndjson:2: " "the long line is named"
assert_eq "$(rcli XLEN "${BIRDFEED_PREFIX}tweets")" $((before + 2)) "the tweets around it are published"
ok "--max-line: a 10 KB line over 4096 rejected with its line number, neighbours published"

"$BF" ingest --max-errors 3 "$T/in.ndjson" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ] || fail "--max-errors 3 on $nbad broken lines exited 0"
[ "$(grep -c "^$T/in.ndjson:[0-9]*: " "$T/err")" -le 4 ] || fail "--max-errors 3 kept reading: $(head -c 600 "$T/err")"
ok "--max-errors stops reading"
