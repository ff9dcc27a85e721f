#!/bin/bash
# The index that keeps filter names unique (<prefix>filters:names: folded
# name → id) heals itself when it was folded by another version of the case
# folding, as after an upgrade that changed how names outside Latin-1,
# Greek and Cyrillic fold: the first write rebuilds it from the filters, so
# a name equal to a stored one (ignoring case) is refused again and a freed
# name is free. `birdfeed filters reindex` rebuilds it on demand and names
# filters whose names fold alike now (the lowest id keeps the name; the
# other must be renamed). An index a newer birdfeed made is left alone.
. "$(dirname "$0")/../lib.sh"
start_redis
NAMES=${BIRDFEED_PREFIX}filters:names
TOKEN_VERSION=$(sed -n 's/^#define TOKEN_VERSION \([0-9][0-9]*\).*/\1/p' "$BF_ROOT/lib/token.h")
names() { rcli --raw HGETALL "$NAMES" | paste -sd' ' -; }

"$BF" filters add --name "ԱՐԵՎ feed" --track sun >/dev/null || fail "add 1"
"$BF" filters add --name "Ⰰ glagolitic" --track old >/dev/null || fail "add 2"
assert_eq "$(names)" "արեվ feed 1 ⰰ glagolitic 2" "the index as this birdfeed folds it"
assert_eq "$(rcli GET "$NAMES:version")" "$TOKEN_VERSION" "the index records its folding's version"

# As an older birdfeed left it: Armenian and Glagolitic not folded, no version.
rcli DEL "$NAMES" "$NAMES:version" >/dev/null
rcli HSET "$NAMES" "ԱՐԵՎ feed" 1 "Ⰰ glagolitic" 2 >/dev/null
out=$("$BF" filters add --name "արեվ FEED" --track moon 2>&1); rc=$?
assert_eq "$rc" 1 "a name equal to filter 1's, ignoring case, is refused"
assert_contains "$out" "filter 1 already has this name" "says which filter has it"
assert_eq "$(names)" "արեվ feed 1 ⰰ glagolitic 2" "the first write rebuilt the index"
assert_eq "$(rcli GET "$NAMES:version")" "$TOKEN_VERSION" "and recorded the version"
assert_eq "$(rcli HLEN "${BIRDFEED_PREFIX}filters")" 2 "no filter added"
ok "an index folded by an older birdfeed: the first write rebuilds it, the duplicate is refused"

rcli DEL "$NAMES" "$NAMES:version" >/dev/null
rcli HSET "$NAMES" "Ⰰ glagolitic" 2 "ԱՐԵՎ feed" 1 >/dev/null
"$BF" filters update 2 --name "Glagolitic" >/dev/null || fail "rename filter 2"
out=$("$BF" filters add --name "ⰰ GLAGOLITIC" --track new) || fail "the freed name is free: $out"
assert_eq "$out" "created filter 3 (version 1)" "created"
"$BF" filters rm 1 >/dev/null || fail "rm 1"
assert_eq "$(names)" "glagolitic 2 ⰰ glagolitic 3" "renamed, created and deleted names kept in step"
ok "a rename and a delete after the rebuild free their old names"

# Names that fold alike now (stored past the index, as two versions' foldings allow).
f() { printf '{"id":"%s","name":"%s","track":["x"],"version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}' "$1" "$2"; }
rcli HSET "${BIRDFEED_PREFIX}filters" 7 "$(f 7 'Ⴀ Clash')" 8 "$(f 8 'ⴀ clash')" >/dev/null
rcli SET "${BIRDFEED_PREFIX}filters:seq" 8 >/dev/null
out=$("$BF" filters reindex 2>"$T/reindex.err"); rc=$?
assert_eq "$rc" 1 "reindex with a clash: exit 1"
assert_eq "$out" "name index rebuilt: 3 names" "reindex output"
assert_contains "$(cat "$T/reindex.err")" "1 filters left out of the name index" "the clash said"
assert_eq "$(rcli HGET "$NAMES" "ⴀ clash")" 7 "the lowest id keeps the name"
out=$("$BF" filters update 8 --track y 2>&1); rc=$?
assert_eq "$rc" 1 "the one left out cannot keep the name"
assert_contains "$out" "filter 7 already has this name" "says which filter has it"
"$BF" filters update 8 --name "clash two" --track y >/dev/null || fail "renaming it works"
out=$("$BF" filters reindex) || fail "reindex without a clash"
assert_eq "$out" "name index rebuilt: 4 names" "reindex output"
ok "filters reindex: names folding alike now are said, the lowest id keeps the name, the other is renamed"

rcli SET "$NAMES:version" $((TOKEN_VERSION + 1)) >/dev/null
out=$("$BF" filters add --name "later" --track z 2>&1); rc=$?
assert_eq "$rc" 3 "an index of a newer birdfeed: refused"
assert_contains "$out" "upgrade birdfeed" "says what to do"
assert_eq "$(rcli GET "$NAMES:version")" $((TOKEN_VERSION + 1)) "left as it was"
ok "an index a newer birdfeed folded is left alone"
