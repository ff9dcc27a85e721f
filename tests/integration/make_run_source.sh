#!/bin/bash
# BIRDFEED_SOURCE=URL make run (deploy/run.sh): instead of the synthetic
# feed, `birdfeed pull URL` feeds the page — here a local Jetstream that
# replays tests/samples/jetstream.ndjson — and its posts reach /stream
# through nginx as the samples' canonical tweets, with no synthetic tweet
# among them; Ctrl-C stops the pull with the rest. A URL that is not one
# is refused before anything starts.
. "$(dirname "$0")/../lib.sh"
PY3=/usr/bin/python3
[ -x "$PY3" ] || PY3=python3
S=$BF_ROOT/tests/samples

BIRDFEED_SOURCE=ftp://example.invalid BIRDFEED_RUN_DIR=$T/bad BIRDFEED_RUN_SKIP_SETUP=1 \
    bash "$BF_ROOT/deploy/run.sh" >"$T/bad.out" 2>&1; rc=$?
[ "$rc" -ne 0 ] || fail "make run took an ftp:// source"
assert_contains "$(cat "$T/bad.out")" "BIRDFEED_SOURCE must be an http(s):// or ws(s):// URL" "refusal"
[ -e "$T/bad/run.pid" ] && fail "a refused source still started something"
ok "BIRDFEED_SOURCE that is no URL: refused before anything starts"

SRV_PORT=$(free_port)
"$PY3" "$BF_ROOT/tests/integration/pull_servers.py" jetstream "$SRV_PORT" "$S/jetstream.ndjson" "$T/js.log" rest \
    >"$T/js.srv" 2>&1 &
bf_track $!
wait_until 10 grep -q ready "$T/js.srv" || fail "Jetstream server did not start: $(cat "$T/js.srv")"

export BIRDFEED_RUN_DIR=$T/run BIRDFEED_RUN_SKIP_SETUP=1 BIRDFEED_PORT
export BIRDFEED_SOURCE="ws://127.0.0.1:$SRV_PORT/subscribe?wantedCollections=app.bsky.feed.post"
export BIRDFEED_SOURCE_ARGS="--stall-ms 600000"
BIRDFEED_PORT=$(free_port)
unset BIRDFEED_REDIS
start_make_run
assert_contains "$(cat "$T/run.out")" "feed            birdfeed pull $BIRDFEED_SOURCE" "the feed line names the source"
rport=$(sed -n 's/^  Redis  *redis-cli -p //p' "$T/run.out")
wait_until 20 sh -c "[ \$(redis-cli -p $rport xlen ${BIRDFEED_PREFIX}tweets) -ge 4 ]" ||
    fail "the source's posts did not arrive: $(cat "$T/run/logs/pull.log")"
timeout 3 curl -sN "${URL}stream?preload=10" >"$T/stream.txt" 2>/dev/null
sed -n 's/^data: //p' "$T/stream.txt" >"$T/got"
cmp -s "$S/jetstream.canonical" "$T/got" || fail "the page's stream is not the source's posts: $(diff "$S/jetstream.canonical" "$T/got" | head -c 600)"
assert_eq "$(grep -c '^conn ' "$T/js.log")" 1 "one connection to the source"
ok "make run with BIRDFEED_SOURCE: the Jetstream posts, and only they, reach /stream through nginx"

grep -q ' birdfeed pull$' "$T/run/pids" || fail "pull not among the processes: $(cat "$T/run/pids")"
grep -q ' birdfeed gen$' "$T/run/pids" && fail "the synthetic feed runs beside the source"
stop_make_run
assert_contains "$(tail -n 3 "$T/run/logs/pull.log")" "ingested 4, skipped 9, rejected 0" "pull's summary"
ok "Ctrl-C stops the pull with the rest; its summary is in the log"
