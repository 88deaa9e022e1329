// Browser tests of every page template, static and dynamic, with axe-core and a few checks of what
// the pages must show: Debian's Chromium driven by playwright-core against the gate fixture
// (tests/browser/server.py gate).
// Usage: node tests/browser/pages.mjs PORT ERRORLOG   (prints TAP; run through tests/browser/run.sh)
//
// The test virtual host turns X-Test-Sub / X-Test-Tid / X-Test-Email request headers into the OIDC
// claims the module reads; the organisation pages also ask for Basic credentials (the test
// server's stand-in for mod_auth_openidc there), which the signed-in contexts carry.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check, eq, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const AXE = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));
const LANGS = ['en', 'ar'];
const LOCALE = { en: 'en-US', ar: 'ar' };
const BASIC = { username: 'alice', password: 'pw' }; // any account of the test server's users file
const JSON_ACCEPT = { Accept: 'application/json' };
const STEP_TIMEOUT = 10_000;
const user = (sub, tid) => (tid ? { 'X-Test-Sub': sub, 'X-Test-Tid': tid } : { 'X-Test-Sub': sub });
const ALICE = user('alice', 't1');
// The Arabic UI strings the checks look for (xslt/i18n/ar.xml).
const AR_NOT_FOUND = readFileSync(fileURLToPath(new URL('../../xslt/i18n/ar.xml', import.meta.url)), 'utf8')
  .match(/<msg key="error\.notfound\.title">([^<]*)<\/msg>/)[1];

// --- helpers --------------------------------------------------------------------------------------

// A browser context in one language; `headers` sign it in. The pages' Content-Security-Policy
// (script-src 'self') would refuse axe's inline script: bypassCSP lets the test inject it.
async function newContext(browser, lang, headers = null, options = {}) {
  const context = await browser.newContext({
    baseURL: base,
    locale: LOCALE[lang],
    bypassCSP: true,
    ...(headers ? { extraHTTPHeaders: headers, httpCredentials: BASIC } : {}),
    ...options,
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

// Runs axe-core over the page as it is now; a serious or critical violation fails the test.
async function axe(page, label) {
  await page.waitForLoadState('load');
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const r = await Promise.race([
      window.axe.run(document, { resultTypes: ['violations'] }),
      new Promise((resolve, reject) => { setTimeout(() => reject(new Error('axe.run did not finish in 30 s')), 30_000); }),
    ]);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return ok(bad.length === 0, `axe: ${label}: no serious or critical violations`, `url ${page.url()}`,
    ...bad.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.targets.slice(0, 8).join(' | ')}`));
}

// Opens a page, checks its status, waits until stp.js has done its work (the network is idle and,
// when given, `ready` is there), then runs axe over it.
async function audit(page, path, status, label, ready = null) {
  const resp = await page.goto(path);
  ok(resp && resp.status() === status, `${label}: ${path} answers ${status}`, `status ${resp && resp.status()}`);
  await page.waitForLoadState('networkidle');
  if (ready) await page.waitForSelector(ready, { state: 'attached' });
  return axe(page, label);
}

// A signed-in user's library token (the JSON that stp.js reads), then a save through the JSON API.
async function save(context, headers, docs) {
  const lib = await context.request.get('/stp/library', { headers: { ...headers, ...JSON_ACCEPT } });
  const { token } = await lib.json();
  for (const doc of docs) {
    const r = await context.request.post('/stp/library', {
      headers: { ...headers, ...JSON_ACCEPT },
      form: { csrf: token, doc, action: 'add' },
    });
    ok(r.status() === 200 && (await r.json()).saved === true, `library: ${doc} saved through the JSON API`,
      `status ${r.status()}`);
  }
}

// Submits a form that the test builds in the page (as a page's own form would be submitted) and
// waits for the page it lands on.
async function submitForm(page, action, fields) {
  const [resp] = await Promise.all([
    page.waitForNavigation(),
    page.evaluate(({ action, fields }) => {
      const f = document.createElement('form');
      f.method = 'post';
      f.action = action;
      for (const [name, value] of Object.entries(fields)) {
        const i = document.createElement('input');
        i.type = 'hidden';
        i.name = name;
        i.value = value;
        f.appendChild(i);
      }
      document.body.appendChild(f);
      f.submit();
    }, { action, fields }),
  ]);
  return resp;
}

// --- axe over every template ----------------------------------------------------------------------

const SIGNED_IN = 'header.top li.signout button';

async function anonymousPages(browser, lang) {
  const context = await newContext(browser, lang);
  const page = await context.newPage();
  const l = `${lang} anonymous`;
  try {
    await audit(page, `/${lang}/`, 200, `${l} home`);
    await audit(page, `/${lang}/reports/audits/`, 200, `${l} tile page`);
    await audit(page, `/${lang}/docs/public-report/`, 200, `${l} document page`);
    await audit(page, `/${lang}/whats-new/`, 200, `${l} What's new`);
    // The fixture's documents are dated months apart (tests/lib/harness.py): an older month has a page.
    const older = page.locator('main nav.pager a[rel=next]');
    eq(1, await older.count(), `${l} What's new links to the older month`);
    const month = await older.getAttribute('href');
    ok(/^\/[a-z]+\/whats-new\/\d{4}-\d{2}\/$/.test(month || ''), `${l} ... at /<lang>/whats-new/<YYYY-MM>/`, month);
    await audit(page, month, 200, `${l} What's new, an older month`);
    await audit(page, `/stp/account?lang=${lang}`, 200, `${l} account`);
    await audit(page, `/stp/feedback?lang=${lang}&page=%2F${lang}%2Fdocs%2Fpublic-report%2F`, 200, `${l} feedback form`);
    await audit(page, `/stp/search?lang=${lang}&q=report`, 200, `${l} search results`, 'main ol.results li');
    await audit(page, `/stp/search?lang=${lang}&service=compute&region=eu`, 200, `${l} search by filters`,
      'main ul.chips');
    await audit(page, `/stp/search?lang=${lang}&q=zzqqxx&region=eu`, 200, `${l} search without results`,
      'main p.empty');
    await audit(page, `/stp/search?lang=${lang}&page=-1`, 400, `${l} search 400 page`);
    await audit(page, `/${lang}/no-such-page`, 404, `${l} 404 page`);
    await audit(page, '/download/no-such-doc', 404, `${l} 404 of a download`);
    await audit(page, '/download/soc-2024', 410, `${l} 410 of a retired version`);
    // 405: no GET answers it, so the navigation's method is changed on its way out.
    // (Only the navigation: stp.js's own GET of /stp/whoami stays a GET.)
    await page.route('**/stp/whoami', (route) =>
      route.continue(route.request().isNavigationRequest() ? { method: 'PUT' } : {}));
    await audit(page, '/stp/whoami', 405, `${l} 405 page`);
    await page.unroute('**/stp/whoami');
  } finally {
    await context.close();
  }
}

async function signedInPages(browser, lang) {
  const context = await newContext(browser, lang, ALICE);
  const page = await context.newPage();
  const l = `${lang} alice`;
  try {
    await audit(page, `/${lang}/`, 200, `${l} home`, SIGNED_IN);
    await audit(page, `/${lang}/reports/audits/`, 200, `${l} tile page`, SIGNED_IN);
    await audit(page, `/${lang}/docs/public-report/`, 200, `${l} document page`, SIGNED_IN);
    await audit(page, `/${lang}/org/`, 200, `${l} organisation page`, SIGNED_IN);
    await audit(page, `/stp/search?lang=${lang}&q=pack`, 200, `${l} search with the organisation's documents`,
      'main ol.results li');
    await audit(page, `/stp/nda?return=%2Fdownload%2Fnda-pentest&lang=${lang}`, 200, `${l} NDA page`);
    await audit(page, `/stp/account?lang=${lang}`, 200, `${l} account`);
    await audit(page, `/stp/notifications?lang=${lang}`, 200, `${l} notifications`);
    // The same form with an address outside the organisation's domain: 400, the form again with the error.
    await page.fill('#address', 'alice@elsewhere.example');
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    ok(resp.status() === 400 && (await page.locator('#address-error').count()) === 1,
      `${l} notifications: an address of another domain answers 400 with the error`, `status ${resp.status()}`);
    await axe(page, `${l} notifications with an address error`);
    // A library form the server cannot understand: the 400 page.
    const { token } = await (await context.request.get('/stp/library', { headers: { ...ALICE, ...JSON_ACCEPT } })).json();
    const bad = await submitForm(page, '/stp/library', { csrf: token, action: 'frobnicate', lang });
    ok(bad.status() === 400, `${l}: a bad library form answers 400`, `status ${bad.status()}`);
    await axe(page, `${l} 400 page`);
    await audit(page, '/download/no-such-doc', 404, `${l} 404 of a download`);
  } finally {
    await context.close();
  }
}

// My Library with two entries, and its remove buttons' names.
async function libraryPage(browser, lang) {
  const who = user(`lib-${lang}`, 't1');
  const context = await newContext(browser, lang, who);
  const page = await context.newPage();
  try {
    await save(context, who, ['public-report', 'soc-2026']);
    await audit(page, `/stp/library?lang=${lang}`, 200, `${lang} My Library with two entries`,
      'main form.library input[name=csrf]');
    const buttons = page.locator('main form.library button[name=doc]');
    const names = await buttons.evaluateAll((bs) => bs.map((b) => b.textContent.trim()));
    ok(names.length === 2 && names.every((n) => n.length > 0), `${lang} js: My Library's remove buttons have names`,
      JSON.stringify(names));
    // With JavaScript, Remove toggles in place (the page stays) and Save puts it back.
    const first = buttons.first();
    const doc = await first.getAttribute('value');
    const posted = (saved) => page.waitForResponse((r) => r.request().method() === 'POST' &&
      new URL(r.url()).pathname === '/stp/library' && r.request().postData().includes(`action=${saved ? 'add' : 'remove'}`));
    const [removed] = await Promise.all([posted(false), first.click()]);
    ok(removed.status() === 200 && (await removed.json()).saved === false && new URL(page.url()).pathname === '/stp/library',
      `${lang} js: My Library's Remove removes in place`, `status ${removed.status()}`);
    await page.waitForFunction((b) => b.getAttribute('aria-pressed') === 'false', await first.elementHandle());
    const [added] = await Promise.all([posted(true), first.click()]);
    ok(added.status() === 200 && (await added.json()).saved === true, `${lang} js: ... and Save puts ${doc} back`,
      `status ${added.status()}`);
    await page.waitForFunction((b) => b.getAttribute('aria-pressed') === 'true', await first.elementHandle());
  } finally {
    await context.close();
  }
}

// The NDA confirmation, as a user who has not accepted yet.
async function ndaConfirmation(browser, lang) {
  const who = user(`nda-${lang}`, 't1');
  const context = await newContext(browser, lang, who, { acceptDownloads: true });
  const page = await context.newPage();
  try {
    await page.goto(`/stp/nda?return=%2Fdownload%2Fnda-pentest&lang=${lang}`);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('accepted') === '1'),
      page.click('main form[action="/stp/nda"] button')]);
    ok((await page.locator('main [role=status]').count()) === 1, `${lang}: accepting the NDA leads to its confirmation`,
      `url ${page.url()}`);
    await axe(page, `${lang} NDA confirmation`);
  } finally {
    await context.close();
  }
}

// The confirmation page of a save without a token: a signed-in user whose browser runs no
// JavaScript posts the plain form. axe-core needs JavaScript (with it off, its timers never fire),
// so the page the server sent is shown again, byte for byte at its own URL, in a page that runs
// axe but not stp.js (as the browser without JavaScript saw it).
async function libraryConfirmation(browser, lang) {
  const context = await newContext(browser, lang, user(`nojs-${lang}`, 't1'), { javaScriptEnabled: false });
  const page = await context.newPage();
  let sent = null;
  try {
    await page.goto(`/${lang}/docs/signin-policy/`);
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('form.save button')]);
    ok(resp.status() === 200 && (await page.locator('main form input[name=csrf]').count()) === 1,
      `${lang} no js: a save without a token lands on the confirmation page`, `status ${resp.status()}`);
    sent = { url: resp.url(), status: resp.status(), headers: await resp.allHeaders(), body: await resp.body() };
  } finally {
    await context.close();
  }
  const replay = await newContext(browser, lang);
  const page2 = await replay.newPage();
  try {
    await page2.route('**/assets/stp.js', (route) => route.abort());
    await page2.route(sent.url, (route) => route.fulfill({ status: sent.status, headers: sent.headers, body: sent.body }));
    await page2.goto(sent.url);
    await axe(page2, `${lang} library confirmation page (no js)`);
  } finally {
    await replay.close();
  }
}

// 403: a personal account (no tenant) on the organisation pages.
async function forbidden(browser, lang) {
  const context = await newContext(browser, lang, user('pat'));
  const page = await context.newPage();
  try {
    await audit(page, `/${lang}/org/`, 403, `${lang} personal account: 403 page`);
  } finally {
    await context.close();
  }
}

// "Was this page helpful?" with JavaScript: on a static page and on a module page, the answer and
// then a comment go in place (the page stays), as an anonymous reader and as a signed-in one.
async function feedbackWithJs(browser, lang) {
  // Signed in only in English: the suite runs under a watchdog, and the language changes nothing there.
  const readers = [['anonymous', null], ...(lang === 'en' ? [['signed in', user(`fb-${lang}`, 't1')]] : [])];
  for (const [who, headers] of readers) {
    const context = await newContext(browser, lang, headers);
    const page = await context.newPage();
    const l = `${lang} ${who} js`;
    try {
      for (const path of [`/${lang}/docs/public-report/`, `/stp/search?lang=${lang}&q=report`]) {
        await page.goto(path);
        await page.waitForLoadState('networkidle');
        const widget = page.locator('footer.bottom form.feedback');
        ok((await widget.count()) === 1 && (await widget.locator('input[name=page]').getAttribute('value')) ===
          new URL(page.url()).pathname, `${l}: ${path} ends with the feedback question about its path`);
      }
      const posted = () => page.waitForResponse((r) => r.request().method() === 'POST' &&
        new URL(r.url()).pathname === '/stp/feedback');
      const [answer] = await Promise.all([posted(), page.click('footer form.feedback button[value=yes]')]);
      const res = await answer.json();
      ok(answer.status() === 200 && res.stored === true && res.comment === true &&
        new URL(page.url()).pathname === '/stp/search', `${l}: Yes is stored in place`, `status ${answer.status()}`);
      const more = page.locator('footer.bottom form.feedback-more textarea');
      await more.waitFor();
      ok((await page.locator('footer.bottom [role=status]').textContent()).length > 0,
        `${l}: ... thanks, and offers a comment box`);
      if (!headers) await axe(page, `${l} feedback answered in place`);
      await more.fill('Clear enough, thanks.');
      const [comment] = await Promise.all([posted(), page.click('footer.bottom form.feedback-more button')]);
      ok(comment.status() === 200 && (await comment.json()).comment === false, `${l}: ... and the comment too`,
        `status ${comment.status()}`);
      await page.waitForFunction(() => !document.querySelector('footer.bottom form.feedback-more'));
    } finally {
      await context.close();
    }
  }
}

// Without JavaScript the footer's buttons post the form: the module's thanks page, then its comment
// form; a signed-in user confirms once, on a page with a token.
async function feedbackWithoutJs(browser) {
  const context = await newContext(browser, 'en', null, { javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto('/en/docs/public-report/');
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('footer form.feedback button[value=no]')]);
    ok(resp.status() === 200 && new URL(page.url()).searchParams.get('thanks') === '1' &&
      (await page.locator('main [role=status]').textContent()).includes('Thank you'),
    'no js: No on a static page lands on the thanks page', `status ${resp.status()} ${page.url()}`);
    await page.fill('main textarea[name=comment]', 'The summary could be shorter.');
    const [sent] = await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    ok(sent.status() === 200 && (await page.locator('main textarea').count()) === 0 &&
      (await page.locator('main a[href="/en/docs/public-report/"]').count()) === 1,
    'no js: ... the comment is sent, with the way back to the page', `status ${sent.status()}`);
  } finally {
    await context.close();
  }
  const signed = await newContext(browser, 'en', user('fb-nojs', 't1'), { javaScriptEnabled: false });
  const page2 = await signed.newPage();
  try {
    await page2.goto('/en/');
    const [resp] = await Promise.all([page2.waitForNavigation(), page2.click('footer form.feedback button[value=yes]')]);
    ok(resp.status() === 403 && (await page2.locator('main form input[name=csrf]').count()) === 1 &&
      (await page2.locator('main input[name=answer][value=yes]').isChecked()),
    'no js: a signed-in user\'s Yes asks to confirm, with a token', `status ${resp.status()}`);
    const [sent] = await Promise.all([page2.waitForNavigation(), page2.click('main form button[type=submit]')]);
    ok(sent.status() === 200 && new URL(page2.url()).searchParams.get('thanks') === '1',
      'no js: ... and confirming stores it', `status ${sent.status()}`);
  } finally {
    await signed.close();
  }
}

// --- checks ---------------------------------------------------------------------------------------

// The NDA page shows the agreement's structure as elements.
async function ndaStructure(browser) {
  const context = await newContext(browser, 'en', ALICE);
  const page = await context.newPage();
  try {
    await page.goto('/stp/nda?return=%2Fdownload%2Fnda-pentest');
    const nda = page.locator('main .nda');
    // Under the page's own h1, the agreement's headings shift by one (as document bodies' do): # is h2, ## h3.
    eq(['Gate NDA, version one'], await nda.locator('h2').allTextContents(),
      'NDA page: the agreement\'s # heading is an h2');
    eq(['1. What is confidential'], await nda.locator('h3').allTextContents(),
      'NDA page: the agreement\'s ## heading is an h3');
    eq(0, await nda.locator('h1').count(), 'NDA page: the page has one h1, its own');
    eq(['the reports you download', 'what they say about our controls'], await nda.locator('ul > li').allTextContents(),
      'NDA page: its two list items are list items');
  } finally {
    await context.close();
  }
}

// A static page as alice with JavaScript: her name, organisation and "Sign out"; signing out is one POST.
async function signOut(browser) {
  const context = await newContext(browser, 'en', ALICE);
  const page = await context.newPage();
  try {
    await page.goto('/en/docs/public-report/');
    const button = page.locator(SIGNED_IN);
    await button.waitFor();
    const who = (await page.locator('header.top li.who').textContent()) || '';
    ok(who.includes('alice') && who.includes('Tenant One'), 'js: the header shows alice and her organisation', who);
    eq('Sign out', (await button.textContent()).trim(), 'js: ... and a "Sign out" button');
    const sid = async () => ((await context.cookies()).find((c) => c.name === 'stp_sid') || {}).value;
    const before = await sid();
    ok(!!before, 'js: alice has a session cookie before');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/stp/logout'),
      button.click(),
    ]);
    const location = (await resp.headerValue('location')) || '';
    ok(resp.status() === 303 && location.startsWith('/stp/oidc-callback?logout='),
      'js: one click on Sign out is answered 303 to /stp/oidc-callback?logout=', `status ${resp.status()}`,
      `location ${location}`);
    const cleared = (await resp.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie')
      .some((h) => /^stp_sid=[^;]*;/.test(h.value) && /max-age=0|expires=thu, 01 jan 1970/i.test(h.value));
    ok(cleared, 'js: ... and clears the stp_sid cookie', JSON.stringify(await resp.headersArray()));
    await page.waitForURL((u) => u.pathname === '/stp/oidc-callback');
    // (The test server has no mod_auth_openidc at the callback: the module answers it and may start
    // a new anonymous session, never the old one again.)
    const after = await sid();
    ok(after !== before, 'js: the browser no longer holds the old stp_sid', `before ${before}`, `after ${after}`);
  } finally {
    await context.close();
  }
}

// Without JavaScript, a module page's header shows the signed-in user and a sign-out button.
// My Library without JavaScript: a remove button posts the form with its entry and comes back.
async function libraryWithoutJs(browser) {
  const who = user('lib-nojs', 't1');
  const context = await newContext(browser, 'en', who, { javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await save(context, who, ['public-report', 'soc-2026']);
    await page.goto('/stp/library');
    const [resp] = await Promise.all([page.waitForNavigation(),
      page.click('main form.library button[name=doc][value="public-report"]')]);
    const left = await page.locator('main form.library button[name=doc]').evaluateAll((bs) => bs.map((b) => b.value));
    ok(resp.status() === 200 && new URL(page.url()).pathname === '/stp/library' && left.length === 1 &&
      left[0] === 'soc-2026', 'no js: My Library\'s Remove removes that entry and comes back', JSON.stringify(left));
  } finally {
    await context.close();
  }
}

async function headerWithoutJs(browser) {
  const context = await newContext(browser, 'en', ALICE, { javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto('/stp/library');
    const who = (await page.locator('header.top li.who').textContent()) || '';
    ok(who.includes('alice') && who.includes('Tenant One'), 'no js: /stp/library\'s header shows alice and her organisation',
      who);
    eq(['Sign out'], (await page.locator('header.top form[action="/stp/logout"] button').allTextContents()).map((s) => s.trim()),
      'no js: ... and a sign-out button');
  } finally {
    await context.close();
  }
}

// A 404 under /ar/ is Arabic, right to left, in the site's layout.
async function arabic404(browser) {
  const context = await newContext(browser, 'en');
  const page = await context.newPage();
  try {
    const resp = await page.goto('/ar/no-such-page');
    eq(404, resp.status(), '/ar/no-such-page: 404');
    eq({ lang: 'ar', dir: 'rtl' }, await page.evaluate(() => ({
      lang: document.documentElement.getAttribute('lang'),
      dir: document.documentElement.getAttribute('dir'),
    })), '/ar/no-such-page: html lang="ar" dir="rtl" (even for a browser in English)');
    ok((await page.locator('body > header.top a.brand').count()) === 1 &&
      (await page.locator('body > header.top nav.languages').count()) === 1 &&
      (await page.locator('body > footer.bottom').count()) === 1, '/ar/no-such-page: the site\'s header and footer');
    eq([AR_NOT_FOUND], await page.locator('main h1').allTextContents(), '/ar/no-such-page: the Arabic error title');
  } finally {
    await context.close();
  }
}

// Another tenant's document answers exactly like an unknown id, body included. A signed-in page
// carries a sign-out token that holds its second: two unknown-id answers around the other tenant's
// are byte-identical only when all three came in the same second, and then so must be the middle one.
async function hiddenDocument(browser) {
  const context = await newContext(browser, 'en', ALICE);
  try {
    for (const [hidden, unknown] of [['/download/t2-pack', '/download/no-such-doc'],
      ['/en/docs/t2-pack/', '/en/docs/no-such-doc/']]) {
      let a;
      let b;
      let c;
      for (let tries = 0; tries < 5; tries += 1) {
        const get = async (path) => {
          const r = await context.request.get(path);
          return { status: r.status(), type: r.headers()['content-type'], body: (await r.body()).toString('base64') };
        };
        a = await get(unknown);
        b = await get(hidden);
        c = await get(unknown);
        if (JSON.stringify(a) === JSON.stringify(c)) break;
      }
      ok(a.status === 404 && JSON.stringify(a) === JSON.stringify(c), `${unknown}: 404, the same bytes twice in a row`,
        `status ${a.status}`);
      eq(a, b, `${hidden} (tenant t2, asked by a t1 member): the same status, type and bytes as ${unknown}`);
    }
  } finally {
    await context.close();
  }
}

// --- main -----------------------------------------------------------------------------------------

// The two languages and the checks run side by side (each in its own browser contexts, with its
// own users), which keeps the suite near a minute; their TAP lines interleave. The watchdog leaves
// room for a loaded machine: the feedback checks alone take a minute at a load of 13 on two cores.
// On a phone's width a document's body fits: a picture wider than the screen is scaled down (its
// width attribute stands in for a large picture) and its table stays inside; nothing scrolls sideways.
async function narrowScreen(browser) {
  for (const lang of LANGS) {
    const context = await newContext(browser, lang, null, { viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    try {
      await page.goto(`/${lang}/docs/public-report/`);
      await page.waitForLoadState('networkidle');
      const fit = await page.evaluate(() => {
        const img = document.querySelector('main .body img');
        if (!img) return { img: false };
        img.setAttribute('width', '2000');
        const within = (e) => !e || e.getBoundingClientRect().width <= window.innerWidth;
        return { img: true, imgFits: within(img), tableFits: within(document.querySelector('main .body table')),
          page: document.documentElement.scrollWidth, width: window.innerWidth };
      });
      ok(fit.img && fit.imgFits && fit.tableFits && fit.page <= fit.width,
        `${lang} narrow: the body's picture and table fit 360 px, no sideways scrolling`, JSON.stringify(fit));
    } finally {
      await context.close();
    }
  }
}

await run('usage: node pages.mjs PORT ERRORLOG', port && errorLog, 360, async (browser) => {
  const language = async (lang) => {
    await check(`${lang}: anonymous pages`, () => anonymousPages(browser, lang));
    await check(`${lang}: signed-in pages`, () => signedInPages(browser, lang));
    await check(`${lang}: My Library`, () => libraryPage(browser, lang));
    await check(`${lang}: NDA confirmation`, () => ndaConfirmation(browser, lang));
    await check(`${lang}: library confirmation`, () => libraryConfirmation(browser, lang));
    await check(`${lang}: 403`, () => forbidden(browser, lang));
    await check(`${lang}: feedback with js`, () => feedbackWithJs(browser, lang));
  };
  const checks = async () => {
    await check('NDA structure', () => ndaStructure(browser));
    await check('sign out', () => signOut(browser));
    await check('header without js', () => headerWithoutJs(browser));
    await check('library without js', () => libraryWithoutJs(browser));
    await check('Arabic 404', () => arabic404(browser));
    await check('hidden document', () => hiddenDocument(browser));
    await check('feedback without js', () => feedbackWithoutJs(browser));
    await check('narrow screen', () => narrowScreen(browser));
  };
  await Promise.all([...LANGS.map(language), checks()]);
});
