using System;
using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.Transports.SignalR;

namespace Rocket.Benchmarks.Transports;

/// <summary>
/// What one event costs on the SignalR transport. Rocket frames it once per event (<see cref="Frame"/>); everything else
/// is paid per subscriber: the small stream item that points into the frame (<see cref="WrapItem"/>), then SignalR's
/// hub protocol writing a <c>StreamItemMessage</c> for that connection (JSON or MessagePack). For comparison, the design
/// not taken: the patch as an escaped JSON string in the JSON protocol (<see cref="JsonProtocol_PatchAsString"/>).
/// </summary>
/// <remarks>
/// The anchor (<see cref="PlainSendToAll"/>) is what a plain hub pays for the same event when the server calls
/// <c>Clients.All.SendAsync("event", patch)</c> with the patch as a string (the load test's baseline-signalr): the
/// default lifetime manager builds one <see cref="InvocationMessage"/> and one <see cref="SerializedHubMessage"/> per
/// call, serializes it once per protocol in use, and every connection copies those cached bytes. So it is a
/// once-per-event cost, like <see cref="Frame"/>; what Rocket's hub stream pays per subscriber on top
/// (<see cref="WrapItem"/> plus a protocol write) the plain broadcast does not, while the plain broadcast has no
/// cursor, no resume and no per-subscriber queue.
/// </remarks>
[MemoryDiagnoser]
public class SignalRFramingBenchmarks
{
    private static readonly byte[] Patch =
        """[{"op":"replace","path":"/messages/1","value":{"text":"hello, world","author":"ada","n":42}}]"""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly JsonHubProtocol _json = new();
    private readonly MessagePackHubProtocol _messagePack = new();
    private LiveEvent _event = null!;
    private byte[] _frame = [];
    private StreamItemMessage _message = null!;
    private StreamItemMessage _stringMessage = null!;
    private string _patchText = null!;

    [GlobalSetup]
    public void Setup()
    {
        _event = new LiveEvent("messages", new Cursor(0x7f3a09c1, 42), Patch, isReset: false);
        Frame();
        _frame = _output.WrittenSpan.ToArray();
        var item = new RocketHubEvent("messages", _frame);
        _message = new StreamItemMessage("1", item);
        _stringMessage = new StreamItemMessage("1", new StringPatchItem("messages", item.Id, false, Encoding.UTF8.GetString(Patch)));

        // Check the output: the JSON item carries the patch as the raw array, MessagePack carries the same text.
        var json = Encoding.UTF8.GetString(Write(_json, _message));
        var expected = """{"type":2,"invocationId":"1","item":{"collection":"messages","id":"7f3a09c1.42","reset":false,"patch":""" + Encoding.UTF8.GetString(Patch) + "}}\u001e";
        if (json != expected)
        {
            throw new InvalidOperationException($"Unexpected JSON stream item: {json}");
        }

        var messagePack = Write(_messagePack, _message);
        if (messagePack.AsSpan().IndexOf(Patch) < 0)
        {
            throw new InvalidOperationException("The MessagePack stream item does not hold the patch text.");
        }

        // The anchor writes the invocation a plain hub sends, with the patch as an escaped string argument.
        _patchText = Encoding.UTF8.GetString(Patch);
        var invocation = Encoding.UTF8.GetString(PlainSendToAll().Span);
        using var parsed = JsonDocument.Parse(invocation.AsMemory(0, invocation.Length - 1));
        var root = parsed.RootElement;
        if (!invocation.EndsWith('\u001e') || root.GetProperty("type").GetInt32() != 1 || root.GetProperty("target").GetString() != "event"
            || root.GetProperty("arguments").GetArrayLength() != 1 || root.GetProperty("arguments")[0].GetString() != _patchText)
        {
            throw new InvalidOperationException($"Unexpected JSON invocation: {invocation}");
        }

        var asString = Write(_json, _stringMessage);
        Console.WriteLine($"// bytes per event: patch {Patch.Length}, frame {_frame.Length}, JSON stream item {json.Length}, JSON invocation {invocation.Length}, " +
            $"MessagePack stream item {messagePack.Length}, JSON with the patch as a string {asString.Length}");
    }

    /// <summary>
    /// The anchor, once per event: a plain hub's <c>Clients.All.SendAsync("event", patch)</c>, one invocation message
    /// serialized by the JSON protocol into the bytes every connection then copies.
    /// </summary>
    [Benchmark(Baseline = true)]
    public ReadOnlyMemory<byte> PlainSendToAll() =>
        new SerializedHubMessage(new InvocationMessage("event", [_patchText])).GetSerializedMessage(_json);

    /// <summary>Once per event, shared by every SignalR subscriber.</summary>
    [Benchmark]
    public void Frame()
    {
        _output.ResetWrittenCount();
        SignalREventFramer.Instance.Frame(_event, _output);
    }

    /// <summary>Per subscriber: the item handed to SignalR.</summary>
    [Benchmark]
    public object WrapItem() => new RocketHubEvent("messages", _frame);

    /// <summary>Per subscriber: SignalR's JSON protocol writing the stream item.</summary>
    [Benchmark]
    public int JsonProtocol()
    {
        _output.ResetWrittenCount();
        _json.WriteMessage(_message, _output);
        return _output.WrittenCount;
    }

    /// <summary>Per subscriber: SignalR's MessagePack protocol writing the stream item.</summary>
    [Benchmark]
    public int MessagePackProtocol()
    {
        _output.ResetWrittenCount();
        _messagePack.WriteMessage(_message, _output);
        return _output.WrittenCount;
    }

    /// <summary>Per subscriber, the rejected design: the patch as a JSON string, escaped on every write.</summary>
    [Benchmark]
    public int JsonProtocol_PatchAsString()
    {
        _output.ResetWrittenCount();
        _json.WriteMessage(_stringMessage, _output);
        return _output.WrittenCount;
    }

    private byte[] Write(IHubProtocol protocol, HubMessage message)
    {
        _output.ResetWrittenCount();
        protocol.WriteMessage(message, _output);
        return _output.WrittenSpan.ToArray();
    }

    public sealed record StringPatchItem(string Collection, string Id, bool Reset, string Patch);
}
