// The JavaScript client (@rocket-live/client, clients/js) in Node 20 against the real sample server, over one transport.
//
//   node js-client-node.mjs <path to Rocket.Sample.dll> <sse|websocket|signalr> [json|messagepack]
//
// Starts the sample as a child process (and a TCP proxy in front of it), then, in order:
//   1. live: a client through the proxy loads the document (change 'load'), goes live, and applies creates, a PUT, a
//      PATCH and a DELETE as 'patch' changes; its copy equals GET ?form=keyed at the server's cursor.
//   2. dropped connection: the proxy cuts every connection and refuses new ones; three records are created meanwhile;
//      once the client noticed (state not 'live') the proxy lets it back: it resumes with exactly the three missed
//      events (consecutive sequences after its cursor, no reset, no refetch) and equals the server.
//   2b. large: a long event (about 200 KB) arrives whole; the connection is cut, about 3 MB of records are written, and
//      the client resumes with a reset of the whole (its backlog is past the server's queue limit); with SignalR
//      (slices as patchPart messages) the connection is cut again while the reset's slices arrive, and the copy still
//      ends equal to the server's, with only patches and resets applied.
//   3. concurrent writes: a second client opens; four writers create, replace, patch and delete at once; both clients
//      reach the server's cursor with documents equal to the server's.
//   4. refused: a client of an unknown collection ends in state 'error' with status 404 and its `ready` rejects (with
//      SignalR also a hub subscription refused with NotFound), instead of retrying silently; so do a room of the
//      sample's families signed out (401) and another user's notes (403), while the signed-in user's own notes
//      (cookie on every request) are live and show a note she writes.
//   5. restart: the server is stopped (a graceful shutdown) and a new one started on the same port (a new epoch): the
//      client reconnects by itself, gets a 'reset' of the new epoch, and equals the new server.
// Prints one JSON summary line with "ok":true and exits 0, or prints why and exits 1. Bounded: 180 s overall, 30 s per
// wait (60 s for the restart). The processes it started are stopped by PID whatever happens.
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { openCollection, RocketError } from '@rocket-live/client';
import WebSocket from 'ws';
import { check, parseCursor } from './lib/interop.mjs';
import { checkExactlyAfter, converge, record, rest, signIn, waitFor, writeConcurrently } from './lib/live-client.mjs';
import { started } from './lib/sample-process.mjs';
import { exitWithUsage, runBounded } from './lib/script.mjs';

const OverallTimeoutMs = 180_000;
const WaitMs = 30_000;
const RestartWaitMs = 60_000;

const [sampleDll, transport, protocol = 'json'] = process.argv.slice(2);
if (!sampleDll || !['sse', 'websocket', 'signalr'].includes(transport) || !['json', 'messagepack'].includes(protocol)) {
  exitWithUsage('node js-client-node.mjs <Rocket.Sample.dll> <sse|websocket|signalr> [json|messagepack]');
}

const processes = started();
const collections = [];
const hubs = [];
const steps = [];

function hubFor(baseUrl, headers = {}) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${baseUrl}/rocket`, { transport: signalR.HttpTransportType.WebSockets, headers })
    .configureLogging(signalR.LogLevel.None);
  // One protocol with SignalR's automatic reconnect, one without: the client must resume after either.
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol()).withAutomaticReconnect([0, 250, 500, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]);
  const hub = builder.build();
  hubs.push(hub);
  return hub;
}

// maxDelay bounds the backoff so the scenario does not wait out a 30 s ceiling; everything else is the default.
// `cookie` goes with every request of the client: the GET and SSE stream (headers), the WebSocket upgrade (ws takes
// headers), SignalR's requests.
function open(baseUrl, label, { cookie, ...options } = {}) {
  const headers = cookie ? { Cookie: cookie } : {};
  const WebSocketWithHeaders = class extends WebSocket {
    constructor(url, protocols) { super(url, protocols, { headers }); }
  };
  const collection = openCollection(`${baseUrl}${options.path ?? '/messages'}`, {
    transport,
    maxDelay: 2000,
    WebSocket: WebSocketWithHeaders,
    headers,
    ...(transport === 'signalr' ? { hubConnection: hubFor(baseUrl, headers) } : {}),
    ...options,
  });
  collections.push(collection);
  return record(collection, label);
}

async function main() {
  const server = await processes.sample(sampleDll);
  const api = rest(server.baseUrl);
  const proxy = await processes.proxy(server.port);

  // 1. live
  const a = open(proxy.url, 'client A');
  await a.collection.ready;
  check(a.collection.state === 'live', `client A: state ${a.collection.state} after ready`);
  check(a.changes[0]?.kind === 'load', `client A: the first change is ${a.changes[0]?.kind}, expected load`);
  const first = await api.create('one');
  const second = await api.create('two');
  await api.create('three');
  await api.update(first.id, 'one, replaced');
  await api.patch(second.id, [{ op: 'replace', path: '/text', value: 'two, patched' }]);
  await api.remove(first.id);
  const afterLive = await converge(a, api, WaitMs);
  const liveKinds = a.changes.slice(1).map((change) => change.kind);
  check(liveKinds.length === 6 && liveKinds.every((kind) => kind === 'patch'), `client A: expected six patch changes, got ${JSON.stringify(liveKinds)}`);
  check(a.changes[1].ids.length === 1 && a.changes[1].ids[0] === first.id, `client A: the first create's change names ${JSON.stringify(a.changes[1].ids)}, expected [${first.id}]`);
  check(a.collection.list.length === 2 && a.collection.records[second.id]?.text === 'two, patched', `client A: records ${JSON.stringify(a.collection.records)}`);
  steps.push({ step: 'live', cursor: afterLive.cursor });

  // 2. dropped connection
  const before = a.collection.cursor;
  const changesBefore = a.changes.length;
  const connectionsBefore = proxy.connections;
  proxy.cut();
  for (const text of ['missed 1', 'missed 2', 'missed 3']) await api.create(text);
  await waitFor(a, () => a.collection.state !== 'live', 'the client to notice the cut connection', WaitMs);
  proxy.restore();
  const afterDrop = await converge(a, api, WaitMs);
  checkExactlyAfter(a, changesBefore, before, 3);
  check(proxy.connections > connectionsBefore, 'client A: resumed without a new connection through the proxy');
  check(a.collection.state === 'live', `client A: state ${a.collection.state} after resuming`);
  steps.push({ step: 'dropped connection', from: before, to: afterDrop.cursor, reconnections: proxy.connections - connectionsBefore });

  // 2b. large: a long event and then a reset of about 3 MB, both longer than a slice (64 KiB; with SignalR they come as
  //     patchPart messages the client joins); with SignalR the connection is also cut while the reset's slices arrive
  const big = 'é "q" \\ € 😀 '.repeat(7_000);
  const changesBeforeLarge = a.changes.length;
  const long = await api.create(`long ${big}`);
  await converge(a, api, WaitMs);
  check(a.collection.records[long.id]?.text === `long ${big}`, 'client A: the long event did not arrive whole');
  proxy.cut();
  for (let i = 0; i < 24; i++) await api.create(`${i} ${big}`);
  await waitFor(a, () => a.collection.state !== 'live', 'the client to notice the cut connection', WaitMs);
  let slices = 0;
  const cutMidReset = () => { if (++slices === 3) proxy.cut(); };
  if (transport === 'signalr') hubs[0].on('patchPart', cutMidReset);
  proxy.restore();
  if (transport === 'signalr') {
    await waitFor(a, () => slices >= 3 && a.collection.state !== 'live', 'a cut while the reset arrives in slices', WaitMs);
    hubs[0].off('patchPart', cutMidReset);
    proxy.restore();
  }
  const afterLarge = await converge(a, api, WaitMs);
  const largeKinds = a.changes.slice(changesBeforeLarge).map((change) => change.kind);
  check(largeKinds[0] === 'patch' && largeKinds.at(-1) === 'reset' && largeKinds.every((kind) => kind === 'patch' || kind === 'reset'),
    `client A: the large changes were ${JSON.stringify(largeKinds)}, expected a patch then a reset`);
  steps.push({ step: 'large', cursor: afterLarge.cursor, changes: largeKinds, slices: transport === 'signalr' ? slices : undefined });

  // 3. concurrent writes, two clients
  const b = open(proxy.url, 'client B');
  await b.collection.ready;
  await writeConcurrently(api, { writers: 4, rounds: 10 });
  const afterWrites = await converge(a, api, WaitMs);
  await converge(b, api, WaitMs);
  check(a.collection.cursor === b.collection.cursor, `the clients stopped at ${a.collection.cursor} and ${b.collection.cursor}`);
  b.collection.close();
  check(b.collection.state === 'closed', `client B: state ${b.collection.state} after close()`);
  steps.push({ step: 'concurrent writes', cursor: afterWrites.cursor, records: a.collection.list.length });

  // 4. refused
  const unknown = open(server.baseUrl, 'unknown collection', { path: '/no-such-collection' });
  const refusal = await unknown.collection.ready.then(() => null, (error) => error);
  check(refusal instanceof RocketError && refusal.status === 404, `unknown collection: ready settled with ${refusal?.stack ?? refusal}`);
  check(unknown.collection.state === 'error' && unknown.collection.error === refusal, `unknown collection: state ${unknown.collection.state}`);
  const refused = [404];
  if (transport === 'signalr') {
    // The document GET of /messages answers; the hub refuses the subscription to a collection it does not have.
    const hubRefused = open(server.baseUrl, 'unknown hub collection', { collection: 'no-such-collection' });
    const hubError = await hubRefused.collection.ready.then(() => null, (error) => error);
    check(hubError instanceof RocketError && hubError.status === 404 && /^NotFound:/.test(hubError.message),
      `unknown hub collection: ready settled with ${hubError?.stack ?? hubError}`);
    check(hubRefused.collection.state === 'error', `unknown hub collection: state ${hubRefused.collection.state}`);
    refused.push(`hub ${hubError.message.split(':')[0]}`);
  }
  // Authorization, on the sample's collection families: signed out, a room is 401; signed in as alice, bob's notes
  // are 403 and her own notes are live (an instance named users/alice/notes, whose document member is `notes`).
  const signedOut = open(server.baseUrl, 'room, signed out', { path: '/rooms/lobby/messages' });
  const unauthorized = await signedOut.collection.ready.then(() => null, (error) => error);
  check(unauthorized instanceof RocketError && unauthorized.status === 401 && signedOut.collection.state === 'error',
    `room, signed out: ready settled with ${unauthorized?.stack ?? unauthorized}`);
  const cookie = await signIn(server.baseUrl, 'alice');
  const othersNotes = open(server.baseUrl, "bob's notes as alice", { path: '/users/bob/notes', cookie });
  const forbidden = await othersNotes.collection.ready.then(() => null, (error) => error);
  check(forbidden instanceof RocketError && forbidden.status === 403 && othersNotes.collection.state === 'error',
    `bob's notes as alice: ready settled with ${forbidden?.stack ?? forbidden}`);
  refused.push(401, 403);
  const notes = open(server.baseUrl, "alice's notes", { path: '/users/alice/notes', cookie });
  await notes.collection.ready;
  check(notes.collection.name === 'users/alice/notes' && notes.collection.member === 'notes', `name ${notes.collection.name}, member ${notes.collection.member}`);
  const note = await fetch(`${server.baseUrl}/users/alice/notes`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify({ text: 'mine' }) });
  check(note.status === 201, `POST /users/alice/notes answered ${note.status}`);
  const { id: noteId } = await note.json();
  await waitFor(notes, () => notes.collection.records[noteId]?.text === 'mine', "alice's note in her live copy", WaitMs);
  steps.push({ step: 'refused', refused, authorizedFamily: notes.collection.cursor });

  // 5. restart: a new process on the same port, a new epoch
  const oldEpoch = parseCursor(a.collection.cursor).epoch;
  const changesBeforeRestart = a.changes.length;
  await server.stop();
  const restarted = await processes.sample(sampleDll, { port: server.port });
  const api2 = rest(restarted.baseUrl);
  await api2.create('after the restart');
  const afterRestart = await converge(a, api2, RestartWaitMs);
  const newEpoch = parseCursor(afterRestart.cursor).epoch;
  check(newEpoch !== oldEpoch, `the restarted server kept epoch ${oldEpoch}`);
  const restartKinds = a.changes.slice(changesBeforeRestart).map((change) => change.kind);
  check(restartKinds.includes('reset') && !restartKinds.includes('refetch'), `client A: after the restart the changes were ${JSON.stringify(restartKinds)}, expected a reset`);
  const reset = a.changes.slice(changesBeforeRestart).find((change) => change.kind === 'reset');
  check(parseCursor(reset.cursor).epoch === newEpoch, `client A: the reset ${reset.cursor} is not of the new epoch ${newEpoch}`);
  steps.push({ step: 'restart', from: oldEpoch, to: newEpoch, changes: restartKinds });

  return { ok: true, transport, protocol: transport === 'signalr' ? protocol : undefined, steps };
}

runBounded(`js-client-node ${transport}`, main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: async () => {
    for (const collection of collections) collection.close();
    await Promise.allSettled(hubs.map((hub) => hub.stop()));
    await processes.stopAll();
  },
  diagnostics: () => [`steps passed: ${JSON.stringify(steps)}`, ...processes.outputs()],
});
