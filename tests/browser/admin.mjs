// Organisation settings in a real browser (issue 13): Debian's Chromium (playwright-core) against the
// demo's real parts, mod_auth_openidc in front of mod_stp and the local OpenID provider, as
// tests/browser/server.py demo started them. Accounts: conf/oidc/accounts.json.
//
// carol (Contoso's GlobalAdmin) signs in at the provider, opens /stp/admin, sets Contoso's industries
// to Financial Services, switches to assigned mode and adds alice as portal user; alice then sees
// "Recommended for your organization" on /en/; dan (Contoso, not listed) gets the "ask your
// administrators" page (403) on /en/org/ and for an NDA document; carol has no revoke control for
// herself and a forged revoke gets 403. Twice: with JavaScript, then without (carol first undoes
// the settings through the page, which also shows that revoking and switching back to open work).
// Usage: node tests/browser/admin.mjs PORT ERRORLOG   (prints TAP; run through tests/browser/run.sh admin)

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { check, eq, ok, run } from './tap.mjs';

const port = Number(process.argv[2]);
const errorLog = process.argv[3];
const base = `http://127.0.0.1:${port}`;
const ROOT = new URL('../..', import.meta.url).pathname;
const STEP_TIMEOUT = 15_000; // one wait in a test
const TENANT = 'contoso';
const INDUSTRY = 'finance'; // "Financial Services" in content/site.xml
const NDA_DOC = 'bcp-test-results'; // an NDA document of the example content
const CAROL = 'carol@contoso.example';
const ALICE = 'alice@contoso.example';
const DAN = 'dan@contoso.example';

// --- what the example content says alice should be recommended -----------------------------------

// Current documents tagged finance that a listed Contoso member may see, newest first: from the
// doc.xml files (a superseded version of a series is not current), never from the module's output.
function expectedRecommendations() {
  const dir = `${ROOT}/content/docs`;
  const docs = [];
  for (const name of readdirSync(dir)) {
    const file = `${dir}/${name}/doc.xml`;
    if (!existsSync(file)) continue;
    const x = readFileSync(file, 'utf8');
    const root = x.match(/<document\b[^>]*>/)[0];
    const attr = (s, a) => (s.match(new RegExp(`\\b${a}="([^"]*)"`)) || [])[1];
    const access = x.match(/<access\b[^>]*\/?>/)[0];
    const accessBlock = (x.match(/<access\b[\s\S]*?(?:\/>|<\/access>)/) || [''])[0];
    docs.push({
      id: attr(root, 'id'),
      series: attr(root, 'series'),
      published: x.match(/<published>([^<]+)<\/published>/)[1],
      level: attr(access, 'level'),
      tenants: [...accessBlock.matchAll(/<tenant ref="([^"]+)"/g)].map((m) => m[1]),
      industries: [...x.matchAll(/<industry ref="([^"]+)"/g)].map((m) => m[1]),
      requires: /<require\b/.test(accessBlock) || /role=/.test(access),
      draft: /<draft\b/.test(x),
    });
  }
  // Drafts are not published, and a document whose <published> moment is still ahead is embargoed.
  const live = (d) => !d.draft && Date.parse(/T/.test(d.published) ? d.published : `${d.published}T00:00:00Z`) <= Date.now();
  const newest = {};
  for (const d of docs.filter(live)) {
    if (d.series && (!newest[d.series] || newest[d.series].published < d.published)) newest[d.series] = d;
  }
  return docs
    .filter(live)
    .filter((d) => !d.series || newest[d.series] === d)
    .filter((d) => d.industries.includes(INDUSTRY))
    .filter((d) => d.level !== 'tenant' || d.tenants.includes(TENANT))
    .filter((d) => !d.requires) // documents needing a role or a claim alice may lack: left out of the oracle
    .sort((a, b) => (a.published < b.published ? 1 : a.published > b.published ? -1 : 0));
}

// --- helpers --------------------------------------------------------------------------------------

async function newContext(browser, js) {
  const context = await browser.newContext({ baseURL: base, javaScriptEnabled: js });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return context;
}

// Signs in at the local OpenID provider through the portal's sign-in, coming back to `target`.
async function signIn(browser, js, email, target) {
  const context = await newContext(browser, js);
  const page = await context.newPage();
  await page.goto(`/stp/login?return=${encodeURIComponent(target)}`);
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', email);
  await page.fill('input[name=password]', email.split('@')[0]);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.port === String(port) && u.pathname === new URL(target, base).pathname);
  return { context, page };
}

const settingsForm = (page) => page.locator('form:has(input[name=action][value=settings])');
const modeForm = (page) => page.locator('form:has(input[name=action][value=mode])');
const addForm = (page) => page.locator('form:has(input[name=action][value=add])');
const revokeForm = (page, email) => page.locator(`form:has(input[name=action][value=revoke]):has(input[name=email][value="${email}" i])`);

// Submits a form by its own button and waits for the POST's answer (a 303 followed by the page,
// or, with JavaScript, whatever stp.js does in place); then reloads the settings.
async function submit(page, form) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/stp/admin' && r.request().method() === 'POST'),
    form.locator('button[type=submit], input[type=submit], button:not([type])').first().click(),
  ]);
  const status = resp.status();
  await page.waitForLoadState();
  await page.goto('/stp/admin');
  return status;
}

// The page's state: checked industries, the mode, people (e-mail -> role).
async function adminState(page) {
  return page.evaluate(() => ({
    industries: [...document.querySelectorAll('input[type=checkbox][name=industry]')].filter((e) => e.checked).map((e) => e.value).sort(),
    mode: ([...document.querySelectorAll('input[type=radio][name=mode]')].find((e) => e.checked) || {}).value || null,
    people: Object.fromEntries([...document.querySelectorAll('[data-email][data-role]')]
      .map((e) => [e.getAttribute('data-email').toLowerCase(), e.getAttribute('data-role')])),
  }));
}

async function recommendedIds(page) {
  return page.evaluate(() => {
    const el = document.getElementById('recommended');
    if (!el) return null;
    const ids = [];
    for (const a of el.querySelectorAll('a[href]')) {
      const m = new URL(a.href).pathname.match(/^\/[a-z]{2}\/(?:org\/)?docs\/([a-z0-9-]+)\/?$|^\/download\/([a-z0-9-]+)/);
      const id = m && (m[1] || m[2]);
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids;
  });
}

// --- the flow -------------------------------------------------------------------------------------

async function carolSetsUp(browser, js, tag) {
  const { context, page } = await signIn(browser, js, CAROL, '/stp/admin');
  try {
    let s = await adminState(page);
    eq('administrator', s.people[CAROL], `${tag}: carol signs in at the provider and /stp/admin lists her as administrator`);
    const label = await page.locator(`label:has(input[name=industry][value=${INDUSTRY}])`).count()
      ? (await page.locator(`label:has(input[name=industry][value=${INDUSTRY}])`).textContent()) : '';
    const byFor = await page.evaluate((v) => {
      const i = document.querySelector(`input[name=industry][value=${v}]`);
      const l = i && i.id && document.querySelector(`label[for="${i.id}"]`);
      return l ? l.textContent : '';
    }, INDUSTRY);
    ok(/Financial Services/i.test(label + byFor), `${tag}: the industry ${INDUSTRY} is labelled Financial Services`, label, byFor);

    // Industries: Financial Services only.
    const form = settingsForm(page);
    for (const box of await form.locator('input[type=checkbox]').all()) {
      const v = await box.getAttribute('value');
      const name = await box.getAttribute('name');
      if (name === 'industry' && v === INDUSTRY) await box.check();
      else await box.uncheck();
    }
    let status = await submit(page, form);
    s = await adminState(page);
    ok([200, 303].includes(status) && JSON.stringify(s.industries) === JSON.stringify([INDUSTRY]),
      `${tag}: carol sets Contoso's industries to Financial Services`, `POST ${status}`, JSON.stringify(s));

    // Assigned mode.
    await modeForm(page).locator('input[type=radio][name=mode][value=assigned]').check();
    status = await submit(page, modeForm(page));
    s = await adminState(page);
    ok([200, 303].includes(status) && s.mode === 'assigned', `${tag}: carol switches to assigned mode`, `POST ${status}`, JSON.stringify(s));

    // alice as portal user.
    const add = addForm(page);
    await add.locator('input[name=email]').fill(ALICE);
    if (await add.locator('select[name=role]').count()) await add.locator('select[name=role]').selectOption('portal-user');
    else await add.locator('input[name=role][value=portal-user]').check();
    status = await submit(page, add);
    s = await adminState(page);
    ok([200, 303].includes(status) && s.people[ALICE] === 'portal-user' && !(DAN in s.people),
      `${tag}: carol adds alice as portal user (dan stays unlisted)`, `POST ${status}`, JSON.stringify(s));

    // carol cannot revoke herself: no control for her row, and a forged POST is refused.
    eq(0, await revokeForm(page, CAROL).count(), `${tag}: no revoke control for carol's own row`);
    eq(1, await revokeForm(page, ALICE).count(), `${tag}: ... while alice's row has one`);
    const csrf = await page.locator('form:has(input[name=action][value=add]) input[name=csrf]').getAttribute('value');
    const forged = await context.request.post('/stp/admin', { form: { action: 'revoke', email: CAROL, csrf }, maxRedirects: 0 });
    eq(403, forged.status(), `${tag}: a forged POST revoking carol (with her own valid token) -> 403`);
    const demote = await context.request.post('/stp/admin', { form: { action: 'role', email: CAROL, role: 'portal-user', csrf }, maxRedirects: 0 });
    eq(403, demote.status(), `${tag}: a forged POST demoting carol -> 403`);
    await page.goto('/stp/admin');
    eq('administrator', (await adminState(page)).people[CAROL], `${tag}: ... carol is still administrator`);
  } finally {
    await context.close();
  }
}

async function aliceSeesRecommendations(browser, js, tag) {
  const { context, page } = await signIn(browser, js, ALICE, '/en/');
  try {
    const ids = await recommendedIds(page);
    const want = expectedRecommendations();
    const known = new Map(want.map((d) => [d.id, d]));
    const foreign = (ids || []).filter((id) => !known.has(id));
    const dates = (ids || []).map((id) => (known.get(id) || {}).published || '');
    const sorted = dates.every((d, i) => i === 0 || dates[i - 1] >= d);
    const oldest = dates.length ? dates[dates.length - 1] : '9999';
    const missing = want.filter((d) => d.published > oldest && !(ids || []).includes(d.id)).map((d) => d.id);
    ok(ids && ids.length > 0 && foreign.length === 0 && sorted && missing.length === 0,
      `${tag}: alice (portal user) sees Recommended for your organization on /en/: finance documents she may see, newest first`,
      `got: ${JSON.stringify(ids)}`, `expected (newest first): ${JSON.stringify(want.map((d) => d.id))}`,
      `not finance / not hers: ${JSON.stringify(foreign)}`, `newer ones missing: ${JSON.stringify(missing)}`);
    ok(ids !== null && !ids.some((id) => id.startsWith('fabrikam')), `${tag}: ... and nothing of Fabrikam`, JSON.stringify(ids));
    const org = await page.goto('/en/org/');
    const orgIds = await recommendedIds(page);
    ok(org.status() === 200 && orgIds && orgIds.length > 0, `${tag}: ... also on /en/org/`, `status ${org.status()}`, JSON.stringify(orgIds));
  } finally {
    await context.close();
  }
}

async function danIsTurnedAway(browser, js, tag) {
  const { context, page } = await signIn(browser, js, DAN, '/en/');
  try {
    eq(null, await recommendedIds(page), `${tag}: dan (not listed) sees no recommendations on /en/`);
    const r = await page.goto('/en/org/');
    const text = await page.locator('body').innerText();
    ok(r.status() === 403 && text.includes(CAROL), `${tag}: dan GET /en/org/ -> 403, the page names carol, Contoso's administrator`,
      `status ${r.status()}`, text.slice(0, 600));
    const d = await context.request.get(`/download/${NDA_DOC}`, { maxRedirects: 0 });
    const body = await d.text();
    ok(d.status() === 403 && body.includes(CAROL), `${tag}: dan GET /download/${NDA_DOC} (NDA) -> 403 naming carol`,
      `status ${d.status()} location ${d.headers().location || ''}`, body.slice(0, 300));
    const pub = await context.request.get('/download/fsi-compliance-guide', { maxRedirects: 0 });
    eq(200, pub.status(), `${tag}: dan still downloads a public document`);
    const signin = await context.request.get('/download/fsi-dora-register', { maxRedirects: 0 });
    eq(200, signin.status(), `${tag}: ... and a sign-in document`);
  } finally {
    await context.close();
  }
}

// Through the page (without JavaScript the second time): industries cleared, open mode, alice revoked.
async function carolUndoes(browser, js, tag) {
  const { context, page } = await signIn(browser, js, CAROL, '/stp/admin');
  try {
    const form = settingsForm(page);
    for (const box of await form.locator('input[type=checkbox]').all()) await box.uncheck();
    let status = await submit(page, form);
    await modeForm(page).locator('input[type=radio][name=mode][value=open]').check();
    status = `${status} ${await submit(page, modeForm(page))}`;
    status = `${status} ${await submit(page, revokeForm(page, ALICE))}`;
    const s = await adminState(page);
    ok(s.industries.length === 0 && s.mode === 'open' && !(ALICE in s.people),
      `${tag}: carol clears the industries, switches to open and revokes alice`, status, JSON.stringify(s));
  } finally {
    await context.close();
  }
  const dan = await signIn(browser, js, DAN, '/en/');
  try {
    const r = await dan.page.goto('/en/org/');
    eq(200, r.status(), `${tag}: in open mode dan GET /en/org/ -> 200`);
  } finally {
    await dan.context.close();
  }
}

await run('usage: node admin.mjs PORT ERRORLOG', port && errorLog, 240, async (browser) => {
  for (const js of [true, false]) {
    const tag = js ? 'JavaScript on' : 'JavaScript off';
    if (!js) await check(`${tag}: undo`, () => carolUndoes(browser, js, tag));
    await check(`${tag}: carol sets up Contoso`, () => carolSetsUp(browser, js, tag));
    await check(`${tag}: alice's recommendations`, () => aliceSeesRecommendations(browser, js, tag));
    await check(`${tag}: dan is turned away`, () => danIsTurnedAway(browser, js, tag));
  }
});
