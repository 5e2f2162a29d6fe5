// Interop: a real browser (Debian's headless Chromium, driven by playwright-core) on Rocket's sample page.
//
//   node browser-interop.mjs <baseUrl>        e.g. node browser-interop.mjs http://127.0.0.1:5080
//
// Opens the page at `/` (which follows the collection with Rocket's JavaScript client, over SSE by default), waits
// until it is live (`#state[data-state="live"]`), opens the browser's own EventSource on `/messages` in the page and
// records every `patch` event it receives (from its reset on), creates a record over HTTP from Node and
// waits for `li[data-id="<id>"]` to show its text, deletes it and waits for the item to go and for the EventSource's
// `remove`, then requires the browser's EventSource to have received an `add` and then a `remove` for the record's path. Prints one JSON summary line and exits 0,
// or prints why and exits 1. The browser is always closed. Bounded: 60 s overall, 20 s per wait (Chromium starts slowly on a loaded machine).
import { closeBrowser, launchChromium, openPage, pageLog } from './lib/browser.mjs';
import { check, createMessage, pointerTo } from './lib/interop.mjs';
import { baseUrlArgument, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 60_000;
const WaitTimeoutMs = 20_000;

const baseUrl = baseUrlArgument('browser-interop.mjs');

let browser;
const log = pageLog();
const failedResponses = [];

async function main() {
  browser = await launchChromium(WaitTimeoutMs);
  const page = await openPage(browser, `${baseUrl}/`, {
    timeoutMs: WaitTimeoutMs,
    log,
    // Diagnostics only (a missing favicon is not a failure): the console names no URL, this does.
    beforeLoad: (p) => p.on('response', (response) => { if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`); }),
  });
  await page.waitForSelector('#state[data-state="live"]');

  // Record what the browser's own EventSource delivers (the page's client keeps running beside it); it opens with no
  // cursor, so its first event is a reset, and once that has come it is subscribed.
  await page.evaluate(() => new Promise((resolve, reject) => {
    window.recordedPatches = [];
    window.rocketEvents = new EventSource('/messages');
    window.rocketEvents.addEventListener('patch', (event) => {
      window.recordedPatches.push({ id: event.lastEventId, data: event.data });
      resolve();
    });
    window.rocketEvents.onerror = () => reject(new Error('the EventSource failed before its first event'));
  }));

  const text = `hello from Node ${Date.now()}`;
  const record = await createMessage(baseUrl, text);
  const selector = `li[data-id="${record.id.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"]`;

  await page.waitForSelector(selector);
  const shown = await page.textContent(`${selector} .text`);
  check(shown === text, `the page shows ${JSON.stringify(shown)} for ${record.id}, expected ${JSON.stringify(text)}`);

  const deleted = await fetch(`${baseUrl}/messages/${encodeURIComponent(record.id)}`, { method: 'DELETE' });
  check(deleted.status === 204, `DELETE /messages/${record.id} answered ${deleted.status}`);
  await page.waitForSelector(selector, { state: 'detached' });

  const path = pointerTo(record.id);
  // The page's client and the EventSource are separate streams: wait for the EventSource's own remove.
  await page.waitForFunction((p) => window.recordedPatches.some((event) => JSON.parse(event.data).some((op) => op.op === 'remove' && op.path === p)), path);
  const recorded = await page.evaluate(() => window.recordedPatches);
  const ops = recorded.flatMap((event) => JSON.parse(event.data));
  const add = ops.find((op) => op.op === 'add' && op.path === path);
  const remove = ops.find((op) => op.op === 'remove' && op.path === path);
  check(add, `the browser's EventSource received no add for ${path}: ${JSON.stringify(recorded)}`);
  check(JSON.stringify(add.value) === JSON.stringify(record),
    `the browser's add carries ${JSON.stringify(add.value)}, the POST returned ${JSON.stringify(record)}`);
  check(remove, `the browser's EventSource received no remove for ${path}: ${JSON.stringify(recorded)}`);
  check(ops.indexOf(add) < ops.indexOf(remove), 'the browser received the remove before the add');
  check(log.errors.length === 0, `the page threw: ${log.errors.join('; ')}`);

  return {
    ok: true,
    baseUrl,
    browser: `chromium ${browser.version()}`,
    id: record.id,
    events: recorded.map((event) => event.id),
  };
}

runBounded('browser-interop', main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: () => closeBrowser(browser),
  diagnostics: () => [
    ...log.diagnostics(),
    ...(failedResponses.length ? [`failed responses: ${failedResponses.join('; ')}`] : []),
  ],
});
