#!/bin/bash
# birdfeed ingest and tail against a real redis-server: counts, order, ids,
# rejects, dead letters, --dry-run, --history, exit codes.
. "$(dirname "$0")/../lib.sh"

"$BF" ingest --help | grep -q -- '--dead-letter' || fail "ingest --help lists --dead-letter"
"$BF" tail --help | grep -q -- '--ids' || fail "tail --help lists --ids"
ok "--help"

# Usage errors: exit 2 with a reason, before touching Redis.
for args in "--batch 0" "--batch x" "--rate -1" "--max-errors x" "--bogus" "--history 0" "$T/missing.ndjson" "$T"; do
    # shellcheck disable=SC2086
    "$BF" ingest $args </dev/null >/dev/null 2>"$T/err"; rc=$?
    assert_eq "$rc" 2 "exit code of ingest $args"
    [ -s "$T/err" ] || fail "ingest $args says nothing on stderr"
done
for args in "--count 0" "--count x" "extra"; do
    # shellcheck disable=SC2086
    "$BF" tail $args >/dev/null 2>"$T/err"; rc=$?
    assert_eq "$rc" 2 "exit code of tail $args"
done
ok "usage errors exit 2"

# Redis unreachable: exit 3 after the retries, with the reason.
dead=$(free_port)
echo '{"id":"1","text":"x","user":{"screen_name":"a"},"created_at":"2024-05-01T00:00:00Z"}' >"$T/one.ndjson"
"$BF" ingest --redis "redis://127.0.0.1:$dead/0" --retries 2 --backoff-max-ms 20 "$T/one.ndjson" 2>"$T/err"; rc=$?
assert_eq "$rc" 3 "exit code with Redis unreachable"
assert_contains "$(cat "$T/err")" "127.0.0.1:$dead" "unreachable message names the server"
"$BF" tail --redis "redis://127.0.0.1:$dead/0" --retries 1 --backoff-max-ms 20 --count 1 2>/dev/null; rc=$?
assert_eq "$rc" 3 "tail exit code with Redis unreachable"
ok "Redis unreachable: exit 3"

start_redis
N=3000
"$BF" gen --count $N --seed 3 >"$T/v11.ndjson" || fail "gen"

# --dry-run validates and writes nothing.
"$BF" ingest --dry-run "$T/v11.ndjson" 2>"$T/dry.err"; rc=$?
assert_eq "$rc" 0 "dry-run exit code"
assert_contains "$(cat "$T/dry.err")" "valid $N, skipped 0, rejected 0" "dry-run summary"
assert_eq "$(rcli EXISTS bft:tweets)" 0 "stream after --dry-run"
ok "--dry-run publishes nothing"

# A subscriber sees every tweet, in order, with the stream's ids.
"$BF" tail --ids --count $N >"$T/tail.out" 2>"$T/tail.err" &
tail_pid=$!; bf_track $tail_pid
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB bft:live | tail -n 1)\" = 1 ]" || fail "tail did not subscribe"
"$BF" ingest --batch 100 <"$T/v11.ndjson" 2>"$T/ingest.err"; rc=$?
assert_eq "$rc" 0 "ingest exit code"
assert_contains "$(cat "$T/ingest.err")" "ingested $N, skipped 0, rejected 0 in " "summary line"
assert_eq "$(rcli XLEN bft:tweets)" $N "XLEN after ingest"
wait_until 20 sh -c "! kill -0 $tail_pid" || fail "tail --count $N did not finish ($(wc -l <"$T/tail.out") lines)"
wait $tail_pid; rc=$?
assert_eq "$rc" 0 "tail exit code"
assert_eq "$(wc -l <"$T/tail.out")" $N "lines printed by tail"
ok "ingest $N v1.1 → XLEN $N, tail saw $N"

# Stream entries and publications: same ids, same tweets, same order.
rcli --raw XRANGE bft:tweets - + | awk 'NR % 3 == 1 { id = $0 } NR % 3 == 0 { print id " " $0 }' >"$T/stream.out"
cmp -s "$T/stream.out" "$T/tail.out" || fail "stream and publications differ: $(diff "$T/stream.out" "$T/tail.out" | head -4)"
cut -d' ' -f1 "$T/tail.out" | sort -t- -k1,1n -k2,2n -c || fail "ids not increasing"
# the order is the input order
sed -n 's/^{"created_at":"[^"]*","id":[0-9]*,"id_str":"\([0-9]*\)".*/\1/p' "$T/v11.ndjson" >"$T/order.want"
sed -n 's/^[0-9-]* {"id":"\([0-9]*\)".*/\1/p' "$T/tail.out" >"$T/order.got"
assert_eq "$(wc -l <"$T/order.want")" $N "ids read from the input"
cmp -s "$T/order.want" "$T/order.got" || fail "publication order differs from input order"
ok "stream entry and publication carry the same id, in input order"

# tail without --ids prints the canonical JSON alone.
"$BF" tail --count 1 >"$T/one.out" &
t1=$!; bf_track $t1
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB bft:live | tail -n 1)\" = 1 ]" || fail "tail did not subscribe"
"$BF" ingest "$T/one.ndjson" 2>/dev/null || fail "ingest one"
wait $t1
assert_eq "$(cat "$T/one.out")" '{"id":"1","network":"twitter","text":"x","user":{"screen_name":"a"},"created_at":"2024-05-01T00:00:00Z","hashtags":[],"mentions":[],"urls":[],"retweet_count":0}' "tail output"
ok "tail prints canonical JSON"

# Rejects: FILE:LINE: reason, valid lines around them all ingested, exit 1,
# dead letters verbatim.
rcli DEL bft:tweets >/dev/null
{
    sed -n 1,5p "$T/v11.ndjson"
    echo 'this is not json'
    sed -n 6,10p "$T/v11.ndjson"
    echo '{"text":"no id here"}'
    echo ''
    printf '{"id":"77","text":"bad \377 byte"}\n'
    sed -n 11,20p "$T/v11.ndjson"
    printf '{"id":"78","text":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)"
    sed -n 21,22p "$T/v11.ndjson"
} >"$T/mixed.ndjson"
"$BF" ingest --max-line 2000 --dead-letter "$T/dead.ndjson" "$T/mixed.ndjson" 2>"$T/mixed.err"; rc=$?
assert_eq "$rc" 1 "exit code with rejects"
assert_eq "$(rcli XLEN bft:tweets)" 22 "valid lines ingested around the rejects"
grep -q "^$T/mixed.ndjson:6: not JSON" "$T/mixed.err" || fail "line 6 reject: $(cat "$T/mixed.err")"
grep -q "^$T/mixed.ndjson:12: " "$T/mixed.err" || fail "line 12 reject"
grep -q "^$T/mixed.ndjson:14: .*UTF-8" "$T/mixed.err" || fail "line 14 reject (UTF-8)"
grep -q "^$T/mixed.ndjson:25: line longer than 2000 bytes" "$T/mixed.err" || fail "line 25 reject (too long)"
assert_eq "$(grep -c "^$T/mixed.ndjson:[0-9]*: " "$T/mixed.err")" 4 "reject lines"
assert_contains "$(cat "$T/mixed.err")" "ingested 22, skipped 0, rejected 4 in " "summary with rejects"
{ sed -n 6p "$T/mixed.ndjson"; sed -n 12p "$T/mixed.ndjson"; sed -n 14p "$T/mixed.ndjson"; sed -n 25p "$T/mixed.ndjson"; } >"$T/dead.want"
cmp -s "$T/dead.want" "$T/dead.ndjson" || fail "dead-letter file is not the rejected lines verbatim"
ok "rejects reported as FILE:LINE, the rest ingested, dead letters verbatim, exit 1"

# stdin is named "stdin"; --max-errors stops reading.
printf 'x\ny\nz\n' | "$BF" ingest 2>"$T/stdin.err"; rc=$?
assert_eq "$rc" 1 "exit code, stdin rejects"
grep -q '^stdin:2: not JSON' "$T/stdin.err" || fail "stdin reject named stdin:2: $(cat "$T/stdin.err")"
{ echo x; cat "$T/v11.ndjson"; } | "$BF" ingest --max-errors 0 2>"$T/maxerr.err"; rc=$?
assert_eq "$rc" 1 "exit code with --max-errors"
assert_contains "$(cat "$T/maxerr.err")" "ingested 0, skipped 0, rejected 1" "--max-errors 0 stops at the first reject"
ok "stdin naming and --max-errors"

# --history trims the stream (MAXLEN ~ keeps about that many).
rcli DEL bft:tweets >/dev/null
"$BF" ingest --history 500 "$T/v11.ndjson" 2>/dev/null || fail "ingest --history"
len=$(rcli XLEN bft:tweets)
[ "$len" -ge 500 ] && [ "$len" -lt 1000 ] || fail "XLEN with --history 500: $len"
BIRDFEED_HISTORY=1000 "$BF" ingest "$T/v11.ndjson" 2>/dev/null || fail "ingest BIRDFEED_HISTORY"
len=$(rcli XLEN bft:tweets)
[ "$len" -ge 1000 ] && [ "$len" -lt 1500 ] || fail "XLEN with BIRDFEED_HISTORY=1000: $len"
ok "--history trims to about H ($len)"

# A line far over --max-line, arriving through a pipe in pieces: rejected
# without being held, passed to the dead letters verbatim, numbering goes on.
rcli DEL bft:tweets >/dev/null
head -c 300000 /dev/zero | tr '\0' 'q' >"$T/huge.part"
{ sed -n 1p "$T/v11.ndjson"; cat "$T/huge.part"; echo; sed -n 2p "$T/v11.ndjson"; } >"$T/huge.want"
{ sed -n 1p "$T/v11.ndjson"; sleep 0.2; head -c 100000 "$T/huge.part"; sleep 0.2; tail -c +100001 "$T/huge.part"; echo; sed -n 2p "$T/v11.ndjson"; } |
    "$BF" ingest --max-line 100000 --dead-letter "$T/huge.dead" 2>"$T/huge.err"; rc=$?
assert_eq "$rc" 1 "exit code with an over-long line"
grep -q '^stdin:2: line longer than 100000 bytes' "$T/huge.err" || fail "over-long line report: $(cat "$T/huge.err")"
assert_eq "$(rcli XLEN bft:tweets)" 2 "lines around the over-long one"
cmp -s "$T/huge.part" "$T/huge.dead" && fail "dead letter lost its newline"
head -c 300000 "$T/huge.dead" | cmp -s - "$T/huge.part" || fail "over-long line not verbatim in the dead letters"
assert_eq "$(wc -c <"$T/huge.dead")" 300001 "dead letter size"
ok "a 300 kB line through a pipe: rejected as stdin:2, dead letter verbatim, neighbours ingested"

# The stream key holds something else: a clear error naming it, exit 3, the key untouched.
rcli DEL bft:tweets >/dev/null
rcli SET bft:tweets not-a-stream >/dev/null
"$BF" ingest --retries 1 "$T/one.ndjson" 2>"$T/wrongtype.err"; rc=$?
assert_eq "$rc" 3 "exit code when the stream key is not a stream"
grep -q "WRONGTYPE" "$T/wrongtype.err" || fail "wrong-type report: $(cat "$T/wrongtype.err")"
assert_eq "$(rcli GET bft:tweets)" "not-a-stream" "key untouched"
rcli DEL bft:tweets >/dev/null
ok "stream key of another type: reported, exit 3"

# The script cache flushed in the middle of an ingest (NOSCRIPT): reloaded,
# every tweet published once.
"$BF" gen --canonical --count 4000 --seed 9 >"$T/flush.ndjson"
"$BF" ingest --rate 4000 --batch 50 "$T/flush.ndjson" 2>"$T/flush.err" &
ing=$!; bf_track $ing
for _ in 1 2 3 4 5; do sleep 0.15; rcli SCRIPT FLUSH >/dev/null; done
wait $ing; rc=$?
assert_eq "$rc" 0 "exit code across SCRIPT FLUSH"
assert_eq "$(rcli XLEN bft:tweets)" 4000 "XLEN across SCRIPT FLUSH"
grep -q 'event=pub.script_reloaded' "$T/flush.err" || fail "no NOSCRIPT seen (the flush missed the run?)"
assert_eq "$(rcli --raw XRANGE bft:tweets - + | awk 'NR % 3 == 0' | sort -u | wc -l)" 4000 "distinct tweets across SCRIPT FLUSH"
ok "SCRIPT FLUSH mid-ingest: script reloaded, 4000 published once"

# Progress on a terminal: a line that is kept up to date, cleared before the summary.
if command -v script >/dev/null; then
    rcli DEL bft:tweets >/dev/null
    script -qec "$BF ingest --rate 2000 $T/flush.ndjson" "$T/tty.log" >/dev/null 2>&1 || fail "ingest on a terminal"
    log_grep "$T/tty.log" -qa 'ingested [0-9]*, skipped 0, rejected 0, [0-9]*/s' || fail "no progress line on a terminal"
    log_grep "$T/tty.log" -qa 'ingested 4000, skipped 0, rejected 0 in ' || fail "no summary on a terminal"
    "$BF" ingest "$T/flush.ndjson" 2>"$T/notty.err"
    assert_eq "$(wc -l <"$T/notty.err")" 1 "stderr lines when not a terminal"
    ok "progress on a terminal only"
fi
