using System;
using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.Transports.SignalR;

namespace Rocket.Benchmarks.Transports;

/// <summary>
/// What one event costs on the SignalR transport. Rocket frames it once per event and hub protocol as the complete
/// <c>patch</c> invocation (<see cref="FrameJson"/>, <see cref="FrameMessagePack"/>); per subscriber it only looks up the
/// one <see cref="SerializedHubMessage"/> all connections of the protocol share (<see cref="SharedMessage"/>), whose
/// bytes SignalR copies into the connection.
/// </summary>
/// <remarks>
/// The anchor (<see cref="PlainSendToAll"/>) is what a plain hub pays for the same event when the server calls
/// <c>Clients.All.SendAsync("event", patch)</c> with the patch as a string (the load test's baseline-signalr): one
/// invocation serialized once per protocol in use. <see cref="StreamItemPerConnection"/> is what the previous design (a
/// hub stream per subscriber) paid per subscriber: SignalR's JSON protocol writing a stream item, whose invocation id
/// differs on every connection.
/// </remarks>
[MemoryDiagnoser]
public class SignalRFramingBenchmarks
{
    private static readonly byte[] Patch =
        """[{"op":"replace","path":"/messages/1","value":{"text":"hello, world","author":"ada","n":42}}]"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly JsonHubProtocol _json = new();
    private LiveEvent _event = null!;
    private byte[] _frame = [];
    private string _patchText = null!;
    private StreamItemMessage _streamItem = null!;

    [GlobalSetup]
    public void Setup()
    {
        _event = new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), Patch, isReset: false);
        _patchText = Encoding.UTF8.GetString(Patch);
        FrameJson();
        _frame = _output.WrittenSpan.ToArray();
        var expected = """{"type":1,"target":"patch","arguments":["messages","7f3a09c1.42",false,""" + _patchText + "]}\u001e";
        if (Encoding.UTF8.GetString(_frame) != expected)
        {
            throw new InvalidOperationException($"Unexpected JSON frame: {Encoding.UTF8.GetString(_frame)}");
        }

        FrameMessagePack();
        var messagePack = _output.WrittenCount;
        _streamItem = new StreamItemMessage("1", new StreamItem("messages", "7f3a09c1.42", false, _patchText));
        _output.ResetWrittenCount();
        _json.WriteMessage(_streamItem, _output);
        var streamItem = _output.WrittenCount;
        Console.WriteLine($"// bytes per event: patch {Patch.Length}, JSON patch message {_frame.Length}, MessagePack patch message {messagePack}, " +
            $"plain JSON invocation {PlainSendToAll().Length}, JSON stream item with the patch as a string {streamItem}");
    }

    /// <summary>
    /// The anchor, once per event: a plain hub's <c>Clients.All.SendAsync("event", patch)</c>, one invocation message
    /// serialized by the JSON protocol into the bytes every connection then copies.
    /// </summary>
    [Benchmark(Baseline = true)]
    public ReadOnlyMemory<byte> PlainSendToAll() =>
        new SerializedHubMessage(new InvocationMessage("event", [_patchText])).GetSerializedMessage(_json);

    /// <summary>Once per event: the JSON protocol's <c>patch</c> message, shared by every JSON connection.</summary>
    [Benchmark]
    public void FrameJson()
    {
        _output.ResetWrittenCount();
        SignalREventFramer.Json.Frame(_event, _output);
    }

    /// <summary>Once per event: the MessagePack protocol's <c>patch</c> message, shared by every MessagePack connection.</summary>
    [Benchmark]
    public void FrameMessagePack()
    {
        _output.ResetWrittenCount();
        SignalREventFramer.MessagePack.Frame(_event, _output);
    }

    /// <summary>Per subscriber: the shared pre-serialized message of the frame (a cache hit after the first connection).</summary>
    [Benchmark]
    public SerializedHubMessage SharedMessage() => SignalREventFramer.Json.MessagesFor(_frame)[0];

    /// <summary>Per subscriber, the previous design: SignalR's JSON protocol writing one connection's stream item.</summary>
    [Benchmark]
    public int StreamItemPerConnection()
    {
        _output.ResetWrittenCount();
        _json.WriteMessage(_streamItem, _output);
        return _output.WrittenCount;
    }

    public sealed record StreamItem(string Collection, string Id, bool Reset, string Patch);
}
