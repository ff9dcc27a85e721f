#!/bin/bash
# A running archiver takes over what another consumer of its group left
# unacknowledged — an archiver whose host died — without restarting or
# reconnecting: every half of --claim-idle-ms it looks (XAUTOCLAIM), so the
# batch a dead host held is archived by the survivor.
. "$(dirname "$0")/../lib.sh"
start_redis
"$BF" migrate --db "sqlite:$T/a.db" >/dev/null || fail "migrate"
fill_tweets 100 7
# The dead host's archiver: it was given 40 entries and never acknowledged them.
rcli XGROUP CREATE "${BIRDFEED_PREFIX}tweets" archive 0 >/dev/null
rcli XREADGROUP GROUP archive dead-host COUNT 40 STREAMS "${BIRDFEED_PREFIX}tweets" '>' >/dev/null
assert_eq "$(rcli XPENDING "${BIRDFEED_PREFIX}tweets" archive | head -n1)" 40 "entries pending for the dead consumer"
# The survivor starts before they are idle long enough to take at start.
"$BF" archive --db "sqlite:$T/a.db" --consumer survivor --claim-idle-ms 1500 --block-ms 200 2>"$T/archive.log" & arch=$!
bf_track "$arch"
wait_until 20 sh -c "[ \"\$(sqlite3 '$T/a.db' 'SELECT count(*) FROM tweets')\" -ge 60 ]" || fail "the other 60 were not archived"
wait_until 20 sh -c "[ \"\$(sqlite3 '$T/a.db' 'SELECT count(*) FROM tweets')\" = 100 ]" \
    || fail "the survivor did not take over the dead consumer's entries: $(sqlite3 "$T/a.db" 'SELECT count(*) FROM tweets') archived; $(grep -c archive.claimed "$T/archive.log") claims"
assert_contains "$(cat "$T/archive.log")" "event=archive.claimed entries=40" "the take-over logged"
assert_eq "$(rcli XPENDING "${BIRDFEED_PREFIX}tweets" archive | head -n1)" 0 "nothing left pending"
grep -q 'archive.resumed\|archive.failed' "$T/archive.log" && fail "the archiver reconnected: the take-over must not depend on it"
ok "a running archiver took over 40 entries another consumer left pending, without reconnecting"
