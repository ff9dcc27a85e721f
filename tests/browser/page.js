// What the browser checks share: a page watched for errors, and waiting
// on a condition in the page.
'use strict';

// watchPage(page, problems, ms): from the page's next document on,
// window.newerThan(a, b) tells whether stream id a is after b; page errors
// and dialogs go into problems. Returns { bf, until }: bf(fn, arg) runs fn
// in the page; until(fn, arg, what, ms) waits (polling every 100 ms) until
// fn returns true, failing with "timed out: WHAT" — or "failed: WHAT (why)"
// when fn itself threw, so a broken check is never read as a slow page.
async function watchPage(page, problems, defaultMs = 20000) {
  await page.addInitScript(() => {
    window.newerThan = (a, b) => {
      if (!a || !b) return false;
      const [am, as] = a.split('-').map(Number), [bm, bs] = b.split('-').map(Number);
      return am > bm || (am === bm && as > bs);
    };
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', (d) => { problems.push('a dialog opened: ' + d.message()); d.dismiss(); });
  const until = (fn, arg, what, ms = defaultMs) =>
    page.waitForFunction(fn, arg, { timeout: ms, polling: 100 }).catch((e) => {
      if (e.name === 'TimeoutError') throw new Error('timed out: ' + what);
      throw new Error('failed: ' + what + ' (' + String(e.message).split('\n')[0] + ')');
    });
  return { bf: (fn, arg) => page.evaluate(fn, arg), until };
}

module.exports = { watchPage };
