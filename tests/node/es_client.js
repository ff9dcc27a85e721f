// A browser-like EventSource client for birdfeed's tests: prints one line per
// event ("tweet <id>", "reset <data>"), per (re)connection ("open") and per
// error ("error <status>"), and exits after --count tweets or --timeout ms.
// usage: node es_client.js URL COUNT TIMEOUT_MS
'use strict';
const EventSource = require('eventsource');

const [url, countArg, timeoutArg] = process.argv.slice(2);
const want = Number(countArg || 1);
const timeout = Number(timeoutArg || 20000);
let got = 0;

const es = new EventSource(url);
es.onopen = () => console.log('open');
es.onerror = (e) => console.log('error ' + (e && e.status ? e.status : ''));
es.addEventListener('reset', (e) => console.log('reset ' + e.data));
es.addEventListener('tweet', (e) => {
  const t = JSON.parse(e.data);
  console.log('tweet ' + e.lastEventId + ' ' + t.id);
  if (++got >= want) {
    es.close();
    process.exit(0);
  }
});
setTimeout(() => {
  console.log('timeout after ' + got + ' tweets');
  es.close();
  process.exit(1);
}, timeout);
