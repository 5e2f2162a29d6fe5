using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Rocket.Client;

/// <summary>
/// Keeps a live copy of a Rocket collection: GETs the keyed document and its cursor, streams from that cursor over the
/// chosen transport, applies every JSON Patch to the copy, and reconnects (with backoff and jitter) from its last cursor.
/// A reset replaces the copy; a patch that does not apply makes it refetch the document, never keep a wrong copy.
/// </summary>
/// <remarks>
/// <para>
/// Create it, attach handlers, then <see cref="StartAsync"/> it, as with SignalR's <c>HubConnection</c>:
/// </para>
/// <code>
/// await using var client = new LiveCollectionClient(new Uri("http://127.0.0.1:5080/messages"));
/// client.Changed += (_, change) => Console.WriteLine($"{change.Kind} {string.Join(",", change.RecordIds)}");
/// client.Reconnecting += (_, e) => Console.WriteLine($"reconnecting: {e.Reason}");
/// await client.StartAsync();
/// </code>
/// <para>
/// Events are raised on the client's receive loop, one at a time, in order. A handler that blocks holds the stream back
/// (the server closes a client that falls too far behind, and this one then resumes from its cursor); a handler that
/// throws ends the stream, and the client resumes after the change it had already applied.
/// </para>
/// </remarks>
public sealed class LiveCollectionClient : IAsyncDisposable
{
    private readonly LiveCollectionClientOptions _options;
    private readonly Uri _uri;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly CollectionCopy _copy;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionState _state = ConnectionState.Connecting;
    private Task? _run;
    private int _started;
    private int _disposed;

    /// <summary>Creates a client (not started: attach handlers, then call <see cref="StartAsync"/>).</summary>
    /// <exception cref="ArgumentException"><see cref="LiveCollectionClientOptions.CollectionUri"/> is missing or not an absolute http(s) URL.</exception>
    public LiveCollectionClient(LiveCollectionClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CollectionUri is not { IsAbsoluteUri: true } uri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("CollectionUri must be an absolute http or https URL, such as http://127.0.0.1:5080/messages.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.Transport, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.InitialReconnectDelay, TimeSpan.Zero, nameof(options));
        _options = options;
        _uri = uri;
        var name = options.CollectionName ?? Uri.UnescapeDataString(uri.Segments[^1].TrimEnd('/'));
        if (name.Length == 0)
        {
            throw new ArgumentException("The collection's name cannot be told from the URL; set CollectionName.", nameof(options));
        }

        if (options.HttpClient is { } http)
        {
            _http = http;
        }
        else
        {
            var handler = options.HttpMessageHandler ?? new SocketsHttpHandler
            {
                UseCookies = options.Cookies is not null,
                CookieContainer = options.Cookies ?? new(),
            };
            _http = new HttpClient(handler, disposeHandler: options.HttpMessageHandler is null);
            _ownsHttp = true;
        }

        _serializerOptions = options.SerializerOptions ?? JsonSerializerOptions.Web;
        _copy = new CollectionCopy(name, options.LegacyUpdateAsReplace);
    }

    /// <summary>Creates a client of <paramref name="collectionUri"/> (not started: attach handlers, then call <see cref="StartAsync"/>).</summary>
    /// <param name="collectionUri">The collection's URL, such as <c>http://127.0.0.1:5080/messages</c>.</param>
    /// <param name="configure">Sets the other options (transport, headers, reconnect delays, ...); null for the defaults.</param>
    public LiveCollectionClient(Uri collectionUri, Action<LiveCollectionClientOptions>? configure = null)
        : this(CreateOptions(collectionUri, configure))
    {
    }

    /// <summary>Raised for every change of the copy, in order, on the receive loop.</summary>
    public event EventHandler<CollectionChange>? Changed;

    /// <summary>
    /// Raised when <see cref="State"/> changes (<see cref="ConnectionState.Connecting"/> on start, then
    /// <see cref="ConnectionState.Live"/>, <see cref="ConnectionState.Reconnecting"/>, <see cref="ConnectionState.Stopped"/>),
    /// once per change: the failed attempts of an outage are not reported one by one.
    /// </summary>
    public event EventHandler<ConnectionStateChange>? StateChanged;

    /// <summary>
    /// Raised once when a stream that was live ends (the server closed it, the connection failed, it fell silent), with
    /// why; the client then tries again, with backoff, until a stream is open (<see cref="Reconnected"/>) or it is disposed.
    /// </summary>
    public event EventHandler<ConnectionStateChange>? Reconnecting;

    /// <summary>Raised once per outage, when a stream is open again after <see cref="Reconnecting"/>; the copy resumes from its cursor.</summary>
    public event EventHandler<ConnectionStateChange>? Reconnected;

    /// <summary>The collection's name: the member of the keyed document that holds the records.</summary>
    public string CollectionName => _copy.CollectionName;

    /// <summary>The connection's state.</summary>
    public ConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The cursor of the state the copy holds: the last event applied, or the last GET. Null before any.</summary>
    public string? Cursor => _copy.Cursor;

    /// <summary>
    /// The records of the copy by id, as an immutable snapshot (built on first read after a change, then shared until
    /// the next one).
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> Records => _copy.Records;

    /// <summary>
    /// The records of the copy by id, each deserialized as <typeparamref name="T"/> with
    /// <see cref="LiveCollectionClientOptions.SerializerOptions"/>: a snapshot, built on first read after a change and
    /// shared until the next one.
    /// </summary>
    /// <exception cref="JsonException">A record cannot be read as <typeparamref name="T"/>.</exception>
    [RequiresUnreferencedCode("Deserializing an arbitrary type may need code the trimmer removed; use the JsonTypeInfo overload.")]
    [RequiresDynamicCode("Deserializing an arbitrary type may need runtime code generation; use the JsonTypeInfo overload.")]
    public IReadOnlyDictionary<string, T> GetRecords<T>()
    {
        if (!_serializerOptions.IsReadOnly)
        {
            // What JsonSerializer does with options on their first use: the reflection resolver when the app set none.
            _serializerOptions.MakeReadOnly(populateMissingResolver: true);
        }

        return GetRecords((JsonTypeInfo<T>)_serializerOptions.GetTypeInfo(typeof(T)));
    }

    /// <summary>
    /// The records of the copy by id, each deserialized with <paramref name="typeInfo"/> (from the app's
    /// <c>JsonSerializerContext</c>): a snapshot, built on first read after a change and shared until the next one.
    /// </summary>
    /// <exception cref="JsonException">A record cannot be read as <typeparamref name="T"/>.</exception>
    public IReadOnlyDictionary<string, T> GetRecords<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return _copy.Typed(typeInfo, record => record.Deserialize(typeInfo)!);
    }

    /// <summary>
    /// GETs the document (unless <see cref="LiveCollectionClientOptions.FetchDocumentFirst"/> is false) and opens the
    /// stream. Throws if either is refused or the server cannot be reached; after that, the client reconnects by itself.
    /// </summary>
    /// <exception cref="InvalidOperationException">The client was started already.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The client is already started.");
        }

        return StartCoreAsync(cancellationToken);
    }

    /// <summary>The keyed document <c>{"&lt;collection&gt;":{"&lt;id&gt;":record,...}}</c> as JSON text.</summary>
    public string GetDocumentJson(bool indented = false) => _copy.ToJson(indented);

    /// <summary>
    /// Every change from this call on (the subscription is taken here, not at the first <c>MoveNextAsync</c>), until the
    /// client stops or <paramref name="cancellationToken"/> is canceled. Buffered without bound: enumerate it.
    /// </summary>
    public IAsyncEnumerable<CollectionChange> ReadChangesAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<CollectionChange>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        void OnChanged(object? sender, CollectionChange change) => channel.Writer.TryWrite(change);
        void OnState(object? sender, ConnectionStateChange change)
        {
            if (change.State == ConnectionState.Stopped)
            {
                channel.Writer.TryComplete();
            }
        }

        Changed += OnChanged;
        StateChanged += OnState;
        if (State == ConnectionState.Stopped)
        {
            channel.Writer.TryComplete();
        }

        return ReadCoreAsync(channel.Reader, () =>
        {
            Changed -= OnChanged;
            StateChanged -= OnState;
        }, cancellationToken);

        static async IAsyncEnumerable<CollectionChange> ReadCoreAsync(ChannelReader<CollectionChange> reader, Action unsubscribe, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var change in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return change;
                }
            }
            finally
            {
                unsubscribe();
            }
        }
    }

    /// <summary>Stops the stream and releases the client's resources; <see cref="State"/> becomes <see cref="ConnectionState.Stopped"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_ownsHttp)
        {
            _http.Dispose();
        }

        SetState(ConnectionState.Stopped, "disposed", null);
        _stopping.Dispose();
    }

    internal ValueTask<IStreamConnection> ConnectAsync(CancellationToken cancellationToken) =>
        _options.Transport.ConnectAsync(new StreamRequest(_uri, CollectionName, Cursor, _http, _options), cancellationToken);

    internal Task<(JsonObject Document, string? Cursor)> FetchDocumentAsync(CancellationToken cancellationToken) =>
        ClientRequests.FetchDocumentAsync(_uri, CollectionName, _http, _options, cancellationToken);

    internal void RaiseChanged(CollectionChange change) => Changed?.Invoke(this, change);

    internal void OnStreamLost(string reason, Exception? failure)
    {
        if (SetState(ConnectionState.Reconnecting, reason, failure) is { } change)
        {
            Reconnecting?.Invoke(this, change);
        }
    }

    internal void OnStreamOpened()
    {
        if (SetState(ConnectionState.Live, null, null) is { } change)
        {
            Reconnected?.Invoke(this, change);
        }
    }

    private static LiveCollectionClientOptions CreateOptions(Uri collectionUri, Action<LiveCollectionClientOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(collectionUri);
        var options = new LiveCollectionClientOptions { CollectionUri = collectionUri };
        configure?.Invoke(options);
        return options;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        RaiseStateChanged(new ConnectionStateChange(ConnectionState.Connecting, "starting", null));
        if (_options.FetchDocumentFirst)
        {
            var (document, cursor) = await FetchDocumentAsync(linked.Token).ConfigureAwait(false);
            RaiseChanged(_copy.Replace(document, cursor, null));
        }

        var connection = await ConnectAsync(linked.Token).ConfigureAwait(false);
        SetState(ConnectionState.Live, null, null);
        var loop = new StreamLoop(this, _copy, _options);
        _run = Task.Run(() => loop.RunAsync(connection, _stopping.Token), CancellationToken.None);
    }

    // Moves to a new state and raises StateChanged; returns the change, or null when the state was already that (or the
    // client has stopped), so every transition is reported once.
    private ConnectionStateChange? SetState(ConnectionState state, string? reason, Exception? exception)
    {
        lock (_gate)
        {
            if (_state == ConnectionState.Stopped || _state == state)
            {
                return null;
            }

            _state = state;
        }

        var change = new ConnectionStateChange(state, reason, exception);
        RaiseStateChanged(change);
        return change;
    }

    private void RaiseStateChanged(ConnectionStateChange change) => StateChanged?.Invoke(this, change);
}
