// The JavaScript client (@rocket-live/client) against scripted servers in this process, for what a Rocket server does
// rarely or never on cue: a patch that does not apply, `retry:`, close reasons and codes, refusals, a silent stream,
// and the SignalR hub contract through a scripted HubConnection (the client only calls start/invoke/on/off/onclose).
//
//   node js-client-scripted.mjs
//
// Each case names what it requires (the last one also stands in for a page's window and document, to send the
// `visibilitychange` and `online` events a browser sends); a case that reconnects despite an initial delay of ten minutes shows the client
// took the server's word (retry:, a close reason) over its own backoff. Prints one JSON summary line with "ok":true and
// exits 0, or names the failing case and exits 1. Bounded: 60 s overall, 10 s per wait.
import http from 'node:http';
import { openCollection, RocketError } from '@rocket-live/client';
import WebSocket, { WebSocketServer } from 'ws';
import { check, deepEqual, Mismatch } from './lib/interop.mjs';
import { runBounded, Waiters } from './lib/script.mjs';

const OverallTimeoutMs = 60_000;
const WaitMs = 10_000;
const Never = 600_000; // an initial reconnect delay no case may wait out

const waiters = new Waiters();
const notify = () => waiters.wake();
const until = (predicate, what) => waiters.until(predicate, WaitMs, () => new Mismatch(`timed out after ${WaitMs} ms waiting for ${what}`));

// A scripted HTTP server: `routes(request, response, n)` answers, n counting the requests of the same kind (document
// GETs, other requests) including this one; every request is kept (method, url, headers).
async function scriptedServer(routes) {
  const requests = [];
  const open = new Set();
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method, url: new URL(request.url, 'http://x'), headers: request.headers });
    open.add(response);
    response.on('close', () => open.delete(response));
    const isGet = (r) => r.url.searchParams.get('form') === 'keyed';
    const kind = isGet(requests.at(-1));
    routes(request, response, requests.filter((r) => isGet(r) === kind).length);
    notify();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    server,
    requests,
    streams: () => requests.filter((r) => r.headers.accept === 'text/event-stream'),
    gets: () => requests.filter((r) => r.url.searchParams.get('form') === 'keyed'),
    close: () => {
      for (const response of open) response.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function keyed(response, document, cursor, status = 200) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Last-Event-ID': cursor });
  response.end(JSON.stringify(document));
}

function eventStream(response, text) {
  response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  response.write(text);
}

function patchEvent(id, operations) {
  return `event: patch\nid: ${id}\ndata: ${JSON.stringify(operations)}\n\n`;
}

function watch(collection) {
  const seen = { changes: [], states: [] };
  collection.on('change', (change) => { seen.changes.push(change); notify(); });
  collection.on('state', (state) => { seen.states.push(state); notify(); });
  return seen;
}

const cleanups = [];
const passed = [];

async function run(name, body) {
  try {
    await body();
  } catch (error) {
    throw error instanceof Mismatch ? new Mismatch(`${name}: ${error.message}`) : new Error(`${name}: ${error.stack ?? error}`);
  } finally {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }
  passed.push(name);
}

function open(url, options) {
  const collection = openCollection(url, { WebSocket, ...options });
  collection.on('change', notify);
  collection.on('state', notify);
  cleanups.push(() => collection.close());
  return collection;
}

async function main() {
  await run('sse: a patch that does not apply makes a refetch, then the stream resumes from the refetched cursor', async () => {
    const first = { c: { a: { x: 1 } } };
    const second = { c: { a: { x: 2 }, b: { y: 1 } } };
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, n === 1 ? first : second, n === 1 ? 'aaaaaaaa.1' : 'aaaaaaaa.5');
      else if (n === 1) eventStream(response, patchEvent('aaaaaaaa.2', [{ op: 'remove', path: '/c/missing' }]));
      else eventStream(response, ': waiting\n\n');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: Never });
    const seen = watch(collection);
    await until(() => server.streams().length === 2, 'the stream reopened after the refetch');
    check(deepEqual(seen.changes.map((c) => c.kind), ['load', 'refetch']), `changes ${JSON.stringify(seen.changes.map((c) => c.kind))}`);
    check(/aaaaaaaa\.2/.test(seen.changes[1].reason) && /does not exist/.test(seen.changes[1].reason), `refetch reason ${seen.changes[1].reason}`);
    check(server.streams()[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.5', `second stream ${server.streams()[1].url}`);
    check(server.streams()[0].url.searchParams.get('lastEventId') === 'aaaaaaaa.1', `first stream ${server.streams()[0].url}`);
    check(deepEqual(collection.document, second) && collection.cursor === 'aaaaaaaa.5', `copy ${JSON.stringify(collection.document)} at ${collection.cursor}`);
  });

  await run("sse: the server's retry: replaces the initial delay", async () => {
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else if (n === 1) {
        eventStream(response, `retry: 20\n\n${patchEvent('aaaaaaaa.2', [{ op: 'add', path: '/c/a', value: 1 }])}`);
        response.end();
      } else eventStream(response, ': waiting\n\n');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: Never, maxDelay: Never });
    await until(() => server.streams().length === 2, 'a reconnection after the stream ended');
    check(server.streams()[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.2', `second stream ${server.streams()[1].url}`);
    await until(() => collection.state === 'live', 'live again');
  });

  await run('sse: event close with SlowConsumer resumes at once; a silent stream is left after idleTimeout', async () => {
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else if (n === 1) {
        eventStream(response, `${patchEvent('aaaaaaaa.2', [{ op: 'add', path: '/c/a', value: 1 }])}event: close\ndata: {"status":"SlowConsumer","reason":"slow consumer"}\n\n`);
        response.end();
      } else response.writeHead(200, { 'Content-Type': 'text/event-stream' }).flushHeaders();
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: Never, idleTimeout: 200 });
    const seen = watch(collection);
    await until(() => server.streams().length === 2, 'a resume after SlowConsumer');
    check(server.streams()[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.2', `second stream ${server.streams()[1].url}`);
    check(seen.states.some((s) => s.state === 'reconnecting' && /SlowConsumer/.test(s.reason)), `states ${JSON.stringify(seen.states)}`);
    // The second stream sends nothing at all, not even a heartbeat: the client gives up on it and comes back (the
    // reconnect itself then waits for the backoff, which this case does not wait out).
    await until(() => seen.states.some((s) => s.state === 'reconnecting' && /no data or heartbeat/.test(s.reason)), 'the idle timeout');
  });

  await run('sse: event close with Expired resumes at once; the resume refused with 401 is the error state', async () => {
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else if (n === 1) {
        eventStream(response, `${patchEvent('aaaaaaaa.2', [{ op: 'add', path: '/c/a', value: 1 }])}event: close\ndata: {"status":"Expired","reason":"the sign-in expired"}\n\n`);
        response.end();
      } else {
        response.writeHead(401, { 'Content-Type': 'application/problem+json' });
        response.end(JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'sign in' }));
      }
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: Never });
    await until(() => collection.state === 'error', 'the error state');
    check(collection.error?.status === 401 && server.streams().length === 2, `error ${collection.error}, streams ${server.streams().length}`);
    check(server.streams()[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.2', `second stream ${server.streams()[1].url}`);
  });

  await run('sse: 503 with Retry-After is retried; then live', async () => {
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else if (n === 1) {
        response.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '0' });
        response.end(JSON.stringify({ title: 'Too many subscribers', status: 503, detail: 'try again' }));
      } else eventStream(response, ': live\n\n');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: 20 });
    const seen = watch(collection);
    await collection.ready;
    check(server.streams().length === 2, `stream requests ${server.streams().length}`);
    check(seen.states.some((s) => /503 try again/.test(s.reason ?? '')), `states ${JSON.stringify(seen.states)}`);
  });

  await run('sse: 401 on the GET is the error state with the problem; reconnect() leaves it', async () => {
    let allow = false;
    const server = await scriptedServer((request, response) => {
      if (!allow) {
        response.writeHead(401, { 'Content-Type': 'application/problem+json' });
        response.end(JSON.stringify({ type: 'urn:x', title: 'Unauthorized', status: 401, detail: 'sign in' }));
      } else if (request.url.includes('form=keyed')) keyed(response, { c: { a: 1 } }, 'aaaaaaaa.3');
      else eventStream(response, ': live\n\n');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`);
    const error = await collection.ready.then(() => null, (e) => e);
    check(error instanceof RocketError && error.status === 401 && error.problem?.title === 'Unauthorized' && /sign in/.test(error.message), `ready settled with ${error}`);
    check(collection.state === 'error' && collection.error === error, `state ${collection.state}`);
    allow = true;
    collection.reconnect();
    await until(() => collection.state === 'live', 'live after reconnect()');
    check(collection.records.a === 1, `records ${JSON.stringify(collection.records)}`);
  });

  await run('sse: an answer that is not an event stream is the error state', async () => {
    const server = await scriptedServer((request, response) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else keyed(response, { c: [] }, 'aaaaaaaa.1');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`);
    const error = await collection.ready.then(() => null, (e) => e);
    check(error instanceof RocketError && /expected an event stream/.test(error.message), `ready settled with ${error}`);
  });

  // WebSocket cases: one scripted upgrade handler per case; `sockets` keeps each connection's URL.
  async function scriptedWebSocket(onConnection) {
    const sockets = [];
    const server = await scriptedServer((request, response) => keyed(response, { c: {} }, 'aaaaaaaa.1'));
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('rocket.jsonpatch.v1') ? 'rocket.jsonpatch.v1' : false) });
    server.server.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (ws) => {
        sockets.push({ url: new URL(request.url, 'http://x'), protocol: ws.protocol });
        onConnection(ws, sockets.length);
        notify();
      });
    });
    cleanups.push(async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    });
    return { server, sockets };
  }

  const wsPatch = (id, operations) => JSON.stringify({ type: 'patch', id, patch: operations, later: 'ignored' });

  await run('websocket: close 4000 (slow consumer) resumes at once from the last cursor', async () => {
    const { server, sockets } = await scriptedWebSocket((ws, n) => {
      if (n === 1) {
        ws.send(wsPatch('aaaaaaaa.2', [{ op: 'add', path: '/c/a', value: 1 }]));
        ws.send(JSON.stringify({ type: 'close', status: 'SlowConsumer', code: 4000, reason: 'slow consumer: resume' }));
        ws.close(4000, 'slow consumer: resume');
      }
    });
    const collection = open(`${server.base}/c`, { transport: 'websocket', initialDelay: Never });
    await until(() => sockets.length === 2, 'a second connection');
    check(sockets[0].protocol === 'rocket.jsonpatch.v1', `subprotocol ${sockets[0].protocol}`);
    check(sockets[0].url.searchParams.get('lastEventId') === 'aaaaaaaa.1', `first URL ${sockets[0].url}`);
    check(sockets[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.2', `second URL ${sockets[1].url}`);
    await until(() => collection.state === 'live', 'live again');
    check(collection.records.a === 1, `records ${JSON.stringify(collection.records)}`);
  });

  await run('websocket: close 1001 (going away) resumes after the backoff', async () => {
    const { server, sockets } = await scriptedWebSocket((ws, n) => {
      if (n === 1) {
        ws.send(wsPatch('aaaaaaaa.2', [{ op: 'add', path: '/c/a', value: 1 }]));
        ws.close(1001, 'shutting down');
      }
    });
    const collection = open(`${server.base}/c`, { transport: 'websocket', initialDelay: 20 });
    const seen = watch(collection);
    await until(() => sockets.length === 2, 'a second connection');
    check(sockets[1].url.searchParams.get('lastEventId') === 'aaaaaaaa.2', `second URL ${sockets[1].url}`);
    check(seen.states.some((s) => s.state === 'reconnecting' && /1001/.test(s.reason)), `states ${JSON.stringify(seen.states)}`);
  });

  await run('websocket: close 4001 (expired) checks with a GET at once, whose 401 is the error state', async () => {
    let expired = false;
    const sockets = [];
    const server = await scriptedServer((request, response) => {
      if (expired) {
        response.writeHead(401, { 'Content-Type': 'application/problem+json' });
        response.end(JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'sign in again' }));
      } else keyed(response, { c: {} }, 'aaaaaaaa.1');
    });
    const wss = new WebSocketServer({ noServer: true });
    server.server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.push(request.url);
      expired = true;
      ws.send(JSON.stringify({ type: 'close', status: 'Expired', code: 4001, reason: 'the sign-in expired' }));
      ws.close(4001, 'the sign-in expired');
    }));
    cleanups.push(async () => { for (const client of wss.clients) client.terminate(); wss.close(); await server.close(); });
    const collection = open(`${server.base}/c`, { transport: 'websocket', initialDelay: Never });
    await until(() => collection.state === 'error', 'the error state');
    check(collection.error?.status === 401 && /sign in again/.test(collection.error.message), `error ${collection.error}`);
    check(sockets.length === 1 && server.gets().length === 2, `upgrades ${sockets.length}, GETs ${server.gets().length}`);
  });

  await run("shared websocket: close resumes only its collection (at once; Expired after a GET, on a new socket); an error message is that collection's error state or, when busy, its retry; closing a socket's last collection closes it", async () => {
    const closes = [];
    const subscribes = [];
    const server = await scriptedServer((request, response) => keyed(response, { c: {} }, 'aaaaaaaa.1'));
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('rocket.jsonpatch.v1') ? 'rocket.jsonpatch.v1' : false) });
    let connections = 0;
    let yBack = false;
    let expire;
    server.server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = ++connections;
      check(new URL(request.url, 'http://x').pathname === '/ws', `upgrade to ${request.url}`);
      ws.on('close', (code) => { closes.push({ connection, code }); notify(); });
      ws.on('message', (data) => {
        const message = JSON.parse(String(data));
        subscribes.push({ connection, ...message });
        notify();
        if (message.type !== 'subscribe') return;
        const { collection } = message;
        const n = subscribes.filter((m) => m.type === 'subscribe' && m.collection === collection).length;
        const say = (type, status, reason) => ws.send(JSON.stringify({ type, collection, status, reason }));
        if (collection === 'x/c' && n === 1) {
          ws.send(JSON.stringify({ type: 'patch', collection, id: 'aaaaaaaa.2', patch: [{ op: 'add', path: '/c/a', value: 1 }] }));
          say('close', 'SlowConsumer', 'resume');
        } else if (collection === 'x/c' && n === 2) {
          // x's sign-in expires once y is back on this socket, so y stays here and x moves to a new socket.
          expire = () => say('close', 'Expired', 'the sign-in expired');
          if (yBack) expire();
        } else if (collection === 'y/c' && n === 1) {
          say('error', 'SubscriberLimit', 'busy');
        } else if (collection === 'y/c' && n === 2) {
          yBack = true;
          expire?.();
        } else if (collection === 'z/c') {
          say('error', 'NotFound', 'no such collection');
        }
      });
    }));
    cleanups.push(async () => { for (const client of wss.clients) client.terminate(); wss.close(); await server.close(); });
    const options = { transport: 'websocket', shared: '/ws', initialDelay: Never };
    const x = open(`${server.base}/x/c`, options);
    const y = open(`${server.base}/y/c`, { ...options, initialDelay: 20 });
    const z = open(`${server.base}/z/c`, options);
    const ofX = () => subscribes.filter((m) => m.type === 'subscribe' && m.collection === 'x/c');
    await until(() => ofX().length === 3, "x's third subscribe (after SlowConsumer, then Expired)");
    check(ofX()[0].lastEventId === 'aaaaaaaa.1' && ofX()[1].lastEventId === 'aaaaaaaa.2' && ofX()[2].lastEventId === 'aaaaaaaa.2',
      `x subscribed from ${JSON.stringify(ofX().map((m) => m.lastEventId))}`);
    check(ofX()[0].connection === 1 && ofX()[1].connection === 1 && ofX()[2].connection === 2, `x's subscribes went to connections ${ofX().map((m) => m.connection)}`);
    check(server.gets().filter((r) => r.url.pathname === '/x/c').length === 2, 'Expired did not GET first');
    await until(() => x.state === 'live' && x.records.a === 1, 'x live with its record');
    await until(() => z.state === 'error', 'z in the error state');
    check(z.error?.status === 404 && /^NotFound:/.test(z.error.message), `z's error ${z.error}`);
    await until(() => subscribes.filter((m) => m.type === 'subscribe' && m.collection === 'y/c').length === 2 && y.state === 'live', 'y subscribed again after SubscriberLimit');
    check(connections === 2, `${connections} connections`);
    check(subscribes.filter((m) => m.collection === 'y/c').every((m) => m.connection === 1), 'y left the first socket');
    // x is alone on the second socket (the first keeps y): closing x closes that socket, not the first; closing y then
    // closes the first.
    x.close();
    await until(() => closes.some((c) => c.connection === 2 && c.code === 1000), 'the second socket closed with 1000');
    check(!closes.some((c) => c.connection === 1) && y.state === 'live', `closes ${JSON.stringify(closes)}, y ${y.state}`);
    y.close();
    await until(() => closes.some((c) => c.connection === 1 && c.code === 1000), 'the first socket closed with 1000');
  });

  await run('websocket: close 1008 (policy violation) is the error state', async () => {
    const { server } = await scriptedWebSocket((ws) => {
      ws.send(JSON.stringify({ type: 'error', status: 'PolicyViolation', code: 1008, reason: 'unknown message type' }));
      ws.close(1008, 'unknown message type');
    });
    const collection = open(`${server.base}/c`, { transport: 'websocket' });
    await until(() => collection.state === 'error', 'the error state');
    check(collection.error?.code === 1008 && /unknown message type/.test(collection.error.message), `error ${collection.error}`);
  });

  await run('websocket: upgrades that keep failing are checked with a GET, whose 403 is the error state', async () => {
    let getStatus = 200;
    const sockets = [];
    const server = await scriptedServer((request, response) => {
      if (getStatus !== 200) {
        response.writeHead(getStatus, { 'Content-Type': 'application/problem+json' });
        response.end(JSON.stringify({ title: 'Forbidden', status: getStatus, detail: 'not yours' }));
      } else keyed(response, { c: {} }, 'aaaaaaaa.1');
    });
    server.server.on('upgrade', (request, socket) => {
      sockets.push(request.url);
      getStatus = 403; // from now on this client is not allowed: the upgrade fails, and only the GET can say why
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      notify();
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { transport: 'websocket', initialDelay: 20 });
    const error = await collection.ready.then(() => null, (e) => e);
    check(error instanceof RocketError && error.status === 403 && /not yours/.test(error.message), `ready settled with ${error}`);
    check(sockets.length === 2 && server.gets().length === 2, `upgrades ${sockets.length}, GETs ${server.gets().length}`);
  });

  // SignalR: a scripted HubConnection (what the client uses of @microsoft/signalr's) and a scripted GET.
  function scriptedHub({ refuse } = {}) {
    const handlers = new Map();
    const hub = {
      state: 'Disconnected',
      starts: 0,
      invocations: [],
      closeCallbacks: [],
      reconnectingCallbacks: [],
      async start() { hub.starts++; hub.state = 'Connected'; notify(); },
      async invoke(method, ...args) {
        hub.invocations.push([method, ...args]);
        notify();
        if (method === 'Subscribe' && refuse) throw new Error(`An unexpected error occurred invoking 'Subscribe' on the server. HubException: ${refuse}`);
        return null;
      },
      on(method, handler) { if (!handlers.has(method)) handlers.set(method, new Set()); handlers.get(method).add(handler); },
      off(method, handler) { handlers.get(method)?.delete(handler); },
      onclose(callback) { hub.closeCallbacks.push(callback); },
      onreconnecting(callback) { hub.reconnectingCallbacks.push(callback); },
      send(method, ...args) { for (const handler of [...(handlers.get(method) ?? [])]) handler(...args); },
      drop() { hub.state = 'Disconnected'; for (const callback of hub.closeCallbacks) callback(new Error('connection lost')); },
      handlerCount: (method) => handlers.get(method)?.size ?? 0,
      subscribes: () => hub.invocations.filter(([method]) => method === 'Subscribe'),
    };
    return hub;
  }

  await run('signalr: Subscribe(collection, cursor); patch as array and as string; reset; close resubscribes; a dropped hub is restarted; close() unsubscribes', async () => {
    const server = await scriptedServer((request, response) => keyed(response, { messages: {} }, 'aaaaaaaa.1'));
    cleanups.push(server.close);
    const hub = scriptedHub();
    const collection = open(`${server.base}/messages`, { hubConnection: hub, initialDelay: 20 });
    const seen = watch(collection);
    await collection.ready;
    check(collection.transport === 'signalr' && hub.starts === 1, `transport ${collection.transport}, starts ${hub.starts}`);
    check(deepEqual(hub.subscribes(), [['Subscribe', 'messages', 'aaaaaaaa.1']]), `invocations ${JSON.stringify(hub.invocations)}`);
    hub.send('patch', 'messages', 'aaaaaaaa.2', false, [{ op: 'add', path: '/messages/a', value: { id: 'a' } }]);
    hub.send('patch', 'messages', 'aaaaaaaa.3', false, JSON.stringify([{ op: 'add', path: '/messages/b', value: { id: 'b' } }]));
    hub.send('patch', 'other', 'aaaaaaaa.4', false, [{ op: 'add', path: '/other/x', value: 1 }]);
    hub.send('patch', 'messages', 'aaaaaaaa.2', false, [{ op: 'add', path: '/messages/a', value: { id: 'a', again: true } }]);
    check(deepEqual(collection.records, { a: { id: 'a' }, b: { id: 'b' } }) && collection.cursor === 'aaaaaaaa.3', `records ${JSON.stringify(collection.records)} at ${collection.cursor}`);
    hub.send('close', 'messages', 'SlowConsumer', 'slow consumer: resume');
    await until(() => hub.subscribes().length === 2, 'a second Subscribe');
    check(deepEqual(hub.subscribes()[1], ['Subscribe', 'messages', 'aaaaaaaa.3']), `second Subscribe ${JSON.stringify(hub.subscribes()[1])}`);
    hub.send('patch', 'messages', 'bbbbbbbb.1', true, [{ op: 'replace', path: '', value: { messages: { c: { id: 'c' } } } }]);
    check(seen.changes.at(-1).kind === 'reset' && deepEqual(collection.records, { c: { id: 'c' } }), `after the reset ${JSON.stringify(collection.document)}`);
    hub.drop();
    await until(() => hub.subscribes().length === 3, 'a Subscribe after the hub was restarted');
    check(hub.starts === 2 && deepEqual(hub.subscribes()[2], ['Subscribe', 'messages', 'bbbbbbbb.1']), `starts ${hub.starts}, ${JSON.stringify(hub.subscribes()[2])}`);
    await until(() => collection.state === 'live', 'live again');
    collection.close();
    check(hub.invocations.at(-1)[0] === 'Unsubscribe' && hub.invocations.at(-1)[1] === 'messages', `last invocation ${JSON.stringify(hub.invocations.at(-1))}`);
    check(hub.handlerCount('patch') === 0 && hub.handlerCount('close') === 0, 'handlers left on the hub after close()');
  });

  await run('signalr: a subscription refused with Forbidden is the error state', async () => {
    const server = await scriptedServer((request, response) => keyed(response, { messages: {} }, 'aaaaaaaa.1'));
    cleanups.push(server.close);
    const hub = scriptedHub({ refuse: 'Forbidden: not yours' });
    const collection = open(`${server.base}/messages`, { hubConnection: hub });
    const error = await collection.ready.then(() => null, (e) => e);
    check(error instanceof RocketError && error.status === 403 && error.message === 'Forbidden: not yours', `ready settled with ${error}`);
    check(collection.state === 'error', `state ${collection.state}`);
  });

  await run('signalr: SubscriberLimit is retried, not an error', async () => {
    const server = await scriptedServer((request, response) => keyed(response, { messages: {} }, 'aaaaaaaa.1'));
    cleanups.push(server.close);
    const hub = scriptedHub({ refuse: 'SubscriberLimit: too many' });
    const collection = open(`${server.base}/messages`, { hubConnection: hub, initialDelay: 20 });
    await until(() => hub.subscribes().length >= 2, 'a second Subscribe');
    check(collection.state === 'reconnecting' && /SubscriberLimit/.test(collection.error?.message), `state ${collection.state}, error ${collection.error}`);
  });

  await run("page signals: a tab shown again stops waiting out the backoff; 'online' reconnects at once", async () => {
    // A page's window and document, as far as the client listens to them; only collections opened meanwhile see them.
    const page = { window: new EventTarget(), document: Object.assign(new EventTarget(), { visibilityState: 'hidden' }) };
    globalThis.window = page.window;
    globalThis.document = page.document;
    cleanups.push(() => { delete globalThis.window; delete globalThis.document; });
    const server = await scriptedServer((request, response, n) => {
      if (request.url.includes('form=keyed')) keyed(response, { c: {} }, 'aaaaaaaa.1');
      else if (n === 1) {
        response.writeHead(503, { 'Content-Type': 'application/problem+json' });
        response.end('{"status":503}');
      } else eventStream(response, ': live\n\n');
    });
    cleanups.push(server.close);
    const collection = open(`${server.base}/c`, { initialDelay: Never, maxDelay: Never });
    await until(() => collection.state === 'reconnecting' && collection.error !== null, 'the refused stream');
    page.document.dispatchEvent(new Event('visibilitychange'));
    check(server.streams().length === 1, 'reconnected while the tab was still hidden');
    page.document.visibilityState = 'visible';
    page.document.dispatchEvent(new Event('visibilitychange'));
    await until(() => collection.state === 'live' && server.streams().length === 2, 'live after the tab was shown');
    page.window.dispatchEvent(new Event('online'));
    await until(() => server.streams().length === 3 && collection.state === 'live', "a new stream after 'online'");
    check(server.streams()[2].url.searchParams.get('lastEventId') === 'aaaaaaaa.1', `third stream ${server.streams()[2].url}`);
    collection.close();
    page.window.dispatchEvent(new Event('online'));
    check(server.streams().length === 3, "a closed collection reconnected on 'online'");
  });

  console.log(JSON.stringify({ ok: true, passed }));
}

runBounded('js-client-scripted', main, { overallTimeoutMs: OverallTimeoutMs, diagnostics: () => [`passed: ${passed.join('; ')}`] });
