using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR.Client;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>
/// One message the hub sent: a <c>patch</c> (Id, Reset, Patch; Parts, how many messages it came in when it came in
/// slices) or a <c>close</c> (Status, Reason).
/// </summary>
internal sealed record ReceivedMessage(string Target, string Collection, string? Id = null, bool Reset = false, string? Patch = null, string? Status = null, string? Reason = null, int Parts = 0)
{
    public JsonElement Ops => JsonDocument.Parse(Patch!).RootElement;
}

/// <summary>
/// A real .NET hub connection with handlers for the hub's two client methods, read one message at a time with a timeout
/// (never a fixed sleep).
/// </summary>
internal sealed class HubClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Channel<ReceivedMessage> _messages = Channel.CreateUnbounded<ReceivedMessage>();
    private readonly List<string> _parts = [];
    private string? _partsId;

    public HubClient(HubConnection connection)
    {
        Connection = connection;

        // The patch is the JSON array with the JSON protocol (bound here as a JsonElement) and a string holding the
        // JSON text with MessagePack: `object` takes either.
        // A long event comes as patchPart slices, in order, and its patch message with the last slice: joined here, as
        // the contract says a client must, and counted, so tests can see an event came in parts.
        connection.On<string, string, int, string>("patchPart", (collection, id, index, text) =>
        {
            if (index == 0)
            {
                _parts.Clear();
                _partsId = id;
            }

            if (_partsId != id || _parts.Count != index)
            {
                // Shows up as the next message, which a test expecting a patch rejects.
                _messages.Writer.TryWrite(new ReceivedMessage($"patchPart {index} out of order", collection, id));
            }

            _parts.Add(text);
        });
        connection.On<string, string, bool, object>("patch", (collection, id, reset, patch) =>
        {
            var text = PatchText(patch);
            var parts = 0;
            if (_partsId == id)
            {
                parts = _parts.Count + 1;
                text = string.Concat(_parts) + text;
            }

            _parts.Clear();
            _partsId = null;
            _messages.Writer.TryWrite(new ReceivedMessage("patch", collection, id, reset, text, Parts: parts));
        });
        connection.On<string, string, string>("close", (collection, status, reason) =>
            _messages.Writer.TryWrite(new ReceivedMessage("close", collection, Status: status, Reason: reason)));
    }

    public HubConnection Connection { get; }

    public Task SubscribeAsync(string collection, string? lastEventId) => Connection.InvokeAsync("Subscribe", collection, lastEventId);

    public Task UnsubscribeAsync(string collection) => Connection.InvokeAsync("Unsubscribe", collection);

    public async Task<ReceivedMessage> NextAsync() => await _messages.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

    /// <summary>The next message, which must be a <c>patch</c>.</summary>
    public async Task<ReceivedMessage> NextPatchAsync()
    {
        var message = await NextAsync();
        Assert.True(message.Target == "patch", $"expected a patch, got {message}");
        return message;
    }

    /// <summary>Whether a message is waiting already.</summary>
    public bool HasPending => _messages.Reader.TryPeek(out _);

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    private static string PatchText(object patch) => patch switch
    {
        // The patch that completes an event sent in slices carries its last slice as a string.
        JsonElement { ValueKind: JsonValueKind.String } element => element.GetString()!,
        JsonElement element => element.GetRawText(),
        string text => text,
        _ => throw new InvalidOperationException($"A patch argument of type {patch?.GetType()}."),
    };
}
