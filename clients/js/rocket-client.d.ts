// Type declarations for @rocket-live/client (rocket-client.js). Written by hand; the module has no build step.

/** Any JSON value, as JSON.parse returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [member: string]: JsonValue };

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

/** Why a JSON Patch did not apply. */
export class JsonPatchError extends Error {
  /** The failing operation's position in the patch; -1 when the patch itself is not an array. */
  readonly index: number;
}

/**
 * Applies an RFC 6902 patch to `document` in place and returns the result (a different value only when an operation
 * replaces the whole document). All or nothing: on failure every change is undone and a JsonPatchError is thrown.
 */
export function applyPatch<T = JsonValue>(document: JsonValue, patch: readonly JsonPatchOperation[]): T;

/** A refusal or failure the client reports: an HTTP status, a hub error's status, or a WebSocket close code. */
export class RocketError extends Error {
  /** The HTTP status (for a SignalR hub error, the one its status word names: NotFound 404, Forbidden 403, ...). */
  readonly status?: number;
  /** The application/problem+json body of a refused request, when it had one. */
  readonly problem?: { type?: string; title?: string; status?: number; detail?: string; [member: string]: unknown };
  /** The WebSocket close code, for a stream the server closed because of this client's messages. */
  readonly code?: number;
}

/** 'connecting' until first live; 'reconnecting' between streams; 'error' after a refusal (no retry); 'closed' after close(). */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'error' | 'closed';

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Why: the close reason, the failure, or the refusal. */
  reason: string | null;
  error: Error | null;
}

/**
 * One change to the copy. 'load': the first GET; 'patch': an event applied; 'reset': the server replaced the whole
 * document (a new epoch, or a cursor too old); 'refetch': the copy was fetched again (an event did not apply: `reason`).
 */
export interface CollectionChange {
  kind: 'load' | 'patch' | 'reset' | 'refetch';
  /** The cursor of the copy after this change. */
  cursor: string | null;
  /** The event's operations ('patch', 'reset'), or null. */
  operations: JsonPatchOperation[] | null;
  /** The ids of the records the change touched; for 'load', 'reset' and 'refetch' every id of the new copy. */
  ids: string[];
  reason: string | null;
}

/** A URL object (the WHATWG URL class, or anything with its `href`); declared here so no DOM library is needed. */
export interface UrlLike {
  readonly href: string;
}

/** The part of @microsoft/signalr's HubConnection the client uses (version 8 or later). */
export interface HubConnectionLike {
  readonly state: string;
  start(): Promise<void>;
  invoke(methodName: string, ...args: unknown[]): Promise<unknown>;
  on(methodName: string, handler: (...args: any[]) => void): void;
  off(methodName: string, handler: (...args: any[]) => void): void;
  onclose(callback: (error?: Error) => void): void;
  onreconnecting?(callback: (error?: Error) => void): void;
}

export interface OpenOptions {
  /** 'sse' (default), 'websocket' or 'signalr' (the default when hubConnection is given). */
  transport?: 'sse' | 'websocket' | 'signalr';
  /**
   * For 'websocket': the URL of a multi-collection WebSocket (`MapRocketWebSocket`, e.g. '/rocket/ws'), relative to the
   * collection's URL. Every collection opened with the same `shared` URL (and WebSocket class) follows its stream on
   * one socket, subscribed by `collection` name; the socket closes when the last of them closes.
   */
  shared?: string;
  /** For 'signalr': the app's HubConnection to Rocket's hub (e.g. `/rocket`); started if stopped. */
  hubConnection?: HubConnectionLike;
  /**
   * The collection's name as the server knows it (the SignalR subscription's): by default the URL's path without its
   * leading '/' (`messages`, `rooms/lobby/messages`); give it when the app is served under a path base. The keyed
   * document's member is its last segment.
   */
  collection?: string;
  /** Extra request headers for the GET and the SSE stream (not WebSocket: browsers cannot set them there). */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** fetch's credentials mode for the GET and the SSE stream; default 'same-origin'. */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** First reconnect delay ceiling in ms (default 1000); a server's SSE `retry:` replaces it. Doubled per failure. */
  initialDelay?: number;
  /** Largest reconnect delay ceiling in ms; default 30000. */
  maxDelay?: number;
  /** Full jitter (each delay drawn in [0, ceiling]); default true. */
  jitter?: boolean;
  /** SSE only: reconnect after this long without data or heartbeat, in ms; default 45000 (three 15 s heartbeats). */
  idleTimeout?: number;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: (input: any, init?: any) => Promise<any>;
  /** The WebSocket class to use; default globalThis.WebSocket (in Node 20, pass the `ws` package's). */
  WebSocket?: new (url: string, protocols?: string | string[]) => any;
}

/** A live copy of one collection. */
export class LiveCollection<TRecord = JsonValue> {
  constructor(url: string | UrlLike, options?: OpenOptions);
  /** Resolves (with the collection) when first live; rejects with the error if it ends in 'error' or is closed first. */
  readonly ready: Promise<LiveCollection<TRecord>>;
  readonly url: string;
  /** The collection's name (the `collection` option, by default the URL's path: `rooms/lobby/messages`). */
  readonly name: string;
  /** The keyed document's member: the name's last segment (`messages`). */
  readonly member: string;
  readonly transport: 'sse' | 'websocket' | 'signalr';
  /** The keyed document `{ [member]: { [id]: record } }`, or null before the first load. Updated in place: read only. */
  readonly document: { [collection: string]: { [id: string]: TRecord } } | null;
  /** The records by id. Updated in place: read only. */
  readonly records: { [id: string]: TRecord };
  /** The records in the keyed document's member order (a new array on every read). */
  readonly list: TRecord[];
  /** The cursor of the state the copy shows, `<epoch>.<sequence>`, or null. */
  readonly cursor: string | null;
  readonly state: ConnectionState;
  /** The refusal behind the 'error' state, or the last connection failure; null while live. */
  readonly error: Error | null;
  on(type: 'change', listener: (change: CollectionChange, collection: LiveCollection<TRecord>) => void): () => void;
  on(type: 'state', listener: (change: StateChange, collection: LiveCollection<TRecord>) => void): () => void;
  /** Connects again now from the last cursor; leaves the 'error' state; skips a pending backoff delay. */
  reconnect(): void;
  /** Ends the stream and stops reconnecting; the copy stays readable. */
  close(): void;
}

/** Opens a live copy of the collection at `url` (absolute, or relative to the page). */
export function openCollection<TRecord = JsonValue>(url: string | UrlLike, options?: OpenOptions): LiveCollection<TRecord>;
