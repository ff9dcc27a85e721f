// How the demo page copes with a fast stream: headless Chromium on URL for
// SECONDS (after a warm-up), printing frames per second, long tasks, the
// longest frame, tweets received per second, the JS heap and the DOM size at
// start and end (bounded memory: the list is capped, word counts decay).
// A benchmark: it prints figures and asserts nothing about speed.
//
//   node smooth.js URL [SECONDS]
'use strict';

const { chromium } = require('playwright-core');
const os = require('os');
const path = require('path');
const fs = require('fs');

async function main() {
  const url = process.argv[2];
  const seconds = Number(process.argv[3] || 20);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'birdfeed-smooth-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.BF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.birdfeed && window.birdfeed.state().status === 'live', null, { timeout: 20000 });
    await page.waitForTimeout(3000);
    const sample = () => page.evaluate(() => ({
      total: window.birdfeed.stats.total,
      heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
      nodes: document.getElementsByTagName('*').length,
    }));
    const start = await sample();
    const frames = await page.evaluate((ms) => new Promise((resolve) => {
      const out = { frames: 0, longest: 0, longTasks: 0, longTaskMs: 0 };
      const obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) { out.longTasks++; out.longTaskMs += e.duration; }
      });
      try { obs.observe({ type: 'longtask', buffered: false }); } catch (e) { out.longTasks = -1; }
      let last = performance.now();
      const end = last + ms;
      function tick(now) {
        out.frames++;
        out.longest = Math.max(out.longest, now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick); else { obs.disconnect(); resolve(out); }
      }
      requestAnimationFrame(tick);
    }), seconds * 1000);
    const end = await sample();
    const mb = (b) => (b / 1048576).toFixed(1);
    console.log(`page: ${((end.total - start.total) / seconds).toFixed(0)} tweets/s received, ` +
                `${(frames.frames / seconds).toFixed(1)} frames/s, longest frame ${frames.longest.toFixed(0)} ms, ` +
                `${frames.longTasks} long tasks (${frames.longTaskMs.toFixed(0)} ms in all) over ${seconds} s; ` +
                `JS heap ${mb(start.heap)} -> ${mb(end.heap)} MB, DOM ${start.nodes} -> ${end.nodes} elements`);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error('smooth: ' + e.message); process.exit(1); });
