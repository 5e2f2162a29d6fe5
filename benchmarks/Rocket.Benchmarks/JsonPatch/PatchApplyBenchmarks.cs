using System;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using MicrosoftPatch = Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument;
using RocketPatch = Rocket.JsonPatch.JsonPatchDocument;

namespace Rocket.Benchmarks.JsonPatch;

/// <summary>
/// Parsing the 8-operation <see cref="PatchScenario"/> patch from UTF-8 and applying it to a <see cref="JsonObject"/>:
/// Microsoft.AspNetCore.JsonPatch.SystemTextJson 10.0.12 (the anchor: <c>JsonSerializer.Deserialize</c> of its
/// <see cref="MicrosoftPatch"/>, then <c>ApplyTo</c>, which supports <see cref="JsonObject"/> targets through its
/// JsonObjectAdapter) against Rocket's <see cref="RocketPatch.Parse(ReadOnlySpan{byte})"/> then
/// <see cref="RocketPatch.ApplyTo(JsonNode?)"/>. The parse-only and apply-only rows split the cost.
/// </summary>
/// <remarks>
/// Each side patches its own document, which the patch maps to itself (see <see cref="PatchScenario"/>), so every
/// iteration does the same work on a document of the same size. Rocket applies all or nothing with an undo log;
/// Microsoft's <c>ApplyTo</c> does not roll back, so Rocket does strictly more work per operation here.
/// </remarks>
[MemoryDiagnoser]
public class PatchApplyBenchmarks
{
    private readonly byte[] _patch = PatchScenario.PatchUtf8;
    private JsonObject _microsoftDocument = null!;
    private JsonNode _rocketDocument = null!;
    private MicrosoftPatch _microsoftParsed = null!;
    private RocketPatch _rocketParsed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _microsoftDocument = JsonNode.Parse(PatchScenario.OriginalDocument)!.AsObject();
        _rocketDocument = JsonNode.Parse(PatchScenario.OriginalDocument)!;
        _microsoftParsed = JsonSerializer.Deserialize<MicrosoftPatch>(_patch)!;
        _rocketParsed = RocketPatch.Parse(_patch);
        if (_microsoftParsed.Operations.Count != PatchScenario.OperationCount || _rocketParsed.Count != PatchScenario.OperationCount)
        {
            throw new InvalidOperationException($"Expected {PatchScenario.OperationCount} operations, Microsoft parsed {_microsoftParsed.Operations.Count}, Rocket {_rocketParsed.Count}.");
        }

        // First application: the original document becomes the patched one, on both sides.
        MicrosoftDeserializeAndApply();
        PatchScenario.ThrowUnlessPatched(_microsoftDocument, nameof(MicrosoftDeserializeAndApply));
        RocketParseAndApply();
        PatchScenario.ThrowUnlessPatched(_rocketDocument, nameof(RocketParseAndApply));

        // Every later application (what the benchmark measures) must leave it unchanged, member order included.
        var expected = PatchScenario.PatchedDocument;
        MicrosoftDeserializeAndApply();
        MicrosoftApplyOnly();
        RocketParseAndApply();
        RocketApplyOnly();
        var microsoft = _microsoftDocument.ToJsonString();
        var rocket = _rocketDocument.ToJsonString();
        if (microsoft != expected || rocket != expected)
        {
            throw new InvalidOperationException($"The patch is not a fixed point of the patched document: Microsoft {microsoft}, Rocket {rocket}, expected {expected}.");
        }

        if (RocketParseOnly().Count != PatchScenario.OperationCount)
        {
            throw new InvalidOperationException("Rocket parsed the wrong number of operations.");
        }

        var inserted = RecordThePatchInserts();
        const string ExpectedInserted = """{"id":125,"author":"cat","text":"new here","likes":0,"tags":["news","draft"],"edited":false}""";
        if (inserted.ToJsonString() != ExpectedInserted)
        {
            throw new InvalidOperationException($"The floor built {inserted.ToJsonString()}, expected {ExpectedInserted}.");
        }
    }

    [Benchmark(Baseline = true)]
    public JsonNode MicrosoftDeserializeAndApply()
    {
        var patch = JsonSerializer.Deserialize<MicrosoftPatch>(_patch)!;
        patch.ApplyTo(_microsoftDocument);
        return _microsoftDocument;
    }

    [Benchmark]
    public JsonNode? RocketParseAndApply() => RocketPatch.Parse(_patch).ApplyTo(_rocketDocument);

    [Benchmark]
    public JsonNode MicrosoftApplyOnly()
    {
        _microsoftParsed.ApplyTo(_microsoftDocument);
        return _microsoftDocument;
    }

    [Benchmark]
    public JsonNode? RocketApplyOnly() => _rocketParsed.ApplyTo(_rocketDocument);

    [Benchmark]
    public RocketPatch RocketParseOnly() => RocketPatch.Parse(_patch);

    /// <summary>
    /// A floor for any engine that applies to <see cref="JsonNode"/>: only the record this patch inserts (six members,
    /// then the two-element array copied into it), built directly with System.Text.Json.Nodes, with no parsing, no
    /// lookup and no undo. The three replaced values (three more value nodes) are not counted, so the floor of the
    /// whole patch is higher.
    /// </summary>
    [Benchmark]
    public JsonObject RecordThePatchInserts()
    {
        var record = new JsonObject();
        record.Add("id", JsonValue.Create(125L));
        record.Add("author", JsonValue.Create("cat"));
        record.Add("text", JsonValue.Create("new here"));
        record.Add("likes", JsonValue.Create(0L));
        record.Add("tags", new JsonArray());
        record.Add("edited", JsonValue.Create(false));
        var tags = new JsonArray();
        tags.Add(JsonValue.Create("news"));
        tags.Add(JsonValue.Create("draft"));
        record["tags"] = tags;
        return record;
    }
}
