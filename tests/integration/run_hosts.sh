#!/bin/bash
# make run-hosts (deploy/three-hosts.sh), the newcomer's three-host
# deployment: it comes up and says where; each host's web server streams;
# the kill command it prints for the Redis master works and the streams go
# on through the failover; SIGTERM stops every process it started.
. "$(dirname "$0")/../lib.sh"
BIRDFEED_RUN_SKIP_SETUP=1 BIRDFEED_RATE=50 TMPDIR=$T bash "$BF_ROOT/deploy/three-hosts.sh" >"$T/run.out" 2>&1 & run=$!
bf_track "$run"
wait_until 120 grep -q 'Ctrl-C stops everything' "$T/run.out" || fail "three-hosts.sh did not come up: $(tail -5 "$T/run.out")"
state=$(sed -n 's/^  state, logs *//p' "$T/run.out")
[ -s "$state/pids" ] || fail "no pids file in '$state'"
for h in a b c; do
    url=$(sed -n "s#^    host $h *\\(http://[^ ]*\\)#\\1#p" "$T/run.out")
    out=$(curl -sN --max-time 3 "${url}stream?preload=3")
    assert_ge "$(grep -c "^event: tweet" <<<"$out")" 3 "tweets from host $h ($url)"
done
ok "three hosts up; each web server streams ($(grep -c . "$state/pids") processes listed in $state/pids)"

# The master kill command, as printed.
cmd=$(sed -n 's/^    the Redis master *//p' "$T/run.out")
old=$(sed -n 's/.*(master now: \([^)]*\)).*/\1/p' "$T/run.out")
bash -c "$cmd" || fail "the printed master kill command failed: $cmd"
sentinel=$(sed -n 's#.*redis+sentinel://\([^,]*\),.*#\1#p' "$T/run.out")
wait_until 40 sh -c "m=\$(redis-cli -h ${sentinel%:*} -p ${sentinel#*:} SENTINEL get-master-addr-by-name bf | paste -sd: -); [ -n \"\$m\" ] && [ \"\$m\" != '$old' ]" \
    || fail "no failover after the printed kill command"
url=$(sed -n "s#^    host c *\\(http://[^ ]*\\)#\\1#p" "$T/run.out")
first=$(curl -sN --max-time 2 "${url}stream?preload=1" | sed -n 's/^id: //p' | head -1)
wait_until 30 sh -c "[ \"\$(curl -sN --max-time 2 '${url}stream?preload=1' | sed -n 's/^id: //p' | head -1)\" != '$first' ]" \
    || fail "no new tweet reached host c after the failover"
ok "the printed kill command killed the master ($old); tweets keep reaching host c through the new one"

kill -TERM "$run"
wait_until 60 sh -c "! kill -0 $run" || fail "three-hosts.sh still running 60 s after SIGTERM"
left=0
while read -r _ pid _; do kill -0 "$pid" 2>/dev/null && left=$((left + 1)); done <"$state/pids"
assert_eq "$left" 0 "processes of the run still alive after SIGTERM"
ok "SIGTERM stopped every process it started"
