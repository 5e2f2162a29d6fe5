// What the JavaScript client's scenarios share: a recorder of a LiveCollection's changes and states, waits that wake on
// the collection's own events (bounded by a timeout), the server's keyed document, and the REST writes.
import { check, deepEqual, Mismatch, parseCursor } from './interop.mjs';
import { Waiters } from './script.mjs';

// Records every change and state of `collection` and lets waits wake on them.
export function record(collection, label) {
  const recorder = { collection, label, changes: [], states: [], waiters: new Waiters() };
  const wake = () => recorder.waiters.wake();
  collection.on('change', (change) => { recorder.changes.push(change); wake(); });
  collection.on('state', (state) => { recorder.states.push(state); wake(); });
  return recorder;
}

// Resolves once predicate() holds, re-checked at each change or state of the recorded collection; rejects after
// timeoutMs with what it waited for and where the collection stood.
export function waitFor(recorder, predicate, what, timeoutMs) {
  return recorder.waiters.until(predicate, timeoutMs, () => {
    const { collection } = recorder;
    return new Mismatch(`${recorder.label}: timed out after ${timeoutMs} ms waiting for ${what} (state ${collection.state}, ` +
      `cursor ${collection.cursor}, error ${collection.error?.message ?? 'none'}, last states ${JSON.stringify(recorder.states.slice(-4).map((s) => [s.state, s.reason]))})`);
  });
}

export function rest(baseUrl) {
  async function http(method, path, { body, contentType = 'application/json', expect } = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (expect !== undefined) check(response.status === expect, `${method} ${path}: expected ${expect}, got ${response.status} ${text}`);
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  }

  return {
    http,
    async create(text) {
      return (await http('POST', '/messages', { body: { text }, expect: 201 })).json;
    },
    async update(id, text) {
      return (await http('PUT', `/messages/${encodeURIComponent(id)}`, { body: { id, text }, expect: 200 })).json;
    },
    async patch(id, operations) {
      return (await http('PATCH', `/messages/${encodeURIComponent(id)}`, { body: operations, contentType: 'application/json-patch+json', expect: 200 })).json;
    },
    async remove(id) {
      await http('DELETE', `/messages/${encodeURIComponent(id)}`, { expect: 204 });
    },
    async keyed() {
      const { json, headers } = await http('GET', '/messages?form=keyed', { expect: 200 });
      const cursor = headers.get('last-event-id');
      parseCursor(cursor);
      return { document: json, cursor };
    },
  };
}

// Signs `user` in with the sample's development-only sign-in; the cookie to send with that user's requests.
export async function signIn(baseUrl, user) {
  const login = await fetch(`${baseUrl}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }) });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  check(login.ok && cookie, `POST /login answered ${login.status} with cookie ${cookie}`);
  return cookie;
}

// `writers` writers at once, `rounds` writes each, through server (rest()): each creates, replaces its last record,
// patches its first and deletes its last in turn (creating when it has none), so the stream interleaves every kind.
export async function writeConcurrently(server, { writers = 4, rounds }) {
  await Promise.all(Array.from({ length: writers }, async (_, writer) => {
    const mine = [];
    for (let i = 0; i < rounds; i++) {
      const pick = (writer + i) % 4;
      if (pick === 0 || mine.length === 0) mine.push((await server.create(`w${writer} #${i}`)).id);
      else if (pick === 1) await server.update(mine.at(-1), `w${writer} #${i} replaced`);
      else if (pick === 2) await server.patch(mine[0], [{ op: 'add', path: '/n', value: i }]);
      else await server.remove(mine.pop());
    }
  }));
}

// Waits until the collection shows the server's current cursor, then requires the same document as the server's GET.
export async function converge(recorder, server, timeoutMs) {
  const now = await server.keyed();
  await waitFor(recorder, () => recorder.collection.cursor === now.cursor, `the copy to reach the server's cursor ${now.cursor}`, timeoutMs);
  check(deepEqual(recorder.collection.document, now.document),
    `${recorder.label}: at ${now.cursor} the copy ${JSON.stringify(recorder.collection.document)} differs from the server's ${JSON.stringify(now.document)}`);
  return now;
}

// The changes of kind 'patch' after index `from` carry consecutive sequences right after `cursor`, `count` of them,
// and nothing else happened to the copy (no reset, refetch or load): exactly the events missed, once each.
export function checkExactlyAfter(recorder, from, cursor, count) {
  const after = recorder.changes.slice(from);
  const kinds = after.map((change) => change.kind);
  check(kinds.every((kind) => kind === 'patch'), `${recorder.label}: after ${cursor} expected only patches, got ${JSON.stringify(kinds)}`);
  const start = parseCursor(cursor);
  const sequences = after.map((change) => {
    const parsed = parseCursor(change.cursor);
    check(parsed.epoch === start.epoch, `${recorder.label}: ${change.cursor} is of another epoch than ${cursor}`);
    return parsed.sequence;
  });
  const expected = Array.from({ length: count }, (_, i) => start.sequence + BigInt(i + 1));
  check(sequences.length === count && sequences.every((s, i) => s === expected[i]),
    `${recorder.label}: after ${cursor} expected sequences ${expected.join(',')}, got ${sequences.join(',')}`);
}
