using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Rocket.Live;
using Rocket.SignalR;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>The transport's writes into a real <see cref="HubConnectionContext"/> whose pipe pushes back.</summary>
public sealed class SignalRTransportTests
{
    // SignalR's default TransportMaxBufferSize: the connection's pipe makes a write wait past it.
    private const int PauseThreshold = 64 * 1024;

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task LongEvent_GoesOutOneSliceAtATime_ThePipeNeverHoldingMoreThanItsThresholdAndASlice(string protocolName)
    {
        var framer = SignalREventFramer.ForProtocol(protocolName)!;
        var (connection, toClient) = Connect(protocolName == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol());
        var transport = new SignalRTransport(connection, framer, "messages", pooledJoins: true);
        var frame = Frame(framer, 1_500_000);

        var write = transport.WriteAsync(frame).AsTask();
        var (received, mostHeld) = await ReadSlowlyAsync(toClient, frame.Length);
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(frame, received);
        Assert.True(framer.MessagesFor(frame).Length > 20);
        Assert.True(mostHeld <= PauseThreshold + RocketHubContract.PartBytes + 256, $"the pipe held {mostHeld} bytes of a {frame.Length}-byte event");
    }

    [Fact]
    public async Task Batch_WithALongEventAmongShortOnes_KeepsTheOrder_AndTheBound()
    {
        var framer = SignalREventFramer.Json;
        var (connection, toClient) = Connect(new JsonHubProtocol());
        var transport = new SignalRTransport(connection, framer, "messages", pooledJoins: true);
        var frames = new[] { Frame(framer, 40_000, 1), Frame(framer, 40_000, 2), Frame(framer, 700_000, 3), Frame(framer, 40_000, 4), Frame(framer, 120, 5), Frame(framer, 120, 6) };
        var expected = frames.SelectMany(f => f).ToArray();

        var write = transport.WriteManyAsync(frames.Select(f => (ReadOnlyMemory<byte>)f).ToArray()).AsTask();
        var (received, mostHeld) = await ReadSlowlyAsync(toClient, expected.Length);
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(expected, received);
        Assert.True(mostHeld <= PauseThreshold + RocketHubContract.PartBytes + 256, $"the pipe held {mostHeld} bytes");
    }

    private static (HubConnectionContext Connection, PipeReader ToClient) Connect(IHubProtocol protocol)
    {
        var toClient = new Pipe(new PipeOptions(pauseWriterThreshold: PauseThreshold, resumeWriterThreshold: PauseThreshold / 2, useSynchronizationContext: false));
        var fromClient = new Pipe();
        var context = new DefaultConnectionContext("test", new Duplex(fromClient.Reader, toClient.Writer), new Duplex(toClient.Reader, fromClient.Writer));
        var options = new HubConnectionContextOptions { KeepAliveInterval = TimeSpan.FromMinutes(5), ClientTimeoutInterval = TimeSpan.FromMinutes(5) };
        return (new HubConnectionContext(context, options, NullLoggerFactory.Instance) { Protocol = protocol }, toClient.Reader);
    }

    // Reads a little at a time, as a slow client does, noting the most the pipe held unread.
    private static async Task<(byte[] Received, long MostHeld)> ReadSlowlyAsync(PipeReader reader, int total)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new ArrayBufferWriter<byte>(total);
        long mostHeld = 0;
        while (received.WrittenCount < total)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            mostHeld = Math.Max(mostHeld, buffer.Length);
            var take = buffer.Slice(0, Math.Min(buffer.Length, 16 * 1024));
            foreach (var segment in take)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(take.End);
        }

        return (received.WrittenSpan.ToArray(), mostHeld);
    }

    private static byte[] Frame(SignalREventFramer framer, int patchBytes, long sequence = 7)
    {
        var patch = "[{\"op\":\"add\",\"path\":\"/messages/1\",\"value\":{\"text\":\"" + new string('é', (patchBytes - 60) / 2) + "\"}}]";
        var output = new ArrayBufferWriter<byte>();
        framer.Frame(new LiveEvent("messages", new Cursor(0x2a, sequence), Encoding.UTF8.GetBytes(patch), isReset: false), output);
        return output.WrittenSpan.ToArray();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
