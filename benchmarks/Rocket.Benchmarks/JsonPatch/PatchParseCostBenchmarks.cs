using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Rocket.JsonPatch;
using MicrosoftPatch = Microsoft.AspNetCore.JsonPatch.SystemTextJson.JsonPatchDocument;
using RocketPatch = Rocket.JsonPatch.JsonPatchDocument;

namespace Rocket.Benchmarks.JsonPatch;

/// <summary>
/// Where the time and allocations of <see cref="RocketPatch.Parse(ReadOnlySpan{byte})"/> go on the
/// <see cref="PatchScenario"/> patch, piece by piece, next to the cheaper building blocks an engine change could use.
/// This is a diagnosis aid for docs/benchmarks.md, not a target: the rows are parts, they do not add up exactly.
/// </summary>
[MemoryDiagnoser]
public class PatchParseCostBenchmarks
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Disallow };

    private readonly byte[] _patch = PatchScenario.PatchUtf8;
    private readonly ConcurrentDictionary<string, JsonPointer> _pointerCache = new(StringComparer.Ordinal);
    private JsonElement[] _pointerElements = null!;
    private ConcurrentDictionary<string, JsonPointer>.AlternateLookup<ReadOnlySpan<char>> _pointerLookup;

    [GlobalSetup]
    public void Setup()
    {
        var root = JsonDocument.Parse(_patch).RootElement;
        _pointerElements = new JsonElement[10];
        for (var i = 0; i < PatchScenario.OperationCount; i++)
        {
            _pointerElements[i] = root[i].GetProperty("path");
        }

        _pointerElements[8] = root[5].GetProperty("from");
        _pointerElements[9] = root[6].GetProperty("from");
        foreach (var element in _pointerElements)
        {
            var text = element.GetString()!;
            _pointerCache[text] = JsonPointer.Parse(text);
        }

        _pointerLookup = _pointerCache.GetAlternateLookup<ReadOnlySpan<char>>();

        if (RocketParse().Count != PatchScenario.OperationCount)
        {
            throw new InvalidOperationException("Rocket parsed the wrong number of operations.");
        }

        if (!JsonElement.DeepEquals(JsonElementParseValue(), JsonDocumentParseOfCopy().RootElement))
        {
            throw new InvalidOperationException("JsonDocument.Parse and JsonElement.ParseValue disagree on the patch.");
        }

        foreach (var element in _pointerElements)
        {
            if (LookUp(element) != JsonPointer.Parse(element.GetString()!))
            {
                throw new InvalidOperationException($"The pointer cache returned the wrong pointer for {element}.");
            }
        }

        if (PointersGetStringAndParse() != PointersCacheLookup() || MicrosoftDeserialize().Operations.Count != PatchScenario.OperationCount)
        {
            throw new InvalidOperationException("The pointer rows or Microsoft's deserializer saw a different patch.");
        }
    }

    /// <summary>The whole of Rocket's parse, as the apply benchmark runs it.</summary>
    [Benchmark(Baseline = true)]
    public RocketPatch RocketParse() => RocketPatch.Parse(_patch);

    /// <summary>What Rocket's parse does first: one JsonDocument for the whole patch (validates, then copies and parses again).</summary>
    [Benchmark]
    public JsonElement JsonElementParseValue()
    {
        var reader = new Utf8JsonReader(_patch, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>A one-pass alternative: copy the bytes, parse them once (metadata rented, never returned).</summary>
    [Benchmark]
    public JsonDocument JsonDocumentParseOfCopy() => JsonDocument.Parse(_patch.AsSpan().ToArray(), DocumentOptions);

    /// <summary>What Rocket's parse does per pointer today: string of the member, then split into segment strings.</summary>
    [Benchmark]
    public int PointersGetStringAndParse()
    {
        var segments = 0;
        foreach (var element in _pointerElements)
        {
            _ = JsonPointer.TryParse(element.GetString(), out var pointer);
            segments += pointer.Count;
        }

        return segments;
    }

    /// <summary>A proposed alternative: look the raw UTF-8 pointer up in a cache of parsed pointers (all hits here).</summary>
    [Benchmark]
    public int PointersCacheLookup()
    {
        var segments = 0;
        foreach (var element in _pointerElements)
        {
            segments += LookUp(element).Count;
        }

        return segments;
    }

    /// <summary>Microsoft's whole parse, for scale: a streaming JsonConverter over Utf8JsonReader.</summary>
    [Benchmark]
    public MicrosoftPatch MicrosoftDeserialize() => JsonSerializer.Deserialize<MicrosoftPatch>(_patch)!;

    private JsonPointer LookUp(JsonElement element)
    {
        // The raw value of a JSON string includes its quotes; these pointers have no escapes.
        var utf8 = JsonMarshal.GetRawUtf8Value(element)[1..^1];
        Span<char> chars = stackalloc char[256];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        return _pointerLookup.TryGetValue(chars[..length], out var pointer)
            ? pointer
            : throw new InvalidOperationException("Cache miss.");
    }
}
