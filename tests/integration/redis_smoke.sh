#!/bin/bash
# The harness itself: a private redis starts on a free port and answers.
. "$(dirname "$0")/../lib.sh"
start_redis
assert_eq "$(rcli ping)" "PONG" "redis answers"
ok "private redis on port $REDIS_PORT"
"$BF" --help | grep -q '^usage: birdfeed' || fail "birdfeed --help"
ok "birdfeed --help"
