// @rocket-live/client: a live copy of a Rocket collection, in a browser or in Node, over Server-Sent Events, a
// WebSocket (rocket.jsonpatch.v1; one per collection, or one shared by several: MapRocketWebSocket) or SignalR.
// One ES module: no build step, no runtime dependency.
// The protocol it speaks is in Rocket's README and docs/websocket-protocol.md; the API is in README.md beside this file.

// ---------------------------------------------------------------------------------------------------------------------
// RFC 6902 JSON Patch, applied to plain JSON values (what JSON.parse returns), all or nothing.
// ---------------------------------------------------------------------------------------------------------------------

/** Why a JSON Patch did not apply: `index` is the failing operation's position (-1 when the patch itself is malformed). */
export class JsonPatchError extends Error {
  constructor(message, index = -1) {
    super(index >= 0 ? `operation ${index}: ${message}` : message);
    this.name = 'JsonPatchError';
    this.index = index;
  }
}

/**
 * Applies an RFC 6902 patch to `document` in place and returns the result (a new value only when an operation
 * replaces the whole document). Values taken from the patch are copied, so the patch and the document never share
 * objects. If any operation fails, every change already made is undone, member order included, and a JsonPatchError
 * is thrown: the caller's document is then exactly as it was.
 */
export function applyPatch(document, patch) {
  return apply(document, patch, true);
}

function apply(document, patch, copyValues) {
  if (!Array.isArray(patch)) throw new JsonPatchError('a JSON Patch must be an array of operations');
  // Undoing in place, rather than patching a deep copy, keeps an event's cost to what it touches, not the document.
  const state = { root: document, undo: [], copyValues };
  let index = 0;
  try {
    for (; index < patch.length; index++) applyOperation(state, patch[index]);
  } catch (error) {
    for (let i = state.undo.length - 1; i >= 0; i--) state.undo[i]();
    if (error instanceof PatchFailure) throw new JsonPatchError(error.message, index);
    throw error;
  }
  return state.root;
}

class PatchFailure extends Error {}

function fail(message) {
  throw new PatchFailure(message);
}

function isContainer(value) {
  return value !== null && typeof value === 'object';
}

// RFC 6901: '' is the whole document; otherwise '/'-separated tokens where '~1' is '/' and '~0' is '~'.
function parsePointer(pointer, member) {
  if (typeof pointer !== 'string') fail(`'${member}' must be a string`);
  if (pointer === '') return [];
  if (pointer[0] !== '/') fail(`'${pointer}' is not a JSON Pointer (it must be empty or start with '/')`);
  const tokens = pointer.slice(1).split('/');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.includes('~')) {
      if (/~(?![01])/.test(token)) fail(`'${pointer}' has a '~' that is not '~0' or '~1'`);
      tokens[i] = token.replace(/~1/g, '/').replace(/~0/g, '~');
    }
  }
  return tokens;
}

// An array index is '0' or digits without a leading zero; '-' (past the end) only where an add may append.
function arrayIndex(array, token, forAdd) {
  if (forAdd && token === '-') return array.length;
  if (!/^(?:0|[1-9][0-9]*)$/.test(token)) fail(`'${token}' is not an array index`);
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) fail(`index ${token} is out of range (length ${array.length})`);
  return index;
}

function child(node, token, pointer) {
  if (Array.isArray(node)) return node[arrayIndex(node, token, false)];
  if (isContainer(node) && Object.hasOwn(node, token)) return node[token];
  return fail(`path '${pointer}' does not exist`);
}

function resolve(root, tokens, pointer) {
  let node = root;
  for (const token of tokens) node = child(node, token, pointer);
  return node;
}

function parentOf(root, tokens, pointer) {
  let node = root;
  for (let i = 0; i < tokens.length - 1; i++) node = child(node, tokens[i], pointer);
  if (!isContainer(node)) fail(`path '${pointer}' does not exist`);
  return node;
}

// Defined, not assigned: a member named "__proto__" stays an ordinary member, as JSON.parse makes it.
function setMember(object, name, value) {
  if (name === '__proto__') Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
  else object[name] = value;
}

function copyOf(value) {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const copy = {};
  for (const name of Object.keys(value)) setMember(copy, name, copyOf(value[name]));
  return copy;
}

function equal(a, b) {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => Object.hasOwn(b, name) && equal(a[name], b[name]));
}

function add(state, tokens, value, pointer) {
  if (tokens.length === 0) {
    const previous = state.root;
    state.root = value;
    state.undo.push(() => { state.root = previous; });
    return;
  }
  const parent = parentOf(state.root, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, true);
    parent.splice(index, 0, value);
    state.undo.push(() => { parent.splice(index, 1); });
  } else if (Object.hasOwn(parent, last)) {
    // Replacing a member keeps its place among the others, and so does putting the old value back.
    const previous = parent[last];
    setMember(parent, last, value);
    state.undo.push(() => { setMember(parent, last, previous); });
  } else {
    setMember(parent, last, value);
    state.undo.push(() => { delete parent[last]; });
  }
}

function remove(state, tokens, pointer) {
  if (tokens.length === 0) fail('the whole document cannot be removed');
  const parent = parentOf(state.root, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, false);
    const [value] = parent.splice(index, 1);
    state.undo.push(() => { parent.splice(index, 0, value); });
    return value;
  }
  if (!Object.hasOwn(parent, last)) fail(`path '${pointer}' does not exist`);
  const value = parent[last];
  const names = Object.keys(parent);
  const position = names.indexOf(last);
  delete parent[last];
  // Undone in reverse order, the object is then exactly as the removal left it: put the member back where it was by
  // taking out and re-adding the members that followed it.
  state.undo.push(() => {
    const following = names.slice(position + 1).map((name) => [name, parent[name]]);
    for (const [name] of following) delete parent[name];
    setMember(parent, last, value);
    for (const [name, followingValue] of following) setMember(parent, name, followingValue);
  });
  return value;
}

function replace(state, tokens, value, pointer) {
  if (tokens.length === 0) {
    add(state, tokens, value, pointer);
    return;
  }
  const parent = parentOf(state.root, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, false);
    const previous = parent[index];
    parent[index] = value;
    state.undo.push(() => { parent[index] = previous; });
  } else if (Object.hasOwn(parent, last)) {
    add(state, tokens, value, pointer);
  } else {
    fail(`path '${pointer}' does not exist`);
  }
}

function applyOperation(state, operation) {
  if (!isContainer(operation) || Array.isArray(operation)) fail('an operation must be an object');
  const { op, path } = operation;
  const tokens = parsePointer(path, 'path');
  const needsValue = op === 'add' || op === 'replace' || op === 'test';
  if (needsValue && !Object.hasOwn(operation, 'value')) fail(`'${op}' needs a 'value'`);
  const value = () => (state.copyValues ? copyOf(operation.value) : operation.value);
  switch (op) {
    case 'add':
      add(state, tokens, value(), path);
      return;
    case 'remove':
      remove(state, tokens, path);
      return;
    case 'replace':
      replace(state, tokens, value(), path);
      return;
    case 'move': {
      const from = parsePointer(operation.from, 'from');
      if (operation.from === path) {
        resolve(state.root, from, path);
        return;
      }
      if (path.startsWith(`${operation.from}/`)) fail(`'${operation.from}' cannot be moved into itself ('${path}')`);
      add(state, tokens, remove(state, from, operation.from), path);
      return;
    }
    case 'copy': {
      const from = parsePointer(operation.from, 'from');
      add(state, tokens, copyOf(resolve(state.root, from, operation.from)), path);
      return;
    }
    case 'test':
      if (!equal(resolve(state.root, tokens, path), operation.value)) fail(`test failed: '${path}' is not the value given`);
      return;
    default:
      fail(typeof op === 'string' ? `unknown operation '${op}'` : "'op' must be a string");
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The live collection
// ---------------------------------------------------------------------------------------------------------------------

/** A request or subscription the server refused (`status` is its HTTP status, or the one a hub error's word names). */
export class RocketError extends Error {
  constructor(message, { status, problem, code, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RocketError';
    this.status = status;
    this.problem = problem;
    this.code = code;
  }
}

const CursorPattern = /^([0-9a-f]{8})\.(\d+)$/;
const Subprotocol = 'rocket.jsonpatch.v1';

// Answers that mean the same request will be refused again: the client stops and says why instead of retrying.
// 408, 425 and 429 are about timing; every 5xx may pass.
function isRefusal(status) {
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}

const defaults = Object.freeze({
  transport: 'sse',
  initialDelay: 1000,
  maxDelay: 30000,
  jitter: true,
  idleTimeout: 45000,
  credentials: 'same-origin',
});

/** Opens a live copy of the collection at `url` (absolute, or relative to the page). See README.md for options. */
export function openCollection(url, options) {
  return new LiveCollection(url, options);
}

export class LiveCollection {
  #options;
  #url;
  #name;
  #member;
  #transport;
  #document = null;
  #cursor = null;
  #state = 'connecting';
  #error = null;
  #listeners = { change: new Set(), state: new Set() };
  #generation = 0;
  #connection = null;
  #timer = null;
  #attempts = 0;
  #failedOpens = 0;
  #retryMs = null;
  #loaded = false;
  #resolveReady;
  #rejectReady;
  #unhook = [];
  #hubEnded = null;
  #hubHooked = false;
  #shared = null;

  /** Resolves when the collection is first live; rejects if it ends in the error state (or is closed) before that. */
  ready;

  constructor(url, options = {}) {
    this.#options = { ...defaults, ...options };
    if (this.#options.hubConnection && options.transport === undefined) this.#options.transport = 'signalr';
    this.#transport = this.#options.transport;
    if (!['sse', 'websocket', 'signalr'].includes(this.#transport)) {
      throw new TypeError(`transport must be 'sse', 'websocket' or 'signalr', not '${this.#transport}'`);
    }
    if (this.#options.shared !== undefined && this.#transport !== 'websocket') {
      throw new TypeError("options.shared (a multi-collection WebSocket's URL) needs transport 'websocket'");
    }
    if (this.#transport === 'signalr' && !this.#options.hubConnection) {
      throw new TypeError("the 'signalr' transport needs options.hubConnection (a @microsoft/signalr HubConnection)");
    }
    this.#url = new URL(typeof url === 'string' ? url : url.href, globalThis.location?.href);
    // The name is the collection's path (a family's instance is named by its whole path, `rooms/lobby/messages`); the
    // keyed document's member is its last segment (`messages`), for a family as for a single collection.
    this.#name = this.#options.collection ?? this.#url.pathname.split('/').filter(Boolean).map(decodeURIComponent).join('/');
    if (!this.#name) throw new TypeError(`cannot tell the collection's name from '${url}': give options.collection`);
    this.#member = this.#name.split('/').pop();
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A page that never awaits `ready` must not get an unhandled rejection for it.
    this.ready.catch(() => {});
    this.#hookEnvironment();
    // Started after the constructor returns, so listeners added right after opening see every change.
    queueMicrotask(() => { if (this.#state !== 'closed') this.#attempt('load'); });
  }

  /** The collection's URL, resolved. */
  get url() { return this.#url.href; }

  /** The collection's name, as the SignalR subscription names it: by default the URL's path (`rooms/lobby/messages`). */
  get name() { return this.#name; }

  /** The keyed document's member: the name's last segment (`messages`). */
  get member() { return this.#member; }

  /** 'sse', 'websocket' or 'signalr'. */
  get transport() { return this.#transport; }

  /** The keyed document `{ [member]: { [id]: record } }` as last applied, or null before the first load. */
  get document() { return this.#document; }

  /** The records by id (the keyed document's inner object); empty before the first load. */
  get records() {
    const records = this.#document?.[this.#member];
    return isContainer(records) && !Array.isArray(records) ? records : {};
  }

  /** The records as a list, in the keyed document's member order. */
  get list() { return Object.values(this.records); }

  /** The cursor of the state the copy shows (`<epoch>.<sequence>`), or null. */
  get cursor() { return this.#cursor; }

  /** 'connecting', 'live', 'reconnecting', 'error' or 'closed'. */
  get state() { return this.#state; }

  /** Why the collection is in the error state (a RocketError), or the last connection failure; null otherwise. */
  get error() { return this.#error; }

  /** Calls `listener` for every 'change' or 'state' event; returns a function that removes it. */
  on(type, listener) {
    const listeners = this.#listeners[type];
    if (!listeners) throw new TypeError(`unknown event '${type}' (use 'change' or 'state')`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Connects again now, from the last cursor (or with a fresh GET when nothing was loaded yet). Leaves the error state
   * (e.g. after the app renewed a credential) and skips a pending backoff delay.
   */
  reconnect() {
    if (this.#state === 'closed') throw new Error('the collection is closed');
    this.#attempts = 0;
    this.#attempt(this.#loaded ? 'stream' : 'load');
  }

  /** Ends the stream and stops reconnecting; the copy stays readable. */
  close() {
    if (this.#state === 'closed') return;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#closeConnection();
    this.#leaveShared();
    for (const unhook of this.#unhook) unhook();
    this.#unhook = [];
    this.#setState('closed', 'closed by the app');
    this.#rejectReady(new RocketError('the collection was closed before it was live'));
  }

  // ----- one attempt: optionally GET the document, then open the stream from the cursor -----

  // mode: 'load' (GET, then stream), 'refetch' (GET because the copy is wrong, replace it, stream), 'check' (GET only to
  // see whether the server refuses us, then stream from the copy's cursor), 'stream' (resume from the cursor).
  async #attempt(mode, reason) {
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    this.#closeConnection();
    if (this.#state !== 'connecting') this.#setState(this.#loaded ? 'reconnecting' : 'connecting', reason);
    if (mode !== 'stream') {
      let loaded;
      try {
        loaded = await this.#fetchDocument(mode === 'check');
      } catch (error) {
        if (generation !== this.#generation) return;
        if (error instanceof RocketError && isRefusal(error.status)) {
          this.#enterError(error);
        } else if (mode === 'refetch') {
          // The copy is known wrong and the GET failed: stream with no cursor, and the server's reset replaces it.
          this.#cursor = null;
          this.#open(generation);
        } else {
          this.#scheduleRetry(generation, { reason: `GET failed: ${error.message}`, error, mode });
        }
        return;
      }
      if (generation !== this.#generation) return;
      if (mode !== 'check') {
        this.#document = loaded.document;
        this.#cursor = loaded.cursor;
        const kind = mode === 'load' && !this.#loaded ? 'load' : 'refetch';
        this.#loaded = true;
        this.#emitChange({ kind, cursor: this.#cursor, operations: null, ids: Object.keys(this.records), reason: reason ?? null });
      }
    }
    this.#open(generation);
  }

  async #fetchDocument(statusOnly) {
    const url = new URL(this.#url);
    url.searchParams.set('form', 'keyed');
    const response = await this.#fetch(url, { Accept: 'application/json' });
    if (!response.ok) throw await refusalOf(response, `GET ${url.pathname}${url.search}`);
    if (statusOnly) {
      await response.body?.cancel();
      return null;
    }
    const document = await response.json();
    if (!isContainer(document) || Array.isArray(document)) throw new RocketError(`GET ${url.pathname}: the answer is not a JSON object`);
    return { document, cursor: response.headers.get('Last-Event-ID') };
  }

  async #fetch(url, headers, signal) {
    const extra = typeof this.#options.headers === 'function' ? await this.#options.headers() : this.#options.headers;
    const fetchFunction = this.#options.fetch ?? globalThis.fetch;
    return fetchFunction(url, {
      headers: { ...extra, ...headers },
      credentials: this.#options.credentials,
      cache: 'no-store',
      signal,
    });
  }

  #open(generation) {
    const context = {
      opened: () => {
        if (generation !== this.#generation) return;
        this.#failedOpens = 0;
        this.#error = null;
        this.#setState('live');
        this.#resolveReady(this);
      },
      event: (id, operations, reset) => {
        if (generation !== this.#generation) return;
        this.#attempts = 0;
        this.#applyEvent(id, operations, reset);
      },
      retry: (ms) => { this.#retryMs = ms; },
      ended: (info) => {
        if (generation !== this.#generation) return;
        this.#connection = null;
        this.#streamEnded(generation, info);
      },
    };
    const cursor = this.#cursor;
    try {
      if (this.#transport === 'sse') this.#connection = this.#openSse(context, cursor);
      else if (this.#transport === 'websocket' && this.#options.shared !== undefined) this.#connection = this.#openShared(context, cursor);
      else if (this.#transport === 'websocket') this.#connection = this.#openWebSocket(context, cursor);
      else this.#connection = this.#openSignalR(context, cursor);
    } catch (error) {
      // Opening throws only for what retrying cannot fix (no WebSocket class, a malformed URL).
      this.#enterError(new RocketError(`could not open the stream: ${error.message}`, { cause: error }));
    }
  }

  #applyEvent(id, operations, resetFlag) {
    if (!Array.isArray(operations)) {
      this.#attempt('refetch', `event ${id} is not a JSON Patch array`);
      return;
    }
    const reset = resetFlag === true || (operations.length === 1 && operations[0]?.op === 'replace' && operations[0]?.path === '');
    // A cursor at or before the copy's, in the same epoch, is an event already applied (a SignalR subscription that
    // was replaced can still deliver what was in flight): applying it twice would be wrong, skipping it is exact.
    if (!reset && !follows(id, this.#cursor)) return;
    try {
      this.#document = apply(this.#document ?? {}, operations, false);
    } catch (error) {
      // The copy is untouched (the applier undid what it had done); it is stale, so it is fetched again.
      this.#attempt('refetch', `event ${id} did not apply: ${error.message}`);
      return;
    }
    this.#cursor = id;
    this.#loaded = true;
    this.#emitChange(reset
      ? { kind: 'reset', cursor: id, operations, ids: Object.keys(this.records), reason: null }
      : { kind: 'patch', cursor: id, operations, ids: this.#touchedIds(operations), reason: null });
  }

  #touchedIds(operations) {
    const prefix = `/${this.#member.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const ids = new Set();
    for (const operation of operations) {
      for (const pointer of [operation.path, operation.from]) {
        if (typeof pointer !== 'string') continue;
        if (pointer === '' || pointer === prefix) return Object.keys(this.records);
        if (!pointer.startsWith(`${prefix}/`)) continue;
        const token = pointer.slice(prefix.length + 1).split('/')[0];
        ids.add(token.replace(/~1/g, '/').replace(/~0/g, '~'));
      }
    }
    return [...ids];
  }

  #streamEnded(generation, info) {
    if (info.refused) {
      this.#enterError(info.refused);
      return;
    }
    if (!info.opened) this.#failedOpens++;
    // A browser hides why a WebSocket upgrade failed; after two in a row the next attempt GETs the document first,
    // which shows a refusal (404, 401, 403) as such; otherwise it streams from the copy's cursor as before.
    if (this.#transport === 'websocket' && this.#failedOpens >= 2) {
      this.#failedOpens = 0;
      this.#scheduleRetry(generation, { ...info, mode: 'check' });
      return;
    }
    this.#scheduleRetry(generation, info);
  }

  #scheduleRetry(generation, { reason, error, immediate, retryAfter, mode = 'stream' }) {
    if (generation !== this.#generation) return;
    this.#closeConnection();
    if (error) this.#error = error;
    let delay = 0;
    if (!immediate) {
      const base = this.#retryMs ?? this.#options.initialDelay;
      const ceiling = Math.min(this.#options.maxDelay, base * 2 ** Math.min(this.#attempts, 30));
      this.#attempts++;
      // Full jitter: anywhere in [0, ceiling], so clients cut off together do not come back together.
      delay = this.#options.jitter ? Math.random() * ceiling : ceiling;
      if (retryAfter !== undefined) delay = Math.max(delay, retryAfter);
    }
    this.#setState(this.#loaded ? 'reconnecting' : 'connecting', reason ?? null, error ?? null);
    const next = this.#loaded ? mode : 'load';
    this.#timer = setTimeout(() => {
      if (generation === this.#generation) this.#attempt(next, reason ?? undefined);
    }, delay);
  }

  #enterError(error) {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#closeConnection();
    this.#leaveShared();
    this.#error = error;
    this.#setState('error', error.message, error);
    this.#rejectReady(error);
  }

  #closeConnection() {
    const connection = this.#connection;
    this.#connection = null;
    try {
      connection?.close();
    } catch {
      // A connection that fails to close is gone anyway.
    }
  }

  #setState(state, reason = null, error = null) {
    const previous = this.#state;
    this.#state = state;
    if (previous === state && state !== 'reconnecting') return;
    this.#emit('state', { state, previous, reason, error });
  }

  #emitChange(change) {
    this.#emit('change', change);
  }

  #emit(type, detail) {
    for (const listener of [...this.#listeners[type]]) {
      try {
        listener(detail, this);
      } catch (error) {
        // A listener's bug must not stop the stream or other listeners; it is reported where the page reports errors.
        if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
        else console.error(error);
      }
    }
  }

  // A browser tells the page when the network is back and when the tab is shown again (its timers are throttled while
  // hidden, so a backoff may be long overdue): then waiting longer serves no one.
  #hookEnvironment() {
    const target = globalThis.window;
    if (typeof target?.addEventListener !== 'function') return;
    const online = () => {
      if (this.#state !== 'closed' && this.#state !== 'error') this.reconnect();
    };
    const visible = () => {
      if (globalThis.document?.visibilityState === 'visible' && (this.#state === 'reconnecting' || this.#state === 'connecting') && this.#connection === null) this.reconnect();
    };
    target.addEventListener('online', online);
    globalThis.document?.addEventListener?.('visibilitychange', visible);
    this.#unhook.push(() => target.removeEventListener('online', online));
    this.#unhook.push(() => globalThis.document?.removeEventListener?.('visibilitychange', visible));
  }

  // ----- Server-Sent Events, read with fetch: unlike EventSource it shows the status of a refusal, the `retry:`
  // field and the heartbeats (comments), and it can send the app's headers -----

  #openSse(context, cursor) {
    const controller = new AbortController();
    let closed = false;
    let idleTimer;
    const url = new URL(this.#url);
    if (cursor) url.searchParams.set('lastEventId', cursor);
    const idle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        controller.abort();
        finish({ reason: `no data or heartbeat for ${this.#options.idleTimeout} ms`, opened: true });
      }, this.#options.idleTimeout);
    };
    const finish = (info) => {
      if (closed) return;
      closed = true;
      clearTimeout(idleTimer);
      context.ended(info);
    };
    (async () => {
      let response;
      // The idle timer runs from the request on, so a server that never answers is left too.
      idle();
      try {
        response = await this.#fetch(url, { Accept: 'text/event-stream' }, controller.signal);
      } catch (error) {
        finish({ reason: `the stream request failed: ${error.message}`, error, opened: false });
        return;
      }
      if (!response.ok) {
        const refusal = await refusalOf(response, `GET ${url.pathname} (event stream)`);
        if (isRefusal(response.status)) finish({ refused: refusal, opened: false });
        else finish({ reason: refusal.message, error: refusal, opened: false, retryAfter: retryAfterMs(response) });
        return;
      }
      const type = response.headers.get('Content-Type') ?? '';
      if (!/^text\/event-stream\b/i.test(type)) {
        controller.abort();
        finish({ refused: new RocketError(`GET ${url.pathname}: expected an event stream, got '${type}'`, { status: response.status }), opened: false });
        return;
      }
      if (closed) return;
      context.opened();
      idle();
      let closing = null;
      const parser = sseParser((event) => {
        if (closed) return;
        if (event.type === 'patch') {
          let operations;
          try {
            operations = JSON.parse(event.data);
          } catch {
            operations = undefined;
          }
          context.event(event.id, operations);
        } else if (event.type === 'close') {
          try {
            closing = JSON.parse(event.data);
          } catch {
            closing = { status: 'Closed', reason: event.data };
          }
        }
      }, (ms) => context.retry(ms));
      try {
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done || closed) break;
          idle();
          parser(value);
        }
      } catch (error) {
        finish({ reason: `the stream broke: ${error.message}`, error, opened: true });
        return;
      }
      // SlowConsumer asks for an immediate resume; so does Expired (the sign-in the stream was opened with ran out):
      // the resume either carries a renewed credential or is refused with a 401, which is the error state.
      finish(closing
        ? { reason: `${closing.status}: ${closing.reason}`, immediate: closing.status === 'SlowConsumer' || closing.status === 'Expired', opened: true }
        : { reason: 'the server ended the stream', opened: true });
    })();
    return {
      close: () => {
        closed = true;
        clearTimeout(idleTimer);
        controller.abort();
      },
    };
  }

  // ----- WebSocket, subprotocol rocket.jsonpatch.v1 -----

  #openWebSocket(context, cursor) {
    const url = new URL(this.#url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (cursor) url.searchParams.set('lastEventId', cursor);
    const WebSocketClass = this.#options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== 'function') throw new TypeError('no WebSocket implementation: pass options.WebSocket');
    const socket = new WebSocketClass(url.href, Subprotocol);
    let closed = false;
    let opened = false;
    let said = null;
    socket.onopen = () => {
      if (closed) return;
      opened = true;
      context.opened();
    };
    socket.onmessage = (message) => {
      if (closed || typeof message.data !== 'string') return;
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return;
      }
      // Members and message types a later version may add are ignored, as the protocol asks.
      if (parsed?.type === 'patch') context.event(parsed.id, parsed.patch);
      else if (parsed?.type === 'close' || parsed?.type === 'error') said = parsed;
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (closed) return;
      closed = true;
      const reason = said?.reason ?? event.reason ?? '';
      const text = `WebSocket closed (${event.code}${said?.status ? ` ${said.status}` : ''})${reason ? `: ${reason}` : ''}`;
      // 1002, 1003, 1007, 1008 and 1009 say this client broke the protocol: trying again would break it again.
      if ([1002, 1003, 1007, 1008, 1009].includes(event.code)) {
        context.ended({ refused: new RocketError(text, { code: event.code }), opened });
      } else if (event.code === 4001) {
        // Expired: the sign-in ran out. A browser would not show the upgrade's 401, so the resume GETs the document
        // first: a renewed credential resumes, a refused one is the error state.
        context.ended({ reason: text, immediate: true, mode: 'check', opened });
      } else {
        // 4000 (slow consumer) asks for an immediate resume; 1001 (going away), 1006 and the rest back off first.
        context.ended({ reason: text, immediate: event.code === 4000, opened });
      }
    };
    return {
      close: () => {
        if (closed) return;
        closed = true;
        try {
          socket.close(1000);
        } catch {
          // Closing a socket that is still connecting throws in some implementations; it is dropped either way.
        }
      },
    };
  }

  // ----- One WebSocket shared by several collections (MapRocketWebSocket, /rocket/ws): subscribe/unsubscribe -----

  #openShared(context, cursor) {
    const url = new URL(this.#options.shared, this.#url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'wss:' ? 'wss:' : 'ws:';
    const WebSocketClass = this.#options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== 'function') throw new TypeError('no WebSocket implementation: pass options.WebSocket');
    const shared = SharedSocket.for(url.href, WebSocketClass);
    // A collection that resumes on another socket (the one it was on was retired) gives up its place on the old one.
    if (this.#shared !== shared) this.#leaveShared();
    this.#shared = shared;
    return shared.subscribe(this.#name, cursor, context, this);
  }

  // A collection waiting to resume keeps its place on the shared socket (so a socket is not closed and opened again
  // between a `close` message and the resume); it gives it up when it is closed or in the error state.
  #leaveShared() {
    this.#shared?.leave(this.#name, this);
    this.#shared = null;
  }

  // ----- SignalR: the app's HubConnection, hub methods Subscribe/Unsubscribe, client methods patch/patchPart/close -----

  #openSignalR(context, cursor) {
    const hub = this.#options.hubConnection;
    const name = this.#name;
    let closed = false;
    const finish = (info) => {
      if (closed) return;
      closed = true;
      parts = null;
      hub.off('patch', onPatch);
      hub.off('patchPart', onPatchPart);
      hub.off('close', onClose);
      context.ended(info);
    };
    let opened = false;
    const markOpened = () => {
      if (opened) return;
      opened = true;
      context.opened();
    };
    // An event longer than a slice comes as patchPart(collection, id, index, text) messages, in order, then its patch
    // message carrying the last slice: the slices are kept here (never applied on their own) until it comes.
    let parts = null;
    const onPatchPart = (collection, id, index, text) => {
      if (closed || collection !== name) return;
      markOpened();
      // The first slice starts the event afresh, whatever a replaced subscription left half sent.
      if (index === 0) parts = { id, texts: [], broken: false };
      else if (!parts || parts.id !== id || parts.texts.length !== index) parts = { id, texts: [], broken: true };
      if (!parts.broken) parts.texts.push(text);
    };
    const onPatch = (collection, id, reset, patch) => {
      if (closed || collection !== name) return;
      // Events may come before Subscribe's completion: either shows the subscription is in place.
      markOpened();
      if (parts) {
        const pending = parts;
        parts = null;
        if (pending.id === id && pending.broken) {
          // A slice went missing: the event cannot be rebuilt, so the stream ends and resumes from the copy's cursor.
          finish({ reason: `event ${id} arrived with a slice missing`, immediate: true, opened: true });
          return;
        }
        // Slices of another event are what an ended subscription left half sent: dropped.
        if (pending.id === id) patch = pending.texts.join('') + patch;
      }
      let operations = patch;
      if (typeof patch === 'string') {
        try {
          operations = JSON.parse(patch);
        } catch {
          operations = undefined;
        }
      }
      context.event(id, operations, reset);
    };
    const onClose = (collection, status, reason) => {
      if (closed || collection !== name) return;
      finish({ reason: `${status}: ${reason}`, immediate: status === 'SlowConsumer' || status === 'Expired', opened: true });
    };
    hub.on('patch', onPatch);
    hub.on('patchPart', onPatchPart);
    hub.on('close', onClose);
    // A HubConnection's onclose/onreconnecting callbacks cannot be removed, so they are added once per collection
    // and reach whichever subscription is current.
    this.#hubEnded = (info) => finish(info);
    if (!this.#hubHooked) {
      this.#hubHooked = true;
      hub.onclose((error) => this.#hubEnded?.({ reason: `the SignalR connection closed${error ? `: ${error.message}` : ''}`, error, opened: true }));
      hub.onreconnecting?.((error) => this.#hubEnded?.({ reason: `SignalR is reconnecting${error ? `: ${error.message}` : ''}`, immediate: true, opened: true }));
    }
    (async () => {
      try {
        await connectHub(hub, () => closed);
        if (closed) return;
        await hub.invoke('Subscribe', name, cursor);
        if (!closed) markOpened();
      } catch (error) {
        if (closed) return;
        const refusal = hubRefusal(error);
        if (refusal && isRefusal(refusal.status)) finish({ refused: refusal, opened });
        else finish({ reason: `SignalR: ${error.message}`, error, opened });
      }
    })();
    return {
      close: () => {
        this.#hubEnded = null;
        if (closed) return;
        closed = true;
        parts = null;
        hub.off('patch', onPatch);
        hub.off('patchPart', onPatchPart);
        hub.off('close', onClose);
        // Invocations on a connection run in order, so a Subscribe that follows this one still wins.
        if (hub.state === 'Connected') hub.invoke('Unsubscribe', name).catch(() => {});
      },
    };
  }
}

// One WebSocket to a multi-collection endpoint, shared by every collection opened with the same `shared` URL (and
// WebSocket class). Each collection keeps its own cursor, backoff and state: a dropped socket ends every collection's
// stream, and each resumes on its own schedule, on whichever socket is then current (a new one when needed). The
// socket is closed when its last collection leaves.
const sharedSockets = new Map();
const SharedStatuses = { NotFound: 404, Unauthorized: 401, Forbidden: 403, FamilyFull: 503, SubscriberLimit: 503, ShuttingDown: 503 };

class SharedSocket {
  static for(url, WebSocketClass) {
    let byClass = sharedSockets.get(url);
    if (!byClass) sharedSockets.set(url, (byClass = new Map()));
    let shared = byClass.get(WebSocketClass);
    if (!shared) byClass.set(WebSocketClass, (shared = new SharedSocket(url, WebSocketClass)));
    return shared;
  }

  #url;
  #WebSocketClass;
  #socket = null;
  #open = false;
  #subscribers = new Map();

  constructor(url, WebSocketClass) {
    this.#url = url;
    this.#WebSocketClass = WebSocketClass;
  }

  // No new collection joins this socket any more (its sign-in expired, so a renewed one needs a new upgrade); those
  // already on it stay until they leave.
  #retire() {
    const byClass = sharedSockets.get(this.#url);
    if (byClass?.get(this.#WebSocketClass) === this) byClass.delete(this.#WebSocketClass);
    if (byClass?.size === 0) sharedSockets.delete(this.#url);
  }

  subscribe(name, cursor, context, owner) {
    const previous = this.#subscribers.get(name);
    if (previous && !(previous.ended && previous.owner === owner)) {
      // The server follows a collection once per connection: a second copy on the same socket would steal its stream.
      queueMicrotask(() => context.ended({ refused: new RocketError(`'${name}' is already followed on the shared WebSocket ${this.#url}`), opened: false }));
      return { close() {} };
    }
    const subscriber = { cursor, context, owner, opened: false, ended: false };
    this.#subscribers.set(name, subscriber);
    if (!this.#socket) this.#connect();
    else if (this.#open) this.#send(name, subscriber);
    return { close: () => this.#remove(name, subscriber) };
  }

  // The collection `owner` no longer follows `name` here (closed, or in the error state).
  leave(name, owner) {
    const subscriber = this.#subscribers.get(name);
    if (subscriber?.owner === owner) this.#remove(name, subscriber);
  }

  #remove(name, subscriber) {
    if (this.#subscribers.get(name) !== subscriber) return;
    this.#subscribers.delete(name);
    if (this.#subscribers.size === 0) this.#close();
    else if (this.#open && !subscriber.ended) this.#write({ type: 'unsubscribe', collection: name });
  }

  #connect() {
    const socket = new this.#WebSocketClass(this.#url, Subprotocol);
    this.#socket = socket;
    this.#open = false;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      this.#open = true;
      for (const [name, subscriber] of this.#subscribers) this.#send(name, subscriber);
    };
    socket.onmessage = (message) => {
      if (socket !== this.#socket || typeof message.data !== 'string') return;
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return;
      }
      const name = parsed?.collection;
      const subscriber = typeof name === 'string' ? this.#subscribers.get(name) : undefined;
      // Messages of a collection no longer followed (in flight before its unsubscribe) and unknown types are ignored.
      if (!subscriber || subscriber.ended) return;
      if (parsed.type === 'patch') {
        subscriber.context.event(parsed.id, parsed.patch);
      } else if (parsed.type === 'close' || parsed.type === 'error') {
        // The server follows the collection no more; until it resumes, it keeps its place (so the socket stays).
        subscriber.ended = true;
        const text = `${parsed.status}: ${parsed.reason ?? ''}`;
        const status = SharedStatuses[parsed.status];
        if (parsed.type === 'close' && parsed.status === 'Expired') {
          // Resumed at once, after a GET that shows whether the sign-in was renewed, and on a new socket: this one
          // keeps the expired sign-in it was opened with.
          this.#retire();
          this.#remove(name, subscriber);
          subscriber.context.ended({ reason: text, immediate: true, mode: 'check', opened: true });
        } else if (parsed.type === 'close') {
          subscriber.context.ended({ reason: text, immediate: parsed.status === 'SlowConsumer', opened: true });
        } else if (status === undefined || isRefusal(status)) {
          // A refused subscribe is that collection's error state (which gives up its place); the others go on.
          subscriber.context.ended({ refused: new RocketError(text, { status }), opened: subscriber.opened });
        } else {
          // The busy answers (503s) are retried after the backoff.
          subscriber.context.ended({ reason: text, error: new RocketError(text, { status }), opened: subscriber.opened });
        }
      }
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#open = false;
      const subscribers = [...this.#subscribers.values()].filter((subscriber) => !subscriber.ended);
      this.#subscribers.clear();
      const text = `the shared WebSocket closed (${event.code})${event.reason ? `: ${event.reason}` : ''}`;
      const broken = [1002, 1003, 1007, 1008, 1009].includes(event.code);
      for (const subscriber of subscribers) {
        if (broken) subscriber.context.ended({ refused: new RocketError(text, { code: event.code }), opened: subscriber.opened });
        else subscriber.context.ended({ reason: text, immediate: event.code === 4000, opened: subscriber.opened });
      }
    };
  }

  #send(name, subscriber) {
    this.#write({ type: 'subscribe', collection: name, lastEventId: subscriber.cursor ?? null });
    // The server does not acknowledge a subscribe: the collection counts as live once it is sent on an open socket;
    // a refusal comes as an `error` message for it.
    subscriber.opened = true;
    subscriber.context.opened();
  }

  #write(message) {
    try {
      this.#socket.send(JSON.stringify(message));
    } catch {
      // A socket that cannot send is closing; its onclose ends every collection on it.
    }
  }

  #close() {
    const socket = this.#socket;
    this.#socket = null;
    this.#open = false;
    this.#retire();
    try {
      socket?.close(1000);
    } catch {
      // Closing a socket that is still connecting throws in some implementations; it is dropped either way.
    }
  }
}

// Starts the app's HubConnection when it is stopped (one start per connection, shared by the collections on it) and
// waits while SignalR connects or reconnects on its own.
const hubStarts = new WeakMap();

async function connectHub(hub, cancelled) {
  while (!cancelled()) {
    const state = hub.state;
    if (state === 'Connected') return;
    if (state === 'Disconnected') {
      let start = hubStarts.get(hub);
      if (!start) {
        start = Promise.resolve(hub.start()).finally(() => hubStarts.delete(hub));
        hubStarts.set(hub, start);
      }
      await start;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// The hub refuses with a HubException whose message starts with a status word and a colon; SignalR's own HTTP
// errors (negotiate) carry a statusCode.
const HubStatuses = { BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, SubscriberLimit: 503 };

function hubRefusal(error) {
  if (typeof error?.statusCode === 'number') return new RocketError(`SignalR: ${error.message}`, { status: error.statusCode, cause: error });
  const match = /\b(BadRequest|Unauthorized|Forbidden|NotFound|SubscriberLimit):\s*(.*)$/s.exec(error?.message ?? '');
  if (!match) return null;
  return new RocketError(`${match[1]}: ${match[2]}`, { status: HubStatuses[match[1]], cause: error });
}

// The `<epoch>.<sequence>` of `id` comes after `current`'s (or the two cannot be compared: a new epoch, no cursor).
function follows(id, current) {
  const next = CursorPattern.exec(id ?? '');
  const last = CursorPattern.exec(current ?? '');
  if (!next || !last || next[1] !== last[1]) return true;
  return BigInt(next[2]) > BigInt(last[2]);
}

async function refusalOf(response, what) {
  let problem;
  let detail = '';
  try {
    const text = await response.text();
    if (/json/i.test(response.headers.get('Content-Type') ?? '')) {
      problem = JSON.parse(text);
      detail = problem?.detail ?? problem?.title ?? '';
    } else {
      detail = text.slice(0, 200);
    }
  } catch {
    // The body only adds detail to the status.
  }
  return new RocketError(`${what}: ${response.status}${detail ? ` ${detail}` : ''}`, { status: response.status, problem });
}

function retryAfterMs(response) {
  const value = response.headers.get('Retry-After');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

// The text/event-stream parser of the HTML standard, fed decoded text in chunks of any size. Comments (heartbeats)
// are skipped; `retry:` is reported; an event is dispatched at its blank line with its type, data and id.
function sseParser(onEvent, onRetry) {
  let buffer = '';
  let type = '';
  let data = '';
  let hasData = false;
  let lastId = '';
  const lineBreak = /\r\n|\r|\n/g;
  const line = (text) => {
    if (text === '') {
      if (hasData) onEvent({ type: type || 'message', data: data.endsWith('\n') ? data.slice(0, -1) : data, id: lastId });
      type = '';
      data = '';
      hasData = false;
      return;
    }
    if (text[0] === ':') return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') {
      data += `${value}\n`;
      hasData = true;
    } else if (field === 'id') {
      if (!value.includes('\0')) lastId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    lineBreak.lastIndex = 0;
    for (let match = lineBreak.exec(buffer); match; match = lineBreak.exec(buffer)) {
      // A '\r' at the very end may be the first half of a '\r\n' still to come.
      if (match[0] === '\r' && match.index === buffer.length - 1) break;
      line(buffer.slice(start, match.index));
      start = match.index + match[0].length;
    }
    buffer = buffer.slice(start);
  };
}
