/* birdfeed demo page: the two charts — tweets per minute over the last hour
 * and tweets by language over the same hour — drawn as SVG (no library, no
 * CDN).
 *
 * They count the tweets this page received for the current selection (the
 * preload and the live ones), each in the minute of its stream id, which is
 * when birdfeed received it. Counts live in one small map per minute, so
 * memory stays bounded (60 minutes × a few languages) however long the page
 * stays open. app.js calls add() per tweet, reset() when the selection
 * changes and draw() once a second. */
'use strict';

window.birdfeedCharts = (function () {
  const MINUTES = 60;
  const LANGS_SHOWN = 8;
  const SVG = 'http://www.w3.org/2000/svg';
  const MIN_FMT = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
  const NUM_FMT = new Intl.NumberFormat();
  let langNames = null;
  try { langNames = new Intl.DisplayNames([], { type: 'language' }); } catch (e) { langNames = null; }

  function node(name, attrs, text) {
    const n = document.createElementNS(SVG, name);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function langLabel(code) {
    if (code === 'other') return 'other';
    if (code === 'und') return 'undetermined';
    try { return (langNames && langNames.of(code)) || code; } catch (e) { return code; }
  }

  function create(minutesSvg, langsSvg) {
    // minute (ms since epoch / 60000) → {n, langs: Map(lang → n)}
    const perMinute = new Map();
    let total = 0;

    function add(ms, lang) {
      if (!Number.isFinite(ms)) return;
      const m = Math.floor(ms / 60000);
      let b = perMinute.get(m);
      if (!b) { b = { n: 0, langs: new Map() }; perMinute.set(m, b); }
      b.n++;
      const l = typeof lang === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(lang) ? lang : 'und';
      b.langs.set(l, (b.langs.get(l) || 0) + 1);
      total++;
    }

    function reset() {
      perMinute.clear();
      total = 0;
      draw(Date.now());     // at once, not at the next tick: no counts of the old selection on screen
    }

    // The counts of the hour ending at nowMs: {minutes: [{minute, n}…60, oldest first], langs: [[lang, n]…]}.
    function snapshot(nowMs) {
      const last = Math.floor(nowMs / 60000);
      for (const m of perMinute.keys()) if (m <= last - MINUTES) perMinute.delete(m);
      const minutes = [];
      const langs = new Map();
      for (let m = last - MINUTES + 1; m <= last; m++) {
        const b = perMinute.get(m);
        minutes.push({ minute: m, n: b ? b.n : 0 });
        if (b) for (const [l, n] of b.langs) langs.set(l, (langs.get(l) || 0) + n);
      }
      const sorted = [...langs.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      if (sorted.length > LANGS_SHOWN) {
        const rest = sorted.splice(LANGS_SHOWN - 1);
        sorted.push(['other', rest.reduce((s, x) => s + x[1], 0)]);
      }
      return { minutes, langs: sorted };
    }

    function drawMinutes(minutes) {
      const W = 300, H = 120, top = 14, bottom = 18, left = 2;
      const max = Math.max(1, ...minutes.map((x) => x.n));
      const bw = (W - left) / MINUTES;
      minutesSvg.textContent = '';
      minutesSvg.setAttribute('viewBox', `0 0 ${W} ${H}`);
      for (const f of [0.5, 1]) {
        const y = top + (H - top - bottom) * (1 - f);
        minutesSvg.appendChild(node('line', { x1: left, x2: W, y1: y, y2: y, class: 'grid' }));
      }
      minutesSvg.appendChild(node('text', { x: W, y: 10, class: 'axis', 'text-anchor': 'end' },
                                  NUM_FMT.format(max) + ' / min'));
      minutes.forEach((x, i) => {
        const h = (H - top - bottom) * (x.n / max);
        const r = node('rect', {
          x: (left + i * bw + 0.5).toFixed(1), y: (H - bottom - h).toFixed(1),
          width: Math.max(1, bw - 1).toFixed(1), height: h.toFixed(1), class: 'bar',
          'data-minute': String(x.minute), 'data-count': String(x.n),
        });
        r.appendChild(node('title', {}, MIN_FMT.format(new Date(x.minute * 60000)) + ' — ' +
                                         NUM_FMT.format(x.n) + (x.n === 1 ? ' tweet' : ' tweets')));
        minutesSvg.appendChild(r);
      });
      for (const [i, label] of [[0, '−60 min'], [30, '−30'], [MINUTES - 1, 'now']]) {
        minutesSvg.appendChild(node('text', {
          x: (left + i * bw + bw / 2).toFixed(1), y: H - 4, class: 'axis',
          'text-anchor': i === 0 ? 'start' : i === MINUTES - 1 ? 'end' : 'middle',
        }, label));
      }
    }

    function drawLangs(langs) {
      const W = 300, row = 20, labelW = 84, countW = 80;
      const H = Math.max(row, langs.length * row);
      const sum = langs.reduce((s, x) => s + x[1], 0);
      const max = Math.max(1, ...langs.map((x) => x[1]));
      langsSvg.textContent = '';
      langsSvg.setAttribute('viewBox', `0 0 ${W} ${H}`);
      langsSvg.setAttribute('height', String(H));
      if (!langs.length) {
        langsSvg.appendChild(node('text', { x: 0, y: 14, class: 'axis' }, 'No tweets in the last hour.'));
        return;
      }
      langs.forEach(([lang, n], i) => {
        const g = node('g', { class: 'lang-row', 'data-lang': lang, 'data-count': String(n),
                               transform: `translate(0 ${i * row})` });
        g.appendChild(node('text', { x: 0, y: 14, class: 'label' }, langLabel(lang)));
        const w = (W - labelW - countW) * (n / max);
        g.appendChild(node('rect', { x: labelW, y: 4, width: Math.max(1, w).toFixed(1), height: 12, rx: 2,
                                     class: 'bar' }));
        g.appendChild(node('text', { x: W, y: 14, class: 'count', 'text-anchor': 'end' },
                           NUM_FMT.format(n) + ' · ' + Math.round((100 * n) / sum) + '%'));
        langsSvg.appendChild(g);
      });
    }

    function draw(nowMs) {
      const s = snapshot(nowMs);
      drawMinutes(s.minutes);
      drawLangs(s.langs);
      return s;
    }

    return { add, reset, draw, snapshot, total: () => total };
  }

  return { create };
})();
