using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Rocket.Client.SignalR;

/// <summary>
/// Streams a collection from Rocket's SignalR hub: <c>Subscribe(collection, lastEventId)</c> over a
/// <see cref="HubConnection"/>. Each stream gets its own connection, so the client's reconnect (backoff, resume by
/// cursor) is the same as on every other transport; SignalR's own keep-alive notices a dead server.
/// </summary>
public sealed class SignalRConnector : IStreamConnector
{
    /// <summary>The hub's path, resolved against the collection's URL. Default <c>/rocket</c>, where <c>MapRocketHub()</c> maps it.</summary>
    public string HubPath { get; set; } = "/rocket";

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
        var connection = builder.Build();

        // SignalR's server pings every 15 s; the client's idle timeout is how long silence means a dead server.
        connection.ServerTimeout = request.Options.IdleTimeout;
        try
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
            var stopping = new CancellationTokenSource();
            var stream = connection.StreamAsync<HubItem>("Subscribe", request.CollectionName, request.LastEventId, stopping.Token);
            return new Connection(connection, stream.GetAsyncEnumerator(stopping.Token), stopping);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Connection : IStreamConnection
    {
        private const string ServerErrorPrefix = "HubException: ";
        private readonly HubConnection _connection;
        private readonly IAsyncEnumerator<HubItem> _items;
        private readonly CancellationTokenSource _stopping;

        public Connection(HubConnection connection, IAsyncEnumerator<HubItem> items, CancellationTokenSource stopping)
        {
            _connection = connection;
            _items = items;
            _stopping = stopping;
        }

        public string? CloseReason { get; private set; }

        public TimeSpan? RetryInterval => null;

        public long? LastActivityTimestamp => null;

        public async ValueTask<StreamEvent?> ReadAsync(CancellationToken cancellationToken = default)
        {
            using var registration = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _stopping);
            try
            {
                return await _items.MoveNextAsync().ConfigureAwait(false)
                    ? new StreamEvent(_items.Current.Id, _items.Current.Patch, _items.Current.Reset)
                    : null;
            }
            catch (HubException e)
            {
                // Rocket ends a stream with "<Status>: <description>" (slow consumer, shutting down): a close, not a fault.
                var at = e.Message.IndexOf(ServerErrorPrefix, StringComparison.Ordinal);
                CloseReason = at >= 0 ? e.Message[(at + ServerErrorPrefix.Length)..] : e.Message;
                return null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                await _items.DisposeAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await _connection.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
        }
    }
}
