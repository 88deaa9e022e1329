// What the browser tests share: TAP output, a check that turns a thrown error into a failed test,
// Debian's Chromium, the httpd error log, and a run with a watchdog.

import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

let n = 0;
let failed = 0;

function diag(lines) {
  for (const d of lines) {
    for (const line of String(d).split('\n').slice(0, 40)) console.log(`#   ${line}`);
  }
}

export function ok(cond, name, ...lines) {
  n += 1;
  if (cond) {
    console.log(`ok ${n} - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok ${n} - ${name}`);
    diag(lines);
  }
  return cond;
}

export function eq(expected, actual, name) {
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  return ok(e === a, name, `expected: ${e}`, `actual:   ${a}`);
}

// A check that threw (a wait that timed out, a page that would not load) is a failed test.
export async function check(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: aborted`, e && e.stack ? e.stack : e);
  }
}

// httpd logged no crash in its error log.
export function noCrash(errorLog) {
  const log = readFileSync(errorLog, 'utf8');
  const crashes = log.split('\n').filter((l) => /exit signal|AddressSanitizer|runtime error|\[\w*:(crit|alert|emerg)\]/.test(l));
  ok(crashes.length === 0, 'httpd: no crash in the error log', ...crashes.slice(0, 20));
}

// Runs tests(browser) in Debian's Chromium, then checks httpd's error log; prints the plan and
// exits 1 on any failure. A hung browser must not hang the suite: after `seconds` it fails.
export async function run(usage, errorLog, seconds, tests) {
  const watchdog = setTimeout(() => {
    ok(false, `the browser tests finished within ${seconds} s`);
    console.log(`1..${n}`);
    process.exit(1);
  }, seconds * 1000);
  watchdog.unref();
  try {
    if (!errorLog) {
      ok(false, usage);
    } else {
      let browser = null;
      try {
        browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
      } catch (e) {
        ok(false, 'Chromium starts (/usr/bin/chromium)', e && e.message);
      }
      if (browser) {
        try {
          await tests(browser);
        } finally {
          await browser.close();
        }
        await check('httpd error log', async () => noCrash(errorLog));
      }
    }
  } catch (e) {
    ok(false, `suite aborted: ${e && e.message}`, e && e.stack);
  }
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}
