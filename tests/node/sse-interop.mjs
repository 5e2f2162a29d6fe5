// Interop: a client no one here wrote keeps a copy of Rocket's keyed document over Server-Sent Events.
//
//   node sse-interop.mjs <baseUrl>        e.g. node sse-interop.mjs http://127.0.0.1:5080
//
// The stream is read by the `eventsource` package (a WHATWG EventSource for Node) and every patch is applied by
// `fast-json-patch` with validation on, so an op that does not fit the local copy (a remove of a missing record, an
// add under a missing parent) fails the run. The scenario, against the `messages` collection:
//   1. connect with no cursor: the first event must be a reset; creates, a PUT, a PATCH and a DELETE over HTTP must
//      arrive as exactly add, add, add, replace, replace, remove, and the copy must equal GET /messages?form=keyed
//      once the copy's cursor reaches the GET's Last-Event-ID;
//   2. close, change things over HTTP, reconnect with the last cursor as the `lastEventId` query parameter: the first
//      event must not be a reset, it must be the event right after the cursor, and the copy must converge again;
//   3. the same with the cursor in the `Last-Event-ID` request header (set through the eventsource `fetch` option),
//      beside a garbage `lastEventId` query parameter (the header wins);
//   4. close, change things, reconnect with a cursor of another epoch: the first event must be a reset, and the copy
//      must equal the server's document;
//   5. the same with a garbage cursor.
// Prints one JSON summary line and exits 0, or prints why and exits 1. Bounded: 30 s overall, 10 s per wait (generous: CI machines are shared).
import { EventSource } from 'eventsource';
import { Mismatch, check, parseCursor, isReset, pointerTo, deepEqual, scenario } from './lib/interop.mjs';

const OverallTimeoutMs = 30_000;
const WaitTimeoutMs = 10_000;

const baseUrl = (process.argv[2] ?? '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(baseUrl)) {
  console.error('usage: node sse-interop.mjs <baseUrl>   (e.g. http://127.0.0.1:5080)');
  process.exit(2);
}

const { copy, openStreams, newStream, accept, waitFor, http, create, converge, expectOps } = scenario({ baseUrl, waitTimeoutMs: WaitTimeoutMs });
const overall = setTimeout(() => fail(`the scenario did not finish within ${OverallTimeoutMs} ms`), OverallTimeoutMs);

function fail(why) {
  for (const stream of openStreams) stream.close();
  console.error(`sse-interop: FAIL: ${why}`);
  process.exit(1);
}

// One EventSource connection. `cursor` (optional) is sent as the lastEventId query parameter or the Last-Event-ID
// request header. Every `patch` event is checked (cursor format, strictly increasing) and applied to `copy`.
function openStream(label, { cursor, via } = {}) {
  let url = `${baseUrl}/messages`;
  const init = {};
  if (cursor && via === 'query') url += `?lastEventId=${encodeURIComponent(cursor)}`;
  // The header wins over the query parameter: a garbage parameter beside a good header must not cause a reset.
  if (cursor && via === 'header') url += '?lastEventId=not-a-cursor';
  if (cursor && via === 'header') {
    init.fetch = (input, options) =>
      globalThis.fetch(input, { ...options, headers: { ...options.headers, 'Last-Event-ID': cursor } });
  }
  const source = new EventSource(url, init);
  const stream = newStream(label);
  stream.close = () => {
    source.close();
    openStreams.delete(stream);
  };

  source.addEventListener('patch', (event) => {
    let ops;
    try { ops = JSON.parse(event.data); } catch { ops = null; }
    accept(stream, event.lastEventId, ops, event.data);
  });
  // The scenario never expects the connection to fail: any error (a refused request, a wrong content type, a
  // dropped stream the client would reconnect by itself) is reported, not silently retried.
  source.addEventListener('error', (event) => {
    stream.error ??= `${label}: EventSource error (readyState ${source.readyState}): ${event.message ?? event.code ?? 'connection failed'}`;
    stream.wake();
  });
  return stream;
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
  check(cPatched?.text === 'three, patched', `PATCH: the returned record is ${JSON.stringify(cPatched)}`);
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
  for (const via of ['query', 'header']) {
    const label = `resume-${via}`;
    const streams = [...openStreams];
    streams.forEach((stream) => stream.close());
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

  // 4. and 5. A cursor of another epoch, then a garbage one: a reset, which alone brings the stale copy to the
  // server's document.
  const current = parseCursor(copy.cursor);
  const otherEpoch = ((parseInt(current.epoch, 16) ^ 0x1) >>> 0).toString(16).padStart(8, '0');
  const resets = [
    { label: 'reset-epoch', cursor: `${otherEpoch}.${current.sequence}`, via: 'header' },
    { label: 'reset-garbage', cursor: 'garbage', via: 'query' },
  ];
  for (const { label, cursor, via } of resets) {
    [...openStreams].forEach((stream) => stream.close());
    const lateRecord = await create(`made before ${label}`);
    const gone = Object.keys(copy.document.messages)[0];
    await http('DELETE', `/messages/${encodeURIComponent(gone)}`, { expect: 204 });
    const appliedBefore = copy.applied;
    const reset = openStream(label, { cursor, via });
    await waitFor(reset, () => reset.events.length >= 1, `the first event after connecting with ${cursor}`);
    check(isReset(reset.events[0].ops), `${label}: the cursor ${cursor} did not start with a reset: ${JSON.stringify(reset.events[0].ops)}`);
    const after = await converge(reset);
    check(copy.applied === appliedBefore + reset.events.length, `${label}: events were applied from a closed stream`);
    check(Object.hasOwn(copy.document.messages, lateRecord.id) && !Object.hasOwn(copy.document.messages, gone),
      `${label}: the copy does not show the changes made while away`);
    summary[label] = { from: cursor, events: reset.events.length, cursor: after.cursor, records: Object.keys(copy.document.messages).length };
  }
  [...openStreams].forEach((stream) => stream.close());

  summary.ok = true;
  summary.applied = copy.applied;
  console.log(JSON.stringify(summary));
}

main().then(
  () => { clearTimeout(overall); process.exit(0); },
  (error) => fail(error instanceof Mismatch ? error.message : error?.stack ?? String(error)),
);
