#!/bin/bash
# birdfeed gen: deterministic, varied, well-formed synthetic tweets; pacing, stamps, usage errors.
. "$(dirname "$0")/../lib.sh"

"$BF" gen --help | grep -q -- '--canonical' || fail "gen --help lists --canonical"
ok "gen --help"

for args in "--count 0" "--count -1" "--count x" "--rate 0" "--rate abc" "--seed -5" "--bogus" "extra"; do
    # shellcheck disable=SC2086
    "$BF" gen $args >/dev/null 2>"$T/err"; rc=$?
    assert_eq "$rc" 2 "exit code of gen $args"
    [ -s "$T/err" ] || fail "gen $args says nothing on stderr"
done
ok "usage errors exit 2 with a reason"

N=4000
"$BF" gen --count $N --seed 7 >"$T/a.ndjson" || fail "gen v1.1"
"$BF" gen --count $N --seed 7 >"$T/b.ndjson" || fail "gen v1.1 again"
"$BF" gen --count $N --seed 8 >"$T/c.ndjson" || fail "gen v1.1 other seed"
cmp -s "$T/a.ndjson" "$T/b.ndjson" || fail "same seed, different output"
cmp -s "$T/a.ndjson" "$T/c.ndjson" && fail "different seeds, same output"
assert_eq "$(wc -l <"$T/a.ndjson")" $N "v1.1 line count"
assert_eq "$(grep -c '^{"created_at":"[A-Z][a-z][a-z] [A-Z][a-z][a-z] [0-9][0-9] [0-9:]* +0000 20[0-9][0-9]","id":[0-9]*,"id_str":"[0-9]*",.*}$' "$T/a.ndjson")" $N \
    "v1.1 lines shaped like status objects"
ok "deterministic for a seed, $N v1.1 objects"

"$BF" gen --count $N --seed 7 --canonical >"$T/canon.ndjson" || fail "gen --canonical (a generated tweet was rejected?)"
assert_eq "$(wc -l <"$T/canon.ndjson")" $N "canonical line count"
# the canonical stream is the v1.1 stream normalised: same ids, same order
sed -n 's/^{"created_at":"[^"]*","id":[0-9]*,"id_str":"\([0-9]*\)".*/\1/p' "$T/a.ndjson" >"$T/ids.v11"
sed -n 's/^{"id":"\([0-9]*\)","network":"twitter","text":.*/\1/p' "$T/canon.ndjson" >"$T/ids.canon"
cmp -s "$T/ids.v11" "$T/ids.canon" || fail "canonical ids differ from v1.1 ids"
assert_eq "$(sort -u "$T/ids.canon" | wc -l)" $N "unique ids"
sed -n 's/.*"created_at":"\([^"]*\)".*/\1/p' "$T/canon.ndjson" >"$T/times"
sort -c "$T/times" 2>/dev/null || fail "created_at goes backwards"
ok "canonical form: same ids in the same order, unique, time advancing"

rts=$(grep -c '"retweeted_id":"' "$T/canon.ndjson")
[ "$rts" -ge $((N * 15 / 100)) ] && [ "$rts" -le $((N * 35 / 100)) ] || fail "retweets: $rts of $N, want about 25 %"
langs=$(grep -o '"lang":"[a-z]*"' "$T/canon.ndjson" | sort -u | tr -d '\n')
for l in en es ja ru; do assert_contains "$langs" "\"lang\":\"$l\"" "languages"; done
tagged=$(grep -c '"hashtags":\["' "$T/canon.ndjson")
assert_ge "$tagged" $((N / 4)) "tweets with hashtags"
assert_ge "$(grep -c '"mentions":\["' "$T/canon.ndjson")" $((N / 10)) "tweets with mentions"
assert_ge "$(grep -c '"urls":\["https://' "$T/canon.ndjson")" $((N / 20)) "tweets with URLs"
authors=$(sed -n 's/.*"user":{"screen_name":"\([^"]*\)".*/\1/p' "$T/canon.ndjson" | sort | uniq -c | sort -rn)
assert_ge "$(printf '%s\n' "$authors" | wc -l)" 500 "distinct authors"
top=$(printf '%s\n' "$authors" | head -n 1 | awk '{print $1}')
assert_ge "$top" 20 "the most active author's tweets (skewed activity)"
grep '"lang":"ja"' "$T/canon.ndjson" | grep -qF 'の' || fail "no Japanese text"
grep '"lang":"ru"' "$T/canon.ndjson" | grep -qF ' и ' || fail "no Russian text"
ok "variety: $rts retweets, $tagged tagged, languages $(printf '%s' "$langs" | sed 's/"lang"://g; s/""/ /g; s/"//g')"

# words follow a Zipf-like law: the most frequent word is far more common than the 50th
sed -n 's/^{"id":"[0-9]*","network":"twitter","text":"\([^"]*\)".*/\1/p' "$T/canon.ndjson" | tr ' ' '\n' | grep -v '^[#@]' |
    grep -v '^https' | grep -v '^RT$' | sort | uniq -c | sort -rn >"$T/words"
w1=$(sed -n 1p "$T/words" | awk '{print $1}'); w50=$(sed -n 50p "$T/words" | awk '{print $1}')
assert_ge "$w1" $((w50 * 5)) "frequency of the top word vs the 50th"
ok "skewed word frequencies ($w1 vs $w50)"

if command -v jq >/dev/null; then
    jq -c . "$T/a.ndjson" >/dev/null || fail "v1.1 output is not valid JSON"
    jq -e 'select((.hashtags|type) != "array" or (.id|type) != "string")' "$T/canon.ndjson" >/dev/null &&
        fail "canonical lines with bad types"
    ok "valid JSON (jq)"
fi

before=$(date +%s%6N)
"$BF" gen --count 50 --stamp --canonical >"$T/stamped" || fail "gen --stamp"
after=$(date +%s%6N)
assert_eq "$(grep -c ',"sent_us":[0-9]*}$' "$T/stamped")" 50 "stamped lines end with sent_us"
while read -r us; do
    [ "$us" -ge "$before" ] && [ "$us" -le "$after" ] || fail "sent_us $us outside [$before, $after]"
done < <(sed 's/.*"sent_us":\([0-9]*\)}$/\1/' "$T/stamped")
"$BF" gen --count 20 --stamp >"$T/stamped11" || fail "gen --stamp v1.1"
assert_eq "$(grep -c ',"sent_us":[0-9]*}$' "$T/stamped11")" 20 "stamped v1.1 lines"
ok "--stamp puts the wall clock in sent_us"

# --rate with --count 0 runs until killed, writing lines as it goes
"$BF" gen --count 0 --rate 200 --canonical >"$T/live" &
pid=$!; bf_track $pid
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
wait_until 20 has_lines "$T/live" 10 || fail "paced output did not arrive line by line"
kill -0 $pid 2>/dev/null || fail "gen --count 0 --rate stopped by itself"
kill $pid; wait $pid 2>/dev/null
"$BF" gen --count 5 --rate 100 >"$T/paced" || fail "gen --count 5 --rate 100"
assert_eq "$(wc -l <"$T/paced")" 5 "paced line count"
ok "--rate paces and flushes; --count 0 runs until killed"

# a reader that goes away ends gen instead of leaving it writing
timeout 20 bash -c "'$BF' gen --count 100000000 | head -n 3 >'$T/head'" || fail "gen kept running after its reader left"
assert_eq "$(wc -l <"$T/head")" 3 "lines read before closing"
ok "stops when its reader goes away"
