// The JavaScript client in a real browser (Debian's headless Chromium, driven by playwright-core): the sample page,
// which imports the client from the app (/rocket/client.js, MapRocketClientScript), over one transport.
//
//   node js-client-browser.mjs <path to Rocket.Sample.dll> <sse|websocket|signalr|signalr-msgpack>
//
// Starts the sample as a child process and a TCP proxy in front of it, opens two windows of `/?transport=<t>` through
// the proxy, and requires, in order:
//   1. both windows go live (window A got /rocket/client.js as Brotli-compressed JavaScript with a strong ETag and
//      no-cache); a message typed and sent in window A shows in window B; under four concurrent writers
//      both copies reach the server's cursor and equal GET ?form=keyed, and each window lists every record;
//   2. dropped connection: the proxy cuts every connection and refuses new ones while three records are created; once
//      both windows noticed, they resume with exactly the three missed events (no reset, no refetch);
//   3. the browser goes offline and online again: window A reconnects at once on the `online` event (SignalR: subscribes
//      again) and is still exact;
//   4. restart: a new server process on the same port (a new epoch): both windows get a reset of the new epoch and
//      equal the new server;
//   5. refused: a window of an unknown collection (`?collection=...`) shows the error state with the 404;
//   6. authorization (the sample's families): a room signed out shows the error state with the 401; signed in as alice,
//      bob's notes show the 403, and her own notes are live: a note she sends shows up.
// No window may throw. Prints one JSON summary line and exits 0, or prints why and exits 1. Bounded: 180 s overall,
// 30 s per wait (60 s for the restart). The browser and the processes it started are always stopped.
import { closeBrowser, launchChromium, openPage, pageLog } from './lib/browser.mjs';
import { check, deepEqual, parseCursor } from './lib/interop.mjs';
import { rest, writeConcurrently } from './lib/live-client.mjs';
import { started } from './lib/sample-process.mjs';
import { exitWithUsage, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 180_000;
const WaitMs = 30_000;
const RestartWaitMs = 60_000;

const [sampleDll, transport] = process.argv.slice(2);
if (!sampleDll || !['sse', 'websocket', 'signalr', 'signalr-msgpack'].includes(transport)) {
  exitWithUsage('node js-client-browser.mjs <Rocket.Sample.dll> <sse|websocket|signalr|signalr-msgpack>');
}

let browser;
const processes = started();
const log = pageLog();
const steps = [];
const scripts = [];

// A window of the sample page, keeping how /rocket/client.js came.
function openWindow(context, baseUrl, label, query = `transport=${transport}`) {
  return openPage(context, `${baseUrl}/?${query}`, {
    timeoutMs: WaitMs,
    log,
    label,
    beforeLoad: (page) => page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/rocket/client.js') scripts.push({ label, status: response.status(), headers: response.headers() });
    }),
  });
}

async function waitLive(page) {
  await page.waitForSelector('#state[data-state="live"]');
  await page.evaluate(() => {
    window.recorded = [];
    window.rocket.on('change', (change) => window.recorded.push({ kind: change.kind, cursor: change.cursor }));
    window.states = [];
    window.rocket.on('state', (change) => window.states.push(change.state));
  });
}

// Waits until the page's copy is at the server's cursor, then requires the server's document and a list item each.
async function converge(page, api, label, timeoutMs = WaitMs) {
  const server = await api.keyed();
  await page.waitForFunction((cursor) => window.rocket.cursor === cursor, server.cursor, { timeout: timeoutMs });
  const copy = await page.evaluate(() => window.rocket.document);
  check(deepEqual(copy, server.document), `${label}: at ${server.cursor} the copy ${JSON.stringify(copy)} differs from the server's ${JSON.stringify(server.document)}`);
  const shown = await page.$$eval('#messages li', (items) => items.map((item) => item.dataset.id));
  const ids = Object.keys(server.document.messages);
  check(shown.length === ids.length && ids.every((id) => shown.includes(id)), `${label}: the page lists ${JSON.stringify(shown)}, the server has ${JSON.stringify(ids)}`);
  check(await page.textContent('#cursor') === server.cursor, `${label}: the page shows cursor ${await page.textContent('#cursor')}, expected ${server.cursor}`);
  return server;
}

async function exactlyAfter(page, label, cursor, count) {
  const recorded = await page.evaluate(() => window.recorded);
  const start = parseCursor(cursor);
  const after = recorded.filter((change) => change.kind !== 'patch' || parseCursor(change.cursor).sequence > start.sequence || parseCursor(change.cursor).epoch !== start.epoch);
  check(after.every((change) => change.kind === 'patch'), `${label}: after ${cursor} expected only patches, got ${JSON.stringify(after)}`);
  const sequences = after.map((change) => parseCursor(change.cursor).sequence);
  const expected = Array.from({ length: count }, (_, i) => start.sequence + BigInt(i + 1));
  check(sequences.length === count && sequences.every((s, i) => s === expected[i]), `${label}: after ${cursor} expected ${expected.join(',')}, got ${sequences.join(',')}`);
}

async function main() {
  const server = await processes.sample(sampleDll);
  const api = rest(server.baseUrl);
  const proxy = await processes.proxy(server.port);
  browser = await launchChromium(WaitMs);
  const context = await browser.newContext();

  // 1. two windows, a message from the page, concurrent writers
  const a = await openWindow(context, proxy.url, 'window A');
  const b = await openWindow(context, proxy.url, 'window B');
  await waitLive(a);
  await waitLive(b);
  // The client module came from the app (MapRocketClientScript), as JavaScript, compressed, revalidated by ETag.
  const script = scripts.find((s) => s.label === 'window A');
  check(script?.status === 200 && /^text\/javascript/.test(script.headers['content-type']) && script.headers['content-encoding'] === 'br'
    && /^"[0-9a-f]{16}-br"$/.test(script.headers.etag) && script.headers['cache-control'] === 'no-cache',
    `window A: /rocket/client.js came as ${JSON.stringify(script)}`);
  const text = `typed in window A ${Date.now()}`;
  await a.fill('#text', text);
  await a.click('#compose button[type=submit]');
  await b.waitForFunction((t) => [...document.querySelectorAll('#messages li .text')].some((item) => item.textContent === t), text);
  await writeConcurrently(api, { writers: 4, rounds: 8 });
  const afterWrites = await converge(a, api, 'window A');
  await converge(b, api, 'window B');
  steps.push({ step: 'two windows, concurrent writes', cursor: afterWrites.cursor });

  // 2. dropped connection
  const before = afterWrites.cursor;
  proxy.cut();
  for (const missed of ['missed 1', 'missed 2', 'missed 3']) await api.create(missed);
  await a.waitForFunction(() => window.rocket.state !== 'live');
  await b.waitForFunction(() => window.rocket.state !== 'live');
  proxy.restore();
  const afterDrop = await converge(a, api, 'window A');
  await converge(b, api, 'window B');
  await exactlyAfter(a, 'window A', before, 3);
  await exactlyAfter(b, 'window B', before, 3);
  steps.push({ step: 'dropped connection', from: before, to: afterDrop.cursor });

  // 3. offline, then online: the client does not wait out a backoff
  const connections = proxy.connections;
  await a.evaluate(() => { window.states = []; });
  await context.setOffline(true);
  await context.setOffline(false);
  await a.waitForFunction(() => window.states.includes('reconnecting') && window.rocket.state === 'live');
  await api.create('after online');
  await converge(a, api, 'window A');
  await exactlyAfter(a, 'window A', afterDrop.cursor, 1);
  // SSE and WebSocket open a new connection; SignalR subscribes again on the app's hub connection, if it survived.
  if (!transport.startsWith('signalr')) check(proxy.connections > connections, 'window A: no new connection after the browser came back online');
  steps.push({ step: 'offline and online', reconnections: proxy.connections - connections });

  // 4. restart on the same port: a new epoch
  const oldEpoch = parseCursor(await a.evaluate(() => window.rocket.cursor)).epoch;
  await server.stop();
  const restarted = await processes.sample(sampleDll, { port: server.port });
  const api2 = rest(restarted.baseUrl);
  await api2.create('after the restart');
  const afterRestart = await converge(a, api2, 'window A', RestartWaitMs);
  await converge(b, api2, 'window B', RestartWaitMs);
  const newEpoch = parseCursor(afterRestart.cursor).epoch;
  check(newEpoch !== oldEpoch, `the restarted server kept epoch ${oldEpoch}`);
  for (const [page, label] of [[a, 'window A'], [b, 'window B']]) {
    const recorded = await page.evaluate(() => window.recorded);
    check(recorded.some((change) => change.kind === 'reset' && parseCursor(change.cursor).epoch === newEpoch), `${label}: no reset of epoch ${newEpoch}: ${JSON.stringify(recorded.slice(-5))}`);
  }
  steps.push({ step: 'restart', from: oldEpoch, to: newEpoch });

  // 5. refused
  const refused = await openWindow(context, restarted.baseUrl, 'unknown collection', `transport=${transport}&collection=no-such-collection`);
  await refused.waitForSelector('#state[data-state="error"]');
  const reason = await refused.textContent('#reason');
  check(/404/.test(reason), `unknown collection: the page says '${reason}', expected the 404`);

  // 6. authorization on the sample's families: a room signed out is 401; signed in as alice, bob's notes are 403 and
  //    her own notes are live, the cookie going with the GET and the stream (an upgrade from the page's own origin).
  const room = await openWindow(context, restarted.baseUrl, 'room, signed out', `transport=${transport}&collection=rooms/lobby/messages`);
  await room.waitForSelector('#state[data-state="error"]');
  const roomReason = await room.textContent('#reason');
  check(/401/.test(roomReason), `room, signed out: the page says '${roomReason}', expected the 401`);
  const signedIn = await room.evaluate(async () => (await fetch('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"alice"}' })).status);
  check(signedIn >= 200 && signedIn < 300, `POST /login answered ${signedIn}`);
  const others = await openWindow(context, restarted.baseUrl, "bob's notes as alice", `transport=${transport}&collection=users/bob/notes`);
  await others.waitForSelector('#state[data-state="error"]');
  const othersReason = await others.textContent('#reason');
  check(/403/.test(othersReason), `bob's notes as alice: the page says '${othersReason}', expected the 403`);
  const own = await openWindow(context, restarted.baseUrl, "alice's notes", `transport=${transport}&collection=users/alice/notes`);
  await own.waitForSelector('#state[data-state="live"]');
  await own.fill('#text', 'a note of my own');
  await own.click('#compose button[type=submit]');
  await own.waitForFunction(() => [...document.querySelectorAll('#messages li .text')].some((item) => item.textContent === 'a note of my own'));
  steps.push({ step: 'refused', reason, signedOut: roomReason, forbidden: othersReason });

  check(log.errors.length === 0, `the pages threw: ${log.errors.join('; ')}`);
  return { ok: true, transport, browser: `chromium ${browser.version()}`, steps };
}

runBounded(`js-client-browser ${transport}`, main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: async () => {
    await closeBrowser(browser);
    await processes.stopAll();
  },
  diagnostics: () => [`steps passed: ${JSON.stringify(steps)}`, ...log.diagnostics()],
});
