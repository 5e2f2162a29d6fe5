// What the interop scenarios share, whatever client reads the stream: the local copy of the keyed document, the checks
// every event goes through (cursor format, strictly increasing, a reset first, applied by fast-json-patch with
// validation on), waiting with a timeout, and the REST calls that make the changes.
import fastJsonPatch from 'fast-json-patch';

const { applyPatch } = fastJsonPatch;
const CursorPattern = /^([0-9a-f]{8})\.(\d+)$/;

// A failed expectation: reported by its message alone (anything else thrown is a bug here, reported with its stack).
export class Mismatch extends Error {}

export function check(condition, why) {
  if (!condition) throw new Mismatch(why);
}

export function parseCursor(text) {
  const match = CursorPattern.exec(text ?? '');
  check(match, `cursor ${JSON.stringify(text)} is not <8 hex epoch>.<decimal sequence>`);
  return { epoch: match[1], sequence: BigInt(match[2]) };
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
      waiters: new Set(),
      error: null,
      wake() { for (const waiter of stream.waiters) waiter(); },
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

  function waitFor(stream, predicate, what) {
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (stream.error) { done(); reject(new Mismatch(stream.error)); return; }
        let ok;
        try { ok = predicate(); } catch (error) { done(); reject(error); return; }
        if (ok) { done(); resolve(); }
      };
      const timer = setTimeout(() => { done(); reject(new Mismatch(`${stream.label}: timed out after ${waitTimeoutMs} ms waiting for ${what}`)); }, waitTimeoutMs);
      const done = () => { clearTimeout(timer); stream.waiters.delete(settle); };
      stream.waiters.add(settle);
      settle();
    });
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

  return { copy, openStreams, newStream, accept, waitFor, http, create, serverKeyed, converge, expectOps };
}
