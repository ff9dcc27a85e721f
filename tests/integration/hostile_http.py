#!/usr/bin/env python3
"""Hostile HTTP input for birdfeed, sent byte for byte over raw sockets to
nginx in front of birdfeed-fcgi (driven by hostile_http.sh).

Every request must get its documented 4xx (or a 2xx where the input is
legal after all) within the timeout: never a 5xx, never a hang, and a JSON
body that parses whenever the answer says JSON. After each class of input
the responder's processes are checked to be the same ones (no crash, no
respawn) and a valid request next to the hostile ones still works.

Environment: BASE (host:port of nginx), TOKEN, FCGI_PID.
Prints one "ok - …" line per class; exits 1 on the first failure."""
import json
import os
import socket
import sys
import time

HOST, PORT = os.environ["BASE"].split(":")
PORT = int(PORT)
TOKEN = os.environ["TOKEN"]
FCGI_PID = int(os.environ["FCGI_PID"])
TIMEOUT = 10
checked = 0


def fail(msg):
    print("FAIL hostile_http: " + msg, file=sys.stderr)
    sys.exit(1)


def raw(method, path, headers=(), body=b"", timeout=TIMEOUT, read_all=True):
    """One request on its own connection; returns (status, headers dict, body)."""
    if isinstance(path, str):
        path = path.encode()
    req = method.encode() + b" " + path + b" HTTP/1.1\r\nHost: birdfeed.test\r\nConnection: close\r\n"
    for h in headers:
        req += (h.encode() if isinstance(h, str) else h) + b"\r\n"
    given = any((h if isinstance(h, bytes) else h.encode()).lower().startswith(b"content-length:") for h in headers)
    if (body or method in ("POST", "PUT")) and not given:
        req += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    req += b"\r\n" + body
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        s.sendall(req)
    except (BrokenPipeError, ConnectionResetError):
        pass   # the server may answer and close before reading a huge request
    data = b""
    t0 = time.time()
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            fail("%s %r: no complete answer within %d s (got %r)" % (method, path[:80], timeout, data[:200]))
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        if not read_all and b"\r\n\r\n" in data:
            break
        if time.time() - t0 > timeout:
            fail("%s %r: answer still coming after %d s" % (method, path[:80], timeout))
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/1."):
        fail("%s %r: no HTTP answer: %r" % (method, path[:80], data[:200]))
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs.setdefault(k.strip().lower().decode("latin-1"), []).append(v.strip().decode("latin-1"))
    return status, hdrs, rest


def check(what, method, path, want, headers=(), body=b"", code=None, **kw):
    """Send and assert: status in want (an int or a set); JSON bodies parse;
    code (the error code) matches when given. Returns (status, headers, body)."""
    global checked
    status, hdrs, rbody = raw(method, path, headers, body, **kw)
    wants = want if isinstance(want, (set, tuple)) else {want}
    if status >= 500:
        fail("%s: %s %r answered %d: %r" % (what, method, path[:80], status, rbody[:300]))
    if status not in wants:
        fail("%s: %s %r answered %d, want %s: %r" % (what, method, path[:80], status, sorted(wants), rbody[:300]))
    ctype = hdrs.get("content-type", [""])[0]
    if "application/json" in ctype and method != "HEAD" and status not in (204, 304):
        try:
            doc = json.loads(rbody.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            fail("%s: body is not JSON (%s): %r" % (what, e, rbody[:300]))
        if status >= 400 and code is not None:
            got = doc.get("error", {}).get("code")
            if got != code:
                fail("%s: error code %r, want %r: %r" % (what, got, code, rbody[:300]))
    for k in hdrs:
        if k.startswith("x-injected") or k == "set-cookie":
            fail("%s: header injected into the answer: %s" % (what, k))
    checked += 1
    return status, hdrs, rbody


def processes():
    try:
        with open("/proc/%d/task/%d/children" % (FCGI_PID, FCGI_PID)) as f:
            kids = f.read().split()
    except FileNotFoundError:
        fail("the responder (pid %d) is gone" % FCGI_PID)
    return sorted(kids)


BASELINE = processes()
names = iter(range(1, 1000000))


def still_serving(cls):
    """Same processes as at the start, health 200, and a valid create works."""
    if processes() != BASELINE:
        fail("%s: responder processes changed (a worker died?): %s → %s" % (cls, BASELINE, processes()))
    check(cls + ": health after", "GET", "/api/health", 200)
    body = json.dumps({"name": "valid after %s %d" % (cls, next(names)), "track": ["valid"]}).encode()
    check(cls + ": valid create after", "POST", "/api/filters", 201,
          ["Authorization: Bearer " + TOKEN, "Content-Type: application/json"], body)
    print("ok - hostile_http: %s" % cls)


AUTH = "Authorization: Bearer " + TOKEN
CT = "Content-Type: application/json"


def post(what, body, want=400, code="invalid_filter", headers=None):
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return check(what, "POST", "/api/filters", want, headers if headers is not None else [AUTH, CT], body, code=code)


# ---- REST bodies -----------------------------------------------------------
for b in [b"", b"{", b"}", b"[]", b"null", b"\"str\"", b"42", b"{\"name\":", b"{\"name\" \"x\"}",
          b"{\"name\":\"a\",\"track\":[\"a\"]} trailing", b"{\"name\":\"a\",\"track\":[\"a\"],}",
          b"{'name':'a','track':['a']}", b"\xef\xbb\xbf{\"name\":\"bom\",\"track\":[\"a\"]}x",
          b"{\"name\":\"a\",\"track\":[\"a\"]}\x00", b"\x00\x00\x00\x00", b"{\"name\":\"a\",\"track\":[\"a\"]",
          b"{\"name\":\"a\\ud800\",\"track\":[\"a\"]}", b"{\"name\":\"\\uZZZZ\",\"track\":[\"a\"]}"]:
    post("malformed %r" % b[:30], b)
post("deeply nested track", "{\"name\":\"deep\",\"track\":" + "[" * 5000 + "]" * 5000 + "}")
post("deeply nested object", "{\"a\":" * 2000 + "1" + "}" * 2000)
post("nested in an ignored field", "{\"name\":\"deep2\",\"track\":[\"x\"],\"version\":" + "[" * 200 + "]" * 200 + "}")
still_serving("malformed and deeply nested bodies")

post("name invalid UTF-8", b"{\"name\":\"\xff\xfe\",\"track\":[\"a\"]}")
post("phrase invalid UTF-8", b"{\"name\":\"u8\",\"track\":[\"\xc0\xaf\"]}")
post("phrase surrogate bytes", b"{\"name\":\"u8b\",\"track\":[\"\xed\xa0\x80\"]}")
post("name NUL escape", "{\"name\":\"a\\u0000b\",\"track\":[\"a\"]}")
post("name with CR/LF (header injection)", "{\"name\":\"a\\r\\nX-Injected: 1\",\"track\":[\"a\"]}")
post("name only control characters", "{\"name\":\"\\u0001\\u0002\",\"track\":[\"a\"]}")
post("phrase only punctuation", "{\"name\":\"p\",\"track\":[\"!!! ???\"]}")
still_serving("invalid UTF-8, NUL and control characters in bodies")

for b in ["{\"name\":1,\"track\":[\"a\"]}", "{\"name\":null,\"track\":[\"a\"]}", "{\"name\":[\"a\"],\"track\":[\"a\"]}",
          "{\"name\":\"t\",\"track\":\"a\"}", "{\"name\":\"t\",\"track\":[1]}", "{\"name\":\"t\",\"track\":[[\"a\"]]}",
          "{\"name\":\"t\",\"track\":{}}", "{\"name\":\"t\",\"track\":[]}", "{\"name\":\"t\",\"track\":[null]}",
          "{\"name\":\"t\",\"track\":[\"a\"],\"lang\":\"en\"}", "{\"name\":\"t\",\"track\":[\"a\"],\"lang\":[1]}",
          "{\"name\":\"t\",\"track\":[\"a\"],\"lang\":[\"english!\"]}", "{\"name\":\"t\",\"track\":[\"a\"],\"evil\":1}",
          "{\"name\":true,\"track\":false}", "{\"track\":[\"a\"]}", "{\"name\":\"t\"}"]:
    post("wrong type %s" % b, b)
still_serving("wrong types and missing or unknown fields")

# Huge numbers where numbers are ignored (version/id of a PUT-back) are legal: 201.
for i, num in enumerate(["1e999999", "-1e999999", "123456789012345678901234567890", "0.0000000000000000000001",
                         "-0", "18446744073709551616"]):
    post("huge number %s" % num, "{\"name\":\"num %d\",\"track\":[\"a\"],\"version\":%s}" % (i, num), want=201)
post("huge number as name", "{\"name\":1e999999,\"track\":[\"a\"]}")
post("huge number as phrase", "{\"name\":\"n\",\"track\":[123456789012345678901234567890]}")
# Duplicate keys: one of the values is taken (the last, as JSON.parse does), never both, never a crash.
st, _, rb = post("duplicate keys", "{\"name\":\"dup one\",\"name\":\"dup two\",\"track\":[\"a\"],\"track\":[\"b\"]}",
                 want=201, code=None)
doc = json.loads(rb)
if doc["name"] not in ("dup one", "dup two") or doc["track"] not in (["a"], ["b"]):
    fail("duplicate keys made %r" % doc)
post("duplicate keys, bad second", "{\"name\":\"dup three\",\"track\":[\"a\"],\"track\":1}")
still_serving("huge numbers and duplicate keys")

# Limits: too long / too many (the README's Filters section), huge bodies (413).
post("name over 100 bytes", json.dumps({"name": "n" * 101, "track": ["a"]}))
post("phrase over 60 bytes", json.dumps({"name": "long phrase", "track": ["p" * 61]}))
post("401 phrases", json.dumps({"name": "many", "track": ["p%d" % i for i in range(401)]}))
post("body over max-body (responder)", json.dumps({"name": "big", "track": ["a"], "pad": "x" * 20000}),
     want=413, code="too_large")
check("body over nginx's client_max_body_size", "POST", "/api/filters", 413, [AUTH, CT], b"{" + b" " * 200000 + b"}")
check("declared length far over the limit", "POST", "/api/filters", 413,
      [AUTH, CT, "Content-Length: 99999999999"], b"", read_all=True)
check("not JSON content type", "POST", "/api/filters", 415, [AUTH, "Content-Type: text/plain"],
      b"{\"name\":\"ct\",\"track\":[\"a\"]}", code="unsupported_media_type")
check("no content type", "POST", "/api/filters", 415, [AUTH], b"{\"name\":\"ct2\",\"track\":[\"a\"]}")
still_serving("size limits and content types")

# ---- headers ---------------------------------------------------------------
check("oversized header", "GET", "/api/health", {400, 431}, ["X-Big: " + "a" * 20000])
check("many headers", "GET", "/api/health", {200, 400, 431}, ["X-H%d: v" % i for i in range(500)])
check("oversized Authorization", "POST", "/api/filters", {400, 401},
      ["Authorization: Bearer " + "t" * 7000, CT], b"{\"name\":\"x\",\"track\":[\"a\"]}")
check("control characters in Authorization", "DELETE", "/api/filters/1", 401,
      [b"Authorization: Bearer \x01\x02\x7f" + TOKEN.encode()])
check("token with trailing garbage", "DELETE", "/api/filters/1", 401, ["Authorization: Bearer " + TOKEN + "x"])
check("control characters in Origin", "GET", "/api/health", 200, [b"Origin: https://a\x01b.example"])
st, h, _ = check("8-bit Origin", "GET", "/api/health", 200, [b"Origin: https://\xc3\xa9.example"])
if "access-control-allow-origin" in h:
    fail("an 8-bit Origin was echoed: %r" % h["access-control-allow-origin"])
st, h, _ = check("plain Origin under cors '*'", "GET", "/api/health", 200, ["Origin: https://ok.example"])
if h.get("access-control-allow-origin") != ["https://ok.example"]:
    fail("cors '*' did not echo a plain origin: %r" % h)
for leid in [b"abc", b"-1", b"1-", b"-", b"1-2-3", b"99999999999999999999999-0", b"1-99999999999999999999999",
             b"1 -0", b"\x01", b"1-0\x7f", b"\xff\xfe", b"0x10-0", b"+1-0", b"1.5-0", b"1-0; 2-0"]:
    check("Last-Event-ID %r" % leid, "GET", "/stream", 400, [b"Last-Event-ID: " + leid], code="bad_request")
check("If-Match list", "PUT", "/api/filters/1", 400, [AUTH, CT, "If-Match: \"1\", \"2\""],
      b"{\"name\":\"x\",\"track\":[\"a\"]}")
check("If-Match garbage", "PUT", "/api/filters/1", {400, 412}, [AUTH, CT, b"If-Match: \x01\xff"],
      b"{\"name\":\"x\",\"track\":[\"a\"]}")
# A header line with a bare LF or an obs-fold (continuation): nginx refuses or folds, never 5xx.
check("obs-fold header", "GET", "/api/health", {200, 400}, ["X-A: a", " folded"])
still_serving("oversized and malformed headers, Last-Event-ID, If-Match")

# CR/LF injection through ids and names: percent-encoded CR/LF in the path and query.
check("CRLF in a filter id", "GET", "/api/filters/1%0d%0aX-Injected:%201", {400, 404})
check("CRLF in ?filter=", "GET", "/stream?filter=1%0d%0aX-Injected:%201", {400, 404})
check("CRLF in ?q=", "GET", "/stream?q=a%0d%0aX-Injected:%201&preload=0", 200, read_all=False, timeout=5)
check("CRLF in a PUT id", "PUT", "/api/filters/1%0D%0ASet-Cookie:%20a=b", {400, 404}, [AUTH, CT],
      b"{\"name\":\"x\",\"track\":[\"a\"]}")
check("CRLF in lastEventId=", "GET", "/stream?lastEventId=1-0%0d%0aX-Injected:%201", 400)
still_serving("CR/LF injection through ids and names")

# ---- query strings ---------------------------------------------------------
bad_queries = ["preload=-1", "preload=99999999999999999999", "preload=abc", "preload=1e3", "preload=", "preload=0x10",
               "preload=%00", "preload=1%00", "preload=101", "preload= 1", "preload=1&preload=2",
               "lastEventId=abc", "lastEventId=-1", "lastEventId=99999999999999999999999-0",
               "q=%00", "q=%ff", "q=%zz", "q=%", "q=%e2%82", "q=,,,", "q=!!!", "q=" + "x" * 61,
               "q=" + ",".join("w%d" % i for i in range(401)), "filter=", "filter=%00", "filter=%ff",
               "%ff=1", "=1", "a%00=1"]
for qs in bad_queries:
    check("stream ?%s" % qs[:40], "GET", "/stream?" + qs, 400, code="bad_request")
check("preload at --preload-max", "GET", "/stream?preload=100", 200, read_all=False, timeout=5)
for qs in ["filter=999999", "filter=abc", "filter=-1", "filter=99999999999999999999999999"]:
    check("stream ?%s" % qs, "GET", "/stream?" + qs, {400, 404})
for qs in ["limit=-1", "limit=abc", "limit=99999999999999999999", "before=xyz", "before=-1-0", "q=%00", "q=%ff",
           "nope=1", "limit=1&limit=2", "filter=%ff"]:
    check("tweets ?%s" % qs, "GET", "/api/tweets?" + qs, {400, 404}, code=None)
check("tweets valid query", "GET", "/api/tweets?q=hello&limit=5", 200)
still_serving("negative, overflowing, non-numeric, NUL and invalid UTF-8 query values")

# ---- paths -----------------------------------------------------------------
for p in ["/api/../../../etc/passwd", "/api/filters/../../../../etc/passwd", "/api/filters/..%2f..%2f..%2fetc%2fpasswd",
          "/api/%2e%2e/%2e%2e/etc/passwd", "/api/filters%2f1", "/api/filters/1%2f..", "/api//filters",
          "/api/filters/1/extra", "/api/filters/%ff", "/api/filters/%00", "/api/filters/%c0%af", "/api/",
          "/api", "/api/health/../filters", "/stream/../api/health", "/api/filters/" + "9" * 5000,
          "/api/filters/1;jsessionid=x", "/api/filters/1?%zz", "/api/%0a", "/api/filters/\xc3\xa9"]:
    st, h, rb = check("path %s" % p[:50], "GET", p, {200, 301, 400, 404, 414}, code=None)
    if st == 301 and not h.get("location", [""])[0].startswith(("http://birdfeed.test/", "http://birdfeed.test:%d/" % PORT)):
        fail("path %s redirected off-site: %r" % (p, h.get("location")))
    if b"root:" in rb:
        fail("path %s leaked a system file" % p)
check("absolute-form request", "GET", "http://other.example/api/health", {200, 400})
still_serving("traversal, encoded slashes and broken paths")

# ---- methods ---------------------------------------------------------------
for m, p, want in [("PATCH", "/api/filters", 405), ("DELETE", "/api/filters", 405), ("PUT", "/api/filters", 405),
                   ("POST", "/stream", 405), ("DELETE", "/stream", 405), ("POST", "/api/health", 405),
                   ("PATCH", "/api/filters/1", 405), ("POST", "/api/filters/1", 405),
                   ("TRACE", "/api/health", {405}), ("FOO", "/api/health", {400, 405}),
                   ("GET ", "/api/health", {200, 400}), ("get", "/api/health", {400, 405})]:
    st, h, _ = check("method %s %s" % (m, p), m, p, want, [AUTH, CT] if m in ("POST", "PUT", "PATCH") else [],
                     b"{}" if m in ("POST", "PUT", "PATCH") else b"")
    if st == 405 and m.isupper() and m not in ("TRACE", "FOO") and not h.get("allow"):
        fail("405 for %s %s without Allow" % (m, p))
still_serving("methods")

print("hostile_http: %d hostile requests, all answered 2xx/4xx as documented" % checked)
