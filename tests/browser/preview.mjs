// Browser tests of the editor's preview (sitegen serve, StpPreview On): Debian's Chromium driven by
// playwright-core against the preview that tests/browser/server.py started on a copy of the gate
// fixture. An edit of a body reloads the open page with the change; a failed build shows its
// errors in the open page; the bar switches to a member of a tenant (with JavaScript and without),
// who then sees that tenant's pages, and with the NDA gets its NDA documents.
// Usage: node tests/browser/preview.mjs PORT ERRORLOG CONTENT_DIR   (prints TAP; run through run.sh)

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { check, eq, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const content = process.argv[4];
const base = `http://127.0.0.1:${port}`;
const STEP_TIMEOUT = 10_000;
const BUILD_TIMEOUT = 30_000; // a rebuild, then the page's next look at the build id

async function newContext(browser, options = {}) {
  const context = await browser.newContext({ baseURL: base, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

function consoleErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return errors;
}

const bodyHas = (text) => [(t) => document.body.innerText.includes(t), text];

async function editReloads(browser) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = consoleErrors(page);
  await page.goto('/en/docs/public-report/');
  ok(await page.locator('#stp-preview form[action="/stp/preview"]').isVisible(), 'the page shows the preview bar');
  let loads = 0;
  page.on('load', () => { loads += 1; });

  // The editor saves a change; the open page reloads by itself and shows it.
  appendFileSync(`${content}/docs/public-report/en.md`, '\nEdited while the browser looks: quux-4242.\n');
  await page.waitForFunction(...bodyHas('quux-4242'), { timeout: BUILD_TIMEOUT });
  ok(loads >= 1, 'an edited body appears in the open page, which reloaded by itself', `loads: ${loads}`);

  // A mistake: the page reloads with the errors in the bar, over the previous build.
  const meta = `${content}/docs/public-report/doc.xml`;
  const good = readFileSync(meta, 'utf8');
  writeFileSync(meta, good.replace('<title xml:lang="en">Public report</title>', '<titel xml:lang="en">Public report</titel>'));
  await page.waitForSelector('.stp-preview-errors', { timeout: BUILD_TIMEOUT });
  const shown = await page.locator('.stp-preview-errors pre').innerText();
  const titleLine = good.split('\n').findIndex((l) => l.includes('<title xml:lang="en">')) + 1;
  ok(new RegExp(`doc\\.xml:${titleLine}: .*titel`).test(shown) && (await page.innerText('main')).includes('quux-4242'),
    'a failed build shows its errors in the open page, which keeps the previous build', shown);
  writeFileSync(meta, good);
  await page.waitForSelector('.stp-preview-errors', { state: 'detached', timeout: BUILD_TIMEOUT });
  eq(0, await page.locator('.stp-preview-errors').count(), 'fixing it takes the errors away');
  eq([], errors, 'no console errors (the bar and its script pass the CSP)');
  await context.close();
}

async function tenantView(browser) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto('/en/org/', { waitUntil: 'load' }).catch(() => {});
  eq(404, (await context.request.get('/en/org/')).status(), 'anonymous: no organisation page');

  // With JavaScript, choosing in the bar applies at once and comes back to the same page.
  await page.goto('/en/');
  await Promise.all([page.waitForURL(`${base}/en/`, { waitUntil: 'load' }), page.selectOption('#stp-preview select[name=as]', 'member.t1')]);
  await page.waitForSelector('#stp-preview option[value="member.t1"][selected]', { state: 'attached' });
  eq('member.t1', await page.inputValue('#stp-preview select[name=as]'),
    'choosing "Member of Tenant One" in the bar applies it and reloads the page');
  await page.goto('/en/org/');
  ok((await page.innerText('main')).includes('Tenant one pack'), "the member sees Tenant One's organisation page", await page.innerText('main'));
  await page.goto('/en/org/docs/t1-pack/');
  ok((await page.innerText('h1')).includes('Tenant one pack'), "... and Tenant One's document page");
  eq(404, (await context.request.get('/download/t2-pack', { maxRedirects: 0 })).status(), "Tenant Two's documents answer 404");
  const nda = await context.request.get('/download/t1-nda-pack', { maxRedirects: 0 });
  ok(nda.status() === 302 && (nda.headers().location || '').startsWith('/stp/nda'), 'without the NDA, its documents ask for it', nda.status());

  // "NDA accepted" in the bar: the same member, past the NDA.
  await Promise.all([page.waitForEvent('load'), page.check('#stp-preview input[name=nda]')]);
  eq(200, (await context.request.get('/download/t1-nda-pack', { maxRedirects: 0 })).status(), 'with "NDA accepted", the NDA document downloads');
  await context.close();
}

async function withoutScript(browser) {
  const context = await newContext(browser, { javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/en/');
  await page.selectOption('#stp-preview select[name=as]', 'member.t2');
  await page.selectOption('#stp-preview select[name=lang]', 'de');
  await Promise.all([page.waitForURL(`${base}/de/`), page.click('#stp-preview button[type=submit]')]);
  ok(page.url() === `${base}/de/` && (await page.inputValue('#stp-preview select[name=as]')) === 'member.t2',
    'without JavaScript, Apply switches identity and language (to /de/)', page.url());
  await page.goto('/en/org/');
  ok((await page.innerText('main')).includes('Tenant two pack'), "the member of Tenant Two sees its page", await page.innerText('main'));
  // The language cookie now says de; on an Arabic page the bar selects ar (Apply stays there), and
  // the bar, in English, is laid out left to right.
  await page.goto('/ar/');
  eq('ar', await page.inputValue('#stp-preview select[name=lang]'), 'on /ar/ the bar selects the page\'s language, not the cookie\'s');
  eq('en ltr', `${await page.getAttribute('#stp-preview', 'lang')} ${await page.getAttribute('#stp-preview', 'dir')}`,
    'the bar says it is English, left to right');
  await page.selectOption('#stp-preview select[name=as]', 'anonymous');
  await Promise.all([page.waitForURL(`${base}/ar/`), page.click('#stp-preview button[type=submit]')]);
  ok(page.url() === `${base}/ar/` && (await page.inputValue('#stp-preview select[name=as]')) === 'anonymous',
    '... and Apply there stays on /ar/', page.url());
  await context.close();
}

await run('usage: node preview.mjs PORT ERRORLOG CONTENT_DIR', port && content ? errorLog : null, 150, async (browser) => {
  await check('an edit reloads the open page', () => editReloads(browser));
  await check('the tenant view', () => tenantView(browser));
  await check('the bar without JavaScript', () => withoutScript(browser));
});
