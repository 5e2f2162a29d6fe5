// Interop: a client no one here wrote keeps a copy of Rocket's keyed document over a WebSocket (rocket.jsonpatch.v1).
//
//   node ws-interop.mjs <baseUrl>        e.g. node ws-interop.mjs http://127.0.0.1:5080
//
// The stream is read by the `ws` package and every patch is applied by `fast-json-patch` with validation on, so an op
// that does not fit the local copy fails the run. The scenario (the same as sse-interop.mjs), against `messages`:
//   1. connect with no cursor (sending nothing: the stream starts at once): the first message must be a reset;
//      creates, a PUT, a PATCH and a DELETE over HTTP must arrive as exactly add, add, add, replace, replace, remove,
//      and the copy must equal GET /messages?form=keyed once the copy's cursor reaches the GET's Last-Event-ID;
//   2. drop the connection, change things over HTTP, reconnect with the last cursor as the `lastEventId` query
//      parameter: the first event must be the one right after the cursor, and the copy must converge again;
//   3. the same with the cursor in a first message {"type":"resume","lastEventId":"..."}, asked for with ?resume=message;
//   4. drop, change things, reconnect with a cursor of another epoch: the first event must be a reset, and the copy
//      must equal the server's document; then a client close is answered with a close frame.
// Prints one JSON summary line and exits 0, or prints why and exits 1. Bounded: 20 s overall, 5 s per wait.
import WebSocket from 'ws';
import { Mismatch, check, parseCursor, isReset, pointerTo, deepEqual, scenario } from './lib/interop.mjs';

const Subprotocol = 'rocket.jsonpatch.v1';
const OverallTimeoutMs = 20_000;
const WaitTimeoutMs = 5_000;

const baseUrl = (process.argv[2] ?? '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(baseUrl)) {
  console.error('usage: node ws-interop.mjs <baseUrl>   (e.g. http://127.0.0.1:5080)');
  process.exit(2);
}
const wsUrl = baseUrl.replace(/^http/, 'ws');

const { copy, openStreams, newStream, accept, waitFor, http, create, converge, expectOps } = scenario({ baseUrl, waitTimeoutMs: WaitTimeoutMs });
const overall = setTimeout(() => fail(`the scenario did not finish within ${OverallTimeoutMs} ms`), OverallTimeoutMs);

function fail(why) {
  for (const stream of openStreams) stream.socket.terminate();
  console.error(`ws-interop: FAIL: ${why}`);
  process.exit(1);
}

// One WebSocket connection. `cursor` (optional) goes in the query or in a first resume message.
function openStream(label, { cursor, via } = {}) {
  let url = `${wsUrl}/messages`;
  if (cursor && via === 'query') url += `?lastEventId=${encodeURIComponent(cursor)}`;
  if (cursor && via === 'message') url += '?resume=message';
  const socket = new WebSocket(url, [Subprotocol]);
  const stream = newStream(label);
  stream.socket = socket;
  stream.closed = null;
  stream.close = () => {
    openStreams.delete(stream);
    return new Promise((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) { resolve(); return; }
      socket.once('close', () => resolve());
      socket.close(1000, 'done');
    });
  };

  socket.on('open', () => {
    if (socket.protocol !== Subprotocol) stream.error ??= `${label}: the server selected subprotocol ${JSON.stringify(socket.protocol)}`;
    if (cursor && via === 'message') socket.send(JSON.stringify({ type: 'resume', lastEventId: cursor }));
    stream.wake();
  });
  socket.on('message', (data, isBinary) => {
    const raw = data.toString('utf8');
    let message = null;
    try { message = isBinary ? null : JSON.parse(raw); } catch { message = null; }
    if (message?.type !== 'patch') {
      stream.error ??= `${label}: unexpected ${isBinary ? 'binary ' : ''}message ${raw}`;
      stream.wake();
      return;
    }
    accept(stream, message.id, message.patch, raw);
  });
  socket.on('close', (code, reason) => {
    stream.closed = { code, reason: reason.toString('utf8') };
    if (openStreams.has(stream)) stream.error ??= `${label}: the server closed the connection: ${code} ${reason}`;
    stream.wake();
  });
  socket.on('error', (error) => {
    stream.error ??= `${label}: WebSocket error: ${error.message}`;
    stream.wake();
  });
  return stream;
}

async function closeAll() {
  await Promise.all([...openStreams].map((stream) => stream.close()));
}

async function main() {
  const summary = { baseUrl };

  // 1. No cursor: a reset, then live events for every kind of change.
  const first = openStream('first');
  await waitFor(first, () => first.events.length >= 1, 'the reset that starts a stream opened with no cursor');
  check(isReset(first.events[0].ops), `first: the first event is not a reset: ${JSON.stringify(first.events[0].ops)}`);
  const a = await create('one');
  const b = await create('two');
  const c = await create('three ~/ "quoted" é');
  const { json: bPut } = await http('PUT', `/messages/${encodeURIComponent(b.id)}`, { body: { id: b.id, text: 'two, replaced' }, expect: 200 });
  const { json: cPatched } = await http('PATCH', `/messages/${encodeURIComponent(c.id)}`, {
    body: [{ op: 'replace', path: '/text', value: 'three, patched' }],
    headers: { 'Content-Type': 'application/json-patch+json' },
    expect: 200,
  });
  await http('DELETE', `/messages/${encodeURIComponent(a.id)}`, { expect: 204 });
  const afterFirst = await converge(first);
  expectOps(first, 1, [
    { op: 'add', path: pointerTo(a.id), value: a },
    { op: 'add', path: pointerTo(b.id), value: b },
    { op: 'add', path: pointerTo(c.id), value: c },
    { op: 'replace', path: pointerTo(b.id), value: bPut },
    { op: 'replace', path: pointerTo(c.id), value: cPatched },
    { op: 'remove', path: pointerTo(a.id) },
  ]);
  summary.first = { events: first.events.length, cursor: afterFirst.cursor, records: Object.keys(copy.document.messages).length };

  // 2. and 3. Drop the connection, change things while away, resume by cursor: no reset, exactly what was missed.
  for (const via of ['query', 'message']) {
    const label = `resume-${via}`;
    await closeAll();
    const cursor = copy.cursor;
    const missed = await create(`made while away (${via})`);
    await http('PUT', `/messages/${encodeURIComponent(b.id)}`, { body: { text: `two, replaced while away (${via})` }, expect: 200 });
    const resumed = openStream(label, { cursor, via });
    await waitFor(resumed, () => resumed.events.length >= 1, `the first event after resuming from ${cursor}`);
    const firstEvent = resumed.events[0];
    check(!isReset(firstEvent.ops), `${label}: resuming from ${cursor} (still in history) started with a reset`);
    const from = parseCursor(cursor);
    const next = parseCursor(firstEvent.id);
    check(next.epoch === from.epoch && next.sequence === from.sequence + 1n,
      `${label}: resuming from ${cursor}, the first event is ${firstEvent.id}, not the one right after it`);
    check(deepEqual(firstEvent.ops, [{ op: 'add', path: pointerTo(missed.id), value: missed }]),
      `${label}: the first resumed event is ${JSON.stringify(firstEvent.ops)}, expected the add of ${missed.id}`);
    const after = await converge(resumed);
    summary[label] = { from: cursor, events: resumed.events.length, cursor: after.cursor };
  }

  // 4. A cursor of another epoch: a reset, which alone brings the stale copy to the server's document.
  await closeAll();
  const current = parseCursor(copy.cursor);
  const otherEpoch = ((parseInt(current.epoch, 16) ^ 0x1) >>> 0).toString(16).padStart(8, '0');
  const foreignCursor = `${otherEpoch}.${current.sequence}`;
  const lateRecord = await create('made before the reset');
  await http('DELETE', `/messages/${encodeURIComponent(c.id)}`, { expect: 204 });
  const appliedBefore = copy.applied;
  const reset = openStream('reset', { cursor: foreignCursor, via: 'query' });
  await waitFor(reset, () => reset.events.length >= 1, `the first event after connecting with ${foreignCursor}`);
  check(isReset(reset.events[0].ops), `reset: a cursor of another epoch (${foreignCursor}) did not start with a reset: ${JSON.stringify(reset.events[0].ops)}`);
  const afterReset = await converge(reset);
  check(copy.applied === appliedBefore + reset.events.length, 'reset: events were applied from a closed stream');
  check(Object.hasOwn(copy.document.messages, lateRecord.id) && !Object.hasOwn(copy.document.messages, c.id),
    'reset: the copy does not show the changes made while away');
  await reset.close();
  check(reset.closed?.code === 1000, `reset: the server answered the client's close with ${JSON.stringify(reset.closed)}`);
  summary.reset = { from: foreignCursor, events: reset.events.length, cursor: afterReset.cursor, records: Object.keys(copy.document.messages).length };

  summary.ok = true;
  summary.applied = copy.applied;
  console.log(JSON.stringify(summary));
}

main().then(
  () => { clearTimeout(overall); process.exit(0); },
  (error) => fail(error instanceof Mismatch ? error.message : error?.stack ?? String(error)),
);
