using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Rocket.Conformance.Tests;

/// <summary>The hub at <c>/rocket</c>: <c>Subscribe(collection, lastEventId)</c>, its <c>patch</c> and <c>close</c> messages read with the .NET HubConnection.</summary>
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
        var client = new Client(connection);

        // An event over 64 KiB comes as patchPart slices, then its patch with the last slice (docs/signalr.md): joined.
        var parts = new List<string>();
        string? partsId = null;
        connection.On<string, string, int, string>("patchPart", (name, id, index, text) =>
        {
            if (name == collection)
            {
                if (index == 0)
                {
                    parts.Clear();
                    partsId = id;
                }

                parts.Add(partsId == id && parts.Count == index ? text : "\u0000 a slice out of order");
            }
        });

        // The patch is the JSON array with the JSON protocol (a JsonElement here) and a string with MessagePack (and, for
        // an event in slices, its last slice in both).
        connection.On<string, string, bool, object>("patch", (name, id, _, patch) =>
        {
            if (name == collection)
            {
                var text = patch switch
                {
                    JsonElement { ValueKind: JsonValueKind.String } last => last.GetString()!,
                    JsonElement array => array.GetRawText(),
                    _ => (string)patch,
                };
                if (partsId == id)
                {
                    text = string.Concat(parts) + text;
                }

                parts.Clear();
                partsId = null;
                client.Messages.Writer.TryWrite(new StreamMessage(StreamMessageKind.Patch, id, text));
            }
        });
        connection.On<string, string, string>("close", (name, status, reason) =>
        {
            if (name == collection)
            {
                client.Messages.Writer.TryWrite(new StreamMessage(StreamMessageKind.Close, Reason: $"{status}: {reason}"));
            }
        });
        connection.Closed += e =>
        {
            client.Messages.Writer.TryWrite(new StreamMessage(StreamMessageKind.End, Reason: e?.Message));
            return Task.CompletedTask;
        };
        await connection.StartAsync(cancellationToken);
        await connection.InvokeAsync("Subscribe", collection, cursor, cancellationToken);
        return client;
    }

    public Task<IAsyncDisposable> ConnectStalledAsync(Uri baseAddress, string collection, CancellationToken cancellationToken) =>
        throw new NotSupportedException("SignalR clients buffer without limit and never push back.");

    private sealed class Client(HubConnection connection) : IStreamClient
    {
        private bool _ended;

        public Channel<StreamMessage> Messages { get; } = Channel.CreateUnbounded<StreamMessage>();

        public async Task<StreamMessage> ReadAsync(CancellationToken cancellationToken)
        {
            if (_ended)
            {
                return new StreamMessage(StreamMessageKind.End);
            }

            var message = await Messages.Reader.ReadAsync(cancellationToken);
            _ended = message.Kind is StreamMessageKind.Close or StreamMessageKind.End;
            return message;
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
