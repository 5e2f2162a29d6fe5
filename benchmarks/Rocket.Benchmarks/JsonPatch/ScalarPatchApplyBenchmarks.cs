using System;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using MicrosoftPatch = Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument;
using RocketPatch = Rocket.JsonPatch.JsonPatchDocument;

namespace Rocket.Benchmarks.JsonPatch;

/// <summary>
/// The same comparison as <see cref="PatchApplyBenchmarks"/> with an 8-operation patch whose values are scalars
/// (the shape of a typical record edit: test, replace, add then remove, and a copy of a one-member object moved and removed). It separates what parsing
/// and applying cost from what the nodes a patch inserts cost: <see cref="PatchApplyBenchmarks"/> adds a whole record,
/// and building that record as a <see cref="JsonObject"/> is most of its allocation.
/// </summary>
[MemoryDiagnoser]
public class ScalarPatchApplyBenchmarks
{
    private const string Document = """{"name":"rocket","count":1,"tags":["x","y"],"nested":{"a":1}}""";

    private readonly byte[] _patch =
        """[{"op":"test","path":"/name","value":"rocket"},{"op":"replace","path":"/count","value":2},{"op":"replace","path":"/tags/0","value":"a"},{"op":"add","path":"/extra","value":true},{"op":"remove","path":"/extra"},{"op":"copy","from":"/nested","path":"/nested2"},{"op":"move","from":"/nested2","path":"/nested3"},{"op":"remove","path":"/nested3"}]"""u8.ToArray();

    private JsonObject _microsoftDocument = null!;
    private JsonNode _rocketDocument = null!;

    [GlobalSetup]
    public void Setup()
    {
        _microsoftDocument = JsonNode.Parse(Document)!.AsObject();
        _rocketDocument = JsonNode.Parse(Document)!;
        const string expected = """{"name":"rocket","count":2,"tags":["a","y"],"nested":{"a":1}}""";
        for (var i = 0; i < 2; i++)
        {
            MicrosoftDeserializeAndApply();
            RocketParseAndApply();
            if (_microsoftDocument.ToJsonString() != expected || _rocketDocument.ToJsonString() != expected)
            {
                throw new InvalidOperationException($"Wrong result: Microsoft {_microsoftDocument.ToJsonString()}, Rocket {_rocketDocument.ToJsonString()}, expected {expected}.");
            }
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
}
