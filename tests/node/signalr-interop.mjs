// Interop: the real @microsoft/signalr client (JSON hub protocol, or MessagePack with `msgpack`) keeps a copy of the
// keyed document with fast-json-patch (validating) through creates, updates and destroys made over the REST scaffold,
// a dropped connection resumed by cursor, and a reset (a cursor of another epoch), and must end equal to the server's
// `GET /messages?form=keyed`. It speaks the hub's contract (docs/signalr.md): handlers for `patch(collection, id, reset,
// patch)` and `close(collection, status, reason)`, then `Subscribe(collection, lastEventId)`; `Unsubscribe` ends it, and
// an unknown collection is refused with `NotFound: ...`.
//
//   node signalr-interop.mjs <base URL> [json|msgpack] [hub path, default /rocket]
//
// Exit status 0 when every step converged, 1 otherwise; bounded by a 60 s deadline.
import assert from "node:assert/strict";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import jsonpatch from "fast-json-patch";
import { Waiters } from "./lib/script.mjs";

const [base, protocol = "json", hubPath = "/rocket"] = process.argv.slice(2);
if (!base || !["json", "msgpack"].includes(protocol)) {
  console.error("usage: node signalr-interop.mjs <base URL> [json|msgpack] [hub path]");
  process.exit(1);
}

const deadline = setTimeout(() => {
  console.error(`signalr-interop (${protocol}): timed out`);
  process.exit(1);
}, 60_000);

const STEP_TIMEOUT_MS = 10_000;

// --- the client's state: the keyed document and the last cursor it applied ------------------------------------------
let doc = null;
let lastId = null;
const received = [];
const waiters = new Waiters();

function onPatch(collection, id, reset, patchArgument) {
  assert.equal(collection, "messages");
  // JSON protocol: the patch is the array itself; MessagePack: the same JSON text as a string.
  const patch = typeof patchArgument === "string" ? JSON.parse(patchArgument) : patchArgument;
  assert.ok(Array.isArray(patch), "the patch is a JSON array");
  assert.equal(typeof id, "string");
  assert.equal(typeof reset, "boolean");
  // validate = true: fast-json-patch checks every operation against the document before applying it.
  doc = jsonpatch.applyPatch(doc ?? {}, patch, true, false).newDocument;
  lastId = id;
  received.push({ id, reset, ops: patch.map((op) => op.op) });
  waiters.wake();
}

let streamError = null;
function subscribe(connection, cursor) {
  return connection.invoke("Subscribe", "messages", cursor);
}

function waitUntil(done, what) {
  return waiters.until(done, STEP_TIMEOUT_MS, () => new Error(`timed out waiting for ${what}; stream error: ${streamError}`));
}

// --- REST scaffold ---------------------------------------------------------------------------------------------------
async function http(method, path, body, contentType = "application/json") {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

// Waits until the client has applied the server's current cursor, then compares the documents.
async function converge(step) {
  const response = await fetch(base + "/messages?form=keyed", { headers: { Accept: "application/json" } });
  const expected = await response.json();
  const cursor = response.headers.get("last-event-id");
  await waitUntil(() => lastId === cursor, `cursor ${cursor} (${step})`);
  assert.deepEqual(doc, expected, `the client's copy equals the server's after: ${step}`);
  console.log(`ok - ${step} (${cursor})`);
}

function connect() {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(base + hubPath)
    .configureLogging(signalR.LogLevel.Warning);
  if (protocol === "msgpack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  // The handlers go first: a subscription's first patch may arrive before its Subscribe completes.
  connection.on("patch", onPatch);
  connection.on("close", (collection, status, reason) => {
    streamError = `${collection} closed: ${status}: ${reason}`;
  });
  return connection;
}

// --- the scenario ----------------------------------------------------------------------------------------------------
let connection = connect();
try {
  await connection.start();
  await assert.rejects(connection.invoke("Subscribe", "no-such-collection", null), /NotFound: /, "an unknown collection is refused");
  let from = received.length;
  await subscribe(connection, null);
  await waitUntil(() => received.length > from, "the first event");
  assert.equal(received[from].reset, true, "a stream with no cursor starts with a reset");
  await converge("reset on subscribe");

  const a = await http("POST", "/messages", { text: "first", n: 1 });
  const b = await http("POST", "/messages", { text: "second", tags: ["x", "y"] });
  const c = await http("POST", "/messages", { text: "third, with \"quotes\" and é" });
  await http("PUT", `/messages/${a.id}`, { text: "first, edited", n: 2 });
  await http("PATCH", `/messages/${b.id}`, [{ op: "add", path: "/tags/-", value: "z" }, { op: "remove", path: "/tags/0" }], "application/json-patch+json");
  await http("DELETE", `/messages/${c.id}`);
  await converge("creates, updates and destroys");
  assert.ok(received.slice(from + 1).every((e) => !e.reset), "live events are not resets");

  // A dropped connection: changes happen while it is gone, then a new connection resumes from the last cursor.
  await connection.stop();
  const resumeFrom = lastId;
  const d = await http("POST", "/messages", { text: "while away" });
  await http("PUT", `/messages/${d.id}`, { text: "while away, edited" });
  await http("DELETE", `/messages/${a.id}`);
  connection = connect();
  await connection.start();
  from = received.length;
  await subscribe(connection, resumeFrom);
  await converge("resume by cursor after a dropped connection");
  const resumed = received.slice(from);
  assert.equal(resumed.length, 3, "exactly the three missed events");
  assert.ok(resumed.every((e) => !e.reset), "a resume replays, it does not reset");
  assert.deepEqual(resumed.map((e) => e.ops[0]), ["add", "replace", "remove"]);

  // A cursor of another epoch: the stream starts with a reset, which replaces the whole copy.
  await connection.stop();
  const [epoch, sequence] = lastId.split(".");
  const otherEpoch = (((parseInt(epoch, 16) ^ 0xffffffff) >>> 0) || 1).toString(16).padStart(8, "0");
  connection = connect();
  await connection.start();
  from = received.length;
  await subscribe(connection, `${otherEpoch}.${sequence}`);
  await waitUntil(() => received.length > from, "the reset");
  assert.equal(received[from].reset, true, "a cursor of another epoch gets a reset");
  await http("POST", "/messages", { text: "after the reset" });
  await converge("reset on another epoch's cursor, then live");

  // Unsubscribe: once it completes, no patch of that collection follows, and the connection stays up.
  await connection.invoke("Unsubscribe", "messages");
  const after = received.length;
  await http("POST", "/messages", { text: "after unsubscribe" });
  await connection.invoke("Unsubscribe", "messages"); // a no-op, and a round trip behind anything the server sent
  assert.equal(received.length, after, "no patch after Unsubscribe");
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
  console.log("ok - unsubscribe");

  await connection.stop();
  clearTimeout(deadline);
  console.log(`signalr-interop (${protocol}): ${received.length} events applied, documents equal`);
  process.exit(0);
} catch (error) {
  console.error(`signalr-interop (${protocol}): FAILED: ${error?.stack ?? error}`);
  try { await connection.stop(); } catch { /* already gone */ }
  process.exit(1);
}
