namespace Rocket.Transports.WebSockets.Tests;

public sealed class CoalescingBuffersTests
{
    [Fact]
    public void TryRent_PastCapacity_Null_AndAReturnedBufferIsReused()
    {
        var buffers = new CoalescingBuffers(capacity: 2);

        var first = buffers.TryRent();
        var second = buffers.TryRent();

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotSame(first, second);
        Assert.Equal(CoalescingBuffers.BufferSize, first.Length);
        Assert.Null(buffers.TryRent());

        buffers.Return(second);
        Assert.Same(second, buffers.TryRent());
        Assert.Null(buffers.TryRent());
    }

    [Fact]
    public void TryRent_NoCapacity_AlwaysNull()
    {
        var buffers = new CoalescingBuffers(capacity: 0);

        Assert.Null(buffers.TryRent());
        Assert.Null(buffers.TryRent());
    }
}
