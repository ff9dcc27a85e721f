#!/bin/bash
# birdfeed filters against a real redis: add/list/show/update/rm, the shared
# validation, unique names, filters-max, versions, control notices, exit codes.
. "$(dirname "$0")/../lib.sh"

out=$("$BF" filters --help) || fail "--help exits 0"
assert_contains "$out" "usage: birdfeed filters" "--help"
"$BF" filters frob >/dev/null 2>&1; assert_eq $? 2 "unknown subcommand is a usage error"
out=$("$BF" filters add --track x 2>&1); assert_eq $? 1 "add without --name"
assert_contains "$out" "--name is required" "missing name says so"
out=$("$BF" filters add --name x --track "0123456789012345678901234567890123456789012345678901234567890" 2>&1)
assert_eq $? 1 "phrase over the limit"
assert_contains "$out" "track[0]: phrase longer than 60 bytes" "CLI uses the API's validation"
out=$("$BF" filters add --name x --track a --lang english 2>&1); assert_eq $? 1 "bad lang"
assert_contains "$out" 'lang[0]: must be a language code' "lang message"
ok "usage errors and validation before connecting"

# Unreachable redis → exit 3.
out=$(BIRDFEED_REDIS="redis://127.0.0.1:$(free_port)/0" "$BF" filters list 2>&1); assert_eq $? 3 "redis down exits 3"
assert_contains "$out" "Redis unreachable" "says why"
ok "Redis unreachable: exit 3"

start_redis
rcli SUBSCRIBE "${BIRDFEED_PREFIX}control" >"$T/control.txt" &
sub=$!; bf_track $sub
wait_until 5 bash -c "[ \"\$(redis-cli -p $REDIS_PORT PUBSUB NUMSUB ${BIRDFEED_PREFIX}control | tail -1)\" = 1 ]" || fail "subscriber"

out=$("$BF" filters add --name "Rust News" --track "Rust  LANG" --track "#rustlang" --lang en,pt-BR) || fail "add: $out"
assert_eq "$out" "created filter 1 (version 1)" "add output"
json=$("$BF" filters add --json --name "cats" --track "cat pictures") || fail "add --json"
assert_contains "$json" '"id":"2","name":"cats","track":["cat pictures"],"version":1,"created_at":"' "add --json"
stored=$(rcli HGET "${BIRDFEED_PREFIX}filters" 1)
assert_contains "$stored" '"track":["rust lang","#rustlang"],"lang":["en","pt-br"],"version":1' "stored normalised"
assert_eq "$(rcli GET "${BIRDFEED_PREFIX}filters:seq")" 2 "id counter"
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}filters:names" "rust news")" 1 "name index"
ok "add: normalised, stored in the hash, name index, counter"

out=$("$BF" filters add --name "  RUST news " --track x 2>&1); assert_eq $? 1 "duplicate name"
assert_contains "$out" "already has this name" "duplicate says so"
ok "duplicate names (case-insensitive) refused"

out=$("$BF" filters list)
assert_contains "$out" "ID  VERSION  NAME" "table header"
assert_contains "$out" "rust lang | #rustlang" "table phrases"
assert_contains "$out" "en,pt-br" "table lang"
out=$("$BF" filters list --json)
assert_contains "$out" '{"filters":[{"id":"1",' "list --json"
out=$("$BF" filters show 1)
assert_contains "$out" "name:       Rust News" "show"
out=$("$BF" filters show 99 2>&1); assert_eq $? 1 "show unknown"
assert_contains "$out" "no filter with id 99" "show unknown says so"
out=$("$BF" filters show abc 2>&1); assert_eq $? 1 "show bad id"
ok "list (table, --json), show, unknown ids"

out=$("$BF" filters update 1 --track "rust 2024") || fail "update"
assert_eq "$out" "updated filter 1 (version 2)" "update output"
json=$("$BF" filters show --json 1)
assert_contains "$json" '"name":"Rust News","track":["rust 2024"],"lang":["en","pt-br"],"version":2' "partial update keeps the rest"
"$BF" filters update 1 --any-lang --name "Rust" >/dev/null || fail "rename"
json=$("$BF" filters show --json 1)
assert_contains "$json" '"name":"Rust","track":["rust 2024"],"version":3' "rename, any lang"
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}filters:names" "rust news")" "" "old name freed"
assert_eq "$(rcli HGET "${BIRDFEED_PREFIX}filters:names" "rust")" 1 "new name indexed"
out=$("$BF" filters update 1 --name cats 2>&1); assert_eq $? 1 "rename onto a taken name"
out=$("$BF" filters update 1 --if-version 2 --track y 2>&1); assert_eq $? 1 "stale version"
assert_contains "$out" "no longer at that version" "stale version says so"
ok "update: partial changes, renames, name conflicts, --if-version"

out=$("$BF" filters rm 2 --if-version 5 2>&1); assert_eq $? 1 "rm with a stale version"
"$BF" filters rm 2 >/dev/null || fail "rm"
out=$("$BF" filters rm 2 2>&1); assert_eq $? 1 "rm twice"
assert_eq "$(rcli HEXISTS "${BIRDFEED_PREFIX}filters" 2)" 0 "gone from the hash"
assert_eq "$(rcli HEXISTS "${BIRDFEED_PREFIX}filters:names" cats)" 0 "gone from the name index"
"$BF" filters add --name cats --track "cat" >/dev/null || fail "a deleted name can be reused"
ok "rm (with and without --if-version)"

out=$("$BF" filters add --filters-max 2 --name third --track z 2>&1); assert_eq $? 1 "filters-max"
assert_contains "$out" "filters-max" "filters-max says so"
ok "filters-max enforced"

echo '{"name":"from file","track":["a b"],"lang":["de"]}' | "$BF" filters add --file - >/dev/null || fail "add --file -"
echo '{"name":"from file","track":[]}' >"$T/bad.json"
out=$("$BF" filters add --file "$T/bad.json" 2>&1); assert_eq $? 1 "invalid file"
assert_contains "$out" "track: must hold at least one phrase" "file validation"
ok "add --file"

wait_until 5 grep -q '"op":"del","id":"2"' "$T/control.txt" || fail "del notice"
grep -q '^{"op":"put","filter":{"id":"1","name":"Rust News"' "$T/control.txt" || fail "put notice on create"
grep -q '"version":3' "$T/control.txt" || fail "put notice on update"
ok "every change published on control"
