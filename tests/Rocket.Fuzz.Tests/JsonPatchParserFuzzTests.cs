using System;
using System.Text;
using System.Threading;
using CsCheck;
using Xunit.Abstractions;
using Rocket.JsonPatch;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// <see cref="JsonPatchDocument.Parse(ReadOnlySpan{byte}, JsonPatchParseOptions)"/> on hostile bytes: it returns a
/// document or throws <see cref="JsonPatchException"/> with a parse error, never anything else; the fast plain-form
/// parser builds what the general parser builds; and a parsed document written out parses back to the same operations.
/// </summary>
public sealed class JsonPatchParserFuzzTests(ITestOutputHelper output)
{
    private static readonly Gen<JsonPatchParseOptions> Options = Gen.Frequency(
        (3, Gen.Const(JsonPatchParseOptions.Default)),
        (1, Gen.Select(Gen.Int[2, 8], Gen.Int[1, 6], static (depth, operations) => new JsonPatchParseOptions { MaxDepth = depth, MaxOperations = operations })));

    private static readonly Gen<byte[]> GeneratedPatch = Gens.Patch(Gens.Pointer).Select(static text => Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Parse_ArbitraryBytes_DocumentOrParseError()
    {
        var parsed = 0;
        Fuzz.Run(
            Gen.Select(Gen.Frequency((3, Gen.Byte.Array[0, 48]), (1, Gen.Byte[9, 126].Array[0, 48])), Options),
            t => Count(Check(t.Item1, t.Item2), ref parsed),
            seed: 0x5EED_0001,
            ciCases: 4_000,
            output,
            print: static t => Gens.Show(t.Item1));
        output.WriteLine($"{parsed} parsed");
    }

    [Fact]
    public void Parse_MutatedPatches_DocumentOrParseError()
    {
        var parsed = 0;
        var cases = Fuzz.Run(
            Gen.Select(Gens.Mutated(GeneratedPatch, max: 2), Options),
            t => Count(Check(t.Item1, t.Item2), ref parsed),
            seed: 0x5EED_0002,
            ciCases: 4_000,
            output,
            print: static t => Gens.Show(t.Item1));
        output.WriteLine($"{parsed} parsed");

        // Most mutants are refused (that is the point); the few that stay valid patches exercise the round trip.
        Assert.InRange(parsed, cases / 100, cases);
    }

    [Fact]
    public void Parse_GeneratedPatches_MostParseAndRoundTrip()
    {
        var parsed = 0;
        var cases = Fuzz.Run(
            GeneratedPatch,
            bytes => Count(Check(bytes, JsonPatchParseOptions.Default), ref parsed),
            seed: 0x5EED_0003,
            ciCases: 2_000,
            output,
            print: Gens.Show);
        output.WriteLine($"{parsed} parsed");
        Assert.InRange(parsed, cases / 3, cases);
    }

    [Fact]
    public void Parse_StringsWithAnyChars_DocumentOrParseError()
    {
        // The string overload: lone surrogates included, which UTF-8 cannot carry.
        var text = Gen.Frequency(
            (1, Gen.String[0, 32]),
            (2, Gen.Select(Gens.Patch(Gens.Pointer, 2), Gen.Int[0, int.MaxValue], Gen.Char, static (patch, at, c) => patch.Insert(at % (patch.Length + 1), c.ToString()))));
        Fuzz.Run(
            text,
            static json =>
            {
                JsonPatchDocument document;
                try
                {
                    document = JsonPatchDocument.Parse(json);
                }
                catch (JsonPatchException e)
                {
                    AssertParseError(e);
                    return;
                }

                AssertSame(document, JsonPatchDocument.Parse(document.ToString()), json);
            },
            seed: 0x5EED_0004,
            ciCases: 3_000,
            output);
    }

    private static void Count(bool parsed, ref int count)
    {
        if (parsed)
        {
            Interlocked.Increment(ref count);
        }
    }

    private static bool Check(byte[] utf8, JsonPatchParseOptions options)
    {
        JsonPatchDocument document;
        try
        {
            document = JsonPatchDocument.Parse(utf8, options);
        }
        catch (JsonPatchException e)
        {
            AssertParseError(e);
            Assert.InRange(e.OperationIndex, -1, options.MaxOperations - 1);
            return false;
        }

        var context = Gens.Show(utf8);
        Assert.InRange(document.Count, 0, options.MaxOperations);

        // The plain-form fast path must build exactly what the general parser builds.
        AssertSame(document, JsonPatchDocument.ParseWithReader(utf8, options), context);

        // Written out and read back: the same operations, and the same bytes when written again.
        var written = document.ToUtf8Bytes();
        var again = JsonPatchDocument.Parse(written, options);
        AssertSame(document, again, context);
        Assert.Equal(written, again.ToUtf8Bytes());
        return true;
    }

    private static void AssertParseError(JsonPatchException e) =>
        Assert.True(
            e.Error is JsonPatchError.MalformedPatch or JsonPatchError.InvalidOperation or JsonPatchError.InvalidPointer,
            $"Parsing reported {e.Error}, an error of applying: {e.Message}");

    private static void AssertSame(JsonPatchDocument expected, JsonPatchDocument actual, string context)
    {
        Assert.True(expected.Count == actual.Count, $"{expected.Count} operations, then {actual.Count}: {context}");
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.True(e.Op == a.Op && e.Path == a.Path && e.From == a.From && e.HasValue == a.HasValue, $"operation {i}: {e} then {a}: {context}");
            Assert.True(e.Equals(a), $"operation {i} value: {e} then {a}: {context}");
        }
    }
}
