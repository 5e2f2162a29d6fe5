using System;
using System.Buffers;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// The apply budgets: a patch cannot build a document larger or deeper than its options allow, the check happens before
/// the work that would exceed them, and a refused patch leaves the document exactly as it was.
/// </summary>
public sealed class ApplyBudgetTests
{
    private static readonly JsonPatchApplyOptions OneKiB = new() { MaxBytes = 1024 };

    // Each copy of the root into a member doubles the document: twenty of them are 2^20 times the start.
    private static string DoublingPatch(int copies) =>
        "[" + string.Join(",", Enumerable.Range(0, copies).Select(static i => $$"""{"op":"copy","from":"","path":"/c{{i}}"}""")) + "]";

    [Fact]
    public void ApplyToUtf8_RootCopiedTwentyTimes_RefusedTooLargeBeforeTheWork()
    {
        var patch = JsonPatchDocument.Parse(DoublingPatch(20));
        var document = Encoding.UTF8.GetBytes("""{"text":"0123456789012345678901234567890123456789"}""");

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyToUtf8(document, OneKiB));

        Assert.Equal(JsonPatchError.DocumentTooLarge, error.Error);
        // 50 bytes doubled: the copies refused are the ones that would pass the 1 KiB copy budget, long before 2^20.
        Assert.InRange(error.OperationIndex, 3, 6);
    }

    [Fact]
    public void ApplyTo_JsonNodeRootCopies_RefusedAndDocumentUnchanged()
    {
        var patch = JsonPatchDocument.Parse(DoublingPatch(20));
        var document = JsonNode.Parse("""{"a":[1,2,3],"b":"text"}""")!;
        var before = document.ToJsonString();

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document, OneKiB));

        Assert.Equal(JsonPatchError.DocumentTooLarge, error.Error);
        Assert.Equal(before, document.ToJsonString());
    }

    [Fact]
    public void ApplyToUtf8_CopiesWithinBudget_Applied()
    {
        var patch = JsonPatchDocument.Parse(DoublingPatch(2));

        var result = patch.ApplyToUtf8("""{"a":1}"""u8, OneKiB);

        Assert.Equal("""{"a":1,"c0":{"a":1},"c1":{"a":1,"c0":{"a":1}}}""", Encoding.UTF8.GetString(result));
    }

    [Fact]
    public void ApplyToUtf8_AddedValuesOverMaxBytes_RefusedTooLarge()
    {
        var big = new string('x', 2000);
        var patch = JsonPatchDocument.Parse($$"""[{"op":"add","path":"/big","value":"{{big}}"}]""");

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyToUtf8("""{"a":1}"""u8, OneKiB));

        Assert.Equal(JsonPatchError.DocumentTooLarge, error.Error);
    }

    [Fact]
    public void ApplyTo_BufferWriterOverMaxBytes_WritesNothing()
    {
        var patch = JsonPatchDocument.Parse($$"""[{"op":"add","path":"/big","value":"{{new string('x', 2000)}}"}]""");
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<JsonPatchException>(() => patch.ApplyTo("""{"a":1}"""u8, output, OneKiB));

        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void ApplyTo_PointerDeeperThanMaxDepth_RefusedTooDeepBeforeWalking()
    {
        var options = new JsonPatchApplyOptions { MaxDepth = 4 };
        var patch = JsonPatchDocument.Parse("""[{"op":"remove","path":"/a/b/c/d/e"}]""");

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(JsonNode.Parse("{}"), options));

        Assert.Equal(JsonPatchError.DocumentTooDeep, error.Error);
        Assert.Equal(0, error.OperationIndex);
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/a/b","value":{"c":{"d":{}}}}]""")]
    [InlineData("""[{"op":"replace","path":"/a","value":[[[[]]]]}]""")]
    [InlineData("""[{"op":"copy","from":"/a","path":"/a/b/c"}]""")]
    [InlineData("""[{"op":"move","from":"/x","path":"/a/b/x"}]""")]
    public void ApplyTo_ResultDeeperThanMaxDepth_RefusedAndDocumentUnchanged(string json)
    {
        var options = new JsonPatchApplyOptions { MaxDepth = 4 };
        var document = JsonNode.Parse("""{"a":{"b":{}},"x":{"y":{}}}""");
        var before = document!.ToJsonString();

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(json).ApplyTo(document, options));

        Assert.Equal(JsonPatchError.DocumentTooDeep, error.Error);
        Assert.Equal(before, document.ToJsonString());
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/a/b/c","value":{}}]""", """{"a":{"b":{"c":{}}},"x":{"y":{}}}""")]
    [InlineData("""[{"op":"move","from":"/x","path":"/a/x"}]""", """{"a":{"b":{},"x":{"y":{}}}}""")]
    [InlineData("""[{"op":"move","from":"/a/b","path":"/b"}]""", """{"a":{},"x":{"y":{}},"b":{}}""")]
    public void ApplyTo_ResultAtMaxDepth_Applied(string json, string expected)
    {
        var options = new JsonPatchApplyOptions { MaxDepth = 4 };

        var result = JsonPatchDocument.Parse(json).ApplyTo(JsonNode.Parse("""{"a":{"b":{}},"x":{"y":{}}}"""), options);

        Assert.Equal(expected, result!.ToJsonString());
    }

    [Fact]
    public void ApplyTo_DeepChainBuiltByCopies_StopsAtDefaultDepth()
    {
        // Each copy nests the whole chain one level deeper; the default depth budget stops it at 64.
        var ops = Enumerable.Range(0, 200).Select(static _ => """{"op":"copy","from":"","path":"/n"}""");
        var patch = JsonPatchDocument.Parse("[" + string.Join(",", ops) + "]");

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(JsonNode.Parse("{}")));

        Assert.Equal(JsonPatchError.DocumentTooDeep, error.Error);
        Assert.Equal(63, error.OperationIndex);
    }

    [Fact]
    public void Options_InvalidLimits_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(static () => new JsonPatchApplyOptions { MaxDepth = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(static () => new JsonPatchApplyOptions { MaxBytes = 0 });
    }
}
