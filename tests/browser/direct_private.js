// A private stream read straight from the responder's stream-listen port in
// headless Chromium (run by tests/integration/browser_direct.sh): a page of
// the web server's origin gets the reader-token cookie (POST
// /api/tokens/refresh with a reader token), then opens two EventSources on
// the stream port, another origin: with withCredentials the cookie goes
// along and the stream opens and delivers; without it the responder answers
// 401 and the EventSource gives up (readyState CLOSED), as it must for a
// stream it may not read.
//
//   node direct_private.js PAGE_URL STREAM_URL
//
// Environment: BF_READER (a reader token), BF_CHROMIUM. Prints "ok - …";
// exits non-zero on the first failure.
'use strict';

const { chromium } = require('playwright-core');
const path = require('path');
const fs = require('fs');
const os = require('os');

const [pageUrl, streamUrl] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const browser = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'bf-direct-')), {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const res = await page.goto(new URL('api/health', pageUrl).toString(), { waitUntil: 'load' });
    if (!res) throw new Error('the page did not load');
    const status = await page.evaluate(async (tok) => {
      const r = await fetch('/api/tokens/refresh', { method: 'POST', headers: { Authorization: 'Bearer ' + tok } });
      return r.status;
    }, process.env.BF_READER);
    if (status !== 200) throw new Error('POST /api/tokens/refresh answered ' + status);
    const cookies = await browser.cookies(pageUrl);
    if (!cookies.some((c) => c.name === 'birdfeed_token' && c.httpOnly)) throw new Error('no HttpOnly birdfeed_token cookie');
    console.log('ok - direct_private: the page holds the reader-token cookie (HttpOnly)');

    await page.evaluate((u) => {
      window.__r = {};
      for (const [name, creds] of [['with', true], ['without', false]]) {
        const rec = { ids: [], opens: 0, errors: 0 };
        window.__r[name] = rec;
        const es = new EventSource(u, { withCredentials: creds });
        rec.es = es;
        es.onopen = () => { rec.opens++; };
        es.onerror = () => { rec.errors++; };
        es.addEventListener('tweet', (ev) => { rec.ids.push(ev.lastEventId); });
      }
    }, streamUrl);
    const end = Date.now() + 15000;
    let s;
    for (;;) {
      s = await page.evaluate(() => Object.fromEntries(Object.entries(window.__r).map(([k, r]) =>
        [k, { ids: r.ids.length, opens: r.opens, errors: r.errors, ready: r.es.readyState }])));
      if (s.with.ids >= 3 && s.without.ready === 2) break;
      if (Date.now() > end) throw new Error('after 15 s: ' + JSON.stringify(s));
      await sleep(200);
    }
    if (s.without.opens !== 0 || s.without.ids !== 0) throw new Error('a stream opened without the cookie: ' + JSON.stringify(s));
    console.log(`ok - direct_private: withCredentials sends the cookie across origins (${s.with.ids} tweets); ` +
                'without it the stream is refused (401) and the EventSource closes');
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('FAIL direct_private: ' + e.message); process.exit(1); });
