using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Rocket.Transports.SignalR;

namespace Rocket.Conformance.Tests;

/// <summary>The hub at <c>/rocket</c>: <c>Subscribe(collection, lastEventId)</c>, read with the .NET HubConnection.</summary>
public sealed class SignalRUnderTest(bool messagePack) : ITransportUnderTest
{
    public string Name => messagePack ? "signalr+messagepack" : "signalr+json";

    // SignalR's keep-alive pings are handled inside the client and never reach hub code.
    public bool HeartbeatsVisible => false;

    public void Register(IRocketBuilder rocket) => rocket.AddSseTransport().AddSignalRTransport();

    public void Map(WebApplication app) => app.MapRocketHub();

    public async Task<IStreamClient> ConnectAsync(Uri baseAddress, string collection, string? cursor, CancellationToken cancellationToken)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, "/rocket"));
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        var connection = builder.Build();
        await connection.StartAsync(cancellationToken);
        var stop = new CancellationTokenSource();
        var events = connection.StreamAsync<RocketHubEvent>("Subscribe", collection, cursor, stop.Token).GetAsyncEnumerator(stop.Token);
        return new Client(connection, stop, events);
    }

    public Task<IAsyncDisposable> ConnectStalledAsync(Uri baseAddress, string collection, CancellationToken cancellationToken) =>
        throw new NotSupportedException("SignalR clients buffer without limit and never push back.");

    private sealed class Client(HubConnection connection, CancellationTokenSource stop, IAsyncEnumerator<RocketHubEvent> events) : IStreamClient
    {
        private bool _ended;

        public async Task<StreamMessage> ReadAsync(CancellationToken cancellationToken)
        {
            if (_ended)
            {
                return new StreamMessage(StreamMessageKind.End);
            }

            try
            {
                if (await events.MoveNextAsync().AsTask().WaitAsync(cancellationToken))
                {
                    var item = events.Current;
                    return new StreamMessage(StreamMessageKind.Patch, item.Id, Encoding.UTF8.GetString(item.Patch.Span));
                }

                _ended = true;
                return new StreamMessage(StreamMessageKind.End);
            }
            catch (HubException e)
            {
                // Rocket ends a stream with the reason as a HubException: "<Status>: <description>".
                _ended = true;
                return new StreamMessage(StreamMessageKind.Close, Reason: e.Message);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or System.IO.IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _ended = true;
                return new StreamMessage(StreamMessageKind.End, Reason: e.Message);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await events.DisposeAsync();
            }
            catch (OperationCanceledException)
            {
            }

            await connection.DisposeAsync();
            stop.Dispose();
        }
    }
}
