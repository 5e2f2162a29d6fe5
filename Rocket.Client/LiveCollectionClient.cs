using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Rocket.JsonPatch;

namespace Rocket.Client;

/// <summary>
/// Keeps a live copy of a Rocket collection: GETs the keyed document and its cursor, streams from that cursor over the
/// chosen transport, applies every JSON Patch to the copy, and reconnects (with backoff and jitter) from its last cursor.
/// A reset replaces the copy; a patch that does not apply makes it refetch the document, never keep a wrong copy.
/// </summary>
/// <remarks>
/// Events (<see cref="Changed"/>, <see cref="StateChanged"/>) are raised on the client's receive loop, one at a time,
/// in order. A handler that blocks holds the stream back (the server closes a client that falls too far behind, and this
/// one then resumes from its cursor); a handler that throws ends the stream, and the client resumes after the change it
/// had already applied.
/// </remarks>
public sealed class LiveCollectionClient : IAsyncDisposable
{
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    // Documents and events wrap a record in up to four levels, and a server may allow records up to 64 deep: the copy is
    // read and patched with room for both, so no record the server accepted can stall the client.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = ReadDepth };
    private static readonly JsonPatchParseOptions PatchOptions = new() { MaxDepth = ReadDepth };
    private static readonly JsonPatchApplyOptions ApplyOptions = new() { MaxDepth = ReadDepth };

    /// <summary>How deeply nested a document or event the client reads: 128, twice the deepest record a server accepts.</summary>
    internal const int ReadDepth = 128;

    private readonly LiveCollectionClientOptions _options;
    private readonly Uri _uri;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private JsonObject _document;
    private string? _cursor;
    private IReadOnlyDictionary<string, JsonElement>? _records;
    private ConnectionState _state = ConnectionState.Connecting;
    private TimeSpan? _retryHint;
    private Task? _run;
    private int _started;
    private int _disposed;

    /// <summary>Creates a client (not started: call <see cref="StartAsync"/>).</summary>
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
        CollectionName = options.CollectionName ?? Uri.UnescapeDataString(uri.Segments[^1].TrimEnd('/'));
        if (CollectionName.Length == 0)
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

        _document = EmptyDocument(CollectionName);
    }

    /// <summary>Raised for every change of the copy, in order, on the receive loop.</summary>
    public event EventHandler<CollectionChange>? Changed;

    /// <summary>Raised when <see cref="State"/> changes, on the loop that changed it.</summary>
    public event EventHandler<ConnectionStateChange>? StateChanged;

    /// <summary>The collection's name: the member of the keyed document that holds the records.</summary>
    public string CollectionName { get; }

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
    public string? Cursor
    {
        get
        {
            lock (_gate)
            {
                return _cursor;
            }
        }
    }

    /// <summary>
    /// The records of the copy by id, as an immutable snapshot (built on first read after a change, then shared until
    /// the next one).
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> Records
    {
        get
        {
            lock (_gate)
            {
                return _records ??= BuildRecords(_document[CollectionName]!.AsObject());
            }
        }
    }

    /// <summary>Opens a collection: creates a client for <paramref name="collectionUri"/> and starts it.</summary>
    public static async Task<LiveCollectionClient> OpenAsync(Uri collectionUri, Action<LiveCollectionClientOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collectionUri);
        var options = new LiveCollectionClientOptions { CollectionUri = collectionUri };
        configure?.Invoke(options);
        var client = new LiveCollectionClient(options);
        try
        {
            await client.StartAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// GETs the document (unless <see cref="LiveCollectionClientOptions.FetchDocumentFirst"/> is false) and opens the
    /// stream. Throws if either is refused or the server cannot be reached; after that, the client reconnects by itself.
    /// </summary>
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
    public string GetDocumentJson(bool indented = false)
    {
        lock (_gate)
        {
            return _document.ToJsonString(new JsonSerializerOptions { WriteIndented = indented, MaxDepth = ReadDepth });
        }
    }

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

    internal static async ValueTask<HttpRequestMessage> CreateRequestAsync(Uri uri, LiveCollectionClientOptions options, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, uri);
        foreach (var header in options.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (options.AccessTokenProvider is { } provider && await provider(cancellationToken).ConfigureAwait(false) is { Length: > 0 } token)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return message;
    }

    // Applies one stream event; false (with why) when it cannot be applied and the document must be fetched again.
    internal bool TryApply(StreamEvent item, out CollectionChange? change, out string? failure)
    {
        change = null;
        JsonPatchDocument patch;
        try
        {
            patch = ParsePatch(item.Patch.Span);
        }
        catch (JsonPatchException e)
        {
            failure = $"the event {item.Cursor} is not a JSON Patch: {e.Message}";
            return false;
        }

        var isReset = item.IsReset ?? (patch.Count == 1 && patch[0].Op == JsonPatchOperationType.Replace && patch[0].Path.IsRoot);
        lock (_gate)
        {
            JsonNode? result;
            try
            {
                // All or nothing: on failure the copy is exactly as it was, and is then replaced by a fresh GET.
                result = patch.ApplyTo(_document, ApplyOptions);
            }
            catch (JsonPatchException e)
            {
                failure = $"the event {item.Cursor} did not apply to the copy: {e.Message}";
                return false;
            }

            if (result is not JsonObject document || document[CollectionName] is not JsonObject records)
            {
                failure = $"the event {item.Cursor} left no '{CollectionName}' object in the document";
                return false;
            }

            _document = document;
            _cursor = item.Cursor ?? _cursor;
            _records = null;
            change = new CollectionChange(
                isReset ? CollectionChangeKind.Reset : CollectionChangeKind.Patch,
                _cursor,
                patch,
                isReset ? KeysOf(records) : AffectedIds(patch, CollectionName),
                reason: null);
        }

        failure = null;
        return true;
    }

    internal void Replace(JsonObject document, string? cursor, string? reason)
    {
        CollectionChange change;
        lock (_gate)
        {
            _document = document;
            _cursor = cursor;
            _records = null;
            change = new CollectionChange(CollectionChangeKind.Refetch, cursor, [], KeysOf(document[CollectionName]!.AsObject()), reason);
        }

        Changed?.Invoke(this, change);
    }

    internal void Raise(CollectionChange change) => Changed?.Invoke(this, change);

    private static JsonObject EmptyDocument(string name) => new() { [name] = new JsonObject() };

    private static string[] KeysOf(JsonObject records)
    {
        var keys = new string[records.Count];
        var i = 0;
        foreach (var pair in records)
        {
            keys[i++] = pair.Key;
        }

        return keys;
    }

    private static List<string> AffectedIds(JsonPatchDocument patch, string name)
    {
        var ids = new List<string>(patch.Count);
        foreach (var operation in patch)
        {
            Note(ids, operation.Path, name);
            if (operation.HasFrom)
            {
                Note(ids, operation.From, name);
            }
        }

        return ids;

        static void Note(List<string> ids, JsonPointer pointer, string name)
        {
            if (pointer.Count >= 2 && pointer[0] == name && !ids.Contains(pointer[1]))
            {
                ids.Add(pointer[1]);
            }
        }
    }

    private static Dictionary<string, JsonElement> BuildRecords(JsonObject records)
    {
        // One serialization into one immutable element tree, shared by the snapshot's records.
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            records.WriteTo(writer);
        }

        var reader = new Utf8JsonReader(buffer.WrittenSpan, new JsonReaderOptions { MaxDepth = ReadDepth });
        var root = JsonElement.ParseValue(ref reader);
        var result = new Dictionary<string, JsonElement>(records.Count, StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            result[property.Name] = property.Value;
        }

        return result;
    }

    private JsonPatchDocument ParsePatch(ReadOnlySpan<byte> utf8Patch)
    {
        try
        {
            return JsonPatchDocument.Parse(utf8Patch, PatchOptions);
        }
        catch (JsonPatchException) when (_options.LegacyUpdateAsReplace && utf8Patch.IndexOf("\"update\""u8) >= 0)
        {
            // The 2013 servers' "op":"update" meant replace. Rewritten here, behind an explicit option, and nowhere else.
            if (JsonNode.Parse(utf8Patch, NodeOptions, DocumentOptions) is not JsonArray operations)
            {
                throw;
            }

            foreach (var operation in operations)
            {
                if (operation is JsonObject o && o["op"] is JsonValue op && op.TryGetValue<string>(out var name) && name == "update")
                {
                    o["op"] = "replace";
                }
            }

            return JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(operations.ToJsonString()), PatchOptions);
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        SetState(ConnectionState.Connecting, "starting", null);
        if (_options.FetchDocumentFirst)
        {
            var (document, cursor) = await FetchAsync(linked.Token).ConfigureAwait(false);
            Replace(document, cursor, null);
        }

        var connection = await ConnectAsync(linked.Token).ConfigureAwait(false);
        SetState(ConnectionState.Live, null, null);
        _run = Task.Run(() => RunAsync(connection, _stopping.Token), CancellationToken.None);
    }

    private async ValueTask<IStreamConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var request = new StreamRequest(_uri, CollectionName, Cursor, _http, _options);
        return await _options.Transport.ConnectAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(JsonObject Document, string? Cursor)> FetchAsync(CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(_uri);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : string.Empty) + "form=keyed";
        using var request = await CreateRequestAsync(builder.Uri, _options, cancellationToken).ConfigureAwait(false);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _options.ConfigureRequest?.Invoke(request);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {builder.Uri} failed: {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }

        var cursor = response.Headers.TryGetValues("Last-Event-ID", out var values) ? string.Join(",", values) : null;
        using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(body, NodeOptions, DocumentOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"GET {builder.Uri} did not return JSON: {e.Message}", e);
        }

        if (node is not JsonObject document || document[CollectionName] is not JsonObject)
        {
            throw new HttpRequestException($"GET {builder.Uri} did not return the keyed document {{\"{CollectionName}\":{{...}}}}: is it a Rocket collection?");
        }

        return (document, cursor);
    }

    private async Task RunAsync(IStreamConnection connection, CancellationToken stopping)
    {
        var attempt = 0;
        while (true)
        {
            Exception? failure = null;
            string reason;
            var (received, refetched, idle) = (false, false, false);
            try
            {
                (received, refetched, idle) = await PumpAsync(connection, stopping).ConfigureAwait(false);
                reason = idle
                    ? $"no data for {_options.IdleTimeout.TotalSeconds:0.###} s: the connection is taken for dead"
                    : refetched ? "refetched the document after a patch failed to apply"
                    : connection.CloseReason ?? "the server ended the stream";
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                await DisposeQuietlyAsync(connection).ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                failure = e;
                reason = e.Message;
            }

            _retryHint = connection.RetryInterval ?? _retryHint;
            await DisposeQuietlyAsync(connection).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            SetState(ConnectionState.Reconnecting, reason, failure);
            if (received)
            {
                attempt = 0;
            }

            while (true)
            {
                try
                {
                    if (!refetched)
                    {
                        await Task.Delay(NextDelay(attempt++), stopping).ConfigureAwait(false);
                    }

                    refetched = false;
                    connection = await ConnectAsync(stopping).ConfigureAwait(false);
                    SetState(ConnectionState.Live, null, null);
                    break;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    SetState(ConnectionState.Reconnecting, e.Message, e);
                }
            }
        }
    }

    // Reads and applies until the stream ends. Returns whether anything arrived, whether the document was refetched
    // (then the stream must be reopened from the new cursor at once) and whether the idle timeout ended it.
    private async Task<(bool Received, bool Refetched, bool Idle)> PumpAsync(IStreamConnection connection, CancellationToken stopping)
    {
        using var read = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var idle = 0;
        var idleTicks = Stopwatch.Frequency * _options.IdleTimeout.Ticks / TimeSpan.TicksPerSecond;
        using var watchdog = connection.LastActivityTimestamp is null ? null : new Timer(
            _ =>
            {
                if (Stopwatch.GetTimestamp() - connection.LastActivityTimestamp!.Value > idleTicks)
                {
                    Volatile.Write(ref idle, 1);
                    read.Cancel();
                }
            },
            null,
            _options.IdleTimeout / 4,
            _options.IdleTimeout / 4);

        var received = false;
        try
        {
            while (await connection.ReadAsync(read.Token).ConfigureAwait(false) is { } item)
            {
                received = true;
                if (TryApply(item, out var change, out var failure))
                {
                    Changed?.Invoke(this, change!);
                    continue;
                }

                // Never keep a wrong copy: fetch the document and its cursor, say so, and stream again from there.
                try
                {
                    var (document, cursor) = await FetchAsync(stopping).ConfigureAwait(false);
                    Replace(document, cursor, failure);
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    // No GET: stream again with no cursor, and the server starts with a reset.
                    lock (_gate)
                    {
                        _cursor = null;
                    }
                }

                return (true, true, false);
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref idle) != 0 && !stopping.IsCancellationRequested)
        {
            return (received, false, true);
        }

        return (received, false, false);
    }

    private TimeSpan NextDelay(int attempt)
    {
        // The server's retry: (SSE) is the base; each failed attempt doubles it, up to the maximum.
        var baseDelay = _retryHint ?? _options.InitialReconnectDelay;
        var delay = Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)), _options.MaxReconnectDelay.TotalMilliseconds);
        if (_options.ReconnectJitter)
        {
            // Full jitter (anywhere from nothing to the whole delay): after a server restart, its thousands of clients
            // come back spread over the window rather than bunched in its second half.
            delay *= Random.Shared.NextDouble();
        }

        return TimeSpan.FromMilliseconds(delay);
    }

    private void SetState(ConnectionState state, string? reason, Exception? exception)
    {
        lock (_gate)
        {
            if (_state == ConnectionState.Stopped || (_state == state && exception is null && reason is null))
            {
                return;
            }

            _state = state;
        }

        StateChanged?.Invoke(this, new ConnectionStateChange(state, reason, exception));
    }

    private static async ValueTask DisposeQuietlyAsync(IStreamConnection connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
            // The connection is being thrown away: how it failed to close changes nothing.
        }
    }
}
