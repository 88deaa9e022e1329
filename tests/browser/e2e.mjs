// End to end in a real browser: Debian's Chromium (playwright-core) against the demo's real parts,
// mod_auth_openidc in front of mod_stp and the local OpenID provider, as tests/browser/server.py
// demo started them. A visitor clicks an NDA document's download link, signs in on the provider's
// own form, accepts the NDA on the portal's page and gets the file, byte for byte.
// Usage: node tests/browser/e2e.mjs PORT ERRORLOG   (prints TAP; run through tests/browser/run.sh e2e)

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { check, eq, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const ROOT = new URL('../..', import.meta.url).pathname;
const DOC = 'bcp-test-results';
const PDF = 'northwind-bcp-dr-test-report-2025.pdf';
const STEP_TIMEOUT = 15_000; // one wait in a test

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

async function signInAndDownload(browser) {
  const context = await browser.newContext({ baseURL: base, acceptDownloads: true });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  const page = await context.newPage();

  // The public document page names the NDA document and links its download.
  await page.goto(`/en/docs/${DOC}/`);
  const link = page.locator(`a[href^="/download/${DOC}"]`).first();
  ok((await link.count()) === 1, 'the NDA document page links its download');

  // Anonymous: the download sends the visitor to the provider's sign-in form.
  await link.click();
  await page.waitForSelector('input[name=login]');
  ok(new URL(page.url()).port !== String(port), 'the download link leads an anonymous visitor to the provider', page.url());
  await page.fill('input[name=login]', 'alice@contoso.example');
  await page.fill('input[name=password]', 'alice');
  await page.click('button[type=submit]');

  // Back on the portal: the NDA, in the site layout, with the pending download named.
  await page.waitForURL((u) => u.pathname === '/stp/nda');
  const accept = page.locator('form[action="/stp/nda"] button[type=submit]');
  ok((await accept.count()) === 1, 'after signing in, the portal asks alice to accept the NDA', page.url());

  // Accepting shows the confirmation, which starts the download by itself.
  const [download] = await Promise.all([page.waitForEvent('download'), accept.click()]);
  const confirmed = new URL(page.url());
  ok(confirmed.pathname === '/stp/nda' && confirmed.searchParams.get('accepted') === '1'
    && (await page.locator(`main a[href^="/download/${DOC}"]`).count()) === 1
    && (await page.locator('form[action="/stp/nda"]').count()) === 0,
    'the confirmation says so, links the download and offers no second accept', page.url());
  const got = readFileSync(await download.path());
  const want = readFileSync(`${ROOT}/content/docs/${DOC}/${PDF}`);
  eq(sha256(want), sha256(got), 'accepting the NDA downloads the report, byte for byte');
  eq(PDF, download.suggestedFilename(), '... under its own file name');

  // The session and the acceptance hold: the module sees alice, a Contoso member who accepted.
  const who = await (await context.request.get('/stp/whoami')).json();
  ok(who.kind === 'member' && who.tenant === 'contoso' && who.nda && who.nda.accepted === true,
    'whoami: alice, a Contoso member, has accepted the NDA', JSON.stringify(who));

  // A second download needs neither sign-in nor NDA.
  const again = await context.request.get(`/download/${DOC}`, { maxRedirects: 0 });
  eq(200, again.status(), 'the next download is served at once');
  await context.close();
}

await run('usage: node e2e.mjs PORT ERRORLOG', port && errorLog, 90, async (browser) => {
  await check('sign in, accept the NDA, download', () => signInAndDownload(browser));
});
