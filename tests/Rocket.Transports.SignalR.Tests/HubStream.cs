using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR.Client;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>A client's <c>Subscribe</c> stream, read one event at a time with a timeout (never a fixed sleep).</summary>
internal sealed class HubStream : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _cancel = new();
    private readonly IAsyncEnumerator<RocketHubEvent> _events;

    public HubStream(HubConnection connection, string collection, string? lastEventId)
    {
        _events = connection.StreamAsync<RocketHubEvent>("Subscribe", collection, lastEventId, _cancel.Token).GetAsyncEnumerator(_cancel.Token);
    }

    public async Task<RocketHubEvent> NextAsync()
    {
        Assert.True(await _events.MoveNextAsync().AsTask().WaitAsync(Timeout), "the stream ended");
        return _events.Current;
    }

    /// <summary>Whether the stream ends (within the timeout) instead of yielding another event.</summary>
    public async Task<bool> EndsAsync() => !await _events.MoveNextAsync().AsTask().WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync();
        try
        {
            await _events.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
        }

        _cancel.Dispose();
    }

    public static JsonElement Ops(RocketHubEvent item) => JsonDocument.Parse(item.Patch).RootElement;
}
