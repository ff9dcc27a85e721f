// The demo page on a private deployment (auth-reads=1), in headless
// Chromium (run by tests/integration/browser_private.sh).
//
//   node private.js URL
//
// Environment: BF_ADMIN (a token of the tokens file, to mint reader tokens
// with POST /api/tokens), BF_TTL (their lifetime in seconds, short so the
// page must refresh), BF_XRANGE (prints the stream ids from $1 to $2),
// BF_SCOPED_FILTER (a filter id) and BF_FILTER_TERMS (words its tweets hold),
// BF_ARTIFACTS (screenshots). Prints "ok - …" per check; exits non-zero on
// the first failure.
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const path = require('path');
const fs = require('fs');
const os = require('os');
const { watchPage } = require('./page');

const url = process.argv[2];
const ttl = Number(process.env.BF_TTL || 20);
const artifacts = process.env.BF_ARTIFACTS || '.';
const scopedFilter = process.env.BF_SCOPED_FILTER || '1';
const terms = (process.env.BF_FILTER_TERMS || 'owl heron').split(/\s+/);

function ok(msg) { console.log('ok - private: ' + msg); }
function sh(cmd, args = []) { return execFileSync('bash', ['-c', cmd, 'bash', ...args], { encoding: 'utf8' }); }
function idCmp(a, b) {
  const [am, as] = a.split('-').map(Number), [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

async function mint(body) {
  const res = await fetch(new URL('api/tokens', url), {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + process.env.BF_ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error('POST /api/tokens: ' + res.status + ' ' + await res.text());
  return (await res.json()).token;
}

async function launch() {
  return chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'bf-private-')), {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
}

// Every tweet the stream holds from the list's oldest to its newest is in it, once, in order.
async function noGap(bf, what) {
  const ids = await bf(() => window.birdfeed.renderedIds());
  if (new Set(ids).size !== ids.length) throw new Error(what + ': a tweet twice in the list');
  for (let i = 1; i < ids.length; i++) if (idCmp(ids[i - 1], ids[i]) <= 0) throw new Error(what + ': out of order');
  const want = sh(process.env.BF_XRANGE, [ids[ids.length - 1], ids[0]]).split('\n').filter(Boolean);
  if (want.join(' ') !== ids.slice().reverse().join(' ')) {
    const missing = want.filter((x) => !ids.includes(x));
    throw new Error(`${what}: ${missing.length} tweets missing, e.g. ${missing.slice(0, 3)}`);
  }
  return ids.length;
}

async function main() {
  const problems = [];
  const check = () => { if (problems.length) throw new Error(problems.join('\n')); };

  // 1. Without a token the page asks for one; a wrong one is refused.
  let ctx = await launch();
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const { bf, until } = await watchPage(page, problems, 30000);
    await page.goto(url, { waitUntil: 'load' });
    await until(() => !document.getElementById('private').hidden, null, 'the private-feed prompt');
    const st = await bf(() => ({ status: window.birdfeed.state().status, n: window.birdfeed.renderedIds().length }));
    if (st.status !== 'stopped' || st.n !== 0) throw new Error('without a token: ' + JSON.stringify(st));
    ok('without a token the page asks for one (status stopped, no tweets)');
    await page.fill('#reader-token', 'not-a-token');
    await page.click('#private button[type=submit]');
    await until(() => /Not accepted/.test(document.getElementById('private-msg').textContent), null, 'a wrong token refused');
    ok('a wrong token is refused with the reason: ' + await bf(() => document.getElementById('private-msg').textContent));

    // 2. A pasted token opens the feed; the cookie is HttpOnly, the page never keeps the token.
    const token = await mint({ ttl });
    const t0 = Date.now();
    await page.fill('#reader-token', token);
    await page.click('#private button[type=submit]');
    await until(() => window.birdfeed.state().status === 'live' && window.birdfeed.renderedIds().length >= 20,
                null, 'the private feed live');
    const cookies = await ctx.cookies();
    const c = cookies.find((x) => x.name === 'birdfeed_token');
    if (!c || !c.httpOnly || c.sameSite !== 'Strict' || c.path !== '/') throw new Error('cookie: ' + JSON.stringify(c));
    const seen = await bf(() => ({ cookie: document.cookie, storage: JSON.stringify(sessionStorage), url: location.href,
                                   hidden: document.getElementById('private').hidden,
                                   filters: document.querySelectorAll('#filter-picker option').length }));
    if (seen.cookie.includes('birdfeed_token') || seen.storage.includes(token) || seen.url.includes(token)) {
      throw new Error('the token is visible to the page: ' + JSON.stringify(seen));
    }
    if (!seen.hidden || seen.filters < 2) throw new Error('after the token: ' + JSON.stringify(seen));
    ok('a pasted reader token opens the feed and the filter list; the cookie is HttpOnly, SameSite=Strict, Path=/, ' +
       'and the token is in no script-visible place');

    // 3. The page keeps the feed open past the token's own expiry: it refreshes
    //    the cookie before exp; the stream ends at exp (event: token-expired)
    //    and resumes with the fresh cookie, without a gap.
    const exp0 = await bf(() => window.birdfeed.reader().exp);
    const reconnects0 = await bf(() => window.birdfeed.stats.reconnects);
    await until((t) => window.birdfeed.reader().exp > t, exp0, 'the cookie refreshed', ttl * 1000 + 10000);
    await until((n) => window.birdfeed.stats.reconnects > n && window.birdfeed.state().status === 'live',
                reconnects0, 'the stream resumed after its token expired', ttl * 1000 + 20000);
    const lastBefore = await bf(() => window.birdfeed.state().lastId);
    await until((t) => window.newerThan(window.birdfeed.state().lastId, t), lastBefore, 'tweets after the resume');
    const n = await noGap(bf, 'across the expiry');
    const dups = await bf(() => window.birdfeed.stats.duplicates);
    if (dups) throw new Error(dups + ' duplicates');
    ok(`the page refreshed its cookie before exp, the stream ended at exp and resumed with it ` +
       `(${Math.round((Date.now() - t0) / 1000)} s on a ${ttl} s token): ${n} tweets, no gap, no duplicate`);
    await page.screenshot({ path: path.join(artifacts, 'browser-private.png') });

    // 4. A reload in the same tab goes straight back in with the cookie.
    await page.reload({ waitUntil: 'load' });
    await until(() => window.birdfeed.state().status === 'live' && window.birdfeed.renderedIds().length >= 20,
                null, 'live again after a reload');
    if (!(await bf(() => document.getElementById('private').hidden))) throw new Error('the prompt after a reload');
    ok('a reload goes straight back to the feed (the cookie, refreshed)');
    check();
  } finally {
    await ctx.close();
  }

  // 5. A link with #token= (scoped to one filter) opens that filter's feed;
  //    the token leaves the address bar at once.
  ctx = await launch();
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const { bf, until } = await watchPage(page, problems, 30000);
    const scoped = await mint({ ttl: 600, filters: [scopedFilter] });
    await page.goto(url + '#token=' + scoped, { waitUntil: 'load' });
    await until((f) => window.birdfeed.state().status === 'live' && window.birdfeed.state().selection.filter === f &&
                       window.birdfeed.renderedIds().length >= 3, scopedFilter, 'the scoped feed live');
    const v = await bf(() => ({
      url: location.href,
      // as the matcher reads words: lower case, accents folded ("héron" matches heron)
      texts: [...document.querySelectorAll('#tweets .tweet')]
        .map((li) => li.textContent.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '')),
      options: [...document.querySelectorAll('#filter-picker option')].map((o) => o.value),
      scope: window.birdfeed.reader().scope,
    }));
    if (v.url.includes(scoped) || v.url.includes('#token')) throw new Error('the token stayed in the URL: ' + v.url);
    const off = v.texts.filter((t) => !terms.some((w) => t.includes(w)));
    if (off.length) throw new Error(`${off.length} tweets outside filter ${scopedFilter}: ${off[0]}`);
    if (JSON.stringify(v.options) !== JSON.stringify(['', scopedFilter])) throw new Error('filters offered: ' + v.options);
    // Asking for everything stays within the scope.
    await page.click('#show-all');
    await until((f) => window.birdfeed.state().selection.filter === f && window.birdfeed.state().status === 'live',
                scopedFilter, 'still the scoped filter after Show all');
    ok(`a #token= link scoped to filter ${scopedFilter} opens its feed only (${v.texts.length} matching tweets, ` +
       'the picker offers only it, Show all stays inside), and the token leaves the URL');
    check();
  } finally {
    await ctx.close();
  }
}

main().catch((e) => { console.error('FAIL private: ' + e.message); process.exit(1); });
