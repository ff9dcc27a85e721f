// Headless Chromium: ten EventSource streams to one origin, over HTTP/2 and
// over HTTP/1.1 (run by tests/integration/browser_h2.sh).
//
//   node h2.js HTTPS_URL HTTP_URL
//
// Both URLs are the same nginx and responders; HTTPS_URL speaks HTTP/2 with a
// self-signed certificate that Chromium is told to accept by its key only
// (BF_SPKI, --ignore-certificate-errors-spki-list). Environment: BF_RESTART (a
// shell command that restarts the responder), BF_XRANGE (prints the stream
// ids between $1 and $2, one a line), BF_CHROMIUM, BF_PROFILE.
// Prints "ok - …" per check; exits non-zero on the first failure.
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');

const [tlsUrl, plainUrl] = process.argv.slice(2);
const STREAMS = 10;

function ok(msg) { console.log('ok - browser_h2: ' + msg); }
function sh(cmd, args = []) { return execFileSync('bash', ['-c', cmd, 'bash', ...args], { encoding: 'utf8' }); }

// Open STREAMS EventSources from a page of the origin; each records the ids
// of the tweets it receives.
async function openStreams(page, base) {
  await page.goto(base + '/api/health');
  const proto = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  await page.evaluate((n) => {
    window.got = [];
    window.es = [];
    for (let i = 0; i < n; i++) {
      const es = new EventSource('/stream?preload=0');
      window.got.push([]);
      es.addEventListener('tweet', (m) => window.got[i].push(m.lastEventId));
      window.es.push(es);
    }
  }, STREAMS);
  return proto;
}
const counts = (page) => page.evaluate(() => window.got.map((g) => g.length));
async function until(page, fn, arg, what, ms = 20000) {
  await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 })
    .catch(async () => { throw new Error(`timed out: ${what} (events per stream: ${await counts(page)})`); });
}

async function main() {
  const browser = await chromium.launchPersistentContext(process.env.BF_PROFILE, {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync',
           '--ignore-certificate-errors-spki-list=' + process.env.BF_SPKI],
  });
  try {
    // 1. HTTP/2: all ten streams receive events.
    const h2 = await browser.newPage();
    const proto2 = await openStreams(h2, tlsUrl);
    if (proto2 !== 'h2') throw new Error('the TLS origin spoke ' + proto2 + ', not h2');
    await until(h2, (n) => window.got.filter((g) => g.length >= 3).length === n, STREAMS, `all ${STREAMS} streams over h2 get events`);
    ok(`over HTTP/2 all ${STREAMS} EventSource streams of one origin receive events (${await counts(h2)})`);

    // 2. HTTP/1.1, the same page: six streams get events, the others wait.
    const h1 = await browser.newPage();
    const proto1 = await openStreams(h1, plainUrl);
    if (proto1 !== 'http/1.1') throw new Error('the plain origin spoke ' + proto1);
    await until(h1, () => window.got.filter((g) => g.length >= 3).length >= 6, null, 'six streams over HTTP/1.1 get events');
    await h1.waitForTimeout(3000);
    const c1 = await counts(h1);
    const states = await h1.evaluate(() => window.es.map((e) => e.readyState));
    const live = c1.filter((n) => n > 0).length;
    if (live !== 6) throw new Error(`over HTTP/1.1 ${live} streams got events (want 6): ${c1}`);
    const blocked = c1.map((n, i) => (n === 0 ? i : -1)).filter((i) => i >= 0);
    if (blocked.some((i) => states[i] !== 0)) throw new Error('a stream without events is not CONNECTING: ' + states);
    ok(`over HTTP/1.1 the same page gets 6 streams; streams ${blocked.map((i) => i + 1).join(', ')} wait (${c1})`);
    // Closing one of the six lets a waiting one through: blocked, not broken.
    const first = c1.findIndex((n) => n > 0);
    await h1.evaluate((i) => window.es[i].close(), first);
    await until(h1, (b) => b.some((i) => window.got[i].length > 0), blocked, 'a waiting stream starts when one closes');
    ok('closing one of the six lets a waiting stream start');
    await h1.close();

    // 3. Last-Event-ID over HTTP/2: the responder restarts; every stream
    // reconnects with its last id and misses nothing, repeats nothing.
    const before = await counts(h2);
    sh(process.env.BF_RESTART);
    await until(h2, (b) => window.got.every((g, i) => g.length >= b[i] + 10), before,
      'streams resume after the responder restarts', 40000);
    const got = await h2.evaluate(() => window.got);
    for (let i = 0; i < STREAMS; i++) {
      const ids = got[i];
      const want = sh(process.env.BF_XRANGE, [ids[0], ids[ids.length - 1]]).split('\n').filter(Boolean);
      if (ids.join(' ') !== want.join(' ')) {
        throw new Error(`stream ${i + 1}: ${ids.length} ids received, ${want.length} in the stream between them`);
      }
    }
    ok(`after a responder restart all ${STREAMS} streams resumed over HTTP/2 with Last-Event-ID: no gap, no duplicate`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('FAIL browser_h2: ' + e.message); process.exit(1); });
