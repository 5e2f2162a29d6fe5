using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Rocket.Live;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// A snapshot of a 10,000-record collection: taking it (under the writer lock), then writing its list form (a plain
/// GET) and its keyed form (the document the stream patches) into a reused buffer.
/// </summary>
/// <remarks>
/// <para>
/// The anchors are what an application without Rocket writes for the same GET: its records as .NET objects in a
/// <see cref="Dictionary{TKey, TValue}"/> by id (insertion order, like Rocket's), guarded by a lock, and
/// <c>JsonSerializer.Serialize</c> of <c>{"messages": values}</c> (list) or <c>{"messages": dictionary}</c> (keyed)
/// into the same reused buffer through a reused <see cref="Utf8JsonWriter"/>, with cached options. The lock is held
/// while it serializes: without a copy, that is the only way its body matches one state (Rocket copies 10,000
/// references under its lock and writes outside it). Both produce the same bytes as Rocket, checked in
/// <see cref="Setup"/>. The rows <c>...SourceGenerated</c> use a System.Text.Json source-generated context instead of
/// reflection-based metadata, the faster choice a careful application would make.
/// </para>
/// <para>
/// Rocket's <see cref="WriteList"/> and <see cref="WriteKeyed"/> include taking the snapshot; <see cref="TakeSnapshot"/>
/// alone is the part under the lock.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class LiveSnapshotBenchmarks
{
    private const int Records = 10_000;

    private static readonly JsonSerializerOptions AnchorOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly ArrayBufferWriter<byte> _output = new(2 * 1024 * 1024);
    private readonly Dictionary<string, Message> _objects = new(StringComparer.Ordinal);
    private readonly Lock _objectsLock = new();
    private Utf8JsonWriter _json = null!;
    private LiveCollection _collection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _json = new Utf8JsonWriter(_output);
        _collection = new LiveCollection("messages");
        for (var i = 0; i < Records; i++)
        {
            _objects.Add(i.ToString(CultureInfo.InvariantCulture), new Message(i, $"message number {i}", $"user{i % 97}", false));
            _collection.Create(
                i.ToString(CultureInfo.InvariantCulture),
                Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"id":{{i}},"text":"message number {{i}}","author":"user{{i % 97}}","read":false}""")));
        }

        // Check the output: both forms parse and hold every record.
        using var list = JsonDocument.Parse(WriteList());
        using var keyed = JsonDocument.Parse(WriteKeyed());
        if (list.RootElement.GetProperty("messages").GetArrayLength() != Records
            || keyed.RootElement.GetProperty("messages").GetProperty("9999").GetProperty("id").GetInt32() != 9999
            || TakeSnapshot().Records.Count != Records)
        {
            throw new InvalidOperationException("The snapshot is wrong.");
        }

        // The anchors write the same bytes as Rocket.
        var rocketList = WriteList().ToArray();
        var rocketKeyed = WriteKeyed().ToArray();
        ThrowUnlessEqual(rocketList, SerializeList(), nameof(SerializeList));
        ThrowUnlessEqual(rocketList, SerializeListSourceGenerated(), nameof(SerializeListSourceGenerated));
        ThrowUnlessEqual(rocketKeyed, SerializeKeyed(), nameof(SerializeKeyed));
        ThrowUnlessEqual(rocketKeyed, SerializeKeyedSourceGenerated(), nameof(SerializeKeyedSourceGenerated));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collection.Dispose();
        _json.Dispose();
    }

    /// <summary>The part under the writer lock: 10,000 references copied.</summary>
    [Benchmark]
    [BenchmarkCategory("Take")]
    public Snapshot TakeSnapshot() => _collection.GetSnapshot();

    /// <summary>Anchor for the list form: <c>JsonSerializer.Serialize</c> of the values under the lock.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("List")]
    public ReadOnlyMemory<byte> SerializeList()
    {
        lock (_objectsLock)
        {
            return Serialize(new MessageList(_objects.Values), AnchorOptions);
        }
    }

    /// <summary>The list anchor with a source-generated serializer context.</summary>
    [Benchmark]
    [BenchmarkCategory("List")]
    public ReadOnlyMemory<byte> SerializeListSourceGenerated()
    {
        lock (_objectsLock)
        {
            _output.ResetWrittenCount();
            _json.Reset(_output);
            JsonSerializer.Serialize(_json, new MessageList(_objects.Values), SnapshotJsonContext.Default.MessageList);
            return _output.WrittenMemory;
        }
    }

    /// <summary>Rocket: take the snapshot, write the list form.</summary>
    [Benchmark]
    [BenchmarkCategory("List")]
    public ReadOnlyMemory<byte> WriteList()
    {
        _output.ResetWrittenCount();
        _collection.GetSnapshot().WriteList(_output);
        return _output.WrittenMemory;
    }

    /// <summary>Anchor for the keyed form: <c>JsonSerializer.Serialize</c> of the dictionary under the lock.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Keyed")]
    public ReadOnlyMemory<byte> SerializeKeyed()
    {
        lock (_objectsLock)
        {
            return Serialize(new MessageMap(_objects), AnchorOptions);
        }
    }

    /// <summary>The keyed anchor with a source-generated serializer context.</summary>
    [Benchmark]
    [BenchmarkCategory("Keyed")]
    public ReadOnlyMemory<byte> SerializeKeyedSourceGenerated()
    {
        lock (_objectsLock)
        {
            _output.ResetWrittenCount();
            _json.Reset(_output);
            JsonSerializer.Serialize(_json, new MessageMap(_objects), SnapshotJsonContext.Default.MessageMap);
            return _output.WrittenMemory;
        }
    }

    /// <summary>Rocket: take the snapshot, write the keyed form.</summary>
    [Benchmark]
    [BenchmarkCategory("Keyed")]
    public ReadOnlyMemory<byte> WriteKeyed()
    {
        _output.ResetWrittenCount();
        _collection.GetSnapshot().WriteKeyed(_output);
        return _output.WrittenMemory;
    }

    private ReadOnlyMemory<byte> Serialize<T>(T value, JsonSerializerOptions options)
    {
        _output.ResetWrittenCount();
        _json.Reset(_output);
        JsonSerializer.Serialize(_json, value, options);
        return _output.WrittenMemory;
    }

    private static void ThrowUnlessEqual(byte[] rocket, ReadOnlyMemory<byte> anchor, string name)
    {
        if (!anchor.Span.SequenceEqual(rocket))
        {
            throw new InvalidOperationException($"{name} wrote other bytes than Rocket: {Encoding.UTF8.GetString(anchor.Span[..Math.Min(200, anchor.Length)])}...");
        }
    }

    /// <summary>A record as the application holds it.</summary>
    public sealed record Message(int Id, string Text, string Author, bool Read);

    /// <summary>The list body, <c>{"messages":[...]}</c>.</summary>
    public sealed record MessageList(IEnumerable<Message> Messages);

    /// <summary>The keyed body, <c>{"messages":{"id":...}}</c>.</summary>
    public sealed record MessageMap(Dictionary<string, Message> Messages);
}

/// <summary>The source-generated metadata of the snapshot anchors, camelCase like the reflection-based options.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LiveSnapshotBenchmarks.MessageList))]
[JsonSerializable(typeof(LiveSnapshotBenchmarks.MessageMap))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
