#!/bin/bash
# birdfeed token: the reader tokens it prints verify with an independent
# implementation (Python's hmac/hashlib/base64, RFC 7519 §7.2 by hand):
# header {"alg":"HS256","typ":"JWT"}, exp = iat + ttl, the filters scope,
# the key being the file's bytes without trailing whitespace; --json gives
# the expiry as ISO 8601 UTC; usage errors and unusable keys exit 2 with a
# reason; the token appears on stdout only.
. "$(dirname "$0")/../lib.sh"

head -c 48 /dev/urandom | base64 >"$T/jwt.key"
printf '\n  \n' >>"$T/jwt.key"            # trailing whitespace is not part of the key
chmod 600 "$T/jwt.key"

# verify TOKEN: the claims as JSON on stdout, or exit 1 with the reason.
verify() {
    python3 - "$T/jwt.key" "$1" <<'PY'
import base64, hashlib, hmac, json, sys
key = open(sys.argv[1], "rb").read().rstrip(b" \t\r\n\v\f")
h, p, s = sys.argv[2].split(".")
d = lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
if json.loads(d(h)) != {"alg": "HS256", "typ": "JWT"}: sys.exit("header: %r" % d(h))
mac = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
if not hmac.compare_digest(mac, d(s)): sys.exit("signature does not verify")
print(json.dumps(json.loads(d(p)), sort_keys=True))
PY
}

tok=$("$BF" token --ttl 3600 --jwt-secret-file "$T/jwt.key" 2>"$T/err") || fail "token: $(cat "$T/err")"
claims=$(verify "$tok") || fail "the token does not verify independently"
python3 -c 'import json,sys,time; c=json.loads(sys.argv[1]); assert c["exp"]-c["iat"]==3600 and abs(c["iat"]-time.time())<60 and "filters" not in c, c' "$claims" \
    || fail "claims: $claims"
grep -q -- "$tok" "$T/err" && fail "the token was printed on stderr"
ok "birdfeed token: HS256, verifies with Python's hmac (key without trailing whitespace), exp = iat + ttl, unscoped"

tok=$(BIRDFEED_JWT_SECRET_FILE=$T/jwt.key "$BF" token -t 60 --filter 7 -f 12 2>/dev/null) || fail "scoped token"
claims=$(verify "$tok") || fail "the scoped token does not verify"
assert_contains "$claims" '"filters": ["7", "12"]' "scope claim"
out=$("$BF" token --ttl 90 --json --jwt-secret-file "$T/jwt.key" 2>/dev/null) || fail "--json"
python3 - "$out" <<'PY' || fail "--json output: $out"
import datetime, json, sys
o = json.loads(sys.argv[1])
assert set(o) == {"token", "expires_at"}, o
exp = datetime.datetime.strptime(o["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
left = (exp - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
assert 0 < left <= 91, left
PY
ok "scoped tokens carry filters [\"7\",\"12\"]; --json gives the token and expires_at in ISO 8601 UTC"

# usage ARGS… WANT: exit 2 with WANT on stderr.
usage() {
    local want=${*: -1} rc
    "$BF" token "${@:1:$#-1}" >"$T/out" 2>"$T/err"; rc=$?
    assert_eq "$rc" 2 "birdfeed token ${*:1:$#-1}"
    assert_contains "$(cat "$T/err")" "$want" "message of birdfeed token ${*:1:$#-1}"
    [ -s "$T/out" ] && fail "birdfeed token ${*:1:$#-1} printed a token"
    return 0
}
usage --jwt-secret-file "$T/jwt.key" "--ttl SECONDS is required"
usage --ttl 60 "no key: set --jwt-secret-file"
usage --ttl 0 --jwt-secret-file "$T/jwt.key" "too small"
usage --ttl 99999999 --jwt-secret-file "$T/jwt.key" "too large"
usage --ttl 60 --filter 7a --jwt-secret-file "$T/jwt.key" "'7a' is not a filter id"
usage --ttl 60 --jwt-secret-file "$T/missing.key" "No such file"
printf 'short\n' >"$T/short.key"; chmod 600 "$T/short.key"
usage --ttl 60 --jwt-secret-file "$T/short.key" "5 bytes; an HS256 key needs at least 32"
chmod 644 "$T/jwt.key"
"$BF" token --ttl 60 --jwt-secret-file "$T/jwt.key" >/dev/null 2>"$T/err" || fail "token with a readable key file"
assert_contains "$(cat "$T/err")" "jwt.file_readable" "warning for a group/world-readable key file"
ok "usage errors and unusable keys exit 2 with the reason; a readable key file is warned about"
