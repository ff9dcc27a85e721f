// Headless Chromium against a running birdfeed (run by tests/integration/browser.sh).
//
//   node check.js URL
//
// Environment: BF_RESTART (a shell command that restarts the responder),
// BF_PUBLISH (a shell command that publishes one hostile tweet), BF_XRANGE (a
// shell command printing the stream ids between $1 and $2, one a line),
// BF_XRANGE_FULL (the same, as redis-cli prints XRANGE: id, field, tweet JSON
// per entry), BF_PUBLISH_NETWORKS (publishes three tweets whose texts end in
// "network-probe-bluesky", "-mastodon" and "-none", the last without a network),
// BF_ARTIFACTS (where screenshots go), BF_TOKEN (a bearer token), BF_FILTER_NAME / BF_FILTER_TERMS (a
// saved filter and the words its tweets contain), BF_SEARCH (a search word).
// Prints "ok - …" per check; exits non-zero on the first failure.
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const path = require('path');
const { watchPage } = require('./page');

const url = process.argv[2];
const artifacts = process.env.BF_ARTIFACTS || '.';
const filterName = process.env.BF_FILTER_NAME || 'Owls and herons';
const filterTerms = (process.env.BF_FILTER_TERMS || 'owl heron').split(/\s+/);
const searchWord = process.env.BF_SEARCH || 'coffee';

function ok(msg) { console.log('ok - browser: ' + msg); }
function sh(cmd, args = []) { return execFileSync('bash', ['-c', cmd, 'bash', ...args], { encoding: 'utf8' }); }
function idCmp(a, b) {
  const [am, as] = a.split('-').map(Number), [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

async function main() {
  // A persistent context is how playwright takes a (fresh) --user-data-dir.
  const browser = await chromium.launchPersistentContext(process.env.BF_PROFILE || path.join(artifacts, 'profile'), {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const { bf, until } = await watchPage(page, problems);
    page.on('console', (m) => {
      // The responder restart makes the browser log the failed reconnects: expected.
      if (m.type() === 'error' && !/ERR_CONNECTION|502|503|Failed to load resource|EventSource/.test(m.text())) {
        problems.push('console error: ' + m.text());
      }
    });
    const check = () => { if (problems.length) throw new Error(problems.join('\n')); };

    // 1. The page loads and the preload renders.
    await page.goto(url, { waitUntil: 'load' });
    await until(() => window.birdfeed && window.birdfeed.renderedIds().length >= 50, null, 'preload rendered');
    const first = await bf(() => ({
      n: window.birdfeed.renderedIds().length,
      status: window.birdfeed.state().status,
      text: document.querySelector('#tweets .tweet .text').textContent,
      handle: document.querySelector('#tweets .tweet .handle').textContent,
      title: document.title,
    }));
    if (first.status !== 'live') throw new Error('status after preload: ' + first.status);
    if (!first.text.trim() || !first.handle.startsWith('@')) throw new Error('a tweet renders without text or handle');
    if (first.n > 300) throw new Error('list not capped: ' + first.n);
    ok(`page loads, preload renders (${first.n} tweets, capped at 300), status live`);
    check();

    // 2. Live tweets appear on top.
    const top0 = await bf(() => window.birdfeed.renderedIds()[0]);
    await until((t) => newerThan(window.birdfeed.renderedIds()[0], t) , top0, 'a live tweet on top');
    await until(() => Number(document.getElementById('stat-rate').textContent) > 0 &&
                      document.querySelectorAll('#cloud .word').length >= 5,
                null, 'tweets/s and the word cloud filled in');
    const live = await bf(() => ({
      rate: Number(document.getElementById('stat-rate').textContent),
      total: window.birdfeed.stats.total,
      words: document.querySelectorAll('#cloud .word').length,
      conn: document.getElementById('conn-text').textContent,
    }));
    if (!(live.rate > 0)) throw new Error('tweets/s shows ' + live.rate);
    if (live.words < 5) throw new Error('word cloud has ' + live.words + ' words');
    if (live.conn !== 'live') throw new Error('connection indicator says ' + live.conn);
    ok(`live tweets appear (${live.total} received, ${live.rate}/s, ${live.words} words in the cloud)`);
    await page.screenshot({ path: path.join(artifacts, 'browser.png') });

    // 2b. The charts count what the stream holds: per minute of the last hour
    //     and per language, checked against the tweets Redis holds between
    //     the first and the last id the page received.
    const snap = await bf(() => {
      const c = window.birdfeed.charts();
      const st = window.birdfeed.state();
      return {
        c, first: st.firstId, last: st.lastId, now: Date.now(),
        bars: [...document.querySelectorAll('#chart-minutes rect.bar')].map((r) => [r.dataset.minute, Number(r.dataset.count)]),
        rows: [...document.querySelectorAll('#chart-langs g.lang-row')].map((g) => [g.dataset.lang, Number(g.dataset.count)]),
      };
    });
    const lines = sh(process.env.BF_XRANGE_FULL, [snap.first, snap.last]).split('\n').filter(Boolean);
    const perMinute = new Map(), perLang = new Map();
    for (let i = 0; i + 2 < lines.length; i += 3) {
      const ms = Number(lines[i].split('-')[0]);
      if (Math.floor(ms / 60000) <= Math.floor(snap.now / 60000) - 60) continue;
      const t = JSON.parse(lines[i + 2]);
      const m = String(Math.floor(ms / 60000));
      perMinute.set(m, (perMinute.get(m) || 0) + 1);
      const l = typeof t.lang === 'string' ? t.lang : 'und';
      perLang.set(l, (perLang.get(l) || 0) + 1);
    }
    if (snap.bars.length !== 60) throw new Error('the minutes chart has ' + snap.bars.length + ' bars');
    for (const [m, n] of snap.bars) {
      if ((perMinute.get(m) || 0) !== n) throw new Error(`minute ${m}: chart ${n}, stream ${perMinute.get(m) || 0}`);
    }
    const counted = snap.bars.reduce((a, x) => a + x[1], 0);
    if (counted !== lines.length / 3 || counted !== snap.c.total) {
      throw new Error(`charts count ${counted}, the page received ${snap.c.total}, the stream holds ${lines.length / 3}`);
    }
    const wantLangs = [...perLang.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (wantLangs.length > 8) wantLangs.push(['other', wantLangs.splice(7).reduce((a, x) => a + x[1], 0)]);
    if (JSON.stringify(snap.rows) !== JSON.stringify(wantLangs)) {
      throw new Error('languages chart ' + JSON.stringify(snap.rows) + ', stream ' + JSON.stringify(wantLangs));
    }
    ok(`charts: ${counted} tweets per minute of the last hour and ${snap.rows.length} languages, ` +
       'equal to what Redis holds for that range');

    // 2c. Sorting: by retweets, by followers (live tweets land in place), back to newest first.
    const orderOk = (key) => bf((k) => {
      const lis = [...document.querySelectorAll('#tweets .tweet')];
      const id = (li) => li.dataset.id.split('-').map(Number);
      for (let i = 1; i < lis.length; i++) {
        const a = lis[i - 1], b = lis[i];
        const ka = k ? Number(a.dataset[k]) : 0, kb = k ? Number(b.dataset[k]) : 0;
        const [am, as] = id(a), [bm, bs] = id(b);
        const newer = am > bm || (am === bm && as > bs);
        if (ka < kb || (ka === kb && !newer)) return `position ${i}: ${a.dataset.id} (${ka}) before ${b.dataset.id} (${kb})`;
      }
      return lis.length >= 20 ? '' : 'only ' + lis.length + ' tweets';
    }, key);
    for (const [value, key] of [['retweets', 'retweets'], ['followers', 'followers']]) {
      await page.selectOption('#sort', value);
      let bad = await orderOk(key);
      if (bad) throw new Error(`sorted by ${value}: ${bad}`);
      const seen = await bf(() => window.birdfeed.stats.rendered);
      await until((n) => window.birdfeed.stats.rendered >= n + 10, seen, 'live tweets while sorted');
      bad = await orderOk(key);
      if (bad) throw new Error(`sorted by ${value}, after live tweets: ${bad}`);
    }
    const top = await bf(() => {
      const li = document.querySelector('#tweets .tweet');
      return { followers: Number(li.dataset.followers), text: li.querySelector('.meta') ? li.querySelector('.meta').textContent : '' };
    });
    if (!(top.followers > 0) || !top.text.includes('followers')) throw new Error('the top tweet by followers shows ' + JSON.stringify(top));
    await page.selectOption('#sort', 'time');
    const badTime = await orderOk(null);
    if (badTime) throw new Error('newest first again: ' + badTime);
    ok(`sorting by retweets and by followers orders the list (live tweets land in place; top: ${top.text}); ` +
       'newest first again after');

    // 3. Tweet text is text: a hostile tweet shows literally and runs nothing.
    sh(process.env.BF_PUBLISH);
    await until(() => [...document.querySelectorAll('#tweets .text')].some((p) => p.textContent.includes('<img src=x')),
                null, 'the hostile tweet');
    const hostile = await bf(() => ({
      imgs: document.querySelectorAll('#tweets img, #tweets script, #tweets b').length,
      pwned: window.__pwned === true,
    }));
    if (hostile.imgs || hostile.pwned) throw new Error('tweet text reached the DOM as markup');
    ok('tweet text is escaped (markup in a tweet shows as text, runs nothing)');

    // 3b. A badge says where each post comes from; a tweet without a network is Twitter's.
    sh(process.env.BF_PUBLISH_NETWORKS);
    await until(() => ['bluesky', 'mastodon', 'none'].every((n) => [...document.querySelectorAll('#tweets .text')]
      .some((p) => p.textContent.endsWith('network-probe-' + n))), null, 'the three network probes')
      .catch(async (e) => {
        const seen = await bf(() => [...document.querySelectorAll('#tweets .text')].slice(0, 8).map((p) => p.textContent));
        throw new Error(e.message + '; the list begins with ' + JSON.stringify(seen));
      });
    const badges = await bf(() => {
      const out = {};
      for (const li of document.querySelectorAll('#tweets .tweet')) {
        const m = /network-probe-(\w+)$/.exec(li.querySelector('.text').textContent);
        if (!m) continue;
        const b = li.querySelector('.net'), a = li.querySelector('a.permalink');
        out[m[1]] = { network: b.dataset.network, label: b.textContent, href: a ? a.href : '' };
      }
      out.gen = document.querySelector('#tweets .tweet .net').dataset.network;
      return out;
    });
    if (badges.bluesky.network !== 'bluesky' || badges.bluesky.label !== 'Bluesky' ||
        !badges.bluesky.href.startsWith('https://bsky.app/')) throw new Error('bluesky badge: ' + JSON.stringify(badges.bluesky));
    if (badges.mastodon.network !== 'mastodon' || badges.mastodon.label !== 'Mastodon') {
      throw new Error('mastodon badge: ' + JSON.stringify(badges.mastodon));
    }
    if (badges.none.network !== 'twitter' || badges.none.label !== 'Twitter') throw new Error('no network: ' + JSON.stringify(badges.none));
    ok('network badges: Bluesky (its time links to bsky.app), Mastodon, and Twitter for a tweet that names none');

    // 4. A saved filter changes the stream.
    await page.selectOption('#filter-picker', { label: filterName });
    await until(() => window.birdfeed.state().selection.filter !== '' && window.birdfeed.state().status === 'live',
                null, 'filter stream live');
    await until(() => window.birdfeed.renderedIds().length >= 3, null, 'filtered tweets', 30000);
    // Words as the matcher reads them: lower case, accents folded ("héron" matches heron).
    const fold = () => [...document.querySelectorAll('#tweets .tweet')]
      .map((li) => li.textContent.toLowerCase().normalize('NFD').replace(/\p{M}/gu, ''));
    const fl = await bf(fold);
    const off = fl.filter((t) => !filterTerms.some((w) => t.includes(w)));
    if (off.length) throw new Error(`filter "${filterName}" shows ${off.length} tweets without ${filterTerms}: ${off[0]}`);
    ok(`switching to the filter "${filterName}" changes the stream (${fl.length} tweets, all matching)`);
    await page.screenshot({ path: path.join(artifacts, 'browser-filter.png') });

    // 5. A search changes it too.
    await page.fill('#search', searchWord);
    await page.press('#search', 'Enter');
    await until((w) => window.birdfeed.state().selection.q === w && window.birdfeed.state().status === 'live',
                searchWord, 'search stream live');
    await until(() => window.birdfeed.renderedIds().length >= 3, null, 'search results', 30000);
    const sl = await bf(fold);
    const offs = sl.filter((t) => !t.includes(searchWord));
    if (offs.length) throw new Error(`search "${searchWord}" shows ${offs.length} tweets without it: ${offs[0]}`);
    ok(`a search for "${searchWord}" changes the stream (${sl.length} tweets, all matching)`);

    // 5b. A search the responder refuses (400 JSON) stops with its reason
    //     instead of retrying forever.
    await page.fill('#search', 'x'.repeat(70));
    await page.press('#search', 'Enter');
    await until(() => window.birdfeed.state().status === 'stopped' &&
                      /longer than/.test(document.getElementById('notice').textContent),
                null, 'a refused search shown as final');
    const refused = await bf(() => document.getElementById('notice').textContent);
    ok(`a refused search stops with the server's reason ("${refused}")`);

    // 6. The filter form: create a filter with the token (the page then
    //    shows it), delete it with its button; its stream ends with
    //    event: filter-deleted and the page falls back to all tweets.
    await page.click('#manage summary');
    await page.fill('#token', process.env.BF_TOKEN || '');
    await page.fill('#f-name', 'Sparrows');
    await page.fill('#f-track', 'sparrow\n#sparrow');
    await page.click('#filter-form button[type=submit]');
    await until(() => /Created/.test(document.getElementById('form-msg').textContent) &&
                      window.birdfeed.state().selection.filter !== '' && window.birdfeed.state().status === 'live',
                null, 'the new filter created and shown');
    const stored = await bf(() => sessionStorage.getItem('birdfeed.token'));
    if (stored !== process.env.BF_TOKEN) throw new Error('token not kept in sessionStorage');
    if (page.url().includes(process.env.BF_TOKEN)) throw new Error('token in the URL');
    await page.click('#filter-list li:has-text("Sparrows") button.danger');
    await until(() => window.birdfeed.state().selection.filter === '' &&
                      /was deleted/.test(document.getElementById('notice').textContent),
                null, 'filter-deleted handled');
    ok('the filter form creates a filter with the token and deletes it; event: filter-deleted returns to all tweets');

    // 7. Back to everything; restart the responder; the page reconnects and
    //    continues without a gap or a duplicate.
    await page.click('#show-all');
    await until(() => window.birdfeed.state().selection.filter === '' && window.birdfeed.state().selection.q === '' &&
                      window.birdfeed.state().status === 'live' && window.birdfeed.renderedIds().length >= 50,
                null, 'all tweets again');
    const before = await bf(() => ({ last: window.birdfeed.state().lastId, reconnects: window.birdfeed.stats.reconnects }));
    sh(process.env.BF_RESTART);
    await until((n) => window.birdfeed.stats.reconnects > n, before.reconnects, 'the page noticing the restart');
    await until(() => window.birdfeed.state().status === 'live', null, 'live again after the restart', 30000);
    await until((t) => window.birdfeed.renderedIds().filter((id) => newerThan(id, t)).length >= 40,
                before.last, '40 tweets after the restart', 30000);
    const after = await bf(() => ({
      ids: window.birdfeed.renderedIds(),
      dups: window.birdfeed.stats.duplicates,
      reconnects: window.birdfeed.stats.reconnects,
      conn: document.getElementById('conn-text').textContent,
    }));
    if (after.dups) throw new Error(after.dups + ' duplicate events reached the page');
    if (new Set(after.ids).size !== after.ids.length) throw new Error('duplicate tweets in the list');
    for (let i = 1; i < after.ids.length; i++) {
      if (idCmp(after.ids[i - 1], after.ids[i]) <= 0) throw new Error('list out of order at ' + after.ids[i]);
    }
    if (idCmp(after.ids[after.ids.length - 1], before.last) >= 0) {
      throw new Error('the list no longer reaches back before the restart; cannot check for a gap');
    }
    // Every tweet the stream holds in that range is in the list, once.
    const oldest = after.ids[after.ids.length - 1], newest = after.ids[0];
    const want = sh(process.env.BF_XRANGE, [oldest, newest]).split('\n').filter(Boolean);
    const have = after.ids.slice().reverse();
    if (want.join(' ') !== have.join(' ')) {
      const missing = want.filter((x) => !have.includes(x));
      throw new Error(`gap across the restart: ${missing.length} tweets missing, e.g. ${missing.slice(0, 3)}`);
    }
    ok(`after a responder restart the page reconnected (${after.reconnects}×) and continued: ` +
       `${have.length} tweets across it, no gap, no duplicate`);
    await page.screenshot({ path: path.join(artifacts, 'browser-after-restart.png') });
    check();
    ok('no page errors');
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('FAIL browser: ' + e.message); process.exit(1); });
