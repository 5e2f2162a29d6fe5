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
import { check, otherEpochCursor, scenario } from './lib/interop.mjs';
import { baseUrlArgument, runBounded } from './lib/script.mjs';

const Subprotocol = 'rocket.jsonpatch.v1';
const OverallTimeoutMs = 20_000;
const WaitTimeoutMs = 5_000;

const baseUrl = baseUrlArgument('ws-interop.mjs');
const wsUrl = baseUrl.replace(/^http/, 'ws');

const { copy, openStreams, newStream, accept, everyKindOfChange, resumeAfterAway, resetAfterAway } = scenario({ baseUrl, waitTimeoutMs: WaitTimeoutMs });

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
  const transport = { closeAll, openStream };

  // 1. No cursor: a reset, then live events for every kind of change.
  const first = openStream('first');
  const { b, c, cursor } = await everyKindOfChange(first);
  summary.first = { events: first.events.length, cursor, records: Object.keys(copy.document.messages).length };

  // 2. and 3. Drop the connection, change things while away, resume by cursor: no reset, exactly what was missed.
  for (const via of ['query', 'message']) summary[`resume-${via}`] = await resumeAfterAway(via, b, transport);

  // 4. A cursor of another epoch: a reset, which alone brings the stale copy to the server's document.
  const reset = await resetAfterAway('reset', otherEpochCursor(copy.cursor), 'query', c.id, transport);
  await reset.stream.close();
  check(reset.stream.closed?.code === 1000, `reset: the server answered the client's close with ${JSON.stringify(reset.stream.closed)}`);
  summary.reset = reset.summary;

  summary.ok = true;
  summary.applied = copy.applied;
  return summary;
}

// Whatever is still open when the scenario ends (a failure) is dropped, not closed politely.
runBounded('ws-interop', main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: async () => { for (const stream of openStreams) stream.socket.terminate(); },
});
