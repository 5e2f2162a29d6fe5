// Interop: a real browser's WebSocket (Debian's headless Chromium, driven by playwright-core) against Rocket's
// WebSocket endpoint, whose HTTP/1.1 handshake and frames Rocket writes itself.
//
//   node browser-ws-interop.mjs <baseUrl>        e.g. node browser-ws-interop.mjs http://127.0.0.1:5080
//
// Opens the sample page (for an http origin), then in the page `new WebSocket(<ws url>/messages, 'rocket.jsonpatch.v1')`,
// sends `{"type":"resume"}` and records every message. Node creates a small record, a record of 100,000 characters (a
// frame with a 64-bit length) and ten more small ones, then deletes the large one; the browser must receive the reset
// first and then an `add` for each record and the `remove`, in order, with increasing ids, each intact. Then the page
// closes with 1000 and must see the server's close answer. Prints one JSON summary line and exits 0, or prints why and
// exits 1. The browser is always closed. Bounded: 60 s overall, 20 s per wait.
import { closeBrowser, launchChromium, openPage, pageLog } from './lib/browser.mjs';
import { check, createMessage, pointerTo } from './lib/interop.mjs';
import { baseUrlArgument, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 60_000;
const WaitTimeoutMs = 20_000;
const Subprotocol = 'rocket.jsonpatch.v1';

const baseUrl = baseUrlArgument('browser-ws-interop.mjs');

const post = (text) => createMessage(baseUrl, text);

let browser;
const log = pageLog();

async function main() {
  browser = await launchChromium(WaitTimeoutMs);
  const page = await openPage(browser, `${baseUrl}/`, { timeoutMs: WaitTimeoutMs, log });

  const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/messages`;
  const protocol = await page.evaluate(([url, subprotocol]) => new Promise((resolve, reject) => {
    const socket = new WebSocket(url, subprotocol);
    window.rocketSocket = socket;
    window.wsMessages = [];
    window.wsClose = null;
    socket.onmessage = (event) => window.wsMessages.push(event.data);
    socket.onclose = (event) => { window.wsClose = { code: event.code, wasClean: event.wasClean }; };
    socket.onerror = () => reject(new Error('the WebSocket failed to open'));
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'resume' }));
      resolve(socket.protocol);
    };
  }), [wsUrl, Subprotocol]);
  check(protocol === Subprotocol, `the browser's WebSocket selected ${JSON.stringify(protocol)}`);
  await page.waitForFunction(() => window.wsMessages.length >= 1);

  const large = 'L'.repeat(100_000);
  const records = [await post('small before')];
  records.push(await post(large));
  for (let i = 0; i < 10; i++) records.push(await post(`small after ${i}`));
  const deleted = await fetch(`${baseUrl}/messages/${encodeURIComponent(records[1].id)}`, { method: 'DELETE' });
  check(deleted.ok, `DELETE answered ${deleted.status}`);

  const expected = 1 + records.length + 1;
  await page.waitForFunction((count) => window.wsMessages.length >= count, expected);
  const messages = (await page.evaluate(() => window.wsMessages)).map((text) => JSON.parse(text));
  check(messages.length === expected, `the browser received ${messages.length} messages, expected ${expected}`);
  check(messages.every((m) => m.type === 'patch'), 'a message is not a patch');
  check(messages[0].patch.length === 1 && messages[0].patch[0].op === 'replace' && messages[0].patch[0].path === '',
    'the first message is not a reset');
  records.forEach((record, i) => {
    const op = messages[i + 1].patch[0];
    check(op.op === 'add' && op.path === pointerTo(record.id), `message ${i + 1} is not the add of ${record.id}`);
    check(op.value.text === record.text, `the add of ${record.id} carries ${String(op.value.text).length} characters, not ${record.text.length}`);
  });
  const remove = messages[expected - 1].patch[0];
  check(remove.op === 'remove' && remove.path === pointerTo(records[1].id), 'the last message is not the remove');
  const sequences = messages.map((m) => Number(m.id.split('.')[1]));
  check(sequences.every((s, i) => i === 0 || s > sequences[i - 1]), `ids do not increase: ${messages.map((m) => m.id)}`);

  await page.evaluate(() => window.rocketSocket.close(1000, 'bye'));
  await page.waitForFunction(() => window.wsClose !== null);
  const close = await page.evaluate(() => window.wsClose);
  check(close.code === 1000 && close.wasClean, `the close ended with ${JSON.stringify(close)}`);
  check(log.errors.length === 0, `the page threw: ${log.errors.join('; ')}`);

  return {
    ok: true,
    baseUrl,
    browser: `chromium ${browser.version()}`,
    protocol,
    messages: messages.length,
    largest: Math.max(...messages.map((m) => JSON.stringify(m).length)),
  };
}

runBounded('browser-ws-interop', main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: () => closeBrowser(browser),
  diagnostics: () => log.diagnostics(),
});
