using System;
using System.Buffers;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using CsCheck;
using Rocket.JsonPatch;
using Xunit.Abstractions;

namespace Rocket.Fuzz.Tests;

/// <summary>
/// Random documents and random patches (paths that exist half the time) through
/// <see cref="JsonPatchDocument.ApplyTo(JsonNode?, JsonPatchApplyOptions)"/> and
/// <see cref="JsonPatchDocument.ApplyToUtf8(ReadOnlySpan{byte}, JsonPatchApplyOptions)"/>, against a plain RFC 6902
/// model (<see cref="ReferencePatch"/>): a result equal to the model's or a <see cref="JsonPatchException"/>; a refusal
/// leaves the node document as it was and writes nothing; a budget refuses only what exceeds it; a result never
/// exceeds the budgets.
/// </summary>
public sealed class JsonPatchApplierFuzzTests(ITestOutputHelper output)
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 128 };

    private static readonly Gen<JsonPatchApplyOptions> Budgets = Gen.Frequency(
        (2, Gen.Const(JsonPatchApplyOptions.Default)),
        (3, Gen.Select(Gen.OneOf(1, 2, 3, 4, 6, 64), Gen.OneOf(1L, 10L, 40L, 100L, 400L, long.MaxValue), static (depth, bytes) => new JsonPatchApplyOptions { MaxDepth = depth, MaxBytes = bytes })));

    private static readonly Gen<(string Document, string Patch, JsonPatchApplyOptions Options)> Cases =
        Gen.Frequency((6, Gens.Json(4)), (2, Gens.Object(4)), (1, Gens.Deep))
            .SelectMany(static document => Gen.Select(Gen.Const(Gens.Text(document, relaxed: true)), Gens.Patch(Gens.PointerInto(document), 6, wellFormed: true), Budgets));

    [Fact]
    public void Apply_RandomDocumentsAndPatches_ModelResultOrPatchExceptionAndNothingChanged()
    {
        int applied = 0, refused = 0;
        var cases = Fuzz.Run(
            Cases,
            t =>
            {
                switch (Check(t.Document, t.Patch, t.Options))
                {
                    case true:
                        Interlocked.Increment(ref applied);
                        break;
                    case false:
                        Interlocked.Increment(ref refused);
                        break;
                }
            },
            seed: 0x5EED_0101,
            ciCases: 3_000,
            output,
            print: static t => $"document {t.Document}\npatch {t.Patch}\nMaxDepth {t.Options.MaxDepth}, MaxBytes {t.Options.MaxBytes}");
        output.WriteLine($"{applied} applied, {refused} refused, {cases - applied - refused} patches did not parse");

        // Both outcomes must be common for the comparison with the model to mean something.
        Assert.InRange(applied, cases / 10, cases);
        Assert.InRange(refused, cases / 10, cases);
    }

    [Fact]
    public void ApplyToUtf8_MutatedDocuments_ResultOrMalformedDocumentAndNothingWritten()
    {
        var documents = Gens.Mutated(Gens.Json(3).Select(static node => Encoding.UTF8.GetBytes(Gens.Text(node, relaxed: true))), max: 2);
        var patches = Gen.OneOf("[]", """[{"op":"test","path":"","value":null}]""", """[{"op":"add","path":"/a","value":1}]""", """[{"op":"copy","from":"","path":"/c"}]""")
            .Select(static text => JsonPatchDocument.Parse(text));
        Fuzz.Run(
            Gen.Select(documents, patches, Budgets),
            static t =>
            {
                var (utf8, patch, options) = t;
                var buffer = new ArrayBufferWriter<byte>();
                try
                {
                    patch.ApplyTo(utf8, buffer, options);
                }
                catch (JsonPatchException e)
                {
                    Assert.Equal(0, buffer.WrittenCount);
                    if (!IsJson(utf8))
                    {
                        Assert.Equal(JsonPatchError.MalformedDocument, e.Error);
                    }

                    return;
                }

                Assert.True(IsJson(utf8), $"A document that is not JSON was patched: {Gens.Show(utf8)}");
                Assert.InRange(buffer.WrittenCount, 1, options.MaxBytes);
                Assert.True(IsJson(buffer.WrittenSpan.ToArray()), "The result is not JSON");
            },
            seed: 0x5EED_0102,
            ciCases: 3_000,
            output,
            print: static t => $"{Gens.Show(t.Item1)} patch {t.Item2} MaxDepth {t.Item3.MaxDepth}, MaxBytes {t.Item3.MaxBytes}");
    }

    // True when applied, false when refused, null when the patch did not parse.
    private static bool? Check(string documentText, string patchText, JsonPatchApplyOptions options)
    {
        JsonPatchDocument patch;
        try
        {
            patch = JsonPatchDocument.Parse(patchText);
        }
        catch (JsonPatchException)
        {
            return null;
        }

        var document = JsonNode.Parse(documentText, documentOptions: Deep);
        var withinBudget = Gens.Depth(document) <= options.MaxDepth;
        var rfcApplies = ReferencePatch.TryApply(document, patch, out var expected, out var deepest, out _);
        var hasCopy = patch.Any(static op => op.Op == JsonPatchOperationType.Copy);

        // The node API: the model's result, or a refusal that leaves the caller's document exactly as it was.
        var target = JsonNode.Parse(documentText, documentOptions: Deep);
        var before = Gens.Text(target, relaxed: true);
        JsonNode? result = null;
        JsonPatchException? refusal = null;
        try
        {
            result = patch.ApplyTo(target, options);
        }
        catch (JsonPatchException e)
        {
            refusal = e;
        }

        if (refusal is not null)
        {
            Assert.Equal(before, Gens.Text(target, relaxed: true));
            Assert.InRange(refusal.OperationIndex, 0, patch.Count - 1);
            if (rfcApplies)
            {
                // RFC 6902 applies it: only a budget may refuse it, and only one the patch really runs into.
                Assert.True(refusal.Error is JsonPatchError.DocumentTooDeep or JsonPatchError.DocumentTooLarge, $"Refused what RFC 6902 applies: {refusal.Error} {refusal.Message}");
                if (refusal.Error == JsonPatchError.DocumentTooDeep)
                {
                    Assert.True(deepest > options.MaxDepth, $"Refused as deeper than {options.MaxDepth}, but it never nests deeper than {deepest}: {refusal.Message}");
                }
                else
                {
                    Assert.True(hasCopy && options.MaxBytes != long.MaxValue, $"Refused as too large with no copy or no size limit: {refusal.Message}");
                }
            }
        }
        else
        {
            Assert.True(rfcApplies, "Applied a patch that RFC 6902 refuses");
            Assert.True(ReferencePatch.SameInOrder(expected, result), $"Result {Gens.Text(result, true)}, RFC 6902 gives {Gens.Text(expected, true)}");
            if (withinBudget)
            {
                Assert.InRange(Gens.Depth(result), 0, options.MaxDepth);
            }
        }

        CheckUtf8(documentText, patch, options, result, refusal, withinBudget);
        return refusal is null;
    }

    // The UTF-8 API does what the node API does, and then holds the result to MaxBytes.
    private static void CheckUtf8(string documentText, JsonPatchDocument patch, JsonPatchApplyOptions options, JsonNode? nodeResult, JsonPatchException? nodeRefusal, bool withinBudget)
    {
        var utf8 = Encoding.UTF8.GetBytes(documentText);
        byte[]? written = null;
        JsonPatchException? refusal = null;
        try
        {
            written = patch.ApplyToUtf8(utf8, options);
        }
        catch (JsonPatchException e)
        {
            refusal = e;
        }

        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            patch.ApplyTo(utf8, buffer, options);
            Assert.True(written is not null, "ApplyTo(span, writer) applied what ApplyToUtf8 refused");
            Assert.Equal(written, buffer.WrittenSpan.ToArray());
        }
        catch (JsonPatchException e)
        {
            Assert.Equal(0, buffer.WrittenCount);
            Assert.Equal(refusal?.Error, e.Error);
        }

        if (Gens.Depth(JsonNode.Parse(documentText, documentOptions: Deep)) > Math.Max(options.MaxDepth, 64))
        {
            // Deeper than the reader is allowed to go.
            Assert.Equal(JsonPatchError.MalformedDocument, refusal?.Error);
            return;
        }

        if (nodeRefusal is not null)
        {
            Assert.True(refusal is not null, "The UTF-8 API applied what the node API refused");
            Assert.Equal((nodeRefusal.Error, nodeRefusal.OperationIndex), (refusal.Error, refusal.OperationIndex));
            return;
        }

        var expected = Write(nodeResult);
        if (expected.Length > options.MaxBytes)
        {
            Assert.True(refusal is { Error: JsonPatchError.DocumentTooLarge, OperationIndex: -1 }, $"A result of {expected.Length} bytes passed the limit of {options.MaxBytes}: {refusal?.Message}");
            return;
        }

        Assert.True(refusal is null, $"The UTF-8 API refused what the node API applied: {refusal?.Message}");
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(written!));
        Assert.InRange(written!.Length, 1, options.MaxBytes);
        if (withinBudget)
        {
            Assert.InRange(Gens.Depth(JsonNode.Parse(written, documentOptions: Deep)), 0, options.MaxDepth);
        }
    }

    private static byte[] Write(JsonNode? node)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, JsonPatchWriter.WriterOptions))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool IsJson(byte[] utf8)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8);
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 128 });
            return true;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
