using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

public class DiffExamplesTests
{
    [Theory]
    [InlineData("""{"a":1,"b":2}""", """{"a":1,"b":3}""", """[{"op":"replace","path":"/b","value":3}]""")]
    [InlineData("""{"a":1,"b":2}""", """{"a":1}""", """[{"op":"remove","path":"/b"}]""")]
    [InlineData("""{"a":1}""", """{"a":1,"c/d~e":{"x":[]}}""", """[{"op":"add","path":"/c~1d~0e","value":{"x":[]}}]""")]
    [InlineData("""[1,2,3,4]""", """[1,9,4]""", """[{"op":"replace","path":"/1","value":9},{"op":"remove","path":"/2"}]""")]
    [InlineData("""[1,4]""", """[1,2,3,4]""", """[{"op":"add","path":"/1","value":2},{"op":"add","path":"/2","value":3}]""")]
    [InlineData("""{"a":{"b":[{"c":1}]}}""", """{"a":{"b":[{"c":2}]}}""", """[{"op":"replace","path":"/a/b/0/c","value":2}]""")]
    [InlineData("""1""", """1.0""", """[{"op":"replace","path":"","value":1.0}]""")]
    [InlineData("""{"a":1}""", """[1]""", """[{"op":"replace","path":"","value":[1]}]""")]
    [InlineData("""{"a":[1,2]}""", """{"a":[1,2]}""", """[]""")]
    public void Create_KnownPairs_GivesMinimalPatchThatReproducesTarget(string source, string target, string expectedPatch)
    {
        var patch = JsonPatchDiff.Create(JsonNode.Parse(source), JsonNode.Parse(target));

        Assert.Equal(expectedPatch, patch.ToString());
        var result = patch.ApplyTo(JsonNode.Parse(source));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(target), result), $"got {result?.ToJsonString()}");
    }

    // The texts as written, escapes included (a JsonNode would have normalized them): names and strings are compared by
    // what they mean, whichever way each side spells them, and paths carry the unescaped name.
    [Theory]
    [InlineData("""{"a":1}""", """{"\u0061":2}""", """[{"op":"replace","path":"/a","value":2}]""")]
    [InlineData("""{"\u0061":1,"b":1}""", """{"a":1}""", """[{"op":"remove","path":"/b"}]""")]
    [InlineData("""{"\u00e9":1}""", """{"é":1,"x":0}""", """[{"op":"add","path":"/x","value":0}]""")]
    [InlineData("""{"é/~":1}""", """{"é/~":2}""", """[{"op":"replace","path":"/é~1~0","value":2}]""")]
    [InlineData("""{"a\/b":1}""", """{"a/b":1,"a\u007eb":1}""", """[{"op":"add","path":"/a~0b","value":1}]""")]
    [InlineData("""{"s":"é"}""", """{"s":"\u00e9"}""", """[]""")]
    [InlineData("""{"s":"a\"b"}""", """{"s":"a\u0022b"}""", """[]""")]
    [InlineData("""{"s":"a\nb"}""", """{"s":"a\tb"}""", """[{"op":"replace","path":"/s","value":"a\tb"}]""")]
    [InlineData("""{"n":1e2}""", """{"n":100}""", """[{"op":"replace","path":"/n","value":100}]""")]
    [InlineData("""[{"k":"v","n":-0}]""", """[{"n":-0,"k":"v"}]""", """[]""")]
    public void Create_EscapedTexts_ComparedByMeaning(string source, string target, string expectedPatch)
    {
        using var before = JsonDocument.Parse(source);
        using var after = JsonDocument.Parse(target);

        var patch = JsonPatchDiff.Create(before.RootElement, after.RootElement);

        Assert.Equal(expectedPatch, patch.ToString());
        var result = patch.ApplyTo(JsonNode.Parse(source));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(target), result), $"got {result?.ToJsonString()}");
    }

    [Fact]
    public void Write_WithBasePath_PrefixesEveryPath()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(output))
        {
            writer.WriteStartPatch();
            var count = JsonPatchDiff.Write(
                JsonDocument.Parse("""{"id":"1","text":"hi","n":1}""").RootElement,
                JsonDocument.Parse("""{"id":"1","text":"hello"}""").RootElement,
                writer,
                "/messages/a~1b");
            writer.WriteEndPatch();
            Assert.Equal(2, count);
        }

        Assert.Equal(
            """[{"op":"remove","path":"/messages/a~1b/n"},{"op":"replace","path":"/messages/a~1b/text","value":"hello"}]""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
