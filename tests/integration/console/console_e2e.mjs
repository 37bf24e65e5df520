// SPDX-License-Identifier: Apache-2.0
// The igw web console in Debian's headless Chromium, driven by playwright-core (no browser
// download: executablePath /usr/bin/chromium). Run by tests/integration/test_console.py, which
// starts the real igw and sink and checks the queue and the sink itself:
//   node console_e2e.mjs SCENARIO
// Environment: IGW_CONSOLE_URL (http://127.0.0.1:PORT/console/), IGW_CONSOLE_TOKEN, IGW_MSG_ID,
// IGW_SHOTS (directory for screenshots). Prints one line "RESULT <json>"; exits 1 on failure.
// Scenarios: charts (sign-in, live charts, route table), release (open a dead letter by id,
// release it, see it delivered), find_edit (find the dead letter with the state filter, edit
// its payload, see it delivered), bulk (release every dead letter of a route), viewer (a viewer sees no repair action, and the alerts).
import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (k) => {
  if (!process.env[k]) throw new Error('missing ' + k);
  return process.env[k];
};
const URL = env('IGW_CONSOLE_URL');
const SHOTS = env('IGW_SHOTS');
const scenario = process.argv[2];
const T = 20000; // every wait is bounded

async function signIn(page, token) {
  await page.goto(URL);
  await page.fill('#token', 'wrong-token');
  await page.click('#signin');
  await page.waitForFunction(() => /refused/.test(document.querySelector('#login-error').textContent), null, { timeout: T });
  await page.fill('#token', token);
  await page.click('#signin');
  await page.waitForSelector('#overview', { timeout: T });
  return (await page.textContent('#who')).trim();
}

async function openById(page, id) {
  await page.click('#nav-messages');
  await page.waitForSelector('#open', { timeout: T });
  await page.fill('#open input[name=id]', id);
  await page.click('#open button');
  await page.waitForSelector('#message-id', { timeout: T });
}

async function confirm(page, edit) {
  await page.waitForSelector('#confirm[open]', { timeout: T });
  if (edit) {
    const v = await page.inputValue('#confirm-edit');
    await page.fill('#confirm-edit', edit(v));
  }
  await page.click('#confirm-ok');
}

const card = (route) => `.delivery[data-route="${route}"]`;

async function waitState(page, route, state) {
  await page.waitForSelector(`${card(route)}[data-state="${state}"]`, { timeout: T });
}

const scenarios = {
  async charts(page) {
    const who = await signIn(page, env('IGW_CONSOLE_TOKEN'));
    const pts = () => page.getAttribute('#chart-accepted polyline', 'points');
    const before = await pts();
    // the test sends messages meanwhile: the accepted rate rises above 0 and the line grows
    await page.waitForFunction(() => {
      const now = parseFloat(document.querySelector('#chart-accepted .now').textContent);
      const n = document.querySelector('#chart-accepted polyline').getAttribute('points').split(' ').length;
      return now > 0 && n >= 3;
    }, null, { timeout: T, polling: 250 });
    const after = await pts();
    const routes = await page.$$eval('#routes tr td:first-child', (tds) => tds.map((t) => t.textContent));
    await page.screenshot({ path: path.join(SHOTS, 'console-overview.png'), fullPage: true });
    return { who, before, after, routes, accepted: await page.textContent('#chart-accepted .now'),
             source: await page.textContent('#rate-source') };
  },

  async release(page) {
    const id = env('IGW_MSG_ID');
    const route = env('IGW_ROUTE');
    await signIn(page, env('IGW_CONSOLE_TOKEN'));
    await openById(page, id);
    await waitState(page, route, 'dead');
    const deadLetter = await page.textContent(card(route));
    await page.screenshot({ path: path.join(SHOTS, 'console-dead-letter.png'), fullPage: true });
    await page.click(`${card(route)} .act-release`);
    await confirm(page);
    await waitState(page, route, 'delivered');
    await page.screenshot({ path: path.join(SHOTS, 'console-released.png'), fullPage: true });
    // the audit page, when this igw keeps one, names who released what
    await page.click('#nav-audit');
    await page.waitForSelector('#list-items, main p.muted:not(:empty)', { timeout: T });
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('main').textContent), null, { timeout: T });
    // the click swaps the message list for the audit list: wait for the audit rows (a loaded
    // box can still show the previous page's table here); the caller asserts what they say
    await page.waitForFunction(() => [...document.querySelectorAll('#list-items tr')].some((t) => /release/.test(t.textContent)), null, { timeout: T }).catch(() => {});
    const audit = await page.$$eval('#list-items tr', (trs) => trs.slice(1).map((t) => t.textContent));
    await page.screenshot({ path: path.join(SHOTS, 'console-audit.png'), fullPage: true });
    return { deadLetter, state: 'delivered', audit };
  },

  async find_edit(page) {
    const id = env('IGW_MSG_ID');
    const route = env('IGW_ROUTE');
    await signIn(page, env('IGW_CONSOLE_TOKEN'));
    await page.click('#nav-messages');
    await page.waitForSelector('#filters', { timeout: T });
    await page.selectOption('#filters select[name=state]', 'dead');
    await page.click('#search');
    // the unfiltered listing may still be on screen until the hash change renders the search
    await page.waitForSelector(`#results[data-query="state=dead"] #message-list tr[data-id="${id}"]`, { timeout: T });
    const listed = await page.$$eval('#message-list tr[data-id]', (trs) => trs.map((t) => t.dataset.id));
    await page.screenshot({ path: path.join(SHOTS, 'console-messages.png'), fullPage: true });
    await page.click(`#message-list tr[data-id="${id}"]`);
    await waitState(page, route, 'dead');
    await page.click(`${card(route)} .act-edit`);
    let original = '';
    await confirm(page, (v) => { original = v; return v.replace('bad', 'good'); });
    // the edit puts the delivery back on its way; release it if this igw's edit does not
    await page.waitForSelector(`${card(route)}:not([data-state="dead"])`, { timeout: 3000 })
      .catch(async () => {
        await page.click(`${card(route)} .act-release`);
        await confirm(page);
      });
    await waitState(page, route, 'delivered');
    await page.screenshot({ path: path.join(SHOTS, 'console-message.png'), fullPage: true });
    return { listed, original, state: 'delivered' };
  },

  async bulk(page) {
    await signIn(page, env('IGW_CONSOLE_TOKEN'));
    await page.click('#nav-messages');
    await page.waitForSelector('#filters', { timeout: T });
    await page.fill('#filters input[name=route]', env('IGW_ROUTE'));
    await page.selectOption('#filters select[name=state]', 'dead');
    await page.click('#search');
    // the list element may be there before the filtered rows: wait for the rows themselves
    const want = Number(env('IGW_EXPECT'));
    await page.waitForFunction((n) => /state=dead/.test(document.querySelector('#results')?.dataset.query || '') &&
      document.querySelectorAll('#message-list tr[data-id]').length === n, want, { timeout: T });
    const listed = await page.$$eval('#message-list tr[data-id]', (trs) => trs.map((t) => t.dataset.id));
    await page.click('#bulk-release');
    await page.waitForSelector('#confirm[open]', { timeout: T });
    const question = await page.textContent('#confirm-text');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => /release: done/.test(document.querySelector('#bulk-progress')?.textContent || ''), null, { timeout: T });
    const progress = await page.textContent('#bulk-progress');
    await page.screenshot({ path: path.join(SHOTS, 'console-bulk.png'), fullPage: true });
    return { listed, question, progress };
  },

  async viewer(page) {
    const who = await signIn(page, env('IGW_CONSOLE_TOKEN'));
    await openById(page, env('IGW_MSG_ID'));
    const buttons = await page.$$eval('.actions button', (bs) => bs.map((b) => b.textContent));
    await page.click('#nav-alerts');
    await page.waitForSelector('#list-items tr:nth-child(2)', { timeout: T });
    const rows = (sel) => page.$$eval(sel, (trs) => trs.slice(1).map((t) => t.textContent));
    const rules = await rows('#list-rules tr');
    const incidents = await rows('#list-items tr');
    await page.screenshot({ path: path.join(SHOTS, 'console-alerts.png'), fullPage: true });
    return { who, buttons, rules, incidents };
  },
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let code = 0;
let page = null;
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  const result = await scenarios[scenario](page);
  result.problems = problems;
  console.log('RESULT ' + JSON.stringify(result));
} catch (e) {
  console.error('console_e2e ' + scenario + ': ' + (e && e.stack ? e.stack : e));
  code = 1;
  if (page) await page.screenshot({ path: path.join(SHOTS, `failed-${scenario}.png`), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(code);
