using System;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Rocket.Live;

namespace Rocket.Benchmarks.Live;

/// <summary>
/// A snapshot of a 10,000-record collection: taking it (under the writer lock), then writing its list form (a plain
/// GET) and its keyed form (the document the stream patches) into a reused buffer.
/// </summary>
[MemoryDiagnoser]
public class LiveSnapshotBenchmarks
{
    private const int Records = 10_000;

    private readonly ArrayBufferWriter<byte> _output = new(2 * 1024 * 1024);
    private LiveCollection _collection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _collection = new LiveCollection("messages");
        for (var i = 0; i < Records; i++)
        {
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
    }

    [GlobalCleanup]
    public void Cleanup() => _collection.Dispose();

    [Benchmark]
    public Snapshot TakeSnapshot() => _collection.GetSnapshot();

    [Benchmark]
    public ReadOnlyMemory<byte> WriteList()
    {
        _output.ResetWrittenCount();
        _collection.GetSnapshot().WriteList(_output);
        return _output.WrittenMemory;
    }

    [Benchmark]
    public ReadOnlyMemory<byte> WriteKeyed()
    {
        _output.ResetWrittenCount();
        _collection.GetSnapshot().WriteKeyed(_output);
        return _output.WrittenMemory;
    }
}
