// Takes the screenshot of the sample page in the README: starts the sample, opens `/?transport=<t>` in headless
// Chromium, signs in as alice with the page's development-only sign-in box, makes a few changes to /messages over HTTP
// (creates, a PUT, a PATCH, a DELETE), posts two messages in the room view, waits until the page shows the server's
// cursors, and saves a PNG.
//
//   node screenshot.mjs <path to Rocket.Sample.dll> <out.png> [sse|websocket|signalr|signalr-msgpack]
//   e.g. (after a build) node screenshot.mjs ../Rocket.Interop.Tests/bin/Release/net10.0/Rocket.Sample.dll ../../docs/images/js-client-sample.png websocket
import { launchChromium } from './lib/browser.mjs';
import { rest } from './lib/live-client.mjs';
import { startSample } from './lib/sample-process.mjs';

const [sampleDll, out, transport = 'websocket'] = process.argv.slice(2);
if (!sampleDll || !out) {
  console.error('usage: node screenshot.mjs <Rocket.Sample.dll> <out.png> [transport]');
  process.exit(2);
}

const server = await startSample(sampleDll);
let browser;
try {
  const api = rest(server.baseUrl);
  browser = await launchChromium(30_000);
  const page = await browser.newPage({ viewport: { width: 1100, height: 1010 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.baseUrl}/?transport=${transport}`);
  await page.waitForSelector('#room-state[data-state="error"]');
  await page.fill('#user', 'alice');
  await Promise.all([page.waitForEvent('load'), page.click('#login')]);
  await page.waitForSelector('#who[data-user="alice"]');
  await page.waitForSelector('#state[data-state="live"]');
  await page.waitForSelector('#room-state[data-state="live"]');
  const hello = await api.create('Hello from Rocket');
  const second = await api.create('Every change arrives as a JSON Patch');
  const typo = await api.create('A message with a tpyo');
  await api.create('Open a second window: both show the same cursor');
  await api.update(typo.id, 'A message without a typo');
  await api.patch(second.id, [{ op: 'add', path: '/pinned', value: true }]);
  const doomed = await api.create('This one is deleted');
  await api.remove(doomed.id);
  await page.fill('#text', 'typed on the page');
  await page.click('#compose button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 5);
  for (const text of ['Hi, this is alice in the lobby', 'Signed-in users only: signed out, this view shows the 401']) {
    await page.fill('#room-text', text);
    await page.click('#room-compose button[type=submit]');
    await page.waitForFunction((t) => [...document.querySelectorAll('#room-messages li .text')].some((item) => item.textContent === t), text);
  }
  const { cursor } = await api.keyed();
  await page.waitForFunction((c) => window.rocket.cursor === c, cursor);
  await page.screenshot({ path: out, fullPage: false });
  console.log(JSON.stringify({ ok: true, out, transport, cursor, first: hello.id }));
} finally {
  await browser?.close();
  await server.stop();
}
