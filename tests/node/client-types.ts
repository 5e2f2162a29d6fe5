// Uses the JavaScript client's hand-written declarations as an app would; client-types.mjs type-checks it (strict, no
// DOM library, NodeNext resolution through the package's `exports`). `@ts-expect-error` lines must fail to compile.
import {
  applyPatch, JsonPatchError, LiveCollection, openCollection, RocketError,
  type CollectionChange, type ConnectionState, type HubConnectionLike, type JsonPatchOperation, type StateChange,
} from '@rocket-live/client';

interface Message { id: string; text: string }

export async function use(hub: HubConnectionLike): Promise<string[]> {
  const messages = openCollection<Message>('http://127.0.0.1:5080/messages', {
    transport: 'websocket',
    initialDelay: 500,
    maxDelay: 10_000,
    jitter: true,
    headers: async () => ({ Authorization: 'Bearer x' }),
    credentials: 'include',
  });
  const off = messages.on('change', (change: CollectionChange, collection) => {
    const kind: 'load' | 'patch' | 'reset' | 'refetch' = change.kind;
    const first: Message | undefined = collection.records[change.ids[0] ?? ''];
    void kind;
    void first;
  });
  messages.on('state', ({ state, reason, error }: StateChange) => {
    const s: ConnectionState = state;
    void [s, reason, error?.message];
  });
  off();
  const live: LiveCollection<Message> = await messages.ready;
  const texts = live.list.map((m) => m.text);
  const cursor: string | null = live.cursor;
  void cursor;
  if (live.error instanceof RocketError) void [live.error.status, live.error.problem?.detail, live.error.code];
  live.reconnect();
  live.close();

  const viaHub = new LiveCollection('/messages', { hubConnection: hub, collection: 'messages' });
  void viaHub.transport;

  const patch: JsonPatchOperation[] = [{ op: 'add', path: '/a', value: 1 }, { op: 'move', from: '/a', path: '/b' }];
  try {
    applyPatch({ a: 0 }, patch);
  } catch (error) {
    if (error instanceof JsonPatchError) void error.index;
  }

  const room = openCollection<Message>('/rooms/lobby/messages', { transport: 'websocket', shared: '/rocket/ws' });
  room.close();
  // @ts-expect-error: shared is a URL, not a flag
  openCollection('/m', { transport: 'websocket', shared: true });

  // @ts-expect-error: only 'change' and 'state' are events
  messages.on('message', () => {});
  // @ts-expect-error: not a transport
  openCollection('/m', { transport: 'longpolling' });
  // @ts-expect-error: a move needs 'from'
  applyPatch({}, [{ op: 'move', path: '/x' }]);
  // @ts-expect-error: the copy is read only
  messages.cursor = 'x';
  return texts;
}
