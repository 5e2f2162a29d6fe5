using System;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Rocket.Client;
using Rocket.JsonPatch;
using MicrosoftPatch = Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument;

namespace Rocket.Benchmarks.Client;

/// <summary>
/// The client's apply path: a stream of events (an <c>add</c>, a <c>replace</c> and a <c>remove</c> of each of 100
/// records, 300 events) into a local copy of 1,000 records, as <see cref="LiveCollectionClient"/> does it per event (its <c>CollectionCopy</c>)
/// (parse the patch, apply it to the keyed <see cref="JsonNode"/> copy under the lock, build the change and its record
/// ids). The stream leaves the copy as it found it, so every invocation does the same work. <c>EngineOnly</c> is the
/// JSON Patch engine alone (parse + apply), to show what the client adds.
/// </summary>
/// <remarks>
/// The anchor (<see cref="MicrosoftDeserializeAndApply"/>) is what a .NET client without Rocket would write for the
/// same stream: Microsoft.AspNetCore.JsonPatch.SystemTextJson 10.0.12, <c>JsonSerializer.Deserialize</c> of its
/// <c>JsonPatchDocument</c> from each event's bytes, then <c>ApplyTo</c> on its own <see cref="JsonObject"/> copy of
/// the same keyed collection. It does less than the client: no lock, no all-or-nothing undo, no cursor, no change
/// notification; <see cref="Setup"/> checks that it ends with the same document.
/// </remarks>
[MemoryDiagnoser]
public class ClientApplyBenchmarks
{
    private const int BaseRecords = 1_000;
    private const int StreamRecords = 100;
    private const int Events = StreamRecords * 3;

    private StreamEvent[] _events = null!;
    private CollectionCopy _client = null!;
    private JsonNode _engineDocument = null!;
    private JsonObject _microsoftDocument = null!;

    [GlobalSetup]
    public void Setup()
    {
        var document = new StringBuilder("""{"messages":{""");
        for (var i = 0; i < BaseRecords; i++)
        {
            document.Append(CultureInfo.InvariantCulture, $$"""{{(i > 0 ? "," : "")}}"{{i}}":{"id":"{{i}}","text":"message number {{i}}","author":"user{{i % 97}}"}""");
        }

        document.Append("}}");
        _events = new StreamEvent[Events];
        var sequence = 1;
        for (var i = 0; i < StreamRecords; i++)
        {
            var id = "new" + i.ToString(CultureInfo.InvariantCulture);
            _events[(i * 3) + 0] = Event(sequence++, $$$"""[{"op":"add","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"hello, world","author":"ada","n":42}}]""");
            _events[(i * 3) + 1] = Event(sequence++, $$$"""[{"op":"replace","path":"/messages/{{{id}}}","value":{"id":"{{{id}}}","text":"hello again","author":"ada","n":43}}]""");
            _events[(i * 3) + 2] = Event(sequence++, $$"""[{"op":"remove","path":"/messages/{{id}}"}]""");
        }

        _client = new CollectionCopy("messages", legacyUpdateAsReplace: false);
        _ = _client.Replace(JsonNode.Parse(document.ToString())!.AsObject(), "0000abcd.0", null);
        _engineDocument = JsonNode.Parse(document.ToString())!;
        _microsoftDocument = JsonNode.Parse(document.ToString())!.AsObject();

        // Check the anchor on its own copy: after add + replace the record holds the replaced value, and the whole
        // stream leaves the copy equal to the engine's.
        for (var i = 0; i < 2; i++)
        {
            JsonSerializer.Deserialize<MicrosoftPatch>(_events[i].Patch.Span)!.ApplyTo(_microsoftDocument);
        }

        if (_microsoftDocument["messages"]?["new0"]?["n"]?.GetValue<int>() != 43)
        {
            throw new InvalidOperationException("The anchor's copy is wrong after add + replace.");
        }

        JsonSerializer.Deserialize<MicrosoftPatch>(_events[2].Patch.Span)!.ApplyTo(_microsoftDocument);
        MicrosoftDeserializeAndApply();

        // Check: half way through a record is there with the replaced value, and a whole run leaves the copy as it was.
        for (var i = 0; i < 2; i++)
        {
            if (!_client.TryApply(_events[i], out _, out var failure))
            {
                throw new InvalidOperationException(failure);
            }
        }

        if (_client.Records["new0"].GetProperty("n").GetInt32() != 43 || _client.Records.Count != BaseRecords + 1)
        {
            throw new InvalidOperationException("The copy is wrong after add + replace.");
        }

        _ = _client.TryApply(_events[2], out _, out _);
        ApplyStream();
        EngineOnly();
        if (_client.Records.Count != BaseRecords || _client.Cursor != $"0000abcd.{Events}"
            || !JsonNode.DeepEquals(JsonNode.Parse(_client.ToJson(indented: false)), _engineDocument)
            || !JsonNode.DeepEquals(_microsoftDocument, _engineDocument))
        {
            throw new InvalidOperationException("The copy is wrong after the stream.");
        }
    }

    /// <summary>300 events through the client's apply path; figures are per event (per patch).</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public int ApplyStream()
    {
        var applied = 0;
        foreach (var item in _events)
        {
            if (_client.TryApply(item, out var change, out _))
            {
                applied += change!.RecordIds.Count;
            }
        }

        return applied;
    }

    /// <summary>
    /// The anchor: the same 300 patches through Microsoft.AspNetCore.JsonPatch.SystemTextJson (deserialize, then
    /// <c>ApplyTo</c> the JsonObject copy).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Events, Baseline = true)]
    public JsonObject MicrosoftDeserializeAndApply()
    {
        foreach (var item in _events)
        {
            JsonSerializer.Deserialize<MicrosoftPatch>(item.Patch.Span)!.ApplyTo(_microsoftDocument);
        }

        return _microsoftDocument;
    }

    /// <summary>The same 300 patches through the engine alone: parse, apply to a JsonNode.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public JsonNode EngineOnly()
    {
        foreach (var item in _events)
        {
            _engineDocument = JsonPatchDocument.Parse(item.Patch.Span).ApplyTo(_engineDocument)!;
        }

        return _engineDocument;
    }

    private static StreamEvent Event(int sequence, string patch) =>
        new("0000abcd." + sequence.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes(patch));
}
