// A real browser (headless Chromium, driven by playwright-core) following the sample's SSE stream while the test that
// runs this script stops the sample with SIGTERM and starts the next process on the same port
// (tests/Rocket.Sample.Tests/GracefulShutdownTests.cs).
//
//   node sample-shutdown-browser.mjs <baseUrl>        e.g. node sample-shutdown-browser.mjs http://127.0.0.1:5080
//
// Opens the sample page at `/?transport=sse` (the JavaScript client over SSE) and, in the page, the browser's own
// EventSource on `/messages`. It prints one JSON line a step, for the test to act on:
//   {"ready":…}  both are live (the page's client live, the EventSource past its reset): the test may send SIGTERM;
//   {"told":…}   the EventSource got the `close` event with {"status":"ShuttingDown","reason":…} and the page's client
//                went to 'reconnecting' with that reason: the test may start the next process;
//   {"ok":true…} with the next process: the client reconnected by itself, got a reset of the new epoch and is live; the
//                EventSource reconnected by itself with the old cursor in Last-Event-ID and got a reset of the new
//                epoch; both show the record with the text "after the restart" (which the test creates), the
//                EventSource as an add or within its reset, whichever came first.
// No page may throw. Exits 0, or prints why and exits 1. Bounded: 240 s overall, 30 s per wait, 90 s for the next
// process (the client waits out its backoff, which grows while the server is down).
import { closeBrowser, launchChromium, openPage, pageLog } from './lib/browser.mjs';
import { check, isReset, parseCursor } from './lib/interop.mjs';
import { baseUrlArgument, runBounded, within } from './lib/script.mjs';

const OverallTimeoutMs = 240_000;
const WaitMs = 30_000;
const RestartWaitMs = 90_000;
const AfterRestart = 'after the restart';

const baseUrl = baseUrlArgument('sample-shutdown-browser.mjs');

let browser;
const log = pageLog();
const steps = [];
// The EventSource's requests that a server answered (not the client's, which streams with fetch), in the order of
// their answers: the Last-Event-ID each one carried. Attempts refused while no server listened are left out: they
// have no answer, and Chromium reports no more than their provisional headers.
const eventSourceRequests = [];

async function main() {
  browser = await launchChromium(WaitMs);
  const page = await openPage(browser, `${baseUrl}/?transport=sse`, {
    timeoutMs: WaitMs,
    log,
    beforeLoad: (p) => p.on('response', (response) => {
      const request = response.request();
      if (request.resourceType() !== 'eventsource') return;
      eventSourceRequests.push(request.allHeaders().then(
        (headers) => ({ status: response.status(), lastEventId: headers['last-event-id'] ?? null }),
        (error) => ({ status: response.status(), lastEventId: `(headers unreadable: ${error.message})` })));
    }),
  });
  await page.waitForSelector('#state[data-state="live"]');
  await page.evaluate(() => new Promise((resolve, reject) => {
    window.recorded = [];
    window.rocket.on('change', (change) => window.recorded.push({ kind: change.kind, cursor: change.cursor }));
    window.states = [];
    window.rocket.on('state', (change) => window.states.push({ state: change.state, reason: change.reason ?? null }));
    window.sourcePatches = [];
    window.sourceCloses = [];
    window.sourceErrors = 0;
    const source = new EventSource('/messages');
    window.source = source;
    source.addEventListener('patch', (event) => {
      window.sourcePatches.push({ id: event.lastEventId, ops: JSON.parse(event.data) });
      resolve();
    });
    source.addEventListener('close', (event) => window.sourceCloses.push({ data: event.data, patchesBefore: window.sourcePatches.length }));
    source.addEventListener('error', () => {
      window.sourceErrors++;
      // Before its first event an error means the stream never opened; later ones are its reconnects, expected here.
      if (window.sourcePatches.length === 0) reject(new Error('the EventSource failed before its first event'));
    });
  }));
  const first = await page.evaluate(() => ({ cursor: window.rocket.cursor, source: window.sourcePatches.map((p) => p.id) }));
  check(isReset((await page.evaluate(() => window.sourcePatches[0].ops))), 'the EventSource did not start with a reset');
  const oldEpoch = parseCursor(first.cursor).epoch;
  steps.push({ step: 'ready', cursor: first.cursor });
  console.log(JSON.stringify({ ready: true, cursor: first.cursor }));

  // SIGTERM (sent by the test): the EventSource's `close` event, and the client's reason.
  await page.waitForFunction(() => window.sourceCloses.length >= 1);
  const close = await page.evaluate(() => window.sourceCloses[0]);
  const told = JSON.parse(close.data);
  check(told.status === 'ShuttingDown' && typeof told.reason === 'string' && told.reason.length > 0,
    `the EventSource's close event carried ${close.data}`);
  await page.waitForFunction(() => window.states.some((s) => s.state === 'reconnecting' && s.reason?.startsWith('ShuttingDown: ')));
  const lastBefore = await page.evaluate(() => window.sourcePatches.at(-1).id);
  steps.push({ step: 'told', close: told, lastEventId: lastBefore });
  console.log(JSON.stringify({ told: true, close: told }));

  // The next process (started by the test): the client and the EventSource each reconnect by themselves and are reset
  // to the new epoch; the record the test then creates reaches both.
  await page.waitForFunction((epoch) => window.recorded.some((c) => c.kind === 'reset' && c.cursor && !c.cursor.startsWith(`${epoch}.`))
    && window.rocket.state === 'live', oldEpoch, { timeout: RestartWaitMs });
  await page.waitForFunction((epoch) => window.sourcePatches.some((p) => !p.id.startsWith(`${epoch}.`)), oldEpoch, { timeout: RestartWaitMs });
  const afterRestart = await page.evaluate((epoch) => window.sourcePatches.filter((p) => !p.id.startsWith(`${epoch}.`)), oldEpoch);
  check(isReset(afterRestart[0].ops), `the EventSource's first event from the next process is not a reset: ${JSON.stringify(afterRestart[0])}`);
  const resumes = await within(Promise.all(eventSourceRequests.slice(1)), WaitMs, "the headers of the EventSource's requests");
  check(resumes.length >= 1 && resumes.every((r) => r.lastEventId === lastBefore),
    `the EventSource's reconnects carried ${JSON.stringify(resumes)}, expected Last-Event-ID ${lastBefore}`);
  await page.waitForFunction((text) => [...document.querySelectorAll('#messages li .text')].some((item) => item.textContent === text), AfterRestart);
  // The EventSource may come back before the record is made (an add follows) or after (its reset holds it).
  await page.waitForFunction((text) => window.sourcePatches.some((p) => p.ops.some((op) => (op.op === 'add' && op.value?.text === text)
    || (op.op === 'replace' && op.path === '' && Object.values(op.value?.messages ?? {}).some((m) => m.text === text)))), AfterRestart);
  const newCursor = await page.evaluate(() => window.rocket.cursor);
  check(parseCursor(newCursor).epoch !== oldEpoch, `the client's cursor ${newCursor} is still of epoch ${oldEpoch}`);
  check(log.errors.length === 0, `the page threw: ${log.errors.join('; ')}`);
  steps.push({ step: 'next process', cursor: newCursor, eventSourceReconnects: resumes.length });

  return { ok: true, browser: `chromium ${browser.version()}`, steps };
}

runBounded('sample-shutdown-browser', main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: () => closeBrowser(browser),
  diagnostics: () => [`steps passed: ${JSON.stringify(steps)}`, `EventSource requests answered: ${eventSourceRequests.length}`, ...log.diagnostics()],
});
