using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>JsonPatchDiff against the engine: applying diff(a, b) to a gives b, for random and for chosen pairs.</summary>
public sealed class DiffPropertyTests
{
    private const int Iterations = 300;

    [Fact]
    public void ApplyDiff_RandomUnrelatedDocuments_GivesTarget()
    {
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(30_000 + seed);
            var source = random.Chance(0.1) ? random.Value(1) : random.Document();
            var target = random.Chance(0.1) ? random.Value(1) : random.Document();

            AssertDiffReproduces(source, target, $"seed {seed}");
        }
    }

    [Fact]
    public void ApplyDiff_RandomlyEditedDocument_GivesTargetAndEqualDocumentsGiveEmptyPatch()
    {
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(40_000 + seed);
            var source = random.Document();
            JsonNode? target = source.DeepClone();
            var edits = 1 + random.Next(6);
            for (var i = 0; i < edits; i++)
            {
                if (random.ApplicableOperation(target) is { } operation)
                {
                    try
                    {
                        target = JsonPatchDocument.Create([operation]).ApplyTo(target);
                    }
                    catch (JsonPatchException)
                    {
                        // Not applicable after all; the next edit is drawn instead.
                    }
                }
            }

            AssertDiffReproduces(source, target, $"seed {seed}");
            Assert.Empty(JsonPatchDiff.Create(source, source.DeepClone()));
        }
    }

    [Fact]
    public void Diff_SameDocumentsSpelledDifferently_ComparedByMeaning()
    {
        // The same values written two ways: one side with every non-ASCII character, HTML-sensitive character and '+'
        // escaped as \uXXXX (System.Text.Json's default encoder), the other with as few escapes as JSON allows. The diff
        // reads names and strings from the raw text where it can, so this is where it would confuse spelling with meaning.
        var escaped = new JsonSerializerOptions { Encoder = JavaScriptEncoder.Default };
        var minimal = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(50_000 + seed);
            var source = random.Document();
            JsonNode? target = source.DeepClone();
            if (random.ApplicableOperation(target) is { } operation)
            {
                try
                {
                    target = JsonPatchDocument.Create([operation]).ApplyTo(target);
                }
                catch (JsonPatchException)
                {
                    // Not applicable after all: the pair is then two spellings of one document.
                }
            }

            using var sourceDocument = JsonDocument.Parse(source.ToJsonString(escaped));
            using var sameDocument = JsonDocument.Parse(source.ToJsonString(minimal));
            using var targetDocument = JsonDocument.Parse(target?.ToJsonString(minimal) ?? "null");

            Assert.Empty(JsonPatchDiff.Create(sourceDocument.RootElement, sameDocument.RootElement));
            var patch = JsonPatchDiff.Create(sourceDocument.RootElement, targetDocument.RootElement);
            var result = patch.ApplyTo(JsonNode.Parse(source.ToJsonString()));
            Assert.True(JsonNode.DeepEquals(target, result), $"seed {seed}: {source.ToJsonString()} + {patch} gave {result?.ToJsonString()}");
        }
    }

    [Theory]
    [InlineData("null", """{"a":1}""")]
    [InlineData("""{"a":1}""", "null")]
    [InlineData("\"s\"", "[]")]
    [InlineData("""{"":1,"~":2,"/":3}""", """{"":[1],"~":2,"a/b":{"~1":null}}""")]
    [InlineData("[1,2,3,4,5]", "[5,4,3,2,1]")]
    [InlineData("[1,2,3]", "[]")]
    [InlineData("[]", "[[],[[]],{}]")]
    [InlineData("[0,1,2,3]", "[9,1,2,3]")]
    [InlineData("[0,1,2,3]", "[1,2,3]")]
    [InlineData("""{"m":{"1":{"id":"1","t":"a"},"2":{"id":"2"}}}""", """{"m":{"2":{"id":"2","t":"b"},"3":{"id":"3"}}}""")]
    [InlineData("""{"a":null}""", """{"a":false}""")]
    [InlineData("""{"a":1}""", """{"a":1.0}""")]
    [InlineData("""{"é\n":"\u0001"}""", """{"é\n":"\"\\"}""")]
    public void ApplyDiff_ChosenPairs_GivesTarget(string source, string target)
    {
        AssertDiffReproduces(JsonNode.Parse(source), JsonNode.Parse(target), source + " -> " + target);
    }

    private static void AssertDiffReproduces(JsonNode? source, JsonNode? target, string because)
    {
        var sourceText = source?.ToJsonString() ?? "null";
        var targetText = target?.ToJsonString() ?? "null";
        var patch = JsonPatchDiff.Create(source, target);

        // Diff must not touch its inputs.
        Assert.Equal(sourceText, source?.ToJsonString() ?? "null");

        var result = patch.ApplyTo(JsonNode.Parse(sourceText));
        Assert.True(JsonNode.DeepEquals(target, result), $"{because}: {sourceText} + {patch} gave {result?.ToJsonString() ?? "null"}, not {targetText}");
        Assert.True(JsonValueEquality.Equals(result, target), because);

        var viaUtf8 = JsonNode.Parse(patch.ApplyToUtf8(Encoding.UTF8.GetBytes(sourceText)));
        Assert.True(JsonNode.DeepEquals(target, viaUtf8), because);

        // The diff survives the wire: written, parsed back, the same patch.
        Assert.Equal(patch.ToString(), JsonPatchDocument.Parse(patch.ToUtf8Bytes()).ToString());
    }
}
