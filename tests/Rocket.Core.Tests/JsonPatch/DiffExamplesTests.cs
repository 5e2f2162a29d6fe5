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
