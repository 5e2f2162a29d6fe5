// The sample page's sign-in box and room view in headless Chromium (playwright-core, Debian's /usr/bin/chromium),
// against the real sample server, over one transport of the page's picker.
//
//   node sample-page-rooms.mjs <path to Rocket.Sample.dll> <sse|websocket|websocket-shared|signalr|signalr-msgpack>
//
// Two browser contexts (two cookie jars), in order:
//   1. signed out: window A shows "nobody" signed in and the room view /rooms/lobby/messages in the error state with the
//      401, while the public /messages view is live;
//   2. window A signs in as alice with the development-only sign-in box (the page reloads): it shows alice, and the
//      room view is live; it picks the room "garden" (text input): /rooms/garden/messages is live;
//   3. window B (the other context) signs in as bob and picks "garden" too; a message alice posts from her room view
//      appears in bob's room view (and in hers), and one bob posts appears in alice's; the public views stay live;
//   4. window B signs out (reload): it shows nobody and its room view is in the error state with the 401 again.
// No window may throw. Prints one JSON summary line and exits 0, or prints why and exits 1. Bounded: 120 s overall,
// 30 s per wait. The browser and the server it started are always stopped.
import { closeBrowser, launchChromium, openPage, pageLog } from './lib/browser.mjs';
import { check } from './lib/interop.mjs';
import { started } from './lib/sample-process.mjs';
import { exitWithUsage, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 120_000;
const WaitMs = 30_000;
const Transports = ['sse', 'websocket', 'websocket-shared', 'signalr', 'signalr-msgpack'];

const [sampleDll, transport] = process.argv.slice(2);
if (!sampleDll || !Transports.includes(transport)) {
  exitWithUsage(`node sample-page-rooms.mjs <Rocket.Sample.dll> <${Transports.join('|')}>`);
}

let browser;
let server;
const processes = started();
const log = pageLog();
const steps = [];

const openWindow = (context, label) => openPage(context, `${server.baseUrl}/?transport=${transport}`, { timeoutMs: WaitMs, log, label });

const signedInAs = (page, user) => page.waitForSelector(`#who[data-user="${user}"]`);

async function signIn(page, user) {
  await page.fill('#user', user);
  await Promise.all([page.waitForEvent('load'), page.click('#login')]);
  await signedInAs(page, user);
  check(await page.textContent('#who') === user, `the page says ${await page.textContent('#who')} is signed in, expected ${user}`);
}

async function pickRoom(page, room) {
  await page.fill('#room', room);
  await page.click('#room-form button[type=submit]');
  await page.waitForFunction((path) => document.getElementById('room-path').textContent === path && window.rocketRoom?.url.endsWith(path)
    && document.getElementById('room-state').dataset.state === 'live', `/rooms/${room}/messages`);
}

async function post(page, text) {
  await page.fill('#room-text', text);
  await page.click('#room-compose button[type=submit]');
}

const shows = (page, text) => page.waitForFunction(
  (t) => [...document.querySelectorAll('#room-messages li .text')].some((item) => item.textContent === t), text);

async function signedOutRoom(page, label) {
  await page.waitForSelector('#room-state[data-state="error"]');
  const reason = await page.textContent('#room-reason');
  check(/401/.test(reason), `${label}: the room view says '${reason}', expected the 401`);
  check(await page.textContent('#who') === 'nobody', `${label}: the page says ${await page.textContent('#who')} is signed in`);
  return reason;
}

async function main() {
  server = await processes.sample(sampleDll);
  browser = await launchChromium(WaitMs);
  const contextA = await browser.newContext();
  const contextB = await browser.newContext();

  // 1. signed out
  const a = await openWindow(contextA, 'window A');
  await a.waitForSelector('#who[data-user=""]');
  const signedOut = await signedOutRoom(a, 'window A, signed out');
  await a.waitForSelector('#state[data-state="live"]');
  steps.push({ step: 'signed out', room: signedOut });

  // 2. alice signs in and picks a room
  await signIn(a, 'alice');
  await a.waitForSelector('#room-state[data-state="live"]');
  check(await a.textContent('#room-path') === '/rooms/lobby/messages', `window A: the room view shows ${await a.textContent('#room-path')}`);
  await pickRoom(a, 'garden');
  steps.push({ step: 'alice in garden', cursor: await a.evaluate(() => window.rocketRoom.cursor) });

  // 3. bob, in the other context, in the same room: each sees what the other posts
  const b = await openWindow(contextB, 'window B');
  await signedOutRoom(b, 'window B, signed out');
  await signIn(b, 'bob');
  await pickRoom(b, 'garden');
  await post(a, 'hello from alice');
  await shows(b, 'hello from alice');
  await shows(a, 'hello from alice');
  await post(b, 'hello from bob');
  await shows(a, 'hello from bob');
  const cursors = await Promise.all([a, b].map((page) => page.evaluate(() => window.rocketRoom.cursor)));
  await a.waitForFunction((c) => window.rocketRoom.cursor === c, cursors[1]);
  for (const page of [a, b]) await page.waitForSelector('#state[data-state="live"]');
  steps.push({ step: 'two users, one room', cursor: cursors[1] });

  // 4. bob signs out: the room is refused again
  await Promise.all([b.waitForEvent('load'), b.click('#logout')]);
  await b.waitForSelector('#who[data-user=""]');
  const afterSignOut = await signedOutRoom(b, 'window B, signed out again');
  steps.push({ step: 'signed out again', room: afterSignOut });

  check(log.errors.length === 0, `the pages threw: ${log.errors.join('; ')}`);
  return { ok: true, transport, browser: `chromium ${browser.version()}`, steps };
}

runBounded(`sample-page-rooms ${transport}`, main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: async () => {
    await closeBrowser(browser);
    await processes.stopAll();
  },
  diagnostics: () => [`steps passed: ${JSON.stringify(steps)}`, ...log.diagnostics()],
});
