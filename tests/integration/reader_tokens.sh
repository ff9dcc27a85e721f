#!/bin/bash
# Reader tokens (JWT, HS256) on a private deployment (auth-reads=1) through
# nginx: where a token may come from (Authorization, else ?access_token=,
# else the birdfeed_token cookie — the first present is judged), what is
# refused (none, alg none / HS384 / expired / foreign key, a token of the
# tokens file in a URL or cookie), the read-only grant (writes 403), scopes
# (a stream of the token's filters only; /api/tweets with filter= inside;
# the filter list trimmed), POST /api/tokens and /api/tokens/refresh (cookie
# attributes, Secure over HTTPS, same scope and lifetime), a stream ending
# with `event: token-expired` at exp, key rotation by SIGHUP, the cookie and
# ?access_token= through lighttpd and Apache too — and no token string in
# birdfeed's log (debug level) or any web server's log.
. "$(dirname "$0")/../lib.sh"

ADMIN="admin-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$ADMIN" >"$T/tokens"; chmod 600 "$T/tokens"
head -c 48 /dev/urandom | base64 >"$T/jwt.key"; chmod 600 "$T/jwt.key"
ALL_TOKENS=("$ADMIN")             # every token used, for the log check at the end

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 || fail "openssl: $(cat "$T/openssl.log")"
TLS_PORT=$(free_port)
NGINX_SED="s|#listen 443 ssl http2;|listen 127.0.0.1:$TLS_PORT ssl http2;|; s|#ssl_certificate .*|ssl_certificate $T/cert.pem;|; s|#ssl_certificate_key .*|ssl_certificate_key $T/key.pem;|"

start_redis
"$BF" filters add --name owls --track owl >/dev/null || fail "filter 1"
"$BF" filters add --name herons --track heron >/dev/null || fail "filter 2"
for i in 1 2 3; do publish_tweet "5000-$i" "{\"id\":\"$i\",\"text\":\"an owl and a heron $i\",\"user\":{\"screen_name\":\"r\"}}"; done
start_fcgi --auth-reads 1 --tokens-file "$T/tokens" --jwt-secret-file "$T/jwt.key" --log-level debug --heartbeat-ms 500
start_nginx
start_lighttpd
start_apache
wait_until 10 curl -sf -H "Authorization: Bearer $ADMIN" "$BASE_URL/api/health" || fail "health"

# req METHOD URL [curl args…]: CODE, BODY, HEADERS (names lower-cased).
req() {
    local m=$1 u=$2; shift 2
    CODE=$(curl -s -m 3 -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" "$@" "$u")
    BODY=$(cat "$T/b"); HEADERS=$(tr -d '\r' <"$T/h" | sed 's/^\([^:]*\):/\L\1:/')
}
# mint JSON: a token from POST /api/tokens (the admin token), into TOKEN.
mint() {
    req POST "$BASE_URL/api/tokens" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data "$1"
    assert_eq "$CODE" 201 "POST /api/tokens $1 ($BODY)"
    TOKEN=$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    ALL_TOKENS+=("$TOKEN")
}
# forge HEADER PAYLOAD [KEY]: a token signed by hand (Python's hmac), HS256 over KEY (default: the real key).
forge() {
    python3 - "$1" "$2" "${3:-$T/jwt.key}" <<'PY'
import base64, hashlib, hmac, sys
b = lambda s: base64.urlsafe_b64encode(s).rstrip(b"=").decode()
key = open(sys.argv[3], "rb").read().rstrip(b" \t\r\n")
si = b(sys.argv[1].encode()) + "." + b(sys.argv[2].encode())
print(si + "." + b(hmac.new(key, si.encode(), hashlib.sha256).digest()))
PY
}
now=$(date +%s)

# ---- where a token comes from -------------------------------------------------
req GET "$BASE_URL/api/filters"
assert_eq "$CODE" 401 "no token"
assert_contains "$HEADERS" 'www-authenticate: Bearer' "401 names the scheme"
mint '{"ttl":600}'; ALL=$TOKEN
for how in header query cookie; do
    case $how in
        header) args=(-H "Authorization: Bearer $ALL"); q="" ;;
        query) args=(); q="?access_token=$ALL" ;;
        cookie) args=(--cookie "theme=dark; birdfeed_token=$ALL; x=1"); q="" ;;
    esac
    req GET "$BASE_URL/api/filters$q" "${args[@]}"
    assert_eq "$CODE" 200 "GET /api/filters with the token in the $how"
    code=$(curl -s -m 2 -o "$T/s" -w '%{http_code}' "${args[@]}" "$BASE_URL/stream$q")
    assert_eq "$code" 200 "/stream with the token in the $how"
    grep -q '^id: 5000-3' "$T/s" || fail "/stream with the token in the $how sent no preload"
done
# The first one present is the one judged.
req GET "$BASE_URL/api/filters?access_token=$ALL" -H "Authorization: Bearer nonsense"
assert_eq "$CODE" 401 "a bad header is judged even with a good ?access_token="
req GET "$BASE_URL/api/filters" -H "Authorization: Bearer $ALL" --cookie "birdfeed_token=nonsense"
assert_eq "$CODE" 200 "a good header wins over a bad cookie"
req GET "$BASE_URL/api/filters?access_token=nonsense" --cookie "birdfeed_token=$ALL"
assert_eq "$CODE" 401 "a bad ?access_token= is judged before a good cookie"
# The tokens file's tokens count in the header only.
req GET "$BASE_URL/api/filters?access_token=$ADMIN"
assert_eq "$CODE" 401 "an admin token in a URL"
req GET "$BASE_URL/api/filters" --cookie "birdfeed_token=$ADMIN"
assert_eq "$CODE" 401 "an admin token in a cookie"
ok "reader tokens from Authorization, ?access_token= or the cookie, the first present judged; admin tokens in the header only"

# ---- what is refused ------------------------------------------------------------
exp=$((now + 600))
declare -A bad=(
    [alg_none]="$(forge '{"alg":"none","typ":"JWT"}' "{\"exp\":$exp}" | sed 's/\.[^.]*$/./')"
    [alg_none_signed]="$(forge '{"alg":"none"}' "{\"exp\":$exp}")"
    [hs384]="$(forge '{"alg":"HS384","typ":"JWT"}' "{\"exp\":$exp}")"
    [expired]="$(forge '{"alg":"HS256","typ":"JWT"}' "{\"exp\":$((now - 120))}")"
    [no_exp]="$(forge '{"alg":"HS256","typ":"JWT"}' '{"iat":1}')"
    [not_yet]="$(forge '{"alg":"HS256","typ":"JWT"}' "{\"exp\":$exp,\"nbf\":$((now + 300))}")"
    [empty_scope]="$(forge '{"alg":"HS256","typ":"JWT"}' "{\"exp\":$exp,\"filters\":[]}")"
)
printf 'another-key-another-key-another-key-0000\n' >"$T/other.key"
bad[foreign_key]=$(forge '{"alg":"HS256","typ":"JWT"}' "{\"exp\":$exp}" "$T/other.key")
good=$(forge '{"alg":"HS256","typ":"JWT"}' "{\"exp\":$exp}")
ALL_TOKENS+=("$good")
req GET "$BASE_URL/api/filters" -H "Authorization: Bearer $good"
assert_eq "$CODE" 200 "a token made by hand with Python's hmac"
for k in "${!bad[@]}"; do
    ALL_TOKENS+=("${bad[$k]}")
    req GET "$BASE_URL/api/filters?access_token=${bad[$k]}"
    assert_eq "$CODE" 401 "token $k"
    case "$BODY$HEADERS" in *"${bad[$k]}"*) fail "token $k echoed in the answer";; esac
done
req GET "$BASE_URL/api/filters" -H "Authorization: Bearer ${bad[expired]}"
assert_contains "$BODY" "expired" "the 401 says the token expired"
ok "refused with 401: alg none (bare and signed), HS384, expired, no exp, nbf ahead, an empty scope, a foreign key"

# ---- reads only -------------------------------------------------------------------
req POST "$BASE_URL/api/filters" -H "Authorization: Bearer $ALL" -H 'Content-Type: application/json' --data '{"name":"x","track":["y"]}'
assert_eq "$CODE" 403 "a reader token creating a filter"
req DELETE "$BASE_URL/api/filters/1" --cookie "birdfeed_token=$ALL"
assert_eq "$CODE" 401 "a write with the cookie only (no header)"
req POST "$BASE_URL/api/tokens" -H "Authorization: Bearer $ALL" -H 'Content-Type: application/json' --data '{"ttl":60}'
assert_eq "$CODE" 403 "a reader token minting tokens"
req DELETE "$BASE_URL/api/filters/2" -H "Authorization: Bearer $ADMIN"
assert_eq "$CODE" 204 "the admin token still writes"
"$BF" filters add --name herons --track heron >/dev/null || fail "filter 3"      # id 3 now
ok "a reader token never writes (403), a cookie never authorises a write (401), the admin token does"

# ---- scopes ---------------------------------------------------------------------------
mint '{"ttl":600,"filters":["1"]}'; SCOPED=$TOKEN
code=$(curl -s -m 2 -o "$T/s" -w '%{http_code}' "$BASE_URL/stream?filter=1&access_token=$SCOPED")
assert_eq "$code" 200 "scoped: its filter's stream"
for u in "stream" "stream?filter=3" "stream?filter=1,3" "stream?filter=1&filter=3" "stream?filter=1&q=owl" "stream?q=owl" \
         "api/filters/3" "api/tweets" "api/tweets?filter=3" "api/tweets?q=owl"; do
    sep='?'; case $u in *\?*) sep='&';; esac
    req GET "$BASE_URL/$u${sep}access_token=$SCOPED"
    assert_eq "$CODE" 403 "scoped token: $u"
    assert_contains "$BODY" '"forbidden"' "scoped token: $u explains"
done
req GET "$BASE_URL/api/tweets?filter=1&q=owl&access_token=$SCOPED"
case $CODE in 403|401) fail "scoped token, /api/tweets inside its scope: $CODE $BODY";; esac
req GET "$BASE_URL/api/filters" -H "Authorization: Bearer $SCOPED"
assert_eq "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print([f["id"] for f in json.load(sys.stdin)["filters"]])')" "['1']" "scoped: the filter list"
req GET "$BASE_URL/api/filters/1" -H "Authorization: Bearer $SCOPED"
assert_eq "$CODE" 200 "scoped: its own filter"
ok "a token scoped to filter 1: its stream only (no unfiltered stream, no q=, no other filter), /api/tweets only with filter=1, the filter list trimmed"

# ---- minting ------------------------------------------------------------------------------
for body in '{"ttl":60,"filters":[]}' '{"ttl":0}' '{"ttl":"60"}' '{"filters":["1"]}' '{"ttl":60,"filters":[1]}' \
            '{"ttl":60,"filters":["x"]}' '{"ttl":60,"scope":"all"}' '{"ttl":99999999}' '[60]' 'ttl=60'; do
    req POST "$BASE_URL/api/tokens" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data "$body"
    case $body in ttl=60) want=415;; *) want=400;; esac
    [ "$CODE" = 400 ] || [ "$CODE" = 415 ] || fail "POST /api/tokens $body: $CODE, want $want"
done
req POST "$BASE_URL/api/tokens" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data '{"ttl":60,"filters":[]}'
assert_contains "$BODY" "empty list" "an empty scope is explained"
req POST "$BASE_URL/api/tokens" -H 'Content-Type: application/json' --data '{"ttl":60}'
assert_eq "$CODE" 401 "minting without a token"
mint '{"ttl":90,"filters":["1","3"]}'
python3 - "$BODY" "$TOKEN" <<'PY' || fail "POST /api/tokens answer: $BODY"
import base64, datetime, json, sys
o = json.loads(sys.argv[1]); assert set(o) == {"token", "expires_at"}, o
p = sys.argv[2].split(".")[1]; c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
assert c["filters"] == ["1", "3"] and c["exp"] - c["iat"] == 90, c
exp = datetime.datetime.strptime(o["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
assert int(exp.timestamp()) == c["exp"], (o, c)
PY
ok "POST /api/tokens: 201 {token, expires_at (ISO 8601 UTC)} for the admin token; 400 for an empty scope, bad ttl, ids that are not strings of digits, unknown keys"

# ---- refresh ---------------------------------------------------------------------------------
req POST "$BASE_URL/api/tokens/refresh" -H "Authorization: Bearer $SCOPED"
assert_eq "$CODE" 200 "refresh with a reader token"
cookie=$(printf '%s\n' "$HEADERS" | sed -n 's/^set-cookie: //p')
NEW=$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'); ALL_TOKENS+=("$NEW")
assert_contains "$cookie" "birdfeed_token=$NEW;" "the cookie holds the new token"
for attr in "HttpOnly" "SameSite=Strict" "Path=/" "Max-Age=600"; do assert_contains "$cookie" "$attr" "cookie attribute $attr"; done
case $cookie in *Secure*) fail "Secure over plain HTTP: $cookie";; esac
python3 - "$SCOPED" "$NEW" <<'PY' || fail "the refreshed token's claims"
import base64, json, sys
c = [json.loads(base64.urlsafe_b64decode(t.split(".")[1] + "==")) for t in sys.argv[1:]]
assert c[1]["filters"] == c[0]["filters"] == ["1"], c
assert c[1]["exp"] - c[1]["iat"] == c[0]["exp"] - c[0]["iat"] == 600, c
assert c[1]["exp"] >= c[0]["exp"], c
PY
req POST "$BASE_URL/api/tokens/refresh" --cookie "birdfeed_token=$NEW"
assert_eq "$CODE" 200 "refresh with the cookie"
req POST "$BASE_URL/api/tokens/refresh" -H "Authorization: Bearer $ADMIN"
assert_eq "$CODE" 403 "refresh with the admin token"
req POST "$BASE_URL/api/tokens/refresh"
assert_eq "$CODE" 401 "refresh with nothing"
req POST "$BASE_URL/api/tokens/refresh" --cookie "birdfeed_token=${bad[expired]}"
assert_eq "$CODE" 401 "refresh with an expired token"
req POST "https://127.0.0.1:$TLS_PORT/api/tokens/refresh" -k -H "Authorization: Bearer $SCOPED"
assert_eq "$CODE" 200 "refresh over HTTPS"
assert_contains "$(printf '%s\n' "$HEADERS" | sed -n 's/^set-cookie: //p')" "; Secure" "the cookie is Secure over HTTPS"
ALL_TOKENS+=("$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')")
ok "refresh: a fresh token with the same scope and lifetime, as JSON and as an HttpOnly SameSite=Strict Path=/ cookie (Secure over HTTPS); 401/403 otherwise"

# ---- a stream ends when its token does ------------------------------------------------------------
mint '{"ttl":3}'; SHORT=$TOKEN
curl -sN -m 30 "$BASE_URL/stream?access_token=$SHORT" >"$T/expiring"; rc=$?
assert_eq "$rc" 0 "the stream ended by itself (curl exit status)"
grep -q '^event: token-expired' "$T/expiring" || fail "no event: token-expired: $(tail -c 300 "$T/expiring")"
grep -A1 '^event: token-expired' "$T/expiring" | grep -q '^data: {"exp":[0-9]*}' || fail "token-expired data"
assert_eq "$(tail -c 2 "$T/expiring" | od -An -c | tr -d ' ')" '\n\n' "the stream's last event is complete"
code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE_URL/stream?access_token=$SHORT")
assert_eq "$code" 401 "reconnecting with the expired token"
ok "a stream opened with a 3 s token ends cleanly with event: token-expired; the same token then gets 401"

# ---- key rotation -------------------------------------------------------------------------------
head -c 48 /dev/urandom | base64 >"$T/jwt.key"; chmod 644 "$T/jwt.key"
kill -HUP "$FCGI_PID"
wait_until 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$BASE_URL/api/filters?access_token=$ALL')\" = 401 ]" \
    || fail "a token of the old key still works after SIGHUP"
mint '{"ttl":60}'
req GET "$BASE_URL/api/filters?access_token=$TOKEN"
assert_eq "$CODE" 200 "a token of the new key"
wait_until 5 grep -q 'jwt.file_readable' "$T/fcgi.log" || fail "no warning for a readable key file"
ok "rotating the key (SIGHUP) revokes every earlier token; a group/world-readable key file is warned about"

# ---- through lighttpd and Apache --------------------------------------------------------------------
for name in lighttpd apache; do
    case $name in lighttpd) base=$LIGHTTPD_URL;; apache) base=$APACHE_URL;; esac
    code=$(curl -s -m 2 -o "$T/s" -w '%{http_code}' --cookie "birdfeed_token=$TOKEN" "$base/stream?preload=1")
    assert_eq "$code" 200 "$name: stream with the cookie"
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/stream?preload=1&access_token=$TOKEN")
    assert_eq "$code" 200 "$name: stream with ?access_token="
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$base/api/filters")
    assert_eq "$code" 200 "$name: API with the header"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/stream")
    assert_eq "$code" 401 "$name: stream without a token"
done
ok "lighttpd and Apache pass the header, the query and the cookie on"

# ---- no token in any log ---------------------------------------------------------------------------------
kill -HUP "$FCGI_PID"; sleep 0.3
grep -q 'auth.reader' "$T/fcgi.log" || fail "the debug log has no auth lines, so the check below proves nothing"
for f in "$T/fcgi.log" "$T"/nginx/*.log "$T"/lighttpd/*.log "$T"/apache/*.log; do
    [ -f "$f" ] || continue
    for t in "${ALL_TOKENS[@]}"; do
        [ -n "$t" ] || continue
        grep -qF -- "$t" "$f" && fail "a token (…${t: -12}) appears in $f"
        sig=${t##*.}
        [ -n "$sig" ] && grep -qF -- "$sig" "$f" && fail "a token's signature (…${sig: -12}) appears in $f"
    done
done
ok "no token (${#ALL_TOKENS[@]} of them, whole and signature alone) in birdfeed's debug log or the web servers' logs"
stop_fcgi
