#!/bin/bash
# A tweet read from a slow pipe is published at once, not held for a full
# batch; SIGTERM publishes what was read, prints the summary and exits.
. "$(dirname "$0")/../lib.sh"
start_redis
"$BF" gen --count 3 --seed 5 >"$T/three.ndjson" || fail "gen"

# One line, then a pause with the pipe still open.
mkfifo "$T/pipe"
"$BF" ingest --batch 1000 <"$T/pipe" 2>"$T/ingest.err" &
ing=$!; bf_track $ing
exec 7>"$T/pipe"
sed -n 1p "$T/three.ndjson" >&7
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" = 1 ]" || fail "first line not published while the pipe stays open"
kill -0 $ing 2>/dev/null || fail "ingest ended early"
ok "a line from a slow pipe is published while ingest is still running"
sed -n 2,3p "$T/three.ndjson" >&7
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" = 3 ]" || fail "next lines not published"
exec 7>&-
wait $ing; rc=$?
assert_eq "$rc" 0 "ingest exit code at end of pipe"
assert_contains "$(cat "$T/ingest.err")" "ingested 3, skipped 0, rejected 0" "summary"
ok "pipe closed: exit 0 with the summary"

# SIGTERM while reading: what was read is published, the summary printed.
rcli DEL bft:tweets >/dev/null
"$BF" ingest <"$T/pipe" 2>"$T/term.err" &
ing=$!; bf_track $ing
exec 7>"$T/pipe"
cat "$T/three.ndjson" >&7
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" = 3 ]" || fail "lines not published before SIGTERM"
kill -TERM $ing
wait $ing; rc=$?
exec 7>&-
assert_eq "$rc" 0 "exit code after SIGTERM"
assert_contains "$(cat "$T/term.err")" "ingested 3, skipped 0, rejected 0" "summary after SIGTERM"
ok "SIGTERM: summary printed, exit $rc"

# SIGTERM with half a line read: ingest says where it stopped.
rcli DEL bft:tweets >/dev/null
"$BF" ingest <"$T/pipe" 2>"$T/half.err" &
ing=$!; bf_track $ing
exec 7>"$T/pipe"
sed -n 1p "$T/three.ndjson" >&7
sed -n 2p "$T/three.ndjson" | head -c 50 >&7
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" = 1 ]" || fail "first line not published"
sleep 0.2
kill -TERM $ing
wait $ing; rc=$?
exec 7>&-
assert_eq "$rc" 0 "exit code after SIGTERM mid-line"
grep -q '^birdfeed ingest: interrupted: stdin ingested up to line 1; 50 bytes read after it were not ingested' "$T/half.err" ||
    fail "where ingest stopped: $(cat "$T/half.err")"
ok "SIGTERM mid-line: ingest says where it stopped and what it did not ingest"

# SIGINT during --rate pacing: what was read goes out, nothing more.
rcli DEL bft:tweets >/dev/null
"$BF" gen --count 1000 --seed 6 >"$T/many.ndjson"
"$BF" ingest --rate 20 "$T/many.ndjson" 2>"$T/int.err" &
ing=$!; bf_track $ing
wait_until 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XLEN bft:tweets)\" -ge 5 ]" || fail "--rate 20 publishes steadily"
kill -INT $ing
wait $ing; rc=$?
n=$(rcli XLEN bft:tweets)
[ "$n" -lt 1000 ] || fail "--rate 20 did not pace (all $n published at once)"
assert_contains "$(cat "$T/int.err")" "ingested $n, skipped 0, rejected 0" "summary after SIGINT matches the stream"
ok "--rate paces; SIGINT after $n tweets, summary matches the stream"
