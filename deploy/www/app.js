/* birdfeed demo page: a live view of the tweet stream.
 *
 * One EventSource on `stream` (relative, so the page works wherever the web
 * server mounts birdfeed, as long as /, /stream and /api/ share a prefix).
 * Tweets are queued as they arrive and drawn once per animation frame; the
 * list keeps at most MAX_TWEETS entries (the newest arrivals, shown newest
 * first or sorted by retweets or followers) and the word counts decay, so
 * memory stays bounded however long the page stays open. The two charts
 * (charts.js) count per minute of the last hour. Tweet text only ever
 * reaches the DOM through textContent. */
'use strict';

(function () {
  const MAX_TWEETS = 300;          // entries kept in the list
  const CLOUD_WORDS = 40;          // words shown in the cloud
  const WORDS_KEPT = 4000;         // distinct words remembered (pruned beyond)
  const DECAY = 0.94;              // per second: a word's weight halves in ~11 s
  const SPARK_SECONDS = 60;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 15000;
  const TOKEN_KEY = 'birdfeed.token';
  const READER_KEY = 'birdfeed.reader';  // sessionStorage: "1" once this tab opened a private feed (never the token)
  const UNAUTHORIZED = 'unauthorized';
  const PRELOAD_BURST_MS = 1000;   // arrivals this soon after opening count as preload
  const FRESH_MAX = 3;             // highlight new tweets only when a frame brings this few

  const $ = (id) => document.getElementById(id);
  const el = {
    conn: $('conn'), connText: $('conn-text'), list: $('tweets'), empty: $('empty'),
    rate: $('stat-rate'), total: $('stat-total'), reconnects: $('stat-reconnects'),
    spark: $('spark'), cloud: $('cloud'), notice: $('notice'), selection: $('selection'),
    search: $('search'), searchForm: $('search-form'), picker: $('filter-picker'),
    showAll: $('show-all'), filterList: $('filter-list'), form: $('filter-form'),
    token: $('token'), fName: $('f-name'), fTrack: $('f-track'), fLang: $('f-lang'),
    formMsg: $('form-msg'), sort: $('sort'),
    private: $('private'), readerToken: $('reader-token'), privateMsg: $('private-msg'),
  };
  const charts = window.birdfeedCharts.create($('chart-minutes'), $('chart-langs'));

  /* ---- state ---------------------------------------------------------- */
  const state = {
    selection: { filter: '', q: '' },
    es: null,
    generation: 0,        // bumps whenever a stream is replaced, so stale callbacks do nothing
    lastId: null,         // newest event id seen for the current selection
    firstId: null,        // oldest event id received for it (what the charts count from)
    opened: false,        // did the current EventSource ever open?
    openedAt: 0,          // performance.now() when it did
    retryMs: RETRY_MIN_MS,
    retryTimer: 0,
    status: 'connecting',
    filters: [],
    sort: 'time',         // 'time' | 'retweets' | 'followers'
    readerExp: 0,         // when the reader token in the cookie expires (ms), 0: none known
    scope: null,          // the reader token's filter ids when it is limited to some, else null
    readerTimer: 0,
    preload: '',          // ?preload= of the page's own URL, passed on to the stream
  };
  // Read by the browser test (tests/browser/) and handy in the console.
  const stats = {
    total: 0, duplicates: 0, reconnects: 0, resets: 0, rendered: 0,
    perSecond: new Array(SPARK_SECONDS).fill(0), second: 0,
  };
  const pending = [];     // tweets received but not yet drawn, oldest first
  const arrival = [];     // the list's <li>, in the order they arrived (oldest first)
  let frameQueued = false;
  const words = new Map();

  /* ---- stream ids: "<ms>-<seq>", compared numerically ----------------- */
  function parseId(id) {
    const m = /^(\d+)-(\d+)$/.exec(id || '');
    return m ? [Number(m[1]), Number(m[2])] : null;
  }
  function idAfter(a, b) {          // is id a newer than id b?
    const x = parseId(a), y = parseId(b);
    if (!x || !y) return true;
    return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
  }

  /* ---- connection ----------------------------------------------------- */
  function streamUrl() {
    const u = new URL('stream', document.baseURI);
    if (state.selection.filter) u.searchParams.set('filter', state.selection.filter);
    if (state.selection.q) u.searchParams.set('q', state.selection.q);
    if (state.preload) u.searchParams.set('preload', state.preload);
    // A fresh EventSource sends no Last-Event-ID header: resume through the
    // query parameter the responder accepts for exactly this case.
    if (state.lastId) u.searchParams.set('lastEventId', state.lastId);
    return u.toString();
  }

  function setStatus(kind, text) {
    state.status = kind;
    el.conn.className = 'conn conn-' + kind;
    el.connText.textContent = text;
  }

  function closeStream() {
    clearTimeout(state.retryTimer);
    state.retryTimer = 0;
    if (state.es) { state.es.close(); state.es = null; }
    state.generation++;
  }

  function openStream() {
    closeStream();
    const gen = state.generation;
    const es = new EventSource(streamUrl());
    state.es = es;
    state.opened = false;
    setStatus(stats.reconnects ? 'reconnecting' : 'connecting',
              stats.reconnects ? 'reconnecting…' : 'connecting…');
    es.onopen = () => {
      if (gen !== state.generation) return;
      state.opened = true;
      state.openedAt = performance.now();
      state.retryMs = RETRY_MIN_MS;
      setStatus('live', 'live');
    };
    es.addEventListener('tweet', (ev) => { if (gen === state.generation) onTweet(ev); });
    es.addEventListener('reset', (ev) => { if (gen === state.generation) onReset(ev); });
    es.addEventListener('filter-deleted', (ev) => { if (gen === state.generation) onFilterDeleted(ev); });
    // A private stream ends when its reader token expires: fetch a fresh
    // cookie now (normally the timer did already); the reconnect uses it.
    es.addEventListener('token-expired', () => { if (gen === state.generation) refreshReader(); });
    es.onerror = () => {
      if (gen !== state.generation) return;
      // We reconnect ourselves (instead of letting the browser retry with the
      // URL it started with) so the resume id in the URL is always current and
      // an error status is noticed rather than retried forever.
      const wasOpen = state.opened;
      closeStream();
      const mine = state.generation;
      if (wasOpen) {
        scheduleReconnect('connection lost');
      } else {
        probe().then((problem) => {
          if (mine !== state.generation) return;
          if (problem === UNAUTHORIZED) {
            privateFeed();
          } else if (problem) {
            setStatus('stopped', 'stopped');
            showNotice(problem);
          } else {
            scheduleReconnect('server unavailable');
          }
        });
      }
    };
  }

  // After a stream failed to open: ask once with fetch why. A 4xx JSON error
  // (unknown filter, bad query) is final; anything else is worth retrying.
  function probe() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    return fetch(streamUrl(), { signal: ctl.signal, headers: { Accept: 'text/event-stream' } })
      .then((res) => {
        const type = res.headers.get('Content-Type') || '';
        if (res.status === 401) return UNAUTHORIZED;
        if (res.status >= 400 && res.status < 500 && res.status !== 429 && type.includes('json')) {
          return res.json().then((body) => errorText(body, res.status), () => 'HTTP ' + res.status);
        }
        ctl.abort();
        return null;
      })
      .catch(() => null)
      .finally(() => clearTimeout(timer));
  }

  function scheduleReconnect(why) {
    stats.reconnects++;
    const wait = Math.round(state.retryMs * (0.75 + Math.random() * 0.5));
    state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
    setStatus('reconnecting', why + ' — retrying in ' + Math.ceil(wait / 1000) + ' s');
    el.reconnects.textContent = String(stats.reconnects);
    state.retryTimer = setTimeout(openStream, wait);
  }

  // Change what is shown: a saved filter, an ad-hoc search, or everything.
  function select(filter, q) {
    if (state.scope) {                 // a scoped reader token: one of its filters, no search
      filter = allowedFilter(filter || '');
      q = '';
    }
    state.selection = { filter: filter || '', q: q || '' };
    state.lastId = null;
    state.firstId = null;
    stats.reconnects = 0;
    state.retryMs = RETRY_MIN_MS;
    el.reconnects.textContent = '0';
    pending.length = 0;
    clearList();
    el.empty.hidden = false;
    words.clear();
    charts.reset();
    hideNotice();
    el.picker.value = state.selection.filter;
    if (!q) el.search.value = '';
    el.selection.textContent = '';
    el.selection.append('Showing ');
    const what = document.createElement('strong');
    if (state.selection.filter) {
      const f = state.filters.find((x) => String(x.id) === state.selection.filter);
      what.textContent = 'filter “' + (f ? f.name : state.selection.filter) + '”';
    } else if (state.selection.q) {
      what.textContent = 'search “' + state.selection.q + '”';
    } else {
      what.textContent = 'all tweets';
    }
    el.selection.append(what);
    openStream();
  }

  /* ---- events --------------------------------------------------------- */
  function onTweet(ev) {
    if (state.lastId && !idAfter(ev.lastEventId, state.lastId)) {
      stats.duplicates++;
      return;
    }
    let t;
    try { t = JSON.parse(ev.data); } catch (e) { return; }
    if (!t || typeof t !== 'object') return;
    state.lastId = ev.lastEventId || state.lastId;
    if (!state.firstId) state.firstId = state.lastId;
    t._sid = ev.lastEventId;
    stats.total++;
    const sid = parseId(ev.lastEventId);
    if (sid) charts.add(sid[0], t.lang);
    // tweets/s counts live arrivals: the preload (or resume backlog) that
    // comes in one burst right after the stream opens is left out.
    if (performance.now() - state.openedAt > PRELOAD_BURST_MS) stats.perSecond[stats.second]++;
    countWords(t);
    pending.push(t);
    if (pending.length > MAX_TWEETS) pending.splice(0, pending.length - MAX_TWEETS);
    if (!frameQueued) {
      frameQueued = true;
      requestAnimationFrame(flush);
    }
  }

  function onReset(ev) {
    // Our resume id is older than anything the history still holds: the
    // responder sends a fresh preload next, so start the list over.
    stats.resets++;
    state.lastId = null;
    state.firstId = null;
    pending.length = 0;
    clearList();
    charts.reset();
    // data: the oldest id the history still holds.
    const oldest = parseId(String(ev.data).trim()) ? String(ev.data).trim() : '';
    showNotice('Some tweets were missed while disconnected and are no longer in the history' +
               (oldest ? ' (oldest kept: ' + oldest + ')' : '') + '; showing the latest ones.');
  }

  function onFilterDeleted() {
    const f = state.filters.find((x) => String(x.id) === state.selection.filter);
    const name = f ? f.name : state.selection.filter;
    loadFilters();
    select('', '');
    showNotice('The filter “' + name + '” was deleted; showing all tweets.');
  }

  /* ---- drawing (once per animation frame) ----------------------------- */
  function flush() {
    frameQueued = false;
    if (!pending.length) return;
    const fresh = pending.length <= FRESH_MAX;
    const items = pending.map((t) => {
      const li = renderTweet(t);
      if (fresh) li.classList.add('fresh');
      return li;
    });
    if (state.sort === 'time') {
      const frag = document.createDocumentFragment();
      for (let i = items.length - 1; i >= 0; i--) frag.appendChild(items[i]);
      el.list.prepend(frag);
    } else {
      for (const li of items) insertSorted(li);
    }
    arrival.push(...items);
    stats.rendered += pending.length;
    pending.length = 0;
    // Keep the newest arrivals, whatever the order shown.
    while (arrival.length > MAX_TWEETS) arrival.shift().remove();
    el.empty.hidden = true;
  }

  function clearList() {
    el.list.textContent = '';
    arrival.length = 0;
    stats.rendered = 0;
  }

  /* ---- sorting: newest first, most retweeted, most followed ----------- */
  const SORT_KEYS = {
    retweets: (li) => Number(li.dataset.retweets),
    followers: (li) => Number(li.dataset.followers),
  };
  // Does <li> a come before <li> b in the current order? Ties go newest first.
  function comesBefore(a, b) {
    const key = SORT_KEYS[state.sort];
    if (key) {
      const ka = key(a), kb = key(b);
      if (ka !== kb) return ka > kb;
    }
    return idAfter(a.dataset.id, b.dataset.id);
  }
  function insertSorted(li) {
    const kids = el.list.children;
    let lo = 0, hi = kids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (comesBefore(li, kids[mid])) hi = mid; else lo = mid + 1;
    }
    el.list.insertBefore(li, kids[lo] || null);
  }
  function setSort(kind) {
    state.sort = SORT_KEYS[kind] ? kind : 'time';
    el.sort.value = state.sort;
    const items = [...el.list.children].sort((a, b) => (comesBefore(a, b) ? -1 : 1));
    el.list.append(...items);
  }

  function hue(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 360;
  }

  function span(cls, text) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  const TOKEN_RE = /(https?:\/\/[^\s]+|#[\p{L}\p{N}_]+|@[A-Za-z0-9_]+)/u;

  function renderText(p, text) {
    for (const part of String(text).split(TOKEN_RE)) {
      if (!part) continue;
      if (/^https?:\/\//.test(part)) {
        const a = document.createElement('a');
        a.href = part;                     // only http(s) reaches here
        a.rel = 'noopener noreferrer nofollow';
        a.target = '_blank';
        a.textContent = part.length > 40 ? part.slice(0, 39) + '…' : part;
        p.appendChild(a);
      } else if (part[0] === '#' && part.length > 1) {
        p.appendChild(span('tag', part));
      } else if (part[0] === '@' && part.length > 1) {
        p.appendChild(span('mention', part));
      } else {
        p.appendChild(document.createTextNode(part));
      }
    }
  }

  // Formatters made once: toLocale*String() builds a new one on every call,
  // which shows up at hundreds of tweets a second.
  const TIME_FMT = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const FULL_FMT = new Intl.DateTimeFormat([], { dateStyle: 'medium', timeStyle: 'medium' });
  const NUM_FMT = new Intl.NumberFormat();

  // Where a post comes from: twitter (also when the tweet does not say),
  // bluesky or mastodon.
  const NETWORKS = { twitter: 'Twitter', bluesky: 'Bluesky', mastodon: 'Mastodon' };
  function networkBadge(network) {
    const n = typeof network === 'string' && network ? network : 'twitter';
    const known = Object.prototype.hasOwnProperty.call(NETWORKS, n);
    const b = span('net ' + (known ? 'net-' + n : 'net-other'), known ? NETWORKS[n] : n.slice(0, 20));
    b.dataset.network = known ? n : 'other';
    b.title = 'from ' + (known ? NETWORKS[n] : n.slice(0, 20));
    return b;
  }

  function renderTweet(t) {
    const user = (t.user && typeof t.user === 'object') ? t.user : {};
    const screen = String(user.screen_name || 'unknown');
    const li = document.createElement('li');
    li.className = 'tweet';
    li.dataset.id = t._sid || '';
    li.dataset.retweets = String(typeof t.retweet_count === 'number' && t.retweet_count > 0 ? t.retweet_count : 0);
    li.dataset.followers = String(typeof user.followers_count === 'number' ? user.followers_count : -1);

    const initial = /[\p{L}\p{N}]/u.exec(String(user.name || '') + screen);
    const avatar = span('avatar', initial ? initial[0].toUpperCase() : '?');
    avatar.style.backgroundColor = 'hsl(' + hue(screen) + ' 55% 48%)';
    avatar.setAttribute('aria-hidden', 'true');
    li.appendChild(avatar);

    const body = document.createElement('div');
    body.className = 'body';
    const head = document.createElement('div');
    head.className = 'head';
    head.appendChild(span('name', String(user.name || screen)));
    head.appendChild(span('handle', '@' + screen));
    head.appendChild(networkBadge(t.network));
    if (t.lang) head.appendChild(span('lang', String(t.lang)));
    if (t.retweeted_id) head.appendChild(span('rt', 'retweet'));
    const time = document.createElement('time');
    const when = new Date(t.created_at);
    if (!isNaN(when)) {
      time.dateTime = when.toISOString();
      time.textContent = TIME_FMT.format(when);
      time.title = FULL_FMT.format(when);
    }
    // The time links to the post where it was published (http(s) only).
    if (typeof t.url === 'string' && /^https?:\/\//.test(t.url)) {
      const a = document.createElement('a');
      a.href = t.url;
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      a.className = 'permalink';
      a.appendChild(time);
      head.appendChild(a);
    } else {
      head.appendChild(time);
    }
    body.appendChild(head);

    const p = document.createElement('p');
    p.className = 'text';
    renderText(p, t.text || '');
    body.appendChild(p);

    const meta = [];
    const count = (n, one, many) => NUM_FMT.format(n) + (n === 1 ? one : many);
    if (typeof user.followers_count === 'number') meta.push(count(user.followers_count, ' follower', ' followers'));
    if (typeof t.retweet_count === 'number' && t.retweet_count > 0) meta.push(count(t.retweet_count, ' retweet', ' retweets'));
    if (meta.length) body.appendChild(span('meta', meta.join(' · ')));
    li.appendChild(body);
    return li;
  }

  /* ---- word cloud with decaying counts -------------------------------- */
  const STOP = new Set((
    'a about above after again against all also am an and any are as at be because been before being ' +
    'below between both but by can could did do does doing down during each few for from further get ' +
    'got had has have having he her here hers herself him himself his how i if in into is it its itself ' +
    'just let like me more most my myself no nor not now of off on once only or other our ours ourselves ' +
    'out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while ' +
    'who whom why will with would you your yours yourself yourselves im ive dont cant its thats youre ' +
    'one new today really still going know think make much many even well back way want need see ' +
    'rt amp via http https www com '+
    'de la que el en y los del se las por un una para con no es al lo como mas pero sus le ya o este ' +
    'le les des et est pas pour qui dans une sur au avec ce il elle ne sont du ou ' +
    'der die und das ist nicht ein eine zu den mit von sich auf für im dem des auch es an als ' +
    'и в не на что я с он как это по но из у за то же от так все она мы вы'
  ).split(/\s+/));

  const WORD_RE = /[#@]?[\p{L}\p{N}][\p{L}\p{N}_'’-]*/gu;

  function countWords(t) {
    const text = String(t.text || '').replace(/https?:\/\/\S+/g, ' ').toLowerCase();
    const seen = new Set();
    for (const m of text.matchAll(WORD_RE)) {
      let w = m[0].replace(/['’-]+$/, '');
      if (w[0] === '@') continue;                 // mentions are people, not topics
      const bare = w[0] === '#' ? w.slice(1) : w;
      if (bare.length < 3 || w.length > 24 || STOP.has(bare) || /^\d+$/.test(bare)) continue;
      if (!seen.has(w)) seen.add(w);
    }
    for (const w of seen) words.set(w, (words.get(w) || 0) + 1);
  }

  function decayWords() {
    for (const [w, v] of words) {
      const nv = v * DECAY;
      if (nv < 0.05) words.delete(w); else words.set(w, nv);
    }
    if (words.size > WORDS_KEPT) {
      const sorted = [...words.entries()].sort((a, b) => a[1] - b[1]);
      for (let i = 0; i < sorted.length - WORDS_KEPT; i++) words.delete(sorted[i][0]);
    }
  }

  function drawCloud() {
    const top = [...words.entries()].sort((a, b) => b[1] - a[1]).slice(0, CLOUD_WORDS);
    if (!top.length) return;
    const max = top[0][1], min = top[top.length - 1][1];
    top.sort((a, b) => a[0].localeCompare(b[0]));
    const frag = document.createDocumentFragment();
    for (const [w, v] of top) {
      const s = span('word', w);
      const k = max > min ? (v - min) / (max - min) : 1;
      s.style.fontSize = (0.8 + 1.2 * Math.sqrt(k)).toFixed(2) + 'rem';
      s.style.opacity = (0.55 + 0.45 * k).toFixed(2);
      s.style.color = 'hsl(' + hue(w) + ' 60% var(--word-l))';
      s.title = w + ': ' + v.toFixed(1);
      s.tabIndex = 0;
      s.addEventListener('click', () => { el.search.value = w; select('', w); });
      s.addEventListener('keydown', (e) => { if (e.key === 'Enter') { el.search.value = w; select('', w); } });
      frag.appendChild(s);
    }
    el.cloud.textContent = '';
    el.cloud.appendChild(frag);
  }

  /* ---- counters and sparkline (once a second) ------------------------- */
  function tick() {
    const rateWindow = 5;
    let sum = 0;
    for (let i = 1; i <= rateWindow; i++) sum += stats.perSecond[(stats.second - i + SPARK_SECONDS) % SPARK_SECONDS];
    el.rate.textContent = (sum / rateWindow).toFixed(sum / rateWindow < 10 ? 1 : 0);
    el.total.textContent = NUM_FMT.format(stats.total);
    el.reconnects.textContent = String(stats.reconnects);
    drawSpark();
    charts.draw(Date.now());
    stats.second = (stats.second + 1) % SPARK_SECONDS;
    stats.perSecond[stats.second] = 0;
    decayWords();
    drawCloud();
  }

  // The theme's accent colour, read once per colour scheme (reading computed
  // style every second would force a style recalculation each time).
  let accent = '';
  const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
  darkQuery.addEventListener('change', () => { accent = ''; });
  function accentColor() {
    if (!accent) accent = getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#1d9bf0';
    return accent;
  }

  function drawSpark() {
    const c = el.spark, g = c.getContext('2d');
    const w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    const vals = [];
    for (let i = 1; i <= SPARK_SECONDS; i++) vals.push(stats.perSecond[(stats.second + i) % SPARK_SECONDS]);
    const max = Math.max(1, ...vals);
    g.beginPath();
    vals.forEach((v, i) => {
      const x = (i / (SPARK_SECONDS - 1)) * (w - 2) + 1;
      const y = h - 2 - (v / max) * (h - 6);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.strokeStyle = accentColor();
    g.lineWidth = 2;
    g.stroke();
  }

  /* ---- notices -------------------------------------------------------- */
  function showNotice(text) {
    el.notice.textContent = text;
    el.notice.hidden = false;
  }
  function hideNotice() { el.notice.hidden = true; }
  el.notice.addEventListener('click', hideNotice);

  function errorText(body, status) {
    if (body && body.error && body.error.message) return body.error.message + ' (HTTP ' + status + ')';
    return 'HTTP ' + status;
  }

  /* ---- private feeds: a reader token in an HttpOnly cookie ------------- */
  // The stream (EventSource sends no headers) and the API calls carry the
  // birdfeed_token cookie, which POST api/tokens/refresh sets — from a token
  // the user pastes or the page's #token= link, then from the cookie itself
  // before it expires. Script never sees the cookie; the tab only notes
  // (sessionStorage) that it opened a private feed.
  function refreshReader(token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(new URL('api/tokens/refresh', document.baseURI), { method: 'POST', headers })
      .then((res) => res.json().then((body) => ({ res, body }), () => ({ res, body: null })))
      .then(({ res, body }) => {
        if (!res.ok || !body || !body.expires_at) throw new Error(errorText(body, res.status));
        state.readerExp = Date.parse(body.expires_at);
        state.scope = tokenScope(body.token);
        sessionStorage.setItem(READER_KEY, '1');
        scheduleRefresh();
        return true;
      })
      .catch((e) => {
        state.readerExp = 0;
        clearTimeout(state.readerTimer);
        el.privateMsg.textContent = token ? 'Not accepted: ' + e.message : '';
        return false;
      });
  }

  // The filters a token is limited to (its "filters" claim), or null. Read
  // only to choose what to show; the responder enforces it.
  function tokenScope(token) {
    try {
      const p = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(p + '='.repeat((4 - (p.length % 4)) % 4)));
      return Array.isArray(claims.filters) && claims.filters.length ? claims.filters.map(String) : null;
    } catch (e) {
      return null;
    }
  }
  // What a token limited to some filters may show: the filter asked for
  // when it is one of them, else the first of them.
  function allowedFilter(filter) {
    if (!state.scope || state.scope.includes(filter)) return filter;
    return state.scope[0];
  }

  // Refresh when four fifths of what is left have passed (at least 5 s on).
  function scheduleRefresh() {
    clearTimeout(state.readerTimer);
    if (!state.readerExp) return;
    const wait = Math.max(5000, (state.readerExp - Date.now()) * 0.8);
    state.readerTimer = setTimeout(refreshReader, wait);
  }

  // The stream answered 401: try the cookie once if this tab had a private
  // feed open, else ask for a token.
  let cookieTried = false;
  function privateFeed() {
    if (!cookieTried && sessionStorage.getItem(READER_KEY)) {
      cookieTried = true;
      refreshReader().then((ok) => (ok ? loadFilters().then(openStream) : askForToken()));
      return;
    }
    askForToken();
  }
  function askForToken() {
    setStatus('stopped', 'private');
    el.private.hidden = false;
    el.readerToken.focus();
  }
  el.private.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = el.readerToken.value.trim();
    el.privateMsg.textContent = 'Checking…';
    refreshReader(token).then((ok) => {
      if (!ok) return;
      el.readerToken.value = '';
      el.privateMsg.textContent = '';
      el.private.hidden = true;
      cookieTried = false;
      loadFilters().then(() => select(state.selection.filter, state.selection.q));
    });
  });

  /* ---- saved filters: list, pick, create, delete ---------------------- */
  function authHeaders() {
    const h = { Accept: 'application/json' };
    const token = el.token.value.trim();
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  function loadFilters() {
    return fetch(new URL('api/filters', document.baseURI), { headers: authHeaders() })
      .then((res) => res.json().then((body) => ({ res, body })))
      .then(({ res, body }) => {
        if (res.status === 401) return;        // a private feed: the stream's 401 asks for a token
        if (!res.ok) throw new Error(errorText(body, res.status));
        state.filters = Array.isArray(body.filters) ? body.filters : [];
        drawFilters();
      })
      .catch((e) => { el.formMsg.textContent = 'Could not load filters: ' + e.message; });
  }

  function drawFilters() {
    const keep = state.selection.filter;
    while (el.picker.options.length > 1) el.picker.remove(1);
    for (const f of state.filters) el.picker.add(new Option(String(f.name), String(f.id)));
    el.picker.value = state.filters.some((f) => String(f.id) === keep) ? keep : '';

    el.filterList.textContent = '';
    if (!state.filters.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'No filters yet.';
      el.filterList.appendChild(li);
      return;
    }
    for (const f of state.filters) {
      const li = document.createElement('li');
      const show = document.createElement('button');
      show.type = 'button';
      show.className = 'link';
      show.textContent = String(f.name);
      show.title = 'Show this filter';
      show.addEventListener('click', () => select(String(f.id), ''));
      const track = span('track', (Array.isArray(f.track) ? f.track : []).join(' · '));
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'danger';
      del.textContent = 'Delete';
      del.setAttribute('aria-label', 'Delete filter ' + f.name);
      del.addEventListener('click', () => deleteFilter(f));
      li.append(show, track, del);
      el.filterList.appendChild(li);
    }
  }

  function deleteFilter(f) {
    if (!el.token.value.trim()) {
      el.formMsg.textContent = 'Enter the API token (under “Create a filter”) to delete filters.';
      document.getElementById('manage').open = true;
      return;
    }
    fetch(new URL('api/filters/' + encodeURIComponent(f.id), document.baseURI),
          { method: 'DELETE', headers: authHeaders() })
      .then((res) => {
        if (res.status === 204) {
          el.formMsg.textContent = 'Deleted “' + f.name + '”.';
          return loadFilters();
        }
        return res.json().then((b) => { throw new Error(errorText(b, res.status)); },
                               () => { throw new Error('HTTP ' + res.status); });
      })
      .catch((e) => { el.formMsg.textContent = 'Delete failed: ' + e.message; });
  }

  el.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = el.token.value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    const track = el.fTrack.value.split('\n').map((s) => s.trim()).filter(Boolean);
    const lang = el.fLang.value.split(',').map((s) => s.trim()).filter(Boolean);
    const filter = { name: el.fName.value.trim(), track };
    if (lang.length) filter.lang = lang;
    el.formMsg.textContent = 'Saving…';
    fetch(new URL('api/filters', document.baseURI), {
      method: 'POST',
      headers: Object.assign({ 'Content-Type': 'application/json' }, authHeaders()),
      body: JSON.stringify(filter),
    })
      .then((res) => res.json().then((body) => ({ res, body }), () => ({ res, body: null })))
      .then(({ res, body }) => {
        if (res.status !== 201) throw new Error(errorText(body, res.status));
        el.formMsg.textContent = 'Created “' + filter.name + '”.';
        el.fName.value = '';
        el.fTrack.value = '';
        el.fLang.value = '';
        const created = body && (body.filter || body);
        return loadFilters().then(() => {
          if (created && created.id !== undefined) select(String(created.id), '');
        });
      })
      .catch((e) => { el.formMsg.textContent = 'Not saved: ' + e.message; });
  });

  el.token.value = sessionStorage.getItem(TOKEN_KEY) || '';
  el.token.addEventListener('change', () => sessionStorage.setItem(TOKEN_KEY, el.token.value.trim()));

  el.picker.addEventListener('change', () => select(el.picker.value, ''));
  el.searchForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = el.search.value.trim();
    select('', q);
  });
  el.showAll.addEventListener('click', () => select('', ''));
  el.sort.addEventListener('change', () => setSort(el.sort.value));

  /* ---- start ---------------------------------------------------------- */
  window.birdfeed = {
    stats,
    state: () => ({ status: state.status, lastId: state.lastId, firstId: state.firstId, sort: state.sort,
                    selection: Object.assign({}, state.selection) }),
    renderedIds: () => [...el.list.children].map((li) => li.dataset.id),
    select,
    setSort,
    reader: () => ({ exp: state.readerExp, scope: state.scope }),
    // The charts' counts now, drawn at once (for the browser test).
    charts: () => Object.assign(charts.draw(Date.now()), { total: charts.total() }),
  };
  const params = new URLSearchParams(location.search);
  if (/^\d{1,6}$/.test(params.get('preload') || '')) state.preload = params.get('preload');
  if (SORT_KEYS[params.get('sort')]) setSort(params.get('sort'));
  // A link with #token=… opens a private feed: the fragment never reaches
  // a server or a log; it is traded for the cookie and removed from the URL.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const linked = fragment.get('token');
  if (linked) history.replaceState(null, '', location.pathname + location.search);
  const reader = linked ? refreshReader(linked)
    : sessionStorage.getItem(READER_KEY) ? refreshReader() : Promise.resolve(false);
  reader.then(() => loadFilters()).then(() => select(params.get('filter') || '', params.get('q') || ''));
  setInterval(tick, 1000);
})();
