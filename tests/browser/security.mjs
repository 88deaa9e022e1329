// Browser tests of what an attacker could put in the content or around the pages: Debian's
// Chromium driven by playwright-core against the gate fixture (tests/browser/server.py gate), whose
// NDA text carries a <script>, an onerror handler and a javascript: link next to its headings.
// Usage: node tests/browser/security.mjs PORT ERRORLOG   (prints TAP; run through tests/browser/run.sh)

import { check, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const ALICE = { 'X-Test-Sub': 'alice', 'X-Test-Tid': 't1' };
const STEP_TIMEOUT = 10_000;

async function newContext(browser, options = {}) {
  const context = await browser.newContext({ baseURL: base, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

// The NDA page renders the agreement as Markdown, and nothing in it runs.
async function ndaText(browser, javaScriptEnabled) {
  const mode = javaScriptEnabled ? 'js' : 'no js';
  const context = await newContext(browser, { extraHTTPHeaders: ALICE, javaScriptEnabled });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  try {
    const r = await page.goto('/stp/nda?return=%2Fdownload%2Fnda-pentest');
    ok(r.status() === 200, `${mode}: alice gets the NDA page`, r.status());
    const nda = page.locator('.nda');
    const headings = await nda.locator('h1, h2, h3').allTextContents();
    ok(headings.includes('Gate NDA, version one') && headings.includes('1. What is confidential'),
      `${mode}: the agreement's headings are heading elements`, JSON.stringify(headings));
    const items = await nda.locator('li').allTextContents();
    ok(items.length === 2 && items[0].includes('the reports you download'), `${mode}: its list items are list items`,
      JSON.stringify(items));
    ok((await nda.locator('script, img[onerror], [onerror]').count()) === 0,
      `${mode}: no script element or event handler reaches the page`);
    const hrefs = await nda.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') || ''));
    ok(hrefs.every((h) => !/^\s*javascript:/i.test(h)), `${mode}: no javascript: link`, JSON.stringify(hrefs));
    ok(!(await nda.textContent()).includes('# Gate'), `${mode}: no raw Markdown`);
    await page.waitForLoadState('load');
    ok(dialogs.length === 0, `${mode}: no dialog fired`, JSON.stringify(dialogs));
  } finally {
    await context.close();
  }
}

// No other site may frame a portal page (the NDA's accept button among them).
async function noFraming(browser) {
  const context = await newContext(browser, { extraHTTPHeaders: ALICE });
  const page = await context.newPage();
  try {
    // A page of another origin (about:blank's opaque one) that frames the NDA page.
    await page.setContent(`<iframe id="f" src="${base}/stp/nda"></iframe>`);
    const handle = await page.waitForSelector('#f');
    // Let the frame load or fail: the framed document's own load event (or the error page's).
    const frame = await handle.contentFrame();
    await frame.waitForLoadState('load').catch(() => {});
    const framed = await frame.evaluate(() => !!document.querySelector('form[action="/stp/nda"]')).catch(() => false);
    ok(!framed, 'the NDA page does not render inside another origin\'s frame');
  } finally {
    await context.close();
  }
}

await run('usage: node security.mjs PORT ERRORLOG', errorLog, 60, async (browser) => {
  await check('nda text, js', () => ndaText(browser, true));
  await check('nda text, no js', () => ndaText(browser, false));
  await check('no framing', () => noFraming(browser));
});
