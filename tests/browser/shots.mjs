// Screenshots for looking at pages as their users do (not a test): Debian's Chromium through
// playwright-core. Usage: node tests/browser/shots.mjs BASE OUTDIR NAME=PATH[@who][!nojs] ...
// who: alice (t1 member), bob (t2), pat (personal), carol (t1 admin); default anonymous.
import { chromium } from 'playwright-core';

const [base, out, ...specs] = process.argv.slice(2);
const USERS = {
  alice: { 'X-Test-Sub': 'alice', 'X-Test-Tid': 't1', 'X-Test-Email': 'alice@t1.example' },
  bob: { 'X-Test-Sub': 'bob', 'X-Test-Tid': 't2', 'X-Test-Email': 'bob@t2.example' },
  pat: { 'X-Test-Sub': 'pat', 'X-Test-Email': 'pat@example.net' },
  carol: { 'X-Test-Sub': 'carol', 'X-Test-Tid': 't1', 'X-Test-Roles': 'GlobalAdmin' },
};
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
for (const spec of specs) {
  const m = spec.match(/^([^=]+)=([^@!]+)(?:@(\w+))?(!nojs)?$/);
  const [, name, path, who, nojs] = m;
  const context = await browser.newContext({ baseURL: base, javaScriptEnabled: !nojs,
    extraHTTPHeaders: who ? USERS[who] : {}, viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const r = await page.goto(path);
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
  console.log(`${name}: ${r && r.status()} ${page.url()}`);
  await context.close();
}
await browser.close();
