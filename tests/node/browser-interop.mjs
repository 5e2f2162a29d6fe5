// Interop: a real browser (Debian's headless Chromium, driven by playwright-core) on Rocket's sample page.
//
//   node browser-interop.mjs <baseUrl>        e.g. node browser-interop.mjs http://127.0.0.1:5080
//
// Opens the page at `/`, waits until it is live (`#status.live`, set after its first event), records every `patch`
// event the browser's own EventSource (`window.rocketEvents`) receives, creates a record over HTTP from Node and
// waits for `li[data-id="<id>"]` to show its text, deletes it and waits for the item to go, then requires the
// browser to have received an `add` and a `remove` for the record's path. Prints one JSON summary line and exits 0,
// or prints why and exits 1. The browser is always closed. Bounded: 60 s overall, 20 s per wait (Chromium starts slowly on a loaded machine).
import { launchChromium, newPage, runBounded } from './lib/browser.mjs';
import { check, pointerTo } from './lib/interop.mjs';

const OverallTimeoutMs = 60_000;
const WaitTimeoutMs = 20_000;

const baseUrl = (process.argv[2] ?? '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(baseUrl)) {
  console.error('usage: node browser-interop.mjs <baseUrl>   (e.g. http://127.0.0.1:5080)');
  process.exit(2);
}

let browser;
const pageErrors = [];
const consoleLines = [];
const failedResponses = [];

async function main() {
  browser = await launchChromium(WaitTimeoutMs);
  const page = await newPage(browser, WaitTimeoutMs, pageErrors);
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  // Diagnostics only (a missing favicon is not a failure): the console names no URL, this does.
  page.on('response', (response) => { if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`); });

  const response = await page.goto(`${baseUrl}/`, { waitUntil: 'load' });
  check(response?.status() === 200, `GET / answered ${response?.status()}`);
  await page.waitForSelector('#status.live');

  // Record what the browser's own EventSource delivers from now on (the page's listener keeps running beside it).
  await page.evaluate(() => {
    if (!(window.rocketEvents instanceof EventSource)) throw new Error('window.rocketEvents is not an EventSource');
    window.recordedPatches = [];
    window.rocketEvents.addEventListener('patch', (event) => {
      window.recordedPatches.push({ id: event.lastEventId, data: event.data });
    });
  });

  const text = `hello from Node ${Date.now()}`;
  const created = await fetch(`${baseUrl}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ text }),
  });
  const record = await created.json();
  check(created.status === 201 && typeof record.id === 'string', `POST /messages answered ${created.status} ${JSON.stringify(record)}`);
  const selector = `li[data-id="${record.id.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"]`;

  await page.waitForSelector(selector);
  const shown = await page.textContent(`${selector} .text`);
  check(shown === text, `the page shows ${JSON.stringify(shown)} for ${record.id}, expected ${JSON.stringify(text)}`);

  const deleted = await fetch(`${baseUrl}/messages/${encodeURIComponent(record.id)}`, { method: 'DELETE' });
  check(deleted.status === 204, `DELETE /messages/${record.id} answered ${deleted.status}`);
  await page.waitForSelector(selector, { state: 'detached' });

  const path = pointerTo(record.id);
  // The page removed the item, so the remove event has been dispatched to every listener, ours included.
  const recorded = await page.evaluate(() => window.recordedPatches);
  const ops = recorded.flatMap((event) => JSON.parse(event.data));
  const add = ops.find((op) => op.op === 'add' && op.path === path);
  const remove = ops.find((op) => op.op === 'remove' && op.path === path);
  check(add, `the browser's EventSource received no add for ${path}: ${JSON.stringify(recorded)}`);
  check(JSON.stringify(add.value) === JSON.stringify(record),
    `the browser's add carries ${JSON.stringify(add.value)}, the POST returned ${JSON.stringify(record)}`);
  check(remove, `the browser's EventSource received no remove for ${path}: ${JSON.stringify(recorded)}`);
  check(ops.indexOf(add) < ops.indexOf(remove), 'the browser received the remove before the add');
  check(pageErrors.length === 0, `the page threw: ${pageErrors.join('; ')}`);

  console.log(JSON.stringify({
    ok: true,
    baseUrl,
    browser: `chromium ${browser.version()}`,
    id: record.id,
    events: recorded.map((event) => event.id),
  }));
}

runBounded('browser-interop', main, {
  overallTimeoutMs: OverallTimeoutMs,
  browser: () => browser,
  diagnostics: () => [
    ...(pageErrors.length ? [`page errors: ${pageErrors.join('; ')}`] : []),
    ...(consoleLines.length ? [`page console:\n  ${consoleLines.join('\n  ')}`] : []),
    ...(failedResponses.length ? [`failed responses: ${failedResponses.join('; ')}`] : []),
  ],
});
