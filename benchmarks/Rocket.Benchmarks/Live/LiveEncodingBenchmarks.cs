using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Rocket.JsonPatch;
using Rocket.Live;
using Rocket.Transports;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// Encoding record changes into JSON Patch bytes, two events per invocation so the collection ends where it started
/// (figures are per event): <c>CreateDestroy</c> is an <c>add</c> then a <c>remove</c> of a new record;
/// <c>Update</c> replaces a record with another value and back (<see cref="UpdateEncoding.Replace"/>, the default);
/// <c>UpdateDiff</c> is the same two updates with <see cref="UpdateEncoding.Diff"/> (per event: a <c>remove</c>, two
/// <c>replace</c>s and an <c>add</c> of single fields).
/// </summary>
/// <remarks>
/// <para>
/// The anchor (<see cref="SerializeOperations"/>) is what an application without Rocket writes: the operations as
/// plain .NET objects with the record as an already-parsed <see cref="JsonElement"/>, and
/// <c>JsonSerializer.SerializeToUtf8Bytes</c> of the array, with cached options. For the diff it first compares the
/// two records member by member with <see cref="JsonElement.DeepEquals"/> (the records are flat, so that is the whole
/// diff). It gets the same inputs as Rocket (an id and a value that is known to be valid JSON) and produces the same
/// bytes, checked in <see cref="Setup"/>. It is favoured: its records are parsed once in setup, where Rocket's diff
/// parses both records on every event, as the live core must (it keeps records as bytes).
/// </para>
/// <para>
/// <see cref="RocketApply"/> is the real entry point, <see cref="LiveCollection.Apply"/> with no subscribers: besides
/// encoding it takes the writer lock, checks the change against the records, stores the value, copies the patch into
/// its event and appends that to the history. The encoding itself is private to the collection; <see cref="RocketWriter"/>
/// makes the same public <see cref="JsonPatchWriter"/> and <see cref="JsonPatchDiff"/> calls it makes (one reused
/// writer with value validation off, the path built on the stack, the bytes copied out), to split encoding from the
/// bookkeeping. The <see cref="RecordChange"/>s are built in setup: building one parses and copies its value once,
/// whichever encoder is used.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class LiveEncodingBenchmarks
{
    private const string Collection = "messages";

    private static readonly byte[] RecordA = """{"id":1,"text":"hello, world","author":"ada","n":42,"read":false}"""u8.ToArray();
    private static readonly byte[] RecordB = """{"id":1,"text":"hello again","author":"ada","n":43,"edited":true}"""u8.ToArray();

    private static readonly JsonSerializerOptions AnchorOptions = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private JsonPatchWriter _writer = null!;
    private LiveCollection _collection = null!;
    private ChangeSet _first = null!;
    private ChangeSet _second = null!;
    private JsonDocument _documentA = null!;
    private JsonDocument _documentB = null!;

    /// <summary>The change pair: <c>CreateDestroy</c>, <c>Update</c> or <c>UpdateDiff</c>.</summary>
    [Params("CreateDestroy", "Update", "UpdateDiff")]
    public string Change { get; set; } = "Update";

    private bool Diff => Change == "UpdateDiff";

    private bool Creates => Change == "CreateDestroy";

    // The record the changes touch: "2" is created and destroyed, "1" is updated.
    private string Id => Creates ? "2" : "1";

    [GlobalSetup]
    public void Setup()
    {
        _documentA = JsonDocument.Parse(RecordA);
        _documentB = JsonDocument.Parse(RecordB);
        _writer = new JsonPatchWriter(_buffer, skipValueValidation: true);
        (_first, _second) = Creates
            ? (ChangeSet.Create(RecordChange.Create(Id, RecordA)), ChangeSet.Create(RecordChange.Destroy(Id)))
            : (ChangeSet.Create(RecordChange.Update(Id, RecordB)), ChangeSet.Create(RecordChange.Update(Id, RecordA)));
        _collection = NewCollection();

        // Check the output: the anchor, the writer and the live core's events (read by a subscriber of a second
        // collection that gets the same changes) are the same bytes, and they are the patches this scenario means.
        var expected = ExpectedPatches();
        var anchor = SerializeOperations();
        var writer = RocketWriter();
        var published = PublishedPatches();
        for (var i = 0; i < 2; i++)
        {
            var want = Encoding.UTF8.GetString(expected[i]);
            var got = new[] { anchor[i], writer[i], published[i] };
            foreach (var bytes in got)
            {
                if (Encoding.UTF8.GetString(bytes) != want)
                {
                    throw new InvalidOperationException($"{Change}, event {i}: expected {want}, got {Encoding.UTF8.GetString(bytes)}.");
                }
            }
        }

        var cursor = RocketApply();
        if (cursor.Sequence != 3 || _collection.Count != 1 || !_collection.TryGet("1", out var value) || !value.Span.SequenceEqual(RecordA))
        {
            throw new InvalidOperationException($"{Change}: the collection did not end where it started ({cursor}, {_collection.Count} records).");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collection.Dispose();
        _writer.Dispose();
        _documentA.Dispose();
        _documentB.Dispose();
    }

    /// <summary>The anchor: the operations as .NET objects, serialized by <c>JsonSerializer.SerializeToUtf8Bytes</c>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2)]
    public byte[][] SerializeOperations()
    {
        var a = _documentA.RootElement;
        var b = _documentB.RootElement;
        var path = "/" + Collection + "/" + Id;
        if (Creates)
        {
            return
            [
                JsonSerializer.SerializeToUtf8Bytes(new[] { new Operation("add", path, a) }, AnchorOptions),
                JsonSerializer.SerializeToUtf8Bytes(new[] { new Operation("remove", path, null) }, AnchorOptions),
            ];
        }

        return Diff
            ? [JsonSerializer.SerializeToUtf8Bytes(DiffFlat(a, b, path), AnchorOptions), JsonSerializer.SerializeToUtf8Bytes(DiffFlat(b, a, path), AnchorOptions)]
            : [JsonSerializer.SerializeToUtf8Bytes(new[] { new Operation("replace", path, b) }, AnchorOptions),
               JsonSerializer.SerializeToUtf8Bytes(new[] { new Operation("replace", path, a) }, AnchorOptions)];
    }

    /// <summary>The encoding step alone, as the live core makes it (public writer and diff, same calls).</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public byte[][] RocketWriter() => [Encode(_first[0], RecordA), Encode(_second[0], Creates ? RecordA : RecordB)];

    /// <summary>The live core's entry point with no subscribers: check, store, encode, record the event.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public Cursor RocketApply()
    {
        _collection.Apply(_first);
        return _collection.Apply(_second);
    }

    private LiveCollection NewCollection()
    {
        var collection = new LiveCollection(
            Collection,
            new LiveCollectionOptions { UpdateEncoding = Diff ? UpdateEncoding.Diff : UpdateEncoding.Replace, HeartbeatInterval = TimeSpan.Zero });
        collection.Create("1", RecordA);
        return collection;
    }

    private byte[] Encode(RecordChange change, byte[] current)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartPatch();
        Span<char> path = stackalloc char[256];
        var prefix = "/" + Collection + "/";
        prefix.CopyTo(path);
        path = path[..(prefix.Length + JsonPointer.Escape(change.Id, path[prefix.Length..]))];
        switch (change.Kind)
        {
            case RecordChangeKind.Create:
                _writer.WriteAdd(path, change.Value.Span);
                break;
            case RecordChangeKind.Update when Diff:
                using (var before = JsonDocument.Parse(current))
                using (var after = JsonDocument.Parse(change.Value))
                {
                    JsonPatchDiff.Write(before.RootElement, after.RootElement, _writer, path);
                }

                break;
            case RecordChangeKind.Update:
                _writer.WriteReplace(path, change.Value.Span);
                break;
            default:
                _writer.WriteRemove(path);
                break;
        }

        _writer.WriteEndPatch();
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    // A user's diff of two flat records: removed members, then changed or added ones in the target's order.
    private static List<Operation> DiffFlat(JsonElement source, JsonElement target, string basePath)
    {
        var operations = new List<Operation>();
        foreach (var member in source.EnumerateObject())
        {
            if (!target.TryGetProperty(member.Name, out _))
            {
                operations.Add(new Operation("remove", basePath + "/" + member.Name, null));
            }
        }

        foreach (var member in target.EnumerateObject())
        {
            if (!source.TryGetProperty(member.Name, out var old))
            {
                operations.Add(new Operation("add", basePath + "/" + member.Name, member.Value));
            }
            else if (!JsonElement.DeepEquals(old, member.Value))
            {
                operations.Add(new Operation("replace", basePath + "/" + member.Name, member.Value));
            }
        }

        return operations;
    }

    private byte[][] ExpectedPatches()
    {
        const string a = """{"id":1,"text":"hello, world","author":"ada","n":42,"read":false}""";
        const string b = """{"id":1,"text":"hello again","author":"ada","n":43,"edited":true}""";
        string[] patches = Change switch
        {
            "CreateDestroy" => [$$"""[{"op":"add","path":"/messages/2","value":{{a}}}]""", """[{"op":"remove","path":"/messages/2"}]"""],
            "Update" => [$$"""[{"op":"replace","path":"/messages/1","value":{{b}}}]""", $$"""[{"op":"replace","path":"/messages/1","value":{{a}}}]"""],
            _ =>
            [
                """[{"op":"remove","path":"/messages/1/read"},{"op":"replace","path":"/messages/1/text","value":"hello again"},{"op":"replace","path":"/messages/1/n","value":43},{"op":"add","path":"/messages/1/edited","value":true}]""",
                """[{"op":"remove","path":"/messages/1/edited"},{"op":"replace","path":"/messages/1/text","value":"hello, world"},{"op":"replace","path":"/messages/1/n","value":42},{"op":"add","path":"/messages/1/read","value":false}]""",
            ],
        };
        return [Encoding.UTF8.GetBytes(patches[0]), Encoding.UTF8.GetBytes(patches[1])];
    }

    // The patches the live core itself publishes for the pair, read by an in-memory subscriber of a fresh collection.
    private byte[][] PublishedPatches()
    {
        using var collection = NewCollection();
        var transport = new InMemoryTransport();
        using var subscription = collection.Subscribe(transport, collection.Cursor.ToString());
        collection.Apply(_first);
        collection.Apply(_second);
        if (!transport.WaitForFramesAsync(2).Wait(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException($"{Change}: the subscriber did not get both events.");
        }

        var patches = new byte[2][];
        for (var i = 0; i < 2; i++)
        {
            if (!InMemoryEventFramer.TryDecode(transport.Frames[i], out _, out var patch))
            {
                throw new InvalidOperationException($"{Change}: frame {i} does not decode.");
            }

            patches[i] = patch.ToArray();
        }

        return patches;
    }

    /// <summary>One JSON Patch operation as an application would declare it; <c>value</c> is left out when null.</summary>
    public sealed record Operation(
        [property: JsonPropertyName("op")] string Op,
        [property: JsonPropertyName("path")] string Path,
        [property: JsonPropertyName("value")] JsonElement? Value);
}
