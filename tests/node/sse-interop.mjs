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
import { check, otherEpochCursor, scenario } from './lib/interop.mjs';
import { baseUrlArgument, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 30_000;
const WaitTimeoutMs = 10_000;

const baseUrl = baseUrlArgument('sse-interop.mjs');

const { copy, openStreams, newStream, accept, everyKindOfChange, resumeAfterAway, resetAfterAway } = scenario({ baseUrl, waitTimeoutMs: WaitTimeoutMs });

async function closeAll() {
  [...openStreams].forEach((stream) => stream.close());
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
  const transport = { closeAll, openStream };

  // 1. No cursor: a reset, then live events for every kind of change.
  const first = openStream('first');
  const { b, cPatched, cursor } = await everyKindOfChange(first);
  check(cPatched?.text === 'three, patched', `PATCH: the returned record is ${JSON.stringify(cPatched)}`);
  summary.first = { events: first.events.length, cursor, records: Object.keys(copy.document.messages).length };

  // 2. and 3. Drop the connection, change things while away, resume by cursor: no reset, exactly what was missed.
  for (const via of ['query', 'header']) summary[`resume-${via}`] = await resumeAfterAway(via, b, transport);

  // 4. and 5. A cursor of another epoch, then a garbage one: a reset, which alone brings the stale copy to the
  // server's document.
  const resets = [
    { label: 'reset-epoch', cursor: otherEpochCursor(copy.cursor), via: 'header' },
    { label: 'reset-garbage', cursor: 'garbage', via: 'query' },
  ];
  for (const { label, cursor, via } of resets) {
    const gone = Object.keys(copy.document.messages)[0];
    summary[label] = (await resetAfterAway(label, cursor, via, gone, transport)).summary;
  }
  await closeAll();

  summary.ok = true;
  summary.applied = copy.applied;
  return summary;
}

runBounded('sse-interop', main, { overallTimeoutMs: OverallTimeoutMs, cleanup: closeAll });
