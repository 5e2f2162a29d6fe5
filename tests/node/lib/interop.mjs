// What the interop scenarios share, whatever client reads the stream: the local copy of the keyed document, the checks
// every event goes through (cursor format, strictly increasing, a reset first, applied by fast-json-patch with
// validation on), waiting with a timeout, the REST calls that make the changes, and the steps every transport's
// scenario goes through (every kind of change, a resume by cursor, a reset).
import fastJsonPatch from 'fast-json-patch';
import { Mismatch, Waiters } from './script.mjs';

const { applyPatch } = fastJsonPatch;
const CursorPattern = /^([0-9a-f]{8})\.(\d+)$/;

export { Mismatch };

export function check(condition, why) {
  if (!condition) throw new Mismatch(why);
}

export function parseCursor(text) {
  const match = CursorPattern.exec(text ?? '');
  check(match, `cursor ${JSON.stringify(text)} is not <8 hex epoch>.<decimal sequence>`);
  return { epoch: match[1], sequence: BigInt(match[2]) };
}

// The same sequence in another epoch: a cursor the server cannot resume from.
export function otherEpochCursor(cursor) {
  const { epoch, sequence } = parseCursor(cursor);
  return `${((parseInt(epoch, 16) ^ 0x1) >>> 0).toString(16).padStart(8, '0')}.${sequence}`;
}

export function isReset(ops) {
  return ops.length === 1 && ops[0].op === 'replace' && ops[0].path === '';
}

// RFC 6901: '~' is '~0' and '/' is '~1' in a reference token.
export function pointerTo(id) {
  return `/messages/${String(id).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
}

// POST /messages on the server at baseUrl: the stored record, which must have come with 201 and a string id.
export async function createMessage(baseUrl, text) {
  const response = await fetch(`${baseUrl}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ text }),
  });
  const record = await response.json();
  check(response.status === 201 && typeof record.id === 'string', `POST /messages answered ${response.status} ${JSON.stringify(record)}`);
  return record;
}

// One scenario against one server: `baseUrl` without a trailing slash, `waitTimeoutMs` the bound of every wait.
export function scenario({ baseUrl, waitTimeoutMs }) {
  // The local copy of the keyed document and the cursor of the last event applied to it, shared by every stream.
  const copy = { document: null, cursor: null, applied: 0 };
  const openStreams = new Set();

  // A stream's shared state; the transport's script adds its connection and `close`.
  function newStream(label) {
    const stream = {
      label,
      events: [],
      waiters: new Waiters(),
      error: null,
      wake() { stream.waiters.wake(); },
    };
    openStreams.add(stream);
    return stream;
  }

  // Checks and applies one event to the copy; a failure is recorded on the stream and ends the scenario's next wait.
  function accept(stream, id, ops, raw) {
    try {
      check(Array.isArray(ops) && ops.length > 0, `${stream.label}: the patch is not a non-empty JSON Patch array: ${raw}`);
      const current = parseCursor(id);
      const previous = stream.events.at(-1);
      if (previous) {
        const before = parseCursor(previous.id);
        check(current.epoch === before.epoch && current.sequence > before.sequence, `${stream.label}: cursor ${id} does not follow ${previous.id}`);
      }
      if (copy.document === null) check(isReset(ops), `${stream.label}: the first event ever seen is not a reset: ${raw}`);
      // validateOperation = true: an op that does not fit the copy throws (fast-json-patch's JsonPatchError).
      const result = applyPatch(copy.document ?? {}, ops, true, false);
      copy.document = result.newDocument;
      copy.cursor = id;
      copy.applied++;
      stream.events.push({ id, ops });
    } catch (error) {
      stream.error ??= error instanceof Mismatch ? error.message : `${stream.label}: ${error.message ?? error} (event ${id}: ${raw})`;
    }
    stream.wake();
  }

  // A recorded stream error ends the wait at once.
  function waitFor(stream, predicate, what) {
    return stream.waiters.until(
      () => {
        if (stream.error) throw new Mismatch(stream.error);
        return predicate();
      },
      waitTimeoutMs,
      () => new Mismatch(`${stream.label}: timed out after ${waitTimeoutMs} ms waiting for ${what}`));
  }

  async function http(method, path, { body, headers = {}, expect } = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    check(response.status === expect, `${method} ${path}: expected ${expect}, got ${response.status} ${text}`);
    return { response, json: text ? JSON.parse(text) : undefined };
  }

  async function create(text) {
    const { response, json } = await http('POST', '/messages', { body: { text }, expect: 201 });
    check(typeof json?.id === 'string', `POST /messages: the stored record has no string id: ${JSON.stringify(json)}`);
    const location = response.headers.get('location');
    check(location !== null && new URL(location, baseUrl).href === `${baseUrl}/messages/${encodeURIComponent(json.id)}`,
      `POST /messages: Location ${location} does not name /messages/${json.id}`);
    return json;
  }

  async function serverKeyed() {
    const { response, json } = await http('GET', '/messages?form=keyed', { expect: 200 });
    const cursor = response.headers.get('last-event-id');
    parseCursor(cursor);
    return { document: json, cursor };
  }

  // Waits until the copy has applied the event of the server's current cursor, then requires equal documents.
  async function converge(stream) {
    const server = await serverKeyed();
    await waitFor(stream, () => copy.cursor === server.cursor, `the copy to reach the server's cursor ${server.cursor} (copy at ${copy.cursor})`);
    check(deepEqual(copy.document, server.document),
      `${stream.label}: at cursor ${server.cursor} the copy ${JSON.stringify(copy.document)} differs from the server's ${JSON.stringify(server.document)}`);
    return server;
  }

  function expectOps(stream, from, expected) {
    const got = stream.events.slice(from).map((event) => event.ops);
    check(got.length === expected.length, `${stream.label}: expected ${expected.length} events after the reset, got ${got.length}: ${JSON.stringify(got)}`);
    expected.forEach((want, i) => {
      check(deepEqual(got[i], [want]), `${stream.label}: event ${from + i} is ${JSON.stringify(got[i])}, expected [${JSON.stringify(want)}]`);
    });
  }

  // The first step of every transport's scenario: a stream opened with no cursor starts with a reset; then creates, a
  // PUT, a PATCH and a DELETE over HTTP arrive as exactly add, add, add, replace, replace, remove, and the copy
  // converges. Returns the records as the server returned them and the cursor converged at.
  async function everyKindOfChange(stream) {
    await waitFor(stream, () => stream.events.length >= 1, 'the reset that starts a stream opened with no cursor');
    check(isReset(stream.events[0].ops), `${stream.label}: the first event is not a reset: ${JSON.stringify(stream.events[0].ops)}`);
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
    const { cursor } = await converge(stream);
    expectOps(stream, 1, [
      { op: 'add', path: pointerTo(a.id), value: a },
      { op: 'add', path: pointerTo(b.id), value: b },
      { op: 'add', path: pointerTo(c.id), value: c },
      { op: 'replace', path: pointerTo(b.id), value: bPut },
      { op: 'replace', path: pointerTo(c.id), value: cPatched },
      { op: 'remove', path: pointerTo(a.id) },
    ]);
    return { a, b, c, cPatched, cursor };
  }

  // Drop the connection (closeAll), change things while away (a create, then a PUT of b), resume from the copy's cursor
  // by openStream(label, { cursor, via }): no reset, the first event is the create, right after the cursor, and the
  // copy converges. Returns the step's summary.
  async function resumeAfterAway(via, b, { closeAll, openStream }) {
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
    return { from: cursor, events: resumed.events.length, cursor: after.cursor };
  }

  // Drop the connection, create a record and delete `gone` while away, then connect with a cursor the server cannot
  // resume from: the first event is a reset, which alone brings the stale copy to the server's document. Returns the
  // stream (still open) and the step's summary.
  async function resetAfterAway(label, cursor, via, gone, { closeAll, openStream }) {
    await closeAll();
    const lateRecord = await create(`made before ${label}`);
    await http('DELETE', `/messages/${encodeURIComponent(gone)}`, { expect: 204 });
    const appliedBefore = copy.applied;
    const reset = openStream(label, { cursor, via });
    await waitFor(reset, () => reset.events.length >= 1, `the first event after connecting with ${cursor}`);
    check(isReset(reset.events[0].ops), `${label}: the cursor ${cursor} did not start with a reset: ${JSON.stringify(reset.events[0].ops)}`);
    const after = await converge(reset);
    check(copy.applied === appliedBefore + reset.events.length, `${label}: events were applied from a closed stream`);
    check(Object.hasOwn(copy.document.messages, lateRecord.id) && !Object.hasOwn(copy.document.messages, gone),
      `${label}: the copy does not show the changes made while away`);
    return { stream: reset, summary: { from: cursor, events: reset.events.length, cursor: after.cursor, records: Object.keys(copy.document.messages).length } };
  }

  return { copy, openStreams, newStream, accept, waitFor, http, create, serverKeyed, converge, expectOps, everyKindOfChange, resumeAfterAway, resetAfterAway };
}
