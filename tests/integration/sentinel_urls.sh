#!/bin/bash
# redis+sentinel:// URLs: every program refuses a malformed one with the
# reason (exit 2), reports an unknown master name or Sentinels that are all
# down (exit 3), and works through real Sentinels (a master with a replica
# on 127.0.0.2/.3, three Sentinels): ingest writes to the master they name,
# tail reads it, the filters command and the archive find it.
. "$(dirname "$0")/../lib.sh"
. "$BF_ROOT/tests/multihost.sh"

# ---- malformed URLs: exit 2, the reason names the faulty part --------------
check_bad() {   # URL WANT-IN-MESSAGE
    local out rc cmd
    for cmd in "ingest" "tail" "filters list" "archive --db sqlite:$T/a.db --once" "search x"; do
        out=$("$BF" $cmd --redis "$1" 2>&1 </dev/null); rc=$?
        assert_eq "$rc" 2 "birdfeed $cmd --redis '$1'"
        assert_contains "$out" "$2" "birdfeed $cmd --redis '$1'"
    done
    out=$(BIRDFEED_REDIS=$1 "$BF" tail 2>&1); rc=$?
    assert_eq "$rc" 2 "BIRDFEED_REDIS='$1' birdfeed tail"
    assert_contains "$out" "(from BIRDFEED_REDIS)" "BIRDFEED_REDIS='$1'"
    out=$("$BF_FCGI" --redis "$1" --check-config 2>&1); rc=$?
    assert_eq "$rc" 2 "birdfeed-fcgi --redis '$1'"
    assert_contains "$out" "$2" "birdfeed-fcgi --redis '$1'"
}
check_bad 'redis+sentinel://127.0.0.2:26379' 'no master name'
check_bad 'redis+sentinel://127.0.0.2:26379,,127.0.0.3/bf' 'Sentinel address 2 is empty'
check_bad 'redis+sentinel://127.0.0.2:99999/bf' 'port of Sentinel address 1 must be 1..65535'
check_bad 'redis+sentinel://[::1/bf' "no ']'"
check_bad 'redis+sentinel://::1:26379/bf' 'IPv6 address in brackets'
check_bad 'redis+sentinel://h/bf/x' 'database after the master name must be a number'
check_bad 'redis+sentinel://user:pw@h/bf' 'user names are not supported'
check_bad 'redis+sentinels://h/bf' 'must start with redis://'
ok "malformed Sentinel URLs: exit 2 with the reason, for ingest, tail, filters, archive, search, birdfeed-fcgi"

out=$("$BF" tail --redis 'redis+sentinel://:hunter2@127.0.0.2:1,[::1]:2/bf/3' --check-config)
assert_contains "$out" 'redis+sentinel://:***@127.0.0.2:1,[::1]:2/bf/3' "--check-config shows the URL"
case "$out" in *hunter2*) fail "--check-config printed the password";; esac
ok "--check-config shows a Sentinel URL without its password"

# ---- a master, a replica, three Sentinels ---------------------------------------
redis_node m 127.0.0.2
redis_node r 127.0.0.3 m
sentinels m 127.0.0.2 127.0.0.3 127.0.0.4
addrs=${SENTINEL_URL#redis+sentinel://}; addrs=${addrs%/bf}

# ---- unknown master, Sentinels down: exit 3 --------------------------------------
for cmd in "ingest --retries 1" "tail --retries 1" "filters list" "archive --db sqlite:$T/a.db --once"; do
    out=$(echo '{"id":"1","text":"x","user":{"screen_name":"a"},"created_at":"2024-05-01T00:00:00Z"}' |
          "$BF" $cmd --redis "redis+sentinel://$addrs/nope" 2>&1); rc=$?
    assert_eq "$rc" 3 "birdfeed $cmd with an unknown master name"
    assert_contains "$out" "no Sentinel could name the master 'nope'" "birdfeed $cmd, unknown master"
    assert_contains "$out" "knows no master by that name" "birdfeed $cmd, unknown master"
done
p1=$(free_port_on 127.0.0.5); p2=$(free_port_on 127.0.0.6)
out=$("$BF" tail --retries 1 --redis "redis+sentinel://127.0.0.5:$p1,127.0.0.6:$p2/bf" 2>&1); rc=$?
assert_eq "$rc" 3 "tail with every Sentinel down"
assert_contains "$out" "127.0.0.5:$p1: Connection refused; 127.0.0.6:$p2: Connection refused" "tail, Sentinels down"
ok "unknown master name and Sentinels all down: exit 3, each Sentinel's answer in the message"

# ---- through the Sentinels ------------------------------------------------------
# One Sentinel in the list is down: it is skipped.
export BIRDFEED_REDIS="redis+sentinel://127.0.0.5:$p1,$addrs/bf"
"$BF" tail --ids --count 20 >"$T/tail.out" 2>"$T/tail.err" & tail_pid=$!
bf_track "$tail_pid"
wait_until 10 sh -c "redis-cli -h 127.0.0.2 -p ${RN_PORT[m]} PUBSUB NUMSUB bft:live | tail -1 | grep -qx 1" \
    || fail "tail did not subscribe on the master: $(cat "$T/tail.err")"
"$BF" gen --count 20 --seed 3 --canonical >"$T/in.ndjson"
"$BF" ingest "$T/in.ndjson" 2>"$T/ingest.err" || fail "ingest through the Sentinels: $(cat "$T/ingest.err")"
assert_eq "$(rn_cli m XLEN bft:tweets)" 20 "tweets on the master"
wait_until 10 sh -c "[ \$(redis-cli -h 127.0.0.3 -p ${RN_PORT[r]} XLEN bft:tweets) = 20 ]" || fail "the replica did not get the tweets"
wait "$tail_pid" || fail "tail: $(cat "$T/tail.err")"
assert_eq "$(wc -l <"$T/tail.out")" 20 "tail printed"
assert_eq "$(cut -d' ' -f1 "$T/tail.out")" "$(rn_cli m XRANGE bft:tweets - + | grep -E '^[0-9]+-[0-9]+$')" "tail's ids"
ok "ingest and tail through the Sentinels (one of them down): 20 tweets on the master, replicated, tailed"

"$BF" filters add --name one --track alpha >/dev/null || fail "filters add through the Sentinels"
assert_eq "$(rn_cli m HLEN bft:filters)" 1 "filters on the master"
"$BF" migrate --db "sqlite:$T/a.db" >/dev/null 2>&1 || fail "migrate"
"$BF" archive --db "sqlite:$T/a.db" --once 2>"$T/archive.err" || fail "archive --once: $(cat "$T/archive.err")"
assert_eq "$(sqlite3 "$T/a.db" 'SELECT count(*) FROM tweets')" 20 "archived"
ok "filters and archive through the Sentinels"

# A Redis URL naming a replica directly: ingest's writes are refused there
# (READONLY), and it says so instead of hanging.
out=$("$BF" ingest --retries 1 --redis "redis://$(rn r)/0" "$T/in.ndjson" 2>&1); rc=$?
assert_eq "$rc" 3 "ingest into a replica"
assert_contains "$out" "READONLY" "ingest into a replica"
ok "ingest pointed at a replica: exit 3, READONLY named"

# The node setting names this host in the metrics hash keys.
"$BF" gen --count 40 --seed 4 --canonical | BIRDFEED_NODE=host-b "$BF" ingest --rate 10 >/dev/null 2>&1 & ing=$!
bf_track "$ing"
wait_until 10 sh -c "redis-cli -h 127.0.0.2 -p ${RN_PORT[m]} --scan --pattern 'bft:metrics:ingest:*' | grep -qx 'bft:metrics:ingest:host-b:$ing'" \
    || fail "no metrics hash bft:metrics:ingest:host-b:$ing: $(rn_cli m --scan --pattern 'bft:metrics:*' | tr '\n' ' ')"
kill "$ing"; wait "$ing" 2>/dev/null
ok "BIRDFEED_NODE names the host in the metrics hash key (bft:metrics:ingest:host-b:PID)"

# A running responder whose master the Sentinels cannot name (an unknown
# name): it keeps running; REST answers 503 + Retry-After, /stream 200 with
# only retry: (EventSource comes back), never a hang.
BIRDFEED_REDIS="redis+sentinel://$addrs/nope" start_fcgi --backoff-max-ms 500
start_nginx
out=$(curl -s -i --max-time 5 "$BASE_URL/api/filters")
assert_contains "$out" "HTTP/1.1 503" "REST with no master"
assert_contains "$out" "Retry-After:" "REST with no master"
out=$(curl -s -i --max-time 5 "$BASE_URL/stream")
assert_contains "$out" "HTTP/1.1 200" "/stream with no master"
assert_contains "$out" "text/event-stream" "/stream with no master"
assert_contains "$out" "retry: " "/stream with no master"
case $out in *"event: tweet"*) fail "/stream with no master sent tweets";; esac
kill -0 "$FCGI_PID" || fail "the responder died"
ok "a responder whose master the Sentinels do not know: REST 503 + Retry-After, /stream 200 with only retry:"
