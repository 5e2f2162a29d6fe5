using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.SignalR;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>The buffer between a subscription and SignalR: order, hand-over, room, completion and cancellation.</summary>
public sealed class HubEventStreamTests
{
    private static RocketHubEvent Item(int sequence) => new("messages", $"0000002a.{sequence}", reset: false, "[]"u8.ToArray());

    [Fact]
    public async Task BufferedItems_AreReadInOrder_ThenANormalEnd()
    {
        var stream = new HubEventStream(4);
        Assert.True(stream.TryWrite(Item(1)));
        Assert.True(stream.TryWrite(Item(2)));
        stream.Complete();

        await using var items = stream.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("0000002a.1", items.Current.Id);
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("0000002a.2", items.Current.Id);
        Assert.False(await items.MoveNextAsync());
        Assert.Throws<InvalidOperationException>(() => stream.TryWrite(Item(3)));
    }

    [Fact]
    public async Task ParkedReader_IsHandedTheNextItem()
    {
        var stream = new HubEventStream(1);
        await using var items = stream.GetAsyncEnumerator();
        var next = items.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);

        Assert.True(stream.TryWrite(Item(1)));
        Assert.True(await next.WaitAsync(HubStream.Timeout));
        Assert.Equal("0000002a.1", items.Current.Id);
        Assert.Equal(0, stream.Count);
    }

    [Fact]
    public async Task FullBuffer_WriteWaitsForRoom_ThenTheItemFollowsTheOthers()
    {
        var stream = new HubEventStream(1);
        Assert.True(stream.TryWrite(Item(1)));
        Assert.False(stream.TryWrite(Item(2)));
        var write = stream.WaitToWriteAsync(Item(2), CancellationToken.None).AsTask();
        Assert.False(write.IsCompleted);

        await using var items = stream.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("0000002a.1", items.Current.Id);
        await write.WaitAsync(HubStream.Timeout);
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("0000002a.2", items.Current.Id);
    }

    [Fact]
    public async Task WaitingWrite_CanceledByItsToken_WritesNothing()
    {
        var stream = new HubEventStream(1);
        Assert.True(stream.TryWrite(Item(1)));
        using var cancel = new CancellationTokenSource();
        var write = stream.WaitToWriteAsync(Item(2), cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.WaitAsync(HubStream.Timeout));
        Assert.Equal(1, stream.Count);
        stream.Complete();
        await using var items = stream.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        Assert.False(await items.MoveNextAsync());
    }

    [Fact]
    public async Task Complete_WithAWaitingWrite_FailsIt_AndTheReaderGetsTheErrorAfterTheItems()
    {
        var stream = new HubEventStream(1);
        Assert.True(stream.TryWrite(Item(1)));
        var write = stream.WaitToWriteAsync(Item(2), CancellationToken.None).AsTask();

        stream.Complete(new HubException("SlowConsumer: behind"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => write.WaitAsync(HubStream.Timeout));
        await using var items = stream.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        var error = await Assert.ThrowsAsync<HubException>(async () => await items.MoveNextAsync());
        Assert.Equal("SlowConsumer: behind", error.Message);
    }

    [Fact]
    public async Task ParkedReader_IsWokenByCompletion_NormalOrWithError()
    {
        var normal = new HubEventStream(1);
        await using var normalItems = normal.GetAsyncEnumerator();
        var next = normalItems.MoveNextAsync().AsTask();
        normal.Complete();
        Assert.False(await next.WaitAsync(HubStream.Timeout));

        var failed = new HubEventStream(1);
        await using var failedItems = failed.GetAsyncEnumerator();
        next = failedItems.MoveNextAsync().AsTask();
        failed.Complete(new HubException("ShuttingDown: bye"));
        await Assert.ThrowsAsync<HubException>(() => next.WaitAsync(HubStream.Timeout));
    }

    [Fact]
    public async Task ParkedReader_IsCanceledByTheEnumerationToken()
    {
        var stream = new HubEventStream(1);
        using var cancel = new CancellationTokenSource();
        await using var items = stream.GetAsyncEnumerator(cancel.Token);
        var next = items.MoveNextAsync().AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(HubStream.Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await items.MoveNextAsync());
    }

    [Fact]
    public async Task Stream_CanBeEnumeratedOnce()
    {
        var stream = new HubEventStream(1);
        await using var items = stream.GetAsyncEnumerator();
        Assert.Throws<InvalidOperationException>(() => stream.GetAsyncEnumerator());
    }
}
