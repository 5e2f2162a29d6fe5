using System;
using System.Buffers;
using System.Text;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Rocket.SignalR;

namespace Rocket.Client.SignalR;

/// <summary>
/// Streams a collection from Rocket's SignalR hub: handlers for the hub's <c>patch</c> and <c>close</c> messages, then
/// <c>Subscribe(collection, lastEventId)</c> over a <see cref="HubConnection"/>. Each stream gets its own connection,
/// so the client's reconnect (backoff, resume by cursor) is the same as on every other transport; SignalR's own
/// keep-alive notices a dead server. If <see cref="ConfigureConnection"/> turns on SignalR's automatic reconnect, the
/// stream subscribes again after each reconnect, from the last event it received.
/// </summary>
public sealed class SignalRConnector : IStreamConnector
{
    /// <summary>The hub's path, resolved against the collection's URL. Default <c>/rocket</c>, where <c>MapRocketHub()</c> maps it.</summary>
    public string HubPath { get; set; } = RocketHubContract.DefaultPath;

    /// <summary>The hub protocol. Default <see cref="SignalRHubProtocol.Json"/>.</summary>
    public SignalRHubProtocol Protocol { get; set; } = SignalRHubProtocol.Json;

    /// <summary>Called on each hub connection's builder before it is built (transports, logging, ...). Default null.</summary>
    public Action<IHubConnectionBuilder>? ConfigureConnection { get; set; }

    /// <inheritdoc/>
    public string Name => "signalr";

    /// <inheritdoc/>
    public ValueTask<IStreamConnection> ConnectAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ConnectCoreAsync(request, cancellationToken);
    }

    private async ValueTask<IStreamConnection> ConnectCoreAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        var headers = await request.GetHeadersAsync(cancellationToken).ConfigureAwait(false);
        var builder = new HubConnectionBuilder().WithUrl(new Uri(request.CollectionUri, HubPath), http =>
        {
            foreach (var header in headers)
            {
                if (header.Key != "Authorization")
                {
                    http.Headers[header.Key] = header.Value;
                }
            }

            if (request.Options.AccessTokenProvider is { } provider)
            {
                // SignalR's own hook: it sends the token as a header, or in the query where WebSockets cannot.
                http.AccessTokenProvider = () => provider(CancellationToken.None).AsTask();
            }

            if (request.Cookies is { } cookies)
            {
                http.Cookies = cookies;
            }
        });
        if (Protocol == SignalRHubProtocol.MessagePack)
        {
            builder.AddMessagePackProtocol();
        }

        ConfigureConnection?.Invoke(builder);
        var hub = builder.Build();

        // SignalR's server pings every 15 s; the client's idle timeout is how long silence means a dead server.
        hub.ServerTimeout = request.Options.IdleTimeout;
        var connection = new Connection(hub, request.CollectionName, request.LastEventId);
        try
        {
            // The handlers go first: the subscription's first messages may arrive before Subscribe completes.
            hub.On(RocketHubContract.PatchTarget, RocketHubContract.PatchParameters, static (arguments, state) => ((Connection)state).OnPatch(arguments), connection);
            hub.On(RocketHubContract.PatchPartTarget, RocketHubContract.PatchPartParameters, static (arguments, state) => ((Connection)state).OnPatchPart(arguments), connection);
            hub.On(RocketHubContract.CloseTarget, RocketHubContract.CloseParameters, static (arguments, state) => ((Connection)state).OnClose(arguments), connection);
            hub.Closed += connection.OnClosedAsync;
            hub.Reconnected += connection.OnReconnectedAsync;
            await hub.StartAsync(cancellationToken).ConfigureAwait(false);
            await connection.SubscribeAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await hub.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Connection : IStreamConnection
    {
        private readonly HubConnection _hub;
        private readonly string _collection;
        private readonly Channel<StreamEvent> _events = Channel.CreateUnbounded<StreamEvent>(new UnboundedChannelOptions { SingleReader = true });
        private string? _lastReceived;

        // The slices received so far of an event sent in parts (patchPart messages), and which event they belong to.
        private ArrayBufferWriter<byte>? _parts;
        private string? _partsId;
        private int _partsNext;
        private bool _partsBroken;

        public Connection(HubConnection hub, string collection, string? lastEventId)
        {
            _hub = hub;
            _collection = collection;
            _lastReceived = lastEventId;
        }

        public string? CloseReason { get; private set; }

        public TimeSpan? RetryInterval => null;

        public long? LastActivityTimestamp => null;

        public Task SubscribeAsync(CancellationToken cancellationToken) =>
            _hub.InvokeAsync(RocketHubContract.Subscribe, _collection, Volatile.Read(ref _lastReceived), cancellationToken);

        public async ValueTask<StreamEvent?> ReadAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _events.Reader.TryRead(out var next)
                    ? next
                    : null;
            }
            catch (ChannelClosedException e) when (e.InnerException is not null)
            {
                // The connection failed: the client reconnects.
                throw e.InnerException;
            }
        }

        // SignalR runs a connection's handlers one at a time, in the order the messages came.
        public Task OnPatch(object?[] arguments)
        {
            if (arguments[0] is string collection && collection == _collection && arguments[1] is string id && arguments[3] is HubPatch patch)
            {
                var utf8 = patch.Utf8;
                if (_parts is not null)
                {
                    // A patch of the event whose slices came before carries its last slice; slices of any other event
                    // are what a subscription that ended mid-event left, and are dropped.
                    if (_partsId == id && _partsBroken)
                    {
                        // A slice went missing: the event cannot be rebuilt, so the stream ends and the client resumes
                        // from its last whole event.
                        _parts = null;
                        CloseReason = $"IncompleteEvent: event {id} arrived with a slice missing";
                        _events.Writer.TryComplete();
                        return Task.CompletedTask;
                    }

                    if (_partsId == id)
                    {
                        _parts.Write(utf8);
                        utf8 = _parts.WrittenSpan.ToArray();
                    }

                    _parts = null;
                }

                Volatile.Write(ref _lastReceived, id);
                _events.Writer.TryWrite(new StreamEvent(id, utf8, arguments[2] is true));
            }

            return Task.CompletedTask;
        }

        // patchPart(collection, id, index, text): one slice of a long event, kept until its patch message completes it.
        public Task OnPatchPart(object?[] arguments)
        {
            if (arguments[0] is string collection && collection == _collection && arguments[1] is string id && arguments[2] is int index && arguments[3] is string text)
            {
                if (index == 0)
                {
                    // The first slice starts the event afresh, whatever an ended subscription left half sent.
                    _parts = new ArrayBufferWriter<byte>(RocketHubContract.PartBytes * 2);
                    _partsId = id;
                    _partsNext = 0;
                    _partsBroken = false;
                }
                else if (_parts is null || _partsId != id || _partsNext != index)
                {
                    _parts ??= new ArrayBufferWriter<byte>();
                    _partsId = id;
                    _partsBroken = true;
                    return Task.CompletedTask;
                }

                if (!_partsBroken)
                {
                    var length = Encoding.UTF8.GetByteCount(text);
                    _parts.Advance(Encoding.UTF8.GetBytes(text, _parts.GetSpan(length)));
                    _partsNext++;
                }
            }

            return Task.CompletedTask;
        }

        public Task OnClose(object?[] arguments)
        {
            if (arguments[0] is string collection && collection == _collection)
            {
                // "<Status>: <description>", as every transport reports a close.
                CloseReason = $"{arguments[1]}: {arguments[2]}";
                _events.Writer.TryComplete();
            }

            return Task.CompletedTask;
        }

        public Task OnClosedAsync(Exception? exception)
        {
            _events.Writer.TryComplete(exception);
            return Task.CompletedTask;
        }

        // After SignalR's own reconnect (when configured) the server has forgotten the subscription: it resumes from the
        // last event received, which the reader still gets from the channel.
        public async Task OnReconnectedAsync(string? connectionId)
        {
            try
            {
                await SubscribeAsync(CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Any failure ends this stream; the client then reconnects on its own.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _events.Writer.TryComplete(e);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _events.Writer.TryComplete();
            await _hub.DisposeAsync().ConfigureAwait(false);
        }
    }
}
