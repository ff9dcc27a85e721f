#!/bin/bash
# /api/filters through real nginx and redis: every status path of the REST API (README, Filters),
# bearer tokens (missing, wrong, right, reloaded on SIGHUP, never logged),
# concurrent If-Match PUTs (exactly one wins), auth-reads, Redis down → 503.
. "$(dirname "$0")/../lib.sh"

TOKEN="s3cret-Token-$RANDOM$RANDOM"
TOKEN2="other-Token-$RANDOM$RANDOM"
printf '# birdfeed test tokens\n\n%s\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"

start_redis
start_fcgi --tokens-file "$T/tokens" --max-body 2048 --filters-max 4 --log-level debug
start_nginx
API="$BASE_URL/api/filters"
AUTH="Authorization: Bearer $TOKEN"
JSON="Content-Type: application/json"

# req METHOD URL [curl args…]: sets CODE, BODY ($T/b) and HEADERS ($T/h).
req() {
    local m=$1 u=$2; shift 2
    CODE=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" "$@" "$u")
    BODY=$(cat "$T/b"); HEADERS=$(tr -d '\r' <"$T/h")
}
hdr() { printf '%s\n' "$HEADERS" | sed -n "s/^$1: //Ip" | head -1; }

req GET "$API"
assert_eq "$CODE" 200 "empty list"
assert_eq "$BODY" '{"filters":[]}' "empty list body"
assert_contains "$HEADERS" "Content-Type: application/json; charset=utf-8" "list content type"
ok "GET /api/filters: 200 empty list"

F='{"name":"Rust news","track":["Rust  Lang","#rustlang"],"lang":["en"]}'
req POST "$API" -H "$JSON" --data "$F"
assert_eq "$CODE" 401 "POST without a token"
assert_eq "$(hdr WWW-Authenticate)" 'Bearer realm="birdfeed"' "WWW-Authenticate"
assert_contains "$BODY" '"code":"unauthorized"' "401 body"
req POST "$API" -H "$JSON" -H "Authorization: Bearer wrong$TOKEN" --data "$F"
assert_eq "$CODE" 401 "POST with a wrong token"
assert_contains "$(hdr WWW-Authenticate)" 'error="invalid_token"' "invalid_token"
req POST "$API" -H "$JSON" -H "Authorization: Basic $TOKEN" --data "$F"
assert_eq "$CODE" 401 "another scheme"
assert_eq "$(rcli HLEN "${BIRDFEED_PREFIX}filters")" 0 "nothing stored by refused requests"
ok "401 + WWW-Authenticate: Bearer for a missing, wrong or non-bearer token"

req POST "$API" -H "$JSON" -H "$AUTH" --data "$F"
assert_eq "$CODE" 201 "create"
assert_eq "$(hdr Location)" "/api/filters/1" "Location"
assert_eq "$(hdr ETag)" '"1"' "ETag"
assert_contains "$BODY" '{"id":"1","name":"Rust news","track":["rust lang","#rustlang"],"lang":["en"],"version":1,"created_at":"' "created body"
ok "POST: 201 + Location + ETag, normalised"

req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"rust NEWS","track":["x"]}'
assert_eq "$CODE" 409 "duplicate name"
assert_contains "$BODY" '"code":"duplicate_name"' "409 code"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"a","track":["a","b","c","0123456789012345678901234567890123456789012345678901234567890"]}'
assert_eq "$CODE" 400 "phrase too long"
assert_contains "$BODY" '"message":"track[3]: phrase longer than 60 bytes"' "400 names the field"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"","track":["x"]}'
assert_eq "$CODE" 400 "empty name"
assert_contains "$BODY" 'name: must be 1–100 bytes of UTF-8' "name message"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"x","track":["x"],"lang":["english"]}'
assert_eq "$CODE" 400 "bad lang"
assert_contains "$BODY" 'lang[0]: must be a language code' "lang message"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"x",'
assert_eq "$CODE" 400 "not JSON"
assert_contains "$BODY" 'body: not JSON' "not JSON message"
printf '{"name":"\xff","track":["x"]}' >"$T/bad_utf8"
req POST "$API" -H "$JSON" -H "$AUTH" --data-binary @"$T/bad_utf8"
assert_eq "$CODE" 400 "invalid UTF-8"
req POST "$API" -H "$JSON" -H "$AUTH" --data '[1,2,3]'
assert_eq "$CODE" 400 "array body"
req POST "$API" -H "$JSON" -H "$AUTH"
assert_eq "$CODE" 400 "empty body"
ok "POST: 400 (naming the field) and 409"

req POST "$API" -H "Content-Type: text/plain" -H "$AUTH" --data "$F"
assert_eq "$CODE" 415 "not application/json"
assert_contains "$BODY" '"code":"unsupported_media_type"' "415 body"
head -c 3000 /dev/zero | tr '\0' 'x' >"$T/big"
req POST "$API" -H "$JSON" -H "$AUTH" --data-binary @"$T/big"
assert_eq "$CODE" 413 "over max-body"
assert_contains "$BODY" '"code":"too_large"' "413 JSON body"
head -c 70000 /dev/zero | tr '\0' 'x' >"$T/huge"
req POST "$API" -H "$JSON" -H "$AUTH" --data-binary @"$T/huge"
assert_eq "$CODE" 413 "over 64 KiB"
assert_contains "$BODY" '"code":"too_large"' "413 over 64 KiB is birdfeed's JSON"
ok "415 for non-JSON, 413 over the body limit"

req GET "$API/1"
assert_eq "$CODE" 200 "get"
assert_eq "$(hdr ETag)" '"1"' "get ETag"
assert_contains "$BODY" '"id":"1","name":"Rust news"' "get body"
req GET "$API/1" -H 'If-None-Match: "1"'
assert_eq "$CODE" 304 "If-None-Match"
for id in 999 abc 0 01 "$(printf '9%.0s' $(seq 1 30))"; do
    req GET "$API/$id"
    assert_eq "$CODE" 404 "get unknown id $id"
    assert_contains "$BODY" '"code":"not_found"' "404 JSON for $id"
done
req GET "$API/1/x"
assert_eq "$CODE" 404 "deeper path"
req GET "$BASE_URL/api/filterz"
assert_eq "$CODE" 404 "unknown route"
assert_contains "$BODY" '"error":{"code":"not_found"' "unknown route JSON"
req PATCH "$API/1" -H "$AUTH"
assert_eq "$CODE" 405 "PATCH"
assert_eq "$(hdr Allow)" "GET, HEAD, PUT, DELETE" "Allow on an item (HEAD goes where GET does)"
req DELETE "$API" -H "$AUTH"
assert_eq "$CODE" 405 "DELETE on the collection"
assert_eq "$(hdr Allow)" "GET, HEAD, POST" "Allow on the collection"
ok "GET one: 200 + ETag, 304, 404 JSON; 405 + Allow; unknown route 404"

U='{"name":"Rust news","track":["rust 2024"]}'
req PUT "$API/1" -H "$JSON" --data "$U"
assert_eq "$CODE" 401 "PUT without a token"
req PUT "$API/1" -H "$JSON" -H "$AUTH" -H 'If-Match: "7"' --data "$U"
assert_eq "$CODE" 412 "If-Match mismatch"
assert_contains "$BODY" '"code":"precondition_failed"' "412 body"
req PUT "$API/1" -H "$JSON" -H "$AUTH" -H 'If-Match: nonsense' --data "$U"
assert_eq "$CODE" 412 "If-Match garbage"
req PUT "$API/1" -H "$JSON" -H "$AUTH" -H 'If-Match: W/"1"' --data "$U"
assert_eq "$CODE" 412 "a weak ETag never matches If-Match"
req PUT "$API/1" -H "$JSON" -H "$AUTH" -H 'If-Match: "1"' --data "$U"
assert_eq "$CODE" 200 "PUT"
assert_eq "$(hdr ETag)" '"2"' "new ETag"
assert_contains "$BODY" '"track":["rust 2024"],"version":2' "PUT body"
req PUT "$API/1" -H "$JSON" -H "$AUTH" --data '{"name":"Rust news","track":["rust 2025"],"lang":["en"]}'
assert_eq "$CODE" 200 "PUT without If-Match"
assert_eq "$(hdr ETag)" '"3"' "ETag 3"
req PUT "$API/42" -H "$JSON" -H "$AUTH" --data "$U"
assert_eq "$CODE" 404 "PUT unknown"
req PUT "$API/1" -H "$JSON" -H "$AUTH" --data '{"name":"Rust news","track":[]}'
assert_eq "$CODE" 400 "PUT invalid"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"cats","track":["cat"]}'
assert_eq "$CODE" 201 "second filter"
req PUT "$API/2" -H "$JSON" -H "$AUTH" --data '{"name":"RUST NEWS","track":["cat"]}'
assert_eq "$CODE" 409 "rename onto a taken name"
ok "PUT: 200 + new ETag, 401, 404, 400, 409, 412"

# Concurrent PUTs with the same If-Match: exactly one wins.
etag=$(curl -s -D - -o /dev/null "$API/2" | tr -d '\r' | sed -n 's/^ETag: //Ip')
pids=()
for i in $(seq 1 12); do
    curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H "$JSON" -H "$AUTH" -H "If-Match: $etag" \
        --data "{\"name\":\"cats\",\"track\":[\"cat $i\"]}" "$API/2" >"$T/put.$i" &
    pids+=($!)
done
wait "${pids[@]}"
wins=$(cat "$T"/put.* | grep -c '^200$'); lost=$(cat "$T"/put.* | grep -c '^412$')
assert_eq "$wins" 1 "exactly one concurrent PUT wins"
assert_eq "$lost" 11 "the others get 412"
req GET "$API/2"
assert_eq "$(hdr ETag)" "\"$(( ${etag//\"/} + 1 ))\"" "one version step"
ok "12 concurrent PUTs with one If-Match: 1 × 200, 11 × 412"

req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"three","track":["3"]}'
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"four","track":["4"]}'
assert_eq "$CODE" 201 "fourth filter"
req POST "$API" -H "$JSON" -H "$AUTH" --data '{"name":"five","track":["5"]}'
assert_eq "$CODE" 409 "over filters-max"
assert_contains "$BODY" '"code":"too_many_filters"' "filters-max code"
ok "filters-max: 409"

req GET "$API"
assert_eq "$CODE" 200 "list"
assert_contains "$BODY" '{"filters":[{"id":"1",' "list in id order"
assert_contains "$BODY" '{"id":"4","name":"four"' "list holds all"

req DELETE "$API/3"
assert_eq "$CODE" 401 "DELETE without a token"
req DELETE "$API/3" -H "$AUTH" -H 'If-Match: "9"'
assert_eq "$CODE" 412 "DELETE with a stale If-Match"
req DELETE "$API/3" -H "$AUTH"
assert_eq "$CODE" 204 "DELETE"
assert_eq "$BODY" "" "204 has no body"
req GET "$API/3"
assert_eq "$CODE" 404 "gone"
req DELETE "$API/3" -H "$AUTH"
assert_eq "$CODE" 404 "DELETE twice"
ok "DELETE: 204, then 404; 401; 412"

# SIGHUP reloads the tokens file.
printf '%s\n' "$TOKEN2" >"$T/tokens"
kill -HUP "$FCGI_PID"
wait_until 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Authorization: Bearer $TOKEN2' $API/4)\" = 204 ]" \
    || fail "new token accepted after SIGHUP"
req DELETE "$API/2" -H "$AUTH"
assert_eq "$CODE" 401 "old token refused after SIGHUP"
ok "SIGHUP reloads tokens"

# Redis down: 503 + Retry-After, JSON.
kill_redis
req GET "$API"
assert_eq "$CODE" 503 "list with redis down"
[ -n "$(hdr Retry-After)" ] || fail "503 without Retry-After"
assert_contains "$BODY" '"code":"redis_unavailable"' "503 code"
req POST "$API" -H "$JSON" -H "Authorization: Bearer $TOKEN2" --data '{"name":"x","track":["x"]}'
assert_eq "$CODE" 503 "create with redis down"
req GET "$API/1"
assert_eq "$CODE" 503 "get with redis down"
restart_redis
req GET "$API"
assert_eq "$CODE" 200 "back after redis returns"
ok "Redis down: 503 + Retry-After; back to 200 after"

# auth-reads: reads need a token too.
start_fcgi --tokens-file "$T/tokens" --auth-reads 1
start_nginx
req GET "$BASE_URL/api/filters"
assert_eq "$CODE" 401 "auth-reads: list without a token"
req GET "$BASE_URL/api/filters" -H "Authorization: Bearer $TOKEN2"
assert_eq "$CODE" 200 "auth-reads: list with a token"
wait_until 10 bash -c "curl -s -H 'Authorization: Bearer $TOKEN2' '$BASE_URL/api/health' | grep -q '\"redis\":\"ok\"'" || fail "health"
req GET "$BASE_URL/stream?preload=0"
assert_eq "$CODE" 401 "auth-reads: stream without a token"
assert_contains "$HEADERS" "application/json" "401 on a stream is JSON, so EventSource stops"
code=$(curl -s -m 1 -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TOKEN2" "$BASE_URL/stream?preload=0")
assert_eq "$code" 200 "auth-reads: stream with a token"
ok "auth-reads: reads and streams need a token"

# A world-readable tokens file is warned about; a missing one stops the start.
chmod 644 "$T/tokens"
"$BF_FCGI" --tokens-file "$T/nope" --listen "127.0.0.1:$(free_port)" >"$T/start.log" 2>&1
assert_eq $? 1 "missing tokens file"
assert_contains "$(cat "$T/start.log")" "$T/nope" "names the file"
start_fcgi --tokens-file "$T/tokens"
need_log "$T/fcgi.log"
wait_until 5 grep -q 'auth.file_readable' "$T/fcgi.log" || fail "no warning for a readable tokens file"
ok "tokens file: readable-by-others warning, missing file refused"

for f in "$T/fcgi.log" "$T"/nginx/*.log; do
    [ -f "$f" ] || continue
    if grep -q -e "$TOKEN" -e "$TOKEN2" "$f"; then fail "a token appears in $f"; fi
done
log_grep "$T/fcgi.log" -q 'auth.denied' || fail "denials are logged"
ok "tokens never in logs (debug level), denials logged"
