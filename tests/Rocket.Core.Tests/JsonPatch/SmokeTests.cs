using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

public class SmokeTests
{
    [Fact]
    public void ApplyTo_AddThenFailingTest_LeavesDocumentUnchanged()
    {
        var document = JsonNode.Parse("""{"a":1,"b":[1,2]}""")!;
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/c","value":3},{"op":"remove","path":"/b/0"},{"op":"test","path":"/a","value":"1"}]"""u8);

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));

        Assert.Equal(2, error.OperationIndex);
        Assert.Equal(JsonPatchError.TestFailed, error.Error);
        Assert.Equal("""{"a":1,"b":[1,2]}""", document.ToJsonString());
    }

    [Theory]
    [InlineData("1", "1.0", true)]
    [InlineData("1", "1e0", true)]
    [InlineData("1", "\"1\"", false)]
    [InlineData("""{"a":1,"b":2}""", """{"b":2,"a":1}""", true)]
    public void Test_ComparesJsonValues(string actual, string expected, bool equal)
    {
        var document = JsonNode.Parse($$"""{"x":{{actual}}}""");
        var patch = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/x","value":{{expected}}}]""");
        if (equal)
        {
            Assert.Same(document, patch.ApplyTo(document));
        }
        else
        {
            Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));
        }
    }

    [Fact]
    public void Writer_EscapesOnlyWhatRfc8259Requires()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new JsonPatchWriter(buffer))
        {
            writer.WriteStartPatch();
            writer.WriteAdd("/a+b<c>é", System.Text.Json.JsonDocument.Parse("\"x\\ny\\u0001\\\"+é\"").RootElement);
            writer.WriteEndPatch();
        }

        Assert.Equal("""[{"op":"add","path":"/a+b<c>é","value":"x\ny\u0001\"+é"}]""", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
