// Plain EventSource objects in headless Chromium — no page code, no retry
// logic of our own — through each web server while the service fails in
// the ways given (run by tests/integration/stream_retry.sh).
//
//   node resume.js BASE_URL…
//
// For every base URL, BF_PER_SERVER (default 2) tabs open a page of that
// origin (BF_PAGE_PATH, default api/health) and start
// `new EventSource(BF_STREAM_PATH)` (default stream?preload=0; both relative
// to the base URL). Then, for
// each step of BF_STEPS (a JSON list of {"name", "cmd"}), the shell command
// runs (it breaks something and repairs it), and every EventSource must
// receive the tweets published after it — the browser alone reconnects.
// Each one must have seen the outage (an error, then a new open) unless the
// step says "quiet_ok" (open streams may ride out a Redis outage).
// At the end BF_STOP runs (stops the publisher), every EventSource must
// reach the newest id (BF_NEWEST prints it), and each one's ids must be
// exactly the stream's (BF_XRANGE prints the ids from $1 to $2): nothing
// lost, nothing repeated, and no EventSource ever closed for good.
// Prints "ok - …" per check; exits non-zero on the first failure.
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const path = require('path');
const os = require('os');
const fs = require('fs');

const bases = process.argv.slice(2);
const perServer = Number(process.env.BF_PER_SERVER || 2);
const pagePath = process.env.BF_PAGE_PATH || 'api/health';
const streamPath = process.env.BF_STREAM_PATH || 'stream?preload=0';
const steps = JSON.parse(process.env.BF_STEPS || '[]');
const resumeMs = Number(process.env.BF_RESUME_MS || 60000);

function ok(msg) { console.log('ok - resume: ' + msg); }
function sh(cmd, args = []) { return execFileSync('bash', ['-c', cmd, 'bash', ...args], { encoding: 'utf8' }); }
function idCmp(a, b) {
  const [am, as] = a.split('-').map(Number), [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What runs in each tab: one EventSource and a record of what it saw.
function startStream(url) {
  const rec = { ids: [], opens: 0, errors: 0, closed: 0, states: [] };
  window.__bf = rec;
  const es = new EventSource(url);
  es.onopen = () => { rec.opens++; };
  es.onerror = () => { rec.errors++; if (es.readyState === EventSource.CLOSED) rec.closed++; };
  es.addEventListener('tweet', (ev) => { rec.ids.push(ev.lastEventId); });
  window.__es = es;
}

async function main() {
  const profile = process.env.BF_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), 'bf-resume-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           // Keep background tabs' timers (EventSource reconnects) at full speed.
           '--disable-background-timer-throttling', '--disable-renderer-backgrounding'],
  });
  const tabs = [];
  try {
    for (const base of bases) {
      for (let i = 0; i < perServer; i++) {
        const page = tabs.length === 0 && browser.pages()[0] ? browser.pages()[0] : await browser.newPage();
        const res = await page.goto(new URL(pagePath, base).toString(), { waitUntil: 'load' });
        if (!res || res.status() >= 400) throw new Error(`${base}: the page ${pagePath} answered ${res && res.status()}`);
        await page.evaluate(startStream, new URL(streamPath, base).toString());
        tabs.push({ page, name: `${new URL(base).port}#${i}` });
      }
    }
    const state = () => Promise.all(tabs.map((t) => t.page.evaluate(() => ({
      n: window.__bf.ids.length, last: window.__bf.ids[window.__bf.ids.length - 1] || '',
      opens: window.__bf.opens, errors: window.__bf.errors, closed: window.__bf.closed,
      ready: window.__es.readyState,
    }))));
    // Everyone open and receiving.
    const reach = async (what, cond) => {
      const end = Date.now() + resumeMs;
      let s;
      for (;;) {
        s = await state();
        const dead = s.findIndex((x) => x.closed || x.ready === 2);
        if (dead >= 0) throw new Error(`${what}: EventSource ${tabs[dead].name} closed for good (readyState 2)`);
        if (s.every(cond)) return s;
        if (Date.now() > end) {
          const late = s.map((x, i) => `${tabs[i].name}: ${x.n} ids, last ${x.last}, ready ${x.ready}`).join('; ');
          throw new Error(`${what}: not every EventSource got there in ${resumeMs / 1000} s (${late})`);
        }
        await sleep(200);
      }
    };
    await reach('first tweets', (x) => x.opens >= 1 && x.n >= 3);
    ok(`${tabs.length} EventSources open through ${bases.length} server(s), tweets arriving`);

    for (const step of steps) {
      const before = await state();
      sh(step.cmd);
      const mark = sh(process.env.BF_NEWEST).trim();
      // Every EventSource reconnected by itself and gets what came after.
      const after = await reach(step.name, (x) => x.last && idCmp(x.last, mark) > 0);
      // Each one noticed the outage (an error event: the stream ended) and
      // reconnected (open events: the retry answers and the resumed stream).
      const quiet = after.findIndex((x, i) => x.errors === before[i].errors || x.opens === before[i].opens);
      if (quiet >= 0 && !step.quiet_ok) throw new Error(`${step.name}: EventSource ${tabs[quiet].name} never saw the outage`);
      const errs = after.reduce((a, x, i) => a + x.errors - before[i].errors, 0);
      ok(`${step.name}: all ${tabs.length} EventSources resumed by themselves ` +
         `(${errs} error events while it was away, none closed)`);
    }

    if (process.env.BF_STOP) sh(process.env.BF_STOP);
    const newest = sh(process.env.BF_NEWEST).trim();
    await reach('the newest tweet', (x) => x.last === newest);
    for (const t of tabs) {
      const ids = await t.page.evaluate(() => window.__bf.ids);
      const want = sh(process.env.BF_XRANGE, [ids[0], newest]).split('\n').filter(Boolean);
      if (new Set(ids).size !== ids.length) throw new Error(`${t.name}: a tweet arrived twice`);
      if (ids.join(' ') !== want.join(' ')) {
        const missing = want.filter((x) => !ids.includes(x));
        throw new Error(`${t.name}: ${ids.length} ids, the stream holds ${want.length} in that range; ` +
                        `missing e.g. ${missing.slice(0, 3)}`);
      }
    }
    const counts = (await state()).map((x) => x.n);
    ok(`every EventSource holds exactly the stream's tweets from its first on (${Math.min(...counts)}-` +
       `${Math.max(...counts)} each): nothing lost, nothing repeated`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('FAIL resume: ' + e.message); process.exit(1); });
