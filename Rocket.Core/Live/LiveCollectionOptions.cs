using System;

namespace Rocket.Live;

/// <summary>
/// The settings of one <see cref="LiveCollection"/>. The defaults are property initializers, so a collection made with
/// <c>new</c> and one made through <c>AddRocket().AddCollection(...)</c> behave the same; each says why it is what it is.
/// </summary>
public sealed class LiveCollectionOptions
{
    /// <summary>Default of <see cref="HistoryMaxEvents"/>: 1,000 events.</summary>
    public const int DefaultHistoryMaxEvents = 1_000;

    /// <summary>Default of <see cref="HistoryMaxBytes"/>: 4 MiB.</summary>
    public const long DefaultHistoryMaxBytes = 4L * 1024 * 1024;

    /// <summary>Default of <see cref="SubscriberQueueMaxEvents"/>: 1,024 events.</summary>
    public const int DefaultSubscriberQueueMaxEvents = 1_024;

    /// <summary>Default of <see cref="SubscriberQueueMaxBytes"/>: 1 MiB.</summary>
    public const long DefaultSubscriberQueueMaxBytes = 1024L * 1024;

    /// <summary>Default of <see cref="MaxRecordBytes"/>: 2 MiB.</summary>
    public const int DefaultMaxRecordBytes = 2 * 1024 * 1024;

    /// <summary>Default of <see cref="MaxRecordDepth"/>: 58.</summary>
    public const int DefaultMaxRecordDepth = 58;

    /// <summary>The greatest value of <see cref="MaxRecordDepth"/>: 64, System.Text.Json's reading limit, which records are checked with.</summary>
    public const int MaxRecordDepthLimit = 64;

    /// <summary>
    /// How many recent events the collection keeps so a reconnecting client can resume instead of being reset.
    /// Default <see cref="DefaultHistoryMaxEvents"/> (1,000): at a hundred changes a second that covers a ten-second
    /// reconnect, which is what browsers and mobile networks need; past it a reset is always correct, only larger.
    /// 0 keeps no history: every cursor but the current one gets a reset.
    /// </summary>
    public int HistoryMaxEvents { get; set; } = DefaultHistoryMaxEvents;

    /// <summary>
    /// The most encoded JSON Patch bytes the history keeps, whatever the event count. Default
    /// <see cref="DefaultHistoryMaxBytes"/> (4 MiB): bounds memory per collection when records are large; each transport
    /// kind in use keeps one framed copy of each event beside it, of about the same size.
    /// </summary>
    public long HistoryMaxBytes { get; set; } = DefaultHistoryMaxBytes;

    /// <summary>
    /// How many events may wait for one subscriber before it is closed as a slow consumer. Default
    /// <see cref="DefaultSubscriberQueueMaxEvents"/> (1,024): matches Centrifugo's per-client queue, and is just above
    /// the default history, so a client that falls this far behind would be reset on reconnect anyway. The pending events
    /// are not copied per subscriber: the collection keeps the newest events this limit (and
    /// <see cref="SubscriberQueueMaxBytes"/>, counted in patch bytes) covers in the same log as its history.
    /// </summary>
    public int SubscriberQueueMaxEvents { get; set; } = DefaultSubscriberQueueMaxEvents;

    /// <summary>
    /// How many framed bytes may wait for one subscriber (written-but-unacknowledged ones included) before it is closed
    /// as a slow consumer. Default <see cref="DefaultSubscriberQueueMaxBytes"/> (1 MiB, Centrifugo's limit): bounds
    /// memory per connection whatever the client does. An event larger than this is still accepted into an empty queue,
    /// so a large reset can always be sent.
    /// </summary>
    public long SubscriberQueueMaxBytes { get; set; } = DefaultSubscriberQueueMaxBytes;

    /// <summary>
    /// The largest record, in bytes of UTF-8 JSON; a create, update or patch that would make a larger one is refused with
    /// <see cref="ChangeRefusal.RecordTooLarge"/> and changes nothing. Default <see cref="DefaultMaxRecordBytes"/> (2 MiB,
    /// twice the HTTP scaffold's body limit, so any body it accepts becomes a record with its id and room to be edited): a
    /// record is something an app shows and every subscriber is sent it whole. A patch is checked against this while it
    /// is applied, so a small patch cannot build a huge record.
    /// </summary>
    public int MaxRecordBytes { get; set; } = DefaultMaxRecordBytes;

    /// <summary>
    /// The deepest nesting of objects and arrays a record may have (<c>{"a":[1]}</c> has 2); deeper is refused with
    /// <see cref="ChangeRefusal.RecordTooDeep"/>. Default <see cref="DefaultMaxRecordDepth"/> (58): every message that
    /// carries a record wraps it in more levels, at most six (a reset inside a SignalR JSON stream item), and 58 + 6 is
    /// the 64 levels that System.Text.Json, the SignalR clients and most JSON readers accept by default, so every client
    /// can read every record. At most <see cref="MaxRecordDepthLimit"/>; raise it only if all your clients read deeper.
    /// </summary>
    public int MaxRecordDepth { get; set; } = DefaultMaxRecordDepth;

    /// <summary>
    /// The most subscribers this collection admits at once, every transport counted; past it a stream request is refused
    /// (503 with <c>Retry-After</c> on SSE and WebSocket, a hub error on SignalR) and its client retries later. Default
    /// <see cref="int.MaxValue"/> (no limit). The process-wide limit is <see cref="RocketOptions.MaxSubscribers"/>.
    /// </summary>
    public int MaxSubscribers { get; set; } = int.MaxValue;

    /// <summary>
    /// How updates are encoded. Default <see cref="Live.UpdateEncoding.Replace"/>: one op per update, no parsing on the
    /// writer; choose <see cref="Live.UpdateEncoding.Diff"/> for large records that change a field at a time.
    /// </summary>
    public UpdateEncoding UpdateEncoding { get; set; } = UpdateEncoding.Replace;

    /// <summary>
    /// The epoch of the collection's cursors. Default <see langword="null"/>: a fresh random epoch per collection instance
    /// (so per process), because the in-memory history does not survive a restart. Setting it is for tests that want
    /// fixed cursors: a collection with a configured epoch logs a warning (event <c>UntrustedEpoch</c>), since after a
    /// restart the same cursors would name other events. A durable source (Redis) brings its own epoch through
    /// <see cref="LiveCollection.Load"/>.
    /// </summary>
    public uint? Epoch { get; set; }

    /// <summary>
    /// How long Rocket waits for a transport to close when it ends a subscription itself (slow consumer, shutdown).
    /// Default 5 seconds: long enough for a close frame on a healthy link, short enough that a dead peer frees its
    /// resources promptly.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a subscriber that was sent nothing is sent a heartbeat (<see cref="Transports.ITransport.HeartbeatAsync"/>:
    /// an SSE comment, a WebSocket ping). Default 15 seconds: proxies commonly cut connections idle for 30 to 60 seconds
    /// (nginx's <c>proxy_read_timeout</c> is 60), and a dead peer is noticed within two heartbeats. The collection sends
    /// them, not the host, because only the subscription's loop may write to its transport.
    /// <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns them off.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
}
