// The JavaScript client's shared WebSocket (`{ transport: 'websocket', shared: '/rocket/ws' }`) in Node 20 against the
// real sample server (its multi-collection WebSocket, MapRocketWebSocket) behind a TCP proxy.
//
//   node js-client-shared.mjs <path to Rocket.Sample.dll>
//
// Signed in as alice (the sample's development-only cookie sign-in), in order:
//   1. two collections on one socket: the room rooms/lobby/messages and alice's notes users/alice/notes open with the
//      same `shared` URL; exactly one WebSocket is made; a room message and a note are written in turn, four times:
//      each copy gets its own four events, in order, and equals the server's GET.
//   2. refused, the other undisturbed: bob's notes (the GET answers 403) and a subscription on the shared socket that
//      the server refuses (a copy of alice's notes subscribed as `users/bob/notes`: an `error` message, Forbidden) end
//      in state 'error' with status 403; the socket stays open (still one WebSocket), and the room and the notes stay
//      live and get the next writes.
//   3. dropped socket: the proxy cuts every connection and refuses new ones; two room messages and one note are
//      written; once both collections noticed, the proxy lets them back: each resumes with exactly its missed events
//      (consecutive sequences after its cursor, no reset or refetch) and equals the server.
//   4. closing: closing the notes leaves the room live on the socket (a new message arrives); closing the room, the
//      last collection on it, closes the socket.
// Prints one JSON summary line with "ok":true and exits 0, or prints why and exits 1. Bounded: 120 s overall, 30 s per
// wait. The processes it started are stopped by PID whatever happens.
import { openCollection, RocketError } from '@rocket-live/client';
import WebSocket from 'ws';
import { check } from './lib/interop.mjs';
import { checkExactlyAfter, converge, record, signIn, waitFor } from './lib/live-client.mjs';
import { started } from './lib/sample-process.mjs';
import { exitWithUsage, runBounded, within } from './lib/script.mjs';

const OverallTimeoutMs = 120_000;
const WaitMs = 30_000;

const [sampleDll] = process.argv.slice(2);
if (!sampleDll) {
  exitWithUsage('node js-client-shared.mjs <Rocket.Sample.dll>');
}

const processes = started();
const collections = [];
const steps = [];

// Every WebSocket the client makes, with alice's cookie on the upgrade (ws takes headers; a browser sends the cookie).
const sockets = [];
let cookie;
class CountedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { headers: { Cookie: cookie } });
    sockets.push(this);
  }
}

// The server side of one collection, as alice: writes and the keyed GET (what converge() compares the copy with).
function api(baseUrl, path) {
  const request = async (method, body) => {
    const response = await fetch(`${baseUrl}${path}${method === 'GET' ? '?form=keyed' : ''}`, {
      method,
      headers: { Accept: 'application/json', Cookie: cookie, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    check(response.status === (method === 'POST' ? 201 : 200), `${method} ${path}: ${response.status} ${text}`);
    return { json: JSON.parse(text), cursor: response.headers.get('last-event-id') };
  };
  return {
    create: async (text) => (await request('POST', { text })).json,
    keyed: async () => {
      const { json, cursor } = await request('GET');
      return { document: json, cursor };
    },
  };
}

function open(baseUrl, path, label, options = {}) {
  const collection = openCollection(`${baseUrl}${path}`, {
    transport: 'websocket',
    shared: '/rocket/ws',
    WebSocket: CountedWebSocket,
    headers: { Cookie: cookie },
    maxDelay: 2000,
    ...options,
  });
  collections.push(collection);
  return record(collection, label);
}

const patchCursors = (recorder, from) => recorder.changes.slice(from).filter((change) => change.kind === 'patch').length;

async function main() {
  const server = await processes.sample(sampleDll);
  const proxy = await processes.proxy(server.port);
  cookie = await signIn(server.baseUrl, 'alice');
  const roomApi = api(server.baseUrl, '/rooms/lobby/messages');
  const notesApi = api(server.baseUrl, '/users/alice/notes');

  // 1. two collections on one socket, interleaved writes
  const room = open(proxy.url, '/rooms/lobby/messages', 'room');
  const notes = open(proxy.url, '/users/alice/notes', 'notes');
  await Promise.all([room.collection.ready, notes.collection.ready]);
  check(sockets.length === 1, `two collections made ${sockets.length} WebSockets, expected one`);
  check(new URL(sockets[0].url).pathname === '/rocket/ws', `the socket went to ${sockets[0].url}`);
  for (let i = 0; i < 4; i++) {
    await roomApi.create(`room ${i}`);
    await notesApi.create(`note ${i}`);
  }
  const roomNow = await converge(room, roomApi, WaitMs);
  const notesNow = await converge(notes, notesApi, WaitMs);
  check(patchCursors(room, 0) === 4 && patchCursors(notes, 0) === 4, `patches: room ${patchCursors(room, 0)}, notes ${patchCursors(notes, 0)}, expected 4 each`);
  check(room.collection.list.map((m) => m.text).join() === 'room 0,room 1,room 2,room 3', `room records ${JSON.stringify(room.collection.list)}`);
  check(notes.collection.list.map((m) => m.text).join() === 'note 0,note 1,note 2,note 3', `note records ${JSON.stringify(notes.collection.list)}`);
  steps.push({ step: 'two collections, one socket', room: roomNow.cursor, notes: notesNow.cursor, sockets: sockets.length });

  // 2. refused without disturbing the others
  const bobsNotes = open(proxy.url, '/users/bob/notes', "bob's notes");
  const forbidden = await bobsNotes.collection.ready.then(() => null, (error) => error);
  check(forbidden instanceof RocketError && forbidden.status === 403 && bobsNotes.collection.state === 'error', `bob's notes: ready settled with ${forbidden?.stack ?? forbidden}`);
  // The GET of alice's notes answers; the subscribe names bob's, which the socket's user (alice) may not follow.
  const refusedOnSocket = open(proxy.url, '/users/alice/notes', 'subscribe refused on the socket', { collection: 'users/bob/notes' });
  await waitFor(refusedOnSocket, () => refusedOnSocket.collection.state === 'error', 'the refused subscription to be in the error state', WaitMs);
  const socketRefusal = refusedOnSocket.collection.error;
  check(socketRefusal instanceof RocketError && socketRefusal.status === 403 && /^Forbidden:/.test(socketRefusal.message), `the socket's refusal: ${socketRefusal?.stack ?? socketRefusal}`);
  check(sockets.length === 1 && sockets[0].readyState === WebSocket.OPEN, `after the refusals: ${sockets.length} sockets, the first in state ${sockets[0].readyState}`);
  check(room.collection.state === 'live' && notes.collection.state === 'live', `after the refusals: room ${room.collection.state}, notes ${notes.collection.state}`);
  const roomBefore = room.changes.length;
  const notesBefore = notes.changes.length;
  const roomCursor = room.collection.cursor;
  const notesCursor = notes.collection.cursor;
  await roomApi.create('after the refusals');
  await notesApi.create('after the refusals');
  await converge(room, roomApi, WaitMs);
  await converge(notes, notesApi, WaitMs);
  checkExactlyAfter(room, roomBefore, roomCursor, 1);
  checkExactlyAfter(notes, notesBefore, notesCursor, 1);
  steps.push({ step: 'refused', refused: [forbidden.message, socketRefusal.message] });

  // 3. the shared socket drops: both resume with exactly what they missed
  const roomDrop = { from: room.changes.length, cursor: room.collection.cursor };
  const notesDrop = { from: notes.changes.length, cursor: notes.collection.cursor };
  const socketsBefore = sockets.length;
  proxy.cut();
  await roomApi.create('missed 1');
  await notesApi.create('missed 1');
  await roomApi.create('missed 2');
  await waitFor(room, () => room.collection.state !== 'live', 'the room to notice the dropped socket', WaitMs);
  await waitFor(notes, () => notes.collection.state !== 'live', 'the notes to notice the dropped socket', WaitMs);
  proxy.restore();
  const roomAfter = await converge(room, roomApi, WaitMs);
  const notesAfter = await converge(notes, notesApi, WaitMs);
  checkExactlyAfter(room, roomDrop.from, roomDrop.cursor, 2);
  checkExactlyAfter(notes, notesDrop.from, notesDrop.cursor, 1);
  check(sockets.length > socketsBefore, 'the collections resumed without a new WebSocket');
  const current = sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
  check(current.length === 1, `after resuming, ${current.length} WebSockets are open, expected one`);
  steps.push({ step: 'dropped socket', room: [roomDrop.cursor, roomAfter.cursor], notes: [notesDrop.cursor, notesAfter.cursor] });

  // 4. closing the last collection closes the socket
  const socket = current[0];
  notes.collection.close();
  await roomApi.create('after the notes closed');
  await converge(room, roomApi, WaitMs);
  check(socket.readyState === WebSocket.OPEN, `closing the notes left the socket in state ${socket.readyState}`);
  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  room.collection.close();
  const code = await within(socketClosed, WaitMs, 'the socket stayed open after its last collection closed');
  check(code === 1000, `the socket closed with ${code}, expected 1000`);
  steps.push({ step: 'closing', closeCode: code });

  return { ok: true, transport: 'websocket (shared)', steps };
}

runBounded('js-client-shared', main, {
  overallTimeoutMs: OverallTimeoutMs,
  cleanup: async () => {
    for (const collection of collections) collection.close();
    await processes.stopAll();
  },
  diagnostics: () => [`steps passed: ${JSON.stringify(steps)}`, ...processes.outputs()],
});
