// Browser tests of "Save to library" and the pages around it: Debian's Chromium driven by
// playwright-core against the server that tests/browser/server.py started.
// Usage: node tests/browser/library.mjs PORT ERRORLOG   (prints TAP; run through tests/browser/run.sh)
// ERRORLOG is the server's httpd error log, checked for crashes at the end.
//
// The test virtual host turns X-Test-Sub / X-Test-Tid request headers into the OIDC claims the
// module reads: a browser context with those extra headers is signed in, one without is anonymous.

import { check, eq, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const JSON_ACCEPT = { Accept: 'application/json' };
const USERS = {
  alice: { 'X-Test-Sub': 'alice', 'X-Test-Tid': 't1' },
  bob: { 'X-Test-Sub': 'bob', 'X-Test-Tid': 't2' },
  carol: { 'X-Test-Sub': 'carol', 'X-Test-Tid': 't1' },
  dave: { 'X-Test-Sub': 'dave', 'X-Test-Tid': 't1' },
};
const SAVE = 'Save to library';
const REMOVE = 'Remove from library';
const STEP_TIMEOUT = 10_000; // one wait in a test; the whole run stays well under a minute

// --- helpers --------------------------------------------------------------------------------------

async function newContext(browser, options = {}) {
  const context = await browser.newContext({ baseURL: base, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

// The user's library as the JSON stp.js reads, fetched with the user's headers and cookies.
async function library(context, who) {
  const r = await context.request.get('/stp/library', { headers: { ...USERS[who], ...JSON_ACCEPT } });
  if (r.status() !== 200) return { status: r.status() };
  return r.json();
}

async function seriesOf(context, who) {
  const lib = await library(context, who);
  return lib.series ? [...lib.series].sort() : lib;
}

// A document page whose "Save" form stp.js has enhanced: it adds the token once it knows the user.
async function openEnhanced(page, path) {
  await page.goto(path);
  await page.waitForSelector('form.save input[name=csrf]', { state: 'attached' });
  return page.locator('form.save button').first();
}

async function buttonState(button) {
  return { text: (await button.textContent()).trim(), pressed: await button.getAttribute('aria-pressed') };
}

// Console errors of a page, for the diagnostics. The browser's own request for /favicon.ico is
// left out: the site has no icon, and whether that request ends within a test is a matter of timing.
function consoleErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '')) {
      errors.push(`console error: ${m.text()} (${m.location().url || 'no url'})`);
    }
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return errors;
}

// Clicks a toggle, waits for the POST the click sends (whatever its URL), then for the button to
// show `want`. Returns the POST's response, and whether the button got there.
async function toggle(page, button, want) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    button.click(),
  ]);
  const shown = await page
    .waitForFunction((text) => {
      const b = document.querySelector('form.save button');
      return b && b.textContent.trim() === text;
    }, want)
    .then(() => true, () => false);
  return { response, shown };
}

// The POST stp.js sent: to /stp/library, answered with JSON.
async function postOf(response) {
  const status = response.status();
  const type = (await response.headerValue('content-type')) || '';
  let body = null;
  if (status === 200 && type.startsWith('application/json')) body = await response.json();
  return { url: new URL(response.url()).pathname, status, body };
}

// --- the tests ------------------------------------------------------------------------------------

// 1. JavaScript on, signed in: the button toggles in place, and the library follows.
async function toggleInPlace(browser) {
  const context = await newContext(browser, { extraHTTPHeaders: USERS.alice });
  const page = await context.newPage();
  const errors = consoleErrors(page);
  try {
    const button = await openEnhanced(page, '/en/docs/public-report/');
    eq({ text: SAVE, pressed: 'false' }, await buttonState(button), 'js: the enhanced button offers "Save to library"');
    await page.evaluate(() => { window.stpTestMarker = 'same document'; });
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });

    let t = await toggle(page, button, REMOVE);
    eq({ url: '/stp/library', status: 200, body: { series: 'public-report', saved: true } }, await postOf(t.response),
      'js: Save POSTs to /stp/library and is answered with JSON');
    const marker = await page.evaluate(() => window.stpTestMarker);
    ok(marker === 'same document' && navigations === 0, 'js: saving does not leave or reload the page',
      `marker ${marker}, navigations ${navigations}, url ${page.url()}`, ...errors);
    ok(t.shown, 'js: the button shows the saved state', ...errors);
    eq({ text: REMOVE, pressed: 'true' }, await buttonState(button),
      'js: the button now says "Remove from library" with aria-pressed="true"');
    eq(['public-report'], await seriesOf(context, 'alice'), 'js: the library lists public-report');

    await page.evaluate(() => { window.stpTestMarker = 'same document'; });
    navigations = 0;
    t = await toggle(page, button, SAVE);
    eq({ url: '/stp/library', status: 200, body: { series: 'public-report', saved: false } }, await postOf(t.response),
      'js: Remove POSTs to /stp/library and is answered with JSON');
    ok(navigations === 0 && (await page.evaluate(() => window.stpTestMarker)) === 'same document',
      'js: removing does not leave or reload the page either', `navigations ${navigations}`);
    eq({ text: SAVE, pressed: 'false' }, await buttonState(button), 'js: removed: the button is back to "Save to library"');
    eq([], await seriesOf(context, 'alice'), 'js: the library no longer lists public-report');
  } finally {
    await context.close();
  }
}

// 2. The saved state survives a reload (another user, so that test 1's outcome does not matter).
async function survivesReload(browser) {
  const context = await newContext(browser, { extraHTTPHeaders: USERS.dave });
  const page = await context.newPage();
  try {
    let button = await openEnhanced(page, '/en/docs/soc-2026/');
    eq({ text: SAVE, pressed: 'false' }, await buttonState(button), 'js reload: dave starts with "Save to library"');
    const t = await toggle(page, button, REMOVE);
    ok(t.shown, 'js reload: ... and saves');
    await page.reload();
    await page.waitForSelector('form.save input[name=csrf]', { state: 'attached' });
    button = page.locator('form.save button').first();
    eq({ text: REMOVE, pressed: 'true' }, await buttonState(button),
      'js reload: after a reload the button still says "Remove from library"');
    eq(['soc'], await seriesOf(context, 'dave'), "js reload: dave's library lists the series soc");
  } finally {
    await context.close();
  }
}

// 3. JavaScript off, signed in: a confirmation page with a token, then back to the document.
async function confirmWithoutJs(browser) {
  const context = await newContext(browser, { javaScriptEnabled: false, extraHTTPHeaders: USERS.bob });
  const page = await context.newPage();
  try {
    await page.goto('/en/docs/signin-policy/');
    const csrfBefore = await page.locator('form.save input[name=csrf]').count();
    ok(csrfBefore === 0, 'no js: the static form has no token', `${csrfBefore} csrf inputs`);
    await Promise.all([page.waitForURL((u) => u.pathname === '/stp/library'), page.click('form.save button')]);
    const confirm = page.locator('main form:has(input[name=csrf])');
    const token = await confirm.locator('input[name=csrf]').getAttribute('value');
    ok((await confirm.count()) === 1 && /^[0-9a-f]{80}$/.test(token || ''),
      'no js: Save without a token lands on a confirmation form with a token', `url ${page.url()}`,
      (await page.content()).slice(-1200));
    eq([], await seriesOf(context, 'bob'), 'no js: ... which has not saved anything yet');
    await Promise.all([page.waitForURL((u) => u.pathname === '/en/docs/signin-policy/'),
      confirm.locator('button').click()]);
    eq('/en/docs/signin-policy/', new URL(page.url()).pathname, 'no js: confirming returns to the document page');
    eq(['signin-policy'], await seriesOf(context, 'bob'), "no js: bob's library lists signin-policy");
  } finally {
    await context.close();
  }
}

// 4. Anonymous, JavaScript off: sign in first, then the save is done through the stp_pending cookie.
async function anonymousRoundTrip(browser) {
  const context = await newContext(browser, { javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto('/en/docs/nda-pentest/');
    // /stp/login answers 500 here (no OpenID provider protects it on this server): only its URL counts.
    await Promise.all([page.waitForURL((u) => u.pathname === '/stp/login'), page.click('form.save button')]);
    const login = new URL(page.url());
    const ret = login.searchParams.get('return') || '';
    ok(ret.startsWith('/stp/library/resume?'), 'anonymous: Save sends the browser to /stp/login?return=<resume the save>',
      `url ${page.url()}`);
    const pending = (await context.cookies()).find((c) => c.name === 'stp_pending');
    ok(pending && pending.httpOnly && pending.sameSite === 'Lax' && pending.path === '/stp/library',
      'anonymous: the intent is remembered in an HttpOnly, SameSite=Lax stp_pending cookie', JSON.stringify(pending));

    // "Sign in" as carol of t1 and come back the way the provider would send the browser.
    await context.setExtraHTTPHeaders(USERS.carol);
    const resp = await page.goto(ret);
    eq('/en/docs/nda-pentest/', new URL(page.url()).pathname, 'anonymous: after sign-in the browser ends on the document page');
    ok(resp && resp.status() === 200, 'anonymous: ... which loads', `status ${resp && resp.status()}`);
    eq(['nda-pentest'], await seriesOf(context, 'carol'), "anonymous: carol's library lists nda-pentest");
    const left = (await context.cookies()).find((c) => c.name === 'stp_pending');
    ok(!left, 'anonymous: the stp_pending cookie is gone after use', JSON.stringify(left));
  } finally {
    await context.close();
  }
}

// 5. The home page loads without console errors or failed requests, with and without a user.
async function cleanPage(browser, label, options, path) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const problems = consoleErrors(page);
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  try {
    // stp.js's own request is the last one the page makes: wait for its answer, then for the network to settle.
    const js = options.javaScriptEnabled !== false;
    const libraryCall = js
      ? page.waitForResponse((r) => new URL(r.url()).pathname === '/stp/library')
      : Promise.resolve(null);
    const resp = await page.goto(path, { waitUntil: 'load' });
    const lib = await libraryCall;
    await page.waitForLoadState('networkidle');
    ok(resp.status() === 200 && problems.length === 0 && (!js || (lib && lib.status() === 200)),
      `${label}: ${path} loads without console errors or failed requests`, `status ${resp.status()}`, ...problems);
  } finally {
    await context.close();
  }
}

// 6. The language of "/" follows the browser's.
async function language(browser, locale, want) {
  const context = await newContext(browser, { locale });
  const page = await context.newPage();
  try {
    const resp = await page.goto('/');
    const redirect = resp.request().redirectedFrom();
    const lang = await page.getAttribute('html', 'lang');
    ok(new URL(page.url()).pathname === want && redirect && lang === want.slice(1, 3),
      `language: a browser in ${locale} is sent from / to ${want}`, `url ${page.url()}`, `html lang ${lang}`,
      `redirected: ${redirect ? 'yes' : 'no'}`);
  } finally {
    await context.close();
  }
}

// The server's children must not have crashed under the browser's requests.
// --- main -----------------------------------------------------------------------------------------

await run('usage: node library.mjs PORT ERRORLOG', port && errorLog, 75, async (browser) => {
  await check('js: toggle in place', () => toggleInPlace(browser));
  await check('js: state survives a reload', () => survivesReload(browser));
  await check('no js: confirmation page', () => confirmWithoutJs(browser));
  await check('anonymous: sign-in round trip', () => anonymousRoundTrip(browser));
  await check('clean page, anonymous', () => cleanPage(browser, 'anonymous with js', {}, '/en/'));
  await check('clean page, signed in', () => cleanPage(browser, 'signed in with js', { extraHTTPHeaders: USERS.alice }, '/en/'));
  await check('clean page, no js', () => cleanPage(browser, 'anonymous without js', { javaScriptEnabled: false }, '/en/'));
  await check('language de', () => language(browser, 'de-DE', '/de/'));
  await check('language en', () => language(browser, 'en-US', '/en/'));
});
