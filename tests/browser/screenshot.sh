#!/bin/bash
# Make the README's screenshot of the demo page (deploy/www/page.png): Redis, a
# responder and nginx on free loopback ports, an hour of synthetic tweets
# (birdfeed gen; a fifth of them Bluesky posts, a tenth Mastodon ones; no
# CJK text, which headless Chromium here has no font for) with stream ids
# spread over the last hour, then a live feed; headless Chromium opens the
# page with ?preload=3000 and takes a 1280×900 picture.
#
#   make && bash tests/browser/screenshot.sh [OUT.png]
#
# A tool, not a test: it asserts nothing (tests/integration/browser.sh does).
. "$(dirname "$0")/../lib.sh"
OUT=${1:-$BF_ROOT/deploy/www/page.png}

start_redis
"$BF" filters add --name "Herons and owls" --track heron --track owl >/dev/null
"$BF" filters add --name "Coffee" --track coffee >/dev/null

# networks.py [--ids]: canonical tweets in, the same with networks mixed in
# (and, with --ids, as XADD commands with ids over the last hour) out.
cat >"$T/networks.py" <<'PY'
import bisect, json, math, random, re, sys, time
rnd = random.Random(5)
cjk = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
xadd = len(sys.argv) > 2
key = sys.argv[1].encode()
lines = [l for l in sys.stdin if not cjk.search(l)] if xadd else sys.stdin
now = int(time.time() * 1000)
if xadd:
    weight = [1 + 0.35 * math.sin(m / 7.0) + 0.25 * math.sin(m / 2.3 + 1) + 0.2 * rnd.random() for m in range(60)]
    edges, acc = [0], 0.0
    for w in weight:
        acc += w
        edges.append(int(len(lines) * acc / sum(weight)))
out = sys.stdout.buffer
for i, line in enumerate(lines):
    t = json.loads(line)
    if cjk.search(line):
        continue
    r = rnd.random()
    user = t["user"]["screen_name"]
    if r < 0.2:
        t["network"] = "bluesky"
        t["user"]["screen_name"] = user + ".bsky.social"
        t["url"] = "https://bsky.app/profile/%s.bsky.social/post/3k%s" % (user, t["id"][-10:])
    elif r < 0.3:
        t["network"] = "mastodon"
        t["user"]["screen_name"] = user + "@mastodon.social"
        t["url"] = "https://mastodon.social/@%s/%s" % (user, t["id"])
    v = json.dumps(t, ensure_ascii=False, separators=(",", ":"))
    if not xadd:
        print(v, flush=True)
        continue
    # Spread over the last hour at a rate that drifts: minute m gets a share
    # of the tweets by weight[m], evenly within it.
    m = bisect.bisect_right(edges, i) - 1
    within = (i - edges[m]) / max(1, edges[m + 1] - edges[m])
    ms = now - 3600000 + int(60000 * (m + within))
    args = [b"XADD", key, b"%d-%d" % (min(ms, now - 1000), i), b"t", v.encode()]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
"$BF" gen --canonical --count 4000 --seed 7 | python3 "$T/networks.py" "${BIRDFEED_PREFIX}tweets" --ids \
    | rcli --pipe >/dev/null || fail "history"
# The responder reads the history when it starts.
start_fcgi --workers 2 --preload-max 5000
start_nginx
wait_until 10 curl -fsS -o /dev/null "$BASE_URL/api/health" || fail "health"
mkfifo "$T/feed"
"$BF" ingest <"$T/feed" 2>>"$T/ingest.log" &
bf_track $!
("$BF" gen --canonical --rate 12 --count 0 --seed 8 | python3 "$T/networks.py" x >"$T/feed" 2>/dev/null) &
bf_track $!

mkdir -p "$(dirname "$OUT")"
cat >"$T/shot.js" <<'JS'
const { chromium } = require(process.env.BF_ROOT + '/tests/browser/node_modules/playwright-core');
(async () => {
  const ctx = await chromium.launchPersistentContext(process.env.BF_PROFILE, {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto(process.argv[2] + '?preload=3000', { waitUntil: 'load' });
  await page.waitForFunction(() => window.birdfeed && window.birdfeed.state().status === 'live', null, { timeout: 20000 });
  await page.waitForTimeout(9000);
  await page.screenshot({ path: process.argv[3] });
  await ctx.close();
})().catch((e) => { console.error(e); process.exit(1); });
JS
BF_ROOT=$BF_ROOT BF_PROFILE=$T/profile node "$T/shot.js" "$BASE_URL/" "$OUT" || fail "screenshot"
echo "wrote $OUT"
