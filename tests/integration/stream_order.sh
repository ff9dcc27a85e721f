#!/bin/bash
# Two publishers: each PUBLISHes after its XADD, so a tweet can be published
# after a newer one (A adds 5, B adds 6 and publishes it first, then A
# publishes 5). Every open stream still gets both, in id order, once: the
# responder takes tweets from the stream whenever the live channel is not
# certainly in order.
. "$(dirname "$0")/../lib.sh"
start_redis
publish_tweet "3000-4" '{"id":"4","text":"before"}' || fail "publish"
start_fcgi
start_nginx
wait_until 10 bash -c "curl -sf '$BASE_URL/api/health' >/dev/null" || fail "responder never saw redis"
curl -sN "$BASE_URL/stream?preload=0" >"$T/s" & c=$!
bf_track "$c"
curl -sN "$BASE_URL/stream?preload=0&q=late" >"$T/q" & cq=$!
bf_track "$cq"
wait_until 10 bash -c "grep -q '^retry:' '$T/s' && grep -q '^retry:' '$T/q'" || fail "streams did not open"
K=${BIRDFEED_PREFIX}tweets L=${BIRDFEED_PREFIX}live
# Same millisecond: 3000-5 then 3000-6, published 6 first.
rcli XADD "$K" 3000-5 t '{"id":"5","text":"late five"}' >/dev/null
rcli XADD "$K" 3000-6 t '{"id":"6","text":"late six"}' >/dev/null
rcli PUBLISH "$L" '3000-6 {"id":"6","text":"late six"}' >/dev/null
rcli PUBLISH "$L" '3000-5 {"id":"5","text":"late five"}' >/dev/null
# Different milliseconds: 4000-0 then 4001-0, published 4001-0 first.
rcli XADD "$K" 4000-0 t '{"id":"7","text":"late seven"}' >/dev/null
rcli XADD "$K" 4001-0 t '{"id":"8","text":"late eight"}' >/dev/null
rcli PUBLISH "$L" '4001-0 {"id":"8","text":"late eight"}' >/dev/null
rcli PUBLISH "$L" '4000-0 {"id":"7","text":"late seven"}' >/dev/null
publish_tweet "4002-0" '{"id":"9","text":"late nine, in order"}' || fail "publish"
for f in s q; do
    wait_until 10 grep -q '^id: 4002-0' "$T/$f" || fail "$f: the last tweet did not come"
    assert_eq "$(sse_ids "$T/$f" | tr '\n' ' ')" "3000-5 3000-6 4000-0 4001-0 4002-0 " "$f: every tweet once, in id order"
done
ok "tweets published out of the stream's order reach every stream, once, in order"
stop_fcgi
