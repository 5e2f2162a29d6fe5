using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>Applying patches: atomicity, whole-document operations, test equality, move/copy, array and key rules.</summary>
public sealed class JsonPatchApplyTests
{
    private const string Document = """{"obj":{"a":1,"b":{"c":[1,2]},"z":null,"s":"inner"},"arr":[{"id":1},{"id":2},3],"s":"text"}""";

    private const string FailingTest = """{"op":"test","path":"/s","value":"other"}""";

    [Theory]
    [InlineData("add to object, new member", """{"op":"add","path":"/obj/new","value":{"deep":[1]}}""")]
    [InlineData("add to object, existing member", """{"op":"add","path":"/obj/a","value":2}""")]
    [InlineData("add to array", """{"op":"add","path":"/arr/1","value":"x"}""")]
    [InlineData("add to array end", """{"op":"add","path":"/arr/-","value":"x"}""")]
    [InlineData("add to whole document", """{"op":"add","path":"","value":{"s":[]}}""")]
    [InlineData("replace in object", """{"op":"replace","path":"/obj/b","value":0}""")]
    [InlineData("replace in array", """{"op":"replace","path":"/arr/0","value":0}""")]
    [InlineData("replace whole document", """{"op":"replace","path":"","value":{"s":"t"}}""")]
    [InlineData("remove from object", """{"op":"remove","path":"/obj/a"}""")]
    [InlineData("remove from array", """{"op":"remove","path":"/arr/0"}""")]
    [InlineData("move within object", """{"op":"move","from":"/obj/a","path":"/obj/y"}""")]
    [InlineData("move object to array", """{"op":"move","from":"/obj/b","path":"/arr/0"}""")]
    [InlineData("move array to object", """{"op":"move","from":"/arr/1","path":"/obj/a"}""")]
    [InlineData("move to whole document", """{"op":"move","from":"/obj","path":""}""")]
    [InlineData("copy", """{"op":"copy","from":"/obj/b","path":"/arr/-"}""")]
    [InlineData("copy over existing", """{"op":"copy","from":"/arr","path":"/obj/a"}""")]
    [InlineData("test", """{"op":"test","path":"/obj/a","value":1}""")]
    [InlineData("several", """{"op":"remove","path":"/obj/b/c/0"},{"op":"add","path":"/obj/b/c/-","value":9},{"op":"move","from":"/arr/2","path":"/arr/0"},{"op":"replace","path":"/obj/z","value":"v"}""")]
    public void ApplyTo_LaterOperationFails_DocumentUnchangedSameNodes(string kind, string operations)
    {
        var document = JsonNode.Parse(Document)!;
        var before = document.ToJsonString();
        var nodes = Snapshot(document);
        var patch = JsonPatchDocument.Parse($"[{operations},{FailingTest}]");

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));

        Assert.Equal(JsonPatchError.TestFailed, error.Error);
        Assert.Equal(patch.Count - 1, error.OperationIndex);
        Assert.Equal(before, document.ToJsonString());
        AssertSameNodes(nodes, document, kind);

        // The same patch without the failing test applies: the refusal came from the test alone.
        var ok = JsonPatchDocument.Parse($"[{operations}]");
        ok.ApplyTo(JsonNode.Parse(Document));
    }

    [Theory]
    [InlineData("""{"op":"add","path":"/obj/new","value":1},{"op":"add","path":"/missing/x","value":1}""", JsonPatchError.PathNotFound)]
    [InlineData("""{"op":"remove","path":"/arr/0"},{"op":"remove","path":"/arr/5"}""", JsonPatchError.PathNotFound)]
    [InlineData("""{"op":"add","path":"/arr/0","value":0},{"op":"add","path":"/arr/9","value":1}""", JsonPatchError.InvalidTarget)]
    [InlineData("""{"op":"replace","path":"/s","value":1},{"op":"replace","path":"/nope","value":1}""", JsonPatchError.PathNotFound)]
    [InlineData("""{"op":"move","from":"/obj/a","path":"/q"},{"op":"move","from":"/obj","path":"/obj/b/x"}""", JsonPatchError.InvalidTarget)]
    [InlineData("""{"op":"copy","from":"/obj","path":"/q"},{"op":"copy","from":"/nope","path":"/r"}""", JsonPatchError.PathNotFound)]
    [InlineData("""{"op":"remove","path":"/obj/z"},{"op":"remove","path":""}""", JsonPatchError.InvalidTarget)]
    [InlineData("""{"op":"add","path":"/arr/-","value":0},{"op":"remove","path":"/arr/-"}""", JsonPatchError.InvalidTarget)]
    public void ApplyTo_LaterOperationFailsForOtherReasons_DocumentUnchanged(string operations, JsonPatchError expected)
    {
        var document = JsonNode.Parse(Document)!;
        var before = document.ToJsonString();
        var nodes = Snapshot(document);

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse($"[{operations}]").ApplyTo(document));

        Assert.Equal(expected, error.Error);
        Assert.Equal(1, error.OperationIndex);
        Assert.Equal(before, document.ToJsonString());
        AssertSameNodes(nodes, document, operations);
    }

    [Theory]
    [InlineData("\"s\"", "[1]")]
    [InlineData("[1,2]", "\"s\"")]
    [InlineData("{\"a\":1}", "7")]
    [InlineData("7", "{\"a\":{\"b\":[]}}")]
    [InlineData("null", "[]")]
    [InlineData("{}", "null")]
    [InlineData("true", "false")]
    public void ApplyTo_WholeDocumentReplaceOrAdd_ReturnsNewRoot(string document, string value)
    {
        foreach (var op in new[] { "replace", "add" })
        {
            var node = JsonNode.Parse(document);
            var before = node?.ToJsonString();

            var result = JsonPatchDocument.Parse($"[{{\"op\":\"{op}\",\"path\":\"\",\"value\":{value}}}]").ApplyTo(node);

            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(value), result), $"{op}: {result?.ToJsonString()}");
            Assert.Equal(before, node?.ToJsonString());
            Assert.Equal(value, Encoding.UTF8.GetString(JsonPatchDocument.Parse($"[{{\"op\":\"{op}\",\"path\":\"\",\"value\":{value}}}]").ApplyToUtf8(Encoding.UTF8.GetBytes(document))));
        }
    }

    [Fact]
    public void ApplyTo_ReplaceRootThenEditNewRoot_EditsApplyToNewRoot()
    {
        var result = JsonPatchDocument.Parse("""[{"op":"replace","path":"","value":{"a":[]}},{"op":"add","path":"/a/-","value":1},{"op":"test","path":"/a/0","value":1}]""").ApplyTo(JsonNode.Parse("[]"));

        Assert.Equal("""{"a":[1]}""", result!.ToJsonString());
    }

    // Each patch walks a path, changes something on or near it (a container replaced, moved or removed, the indexes
    // of an array shifted, the root replaced), then walks through it again: operations after the first start their walk
    // where their path parts from the last one, and must still see every change, as when applied one at a time.
    [Theory]
    [InlineData("""[{"op":"test","path":"/obj/b/c/0","value":1},{"op":"replace","path":"/obj/b","value":{"c":[7]}},{"op":"add","path":"/obj/b/c/0","value":9}]""")]
    [InlineData("""[{"op":"test","path":"/arr/0/id","value":1},{"op":"add","path":"/arr/0","value":{"id":0}},{"op":"replace","path":"/arr/0/id","value":5}]""")]
    [InlineData("""[{"op":"test","path":"/arr/1/id","value":2},{"op":"remove","path":"/arr/0"},{"op":"replace","path":"/arr/1","value":4},{"op":"add","path":"/arr/0/x","value":5}]""")]
    [InlineData("""[{"op":"add","path":"/obj/b/x","value":1},{"op":"move","from":"/obj/b","path":"/moved"},{"op":"add","path":"/obj/b","value":{}},{"op":"add","path":"/obj/b/y","value":2}]""")]
    [InlineData("""[{"op":"add","path":"/obj/b/x","value":1},{"op":"copy","from":"/arr/0","path":"/obj/b"},{"op":"add","path":"/obj/b/y","value":2}]""")]
    [InlineData("""[{"op":"add","path":"/obj/b/x","value":1},{"op":"replace","path":"","value":{"obj":{"b":{}}}},{"op":"add","path":"/obj/b/y","value":2}]""")]
    [InlineData("""[{"op":"add","path":"/arr/0/x","value":1},{"op":"move","from":"/arr/2","path":"/arr/0"},{"op":"move","from":"/arr/1/x","path":"/arr/1/y"}]""")]
    [InlineData("""[{"op":"add","path":"/obj/b/c/-","value":3},{"op":"remove","path":"/obj/b/c/0"},{"op":"test","path":"/obj/b/c/0","value":2},{"op":"remove","path":"/obj"},{"op":"add","path":"/obj","value":{"b":{"c":[]}}},{"op":"add","path":"/obj/b/c/0","value":1}]""")]
    [InlineData("""[{"op":"add","path":"/d","value":{"1":{"2":{"3":{"4":{"5":{"6":{"7":{"8":{"9":{}}}}}}}}}}},{"op":"add","path":"/d/1/2/3/4/5/6/7/8/9/x","value":1},{"op":"replace","path":"/d/1/2/3/4/5/6/7","value":{"8":{"9":{}}}},{"op":"add","path":"/d/1/2/3/4/5/6/7/8/9/y","value":2}]""")]
    public void ApplyTo_ChangeOnTheWalkedPath_LaterOperationsSeeIt(string patchJson)
    {
        var patch = JsonPatchDocument.Parse(patchJson);
        var whole = patch.ApplyTo(JsonNode.Parse(Document));
        var stepwise = JsonNode.Parse(Document);
        foreach (var operation in patch)
        {
            stepwise = JsonPatchDocument.Create([operation]).ApplyTo(stepwise);
        }

        Assert.Equal(stepwise!.ToJsonString(), whole!.ToJsonString());
    }

    [Fact]
    public void ApplyTo_MovedAwayThenWalkedAgain_PathNotFound()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/obj/b/x","value":1},{"op":"move","from":"/obj/b","path":"/moved"},{"op":"add","path":"/obj/b/y","value":2}]""");
        var document = JsonNode.Parse(Document);

        var error = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));

        Assert.Equal(JsonPatchError.PathNotFound, error.Error);
        Assert.Equal(2, error.OperationIndex);
        Assert.Equal(Document, document!.ToJsonString());
    }

    [Fact]
    public void ApplyTo_RemoveWholeDocument_InvalidTarget()
    {
        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"remove","path":""}]""").ApplyTo(JsonNode.Parse("{}")));

        Assert.Equal(JsonPatchError.InvalidTarget, error.Error);
        Assert.Equal(0, error.OperationIndex);
    }

    [Theory]
    [InlineData("1", "1", true)]
    [InlineData("1", "1.0", true)]
    [InlineData("1", "1e0", true)]
    [InlineData("1", "10e-1", true)]
    [InlineData("100", "1E2", true)]
    [InlineData("0", "-0", true)]
    [InlineData("1", "\"1\"", false)]
    [InlineData("1", "1.000001", false)]
    [InlineData("1", "true", false)]
    [InlineData("0", "false", false)]
    [InlineData("0", "null", false)]
    [InlineData("null", "null", true)]
    [InlineData("null", "{}", false)]
    [InlineData("\"\"", "null", false)]
    [InlineData("\"a\"", "\"\\u0061\"", true)]
    [InlineData("\"é\"", "\"\\u00e9\"", true)]
    [InlineData("\"a\"", "\"A\"", false)]
    [InlineData("\"e\\u0301\"", "\"\\u00e9\"", false)] // code points, not Unicode normalization
    [InlineData("{\"a\":1,\"b\":[1,{\"c\":2}]}", "{\"b\":[1,{\"c\":2.0}],\"a\":1}", true)]
    [InlineData("{\"a\":1}", "{\"a\":1,\"b\":null}", false)]
    [InlineData("{\"a\":1,\"b\":null}", "{\"a\":1}", false)]
    [InlineData("{}", "[]", false)]
    [InlineData("[1,2]", "[1,2]", true)]
    [InlineData("[1,2]", "[2,1]", false)]
    [InlineData("[1,2]", "[1,2,2]", false)]
    [InlineData("[[1],[2]]", "[[1],[2.0]]", true)]
    public void Test_ComparesAsJson(string actual, string expected, bool equal)
    {
        var document = JsonNode.Parse($$"""{"x":{{actual}}}""");
        var patch = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/x","value":{{expected}}}]""");

        if (equal)
        {
            Assert.Same(document, patch.ApplyTo(document));
            patch.ApplyToUtf8(Encoding.UTF8.GetBytes(document!.ToJsonString()));
        }
        else
        {
            Assert.Equal(JsonPatchError.TestFailed, Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document)).Error);
            Assert.Equal(JsonPatchError.TestFailed, Assert.Throws<JsonPatchException>(() => patch.ApplyToUtf8(Encoding.UTF8.GetBytes(document!.ToJsonString()))).Error);
        }
    }

    [Fact]
    public void Test_NodesBuiltFromDotNetValues_ComparedByValue()
    {
        var document = new JsonObject { ["n"] = 1.0, ["s"] = "a", ["b"] = true, ["l"] = 5L, ["arr"] = new JsonArray(1, "x") };

        JsonPatchDocument.Parse("""[{"op":"test","path":"/n","value":1},{"op":"test","path":"/s","value":"a"},{"op":"test","path":"/b","value":true},{"op":"test","path":"/l","value":5.0},{"op":"test","path":"/arr","value":[1,"x"]}]""").ApplyTo(document);
        Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"test","path":"/n","value":"1"}]""").ApplyTo(document));
    }

    [Fact]
    public void Test_MissingPath_PathNotFound()
    {
        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"test","path":"/nope","value":null}]""").ApplyTo(JsonNode.Parse("{}")));

        Assert.Equal(JsonPatchError.PathNotFound, error.Error);
    }

    [Fact]
    public void Test_WholeDocument_ComparesRoot()
    {
        JsonPatchDocument.Parse("""[{"op":"test","path":"","value":{"b":[1],"a":null}}]""").ApplyTo(JsonNode.Parse("""{"a":null,"b":[1.0]}"""));
        JsonPatchDocument.Parse("""[{"op":"test","path":"","value":null}]""").ApplyTo(null);
    }

    [Theory]
    [InlineData("/a", "/a/b")]
    [InlineData("/a", "/a/b/c")]
    [InlineData("", "/a")]
    [InlineData("/arr/0", "/arr/0/id")]
    public void Move_IntoOwnChild_RefusedBeforeAnythingChanges(string from, string path)
    {
        var document = JsonNode.Parse("""{"a":{"b":{}},"arr":[{"id":1}]}""")!;
        var before = document.ToJsonString();
        var nodes = Snapshot(document);

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse($"[{{\"op\":\"move\",\"from\":\"{from}\",\"path\":\"{path}\"}}]").ApplyTo(document));

        Assert.Equal(JsonPatchError.InvalidTarget, error.Error);
        Assert.Equal(0, error.OperationIndex);
        Assert.Equal(before, document.ToJsonString());
        AssertSameNodes(nodes, document, from);
    }

    [Fact]
    public void Move_ToSiblingWithCommonPrefix_Allowed()
    {
        // "/a" is not a prefix of "/ab": prefixes are compared token by token.
        var result = JsonPatchDocument.Parse("""[{"op":"move","from":"/a","path":"/ab"}]""").ApplyTo(JsonNode.Parse("""{"a":1}"""));

        Assert.Equal("""{"ab":1}""", result!.ToJsonString());
    }

    [Theory]
    [InlineData("/a")]
    [InlineData("/arr/1")]
    [InlineData("")]
    public void Move_FromEqualsPath_NoOp(string location)
    {
        var document = JsonNode.Parse("""{"a":{"x":1},"b":2,"arr":[1,2,3]}""")!;
        var before = document.ToJsonString();

        var result = JsonPatchDocument.Parse($"[{{\"op\":\"move\",\"from\":\"{location}\",\"path\":\"{location}\"}}]").ApplyTo(document);

        Assert.Same(document, result);
        Assert.Equal(before, document.ToJsonString());
    }

    [Theory]
    [InlineData("/nope")]
    [InlineData("/arr/3")]
    [InlineData("/arr/-")]
    public void Move_FromEqualsPathButMissing_Refused(string location)
    {
        var document = JsonNode.Parse("""{"arr":[1,2,3]}""");

        Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse($"[{{\"op\":\"move\",\"from\":\"{location}\",\"path\":\"{location}\"}}]").ApplyTo(document));
    }

    [Fact]
    public void Move_WithinArray_RemovesThenInserts()
    {
        var result = JsonPatchDocument.Parse("""[{"op":"move","from":"/arr/0","path":"/arr/2"}]""").ApplyTo(JsonNode.Parse("""{"arr":[1,2,3]}"""));

        Assert.Equal("""{"arr":[2,3,1]}""", result!.ToJsonString());
    }

    [Fact]
    public void Copy_DeepClones_MutatingCopyLeavesSource()
    {
        var document = JsonNode.Parse("""{"src":{"list":[1,{"k":"v"}]}}""")!;
        var source = document["src"]!;

        JsonPatchDocument.Parse("""[{"op":"copy","from":"/src","path":"/dst"}]""").ApplyTo(document);
        Assert.NotSame(source, document["dst"]);
        JsonPatchDocument.Parse("""[{"op":"add","path":"/dst/list/1/k","value":"changed"},{"op":"remove","path":"/dst/list/0"}]""").ApplyTo(document);

        Assert.Equal("""{"src":{"list":[1,{"k":"v"}]},"dst":{"list":[{"k":"changed"}]}}""", document.ToJsonString());
        Assert.Same(source, document["src"]);
    }

    [Fact]
    public void Add_SamePatchTwice_ValuesAreIndependentNodes()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/v","value":{"list":[1]}}]""");
        var first = JsonNode.Parse("{}")!;
        var second = JsonNode.Parse("{}")!;

        patch.ApplyTo(first);
        patch.ApplyTo(second);
        first["v"]!["list"]!.AsArray().Add(2);

        Assert.Equal("""{"v":{"list":[1,2]}}""", first.ToJsonString());
        Assert.Equal("""{"v":{"list":[1]}}""", second.ToJsonString());
    }

    [Theory]
    [InlineData("""{"op":"add","path":"/arr/-","value":9}""", """{"arr":[1,2,9],"obj":{}}""")]
    [InlineData("""{"op":"move","from":"/arr/0","path":"/arr/-"}""", """{"arr":[2,1],"obj":{}}""")]
    [InlineData("""{"op":"copy","from":"/arr/0","path":"/arr/-"}""", """{"arr":[1,2,1],"obj":{}}""")]
    [InlineData("""{"op":"add","path":"/obj/-","value":9}""", """{"arr":[1,2],"obj":{"-":9}}""")]
    [InlineData("""{"op":"add","path":"/obj/01","value":9}""", """{"arr":[1,2],"obj":{"01":9}}""")]
    [InlineData("""{"op":"add","path":"/arr/2","value":9}""", """{"arr":[1,2,9],"obj":{}}""")]
    [InlineData("""{"op":"add","path":"/arr/0","value":9}""", """{"arr":[9,1,2],"obj":{}}""")]
    public void Append_DashWhereItAppends_Works(string operation, string expected)
    {
        var result = JsonPatchDocument.Parse($"[{operation}]").ApplyTo(JsonNode.Parse("""{"arr":[1,2],"obj":{}}"""));

        Assert.Equal(expected, result!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"op":"remove","path":"/arr/-"}""")]
    [InlineData("""{"op":"replace","path":"/arr/-","value":0}""")]
    [InlineData("""{"op":"test","path":"/arr/-","value":2}""")]
    [InlineData("""{"op":"move","from":"/arr/-","path":"/x"}""")]
    [InlineData("""{"op":"copy","from":"/arr/-","path":"/x"}""")]
    [InlineData("""{"op":"add","path":"/arr/-/x","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/01","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/+1","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/-1","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/ 1","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/1.0","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/3","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/2147483648","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/99999999999","value":0}""")]
    [InlineData("""{"op":"add","path":"/arr/2147483647","value":0}""")]
    [InlineData("""{"op":"replace","path":"/arr/2","value":0}""")]
    [InlineData("""{"op":"remove","path":"/arr/00"}""")]
    [InlineData("""{"op":"test","path":"/arr/0x1","value":2}""")]
    [InlineData("""{"op":"remove","path":"/obj/-"}""")]
    [InlineData("""{"op":"add","path":"/s/x","value":0}""")]
    [InlineData("""{"op":"add","path":"/a/b","value":0}""")]
    public void ArrayAndPathRules_Violation_Refused(string operation)
    {
        var document = JsonNode.Parse("""{"arr":[1,2],"obj":{},"s":"t"}""");
        var before = document!.ToJsonString();

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse($"[{operation}]").ApplyTo(document));

        Assert.Equal(0, error.OperationIndex);
        Assert.True(error.Error is JsonPatchError.InvalidTarget or JsonPatchError.PathNotFound, error.Error.ToString());
        Assert.Equal(before, document.ToJsonString());
    }

    [Fact]
    public void EmptyKeys_SlashAndDoubleSlash_AreMembersNamedEmpty()
    {
        var document = JsonNode.Parse("""{"":{"x":1},"a":2}""");

        var result = JsonPatchDocument.Parse("""[{"op":"test","path":"/","value":{"x":1}},{"op":"test","path":"//x","value":1},{"op":"add","path":"//","value":3},{"op":"replace","path":"","value":{"":[0]}},{"op":"test","path":"//0","value":0}]""").ApplyTo(document);

        Assert.Equal("""{"":{"x":1,"":3},"a":2}""", document!.ToJsonString());
        Assert.Equal("""{"":[0]}""", result!.ToJsonString());
    }

    [Fact]
    public void EscapedTokens_ReachKeysWithSlashAndTilde()
    {
        var result = JsonPatchDocument.Parse("""[{"op":"replace","path":"/a~1b","value":1},{"op":"replace","path":"/m~0n","value":2},{"op":"add","path":"/~01","value":3}]""").ApplyTo(JsonNode.Parse("""{"a/b":0,"m~n":0}"""));

        Assert.Equal("""{"a/b":1,"m~n":2,"~1":3}""", result!.ToJsonString());
    }

    [Fact]
    public void AddAndRemove_KeepMemberOrder()
    {
        var result = JsonPatchDocument.Parse("""[{"op":"add","path":"/b","value":9},{"op":"add","path":"/d","value":4},{"op":"replace","path":"/a","value":0}]""").ApplyTo(JsonNode.Parse("""{"a":1,"b":2,"c":3}"""));

        Assert.Equal("""{"a":0,"b":9,"c":3,"d":4}""", result!.ToJsonString());
    }

    [Fact]
    public void ApplyToUtf8_ProducesCompactMinimalEscapedUtf8()
    {
        var result = JsonPatchDocument.Parse("""[{"op":"add","path":"/t","value":"<é>\"\n"}]""").ApplyToUtf8("{ \"a\" : [ 1 , 2 ] }"u8);

        Assert.Equal("{\"a\":[1,2],\"t\":\"<é>\\\"\\n\"}"u8.ToArray(), result);
    }

    [Fact]
    public void ApplyToBufferWriter_Appends_AndWritesNothingOnFailure()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("prefix:"u8);

        JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":1}]""").ApplyTo("{}"u8, output);
        Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"add","path":"/b","value":1},{"op":"remove","path":"/zz"}]""").ApplyTo("{}"u8, output));

        Assert.Equal("prefix:{\"a\":1}", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"a\":1}}")]
    [InlineData("{} {}")]
    [InlineData("[1,]")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"a\":\"\\ud800\"}")]
    [InlineData("{\"\\ud800\":1}")]
    [InlineData("{\"x y\":-2.25,\"0\":{\"0\\ud8001\":\"x y\"}}")]
    [InlineData("// c\n{}")]
    public void ApplyToUtf8_MalformedDocument_MalformedDocumentError(string document)
    {
        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"add","path":"/x","value":1}]""").ApplyToUtf8(Encoding.UTF8.GetBytes(document)));

        Assert.Equal(JsonPatchError.MalformedDocument, error.Error);
        Assert.Equal(-1, error.OperationIndex);
    }

    [Fact]
    public void ApplyToUtf8_DocumentNotUtf8_MalformedDocumentError()
    {
        byte[] document = [.. "{\"a\":\""u8, 0xFF, .. "\"}"u8];

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"add","path":"/x","value":1}]""").ApplyToUtf8(document));

        Assert.Equal(JsonPatchError.MalformedDocument, error.Error);
    }

    [Fact]
    public void ApplyTo_EmptyPatch_ReturnsSameDocument()
    {
        var document = JsonNode.Parse("[1]");

        Assert.Same(document, JsonPatchDocument.Empty.ApplyTo(document));
        Assert.Equal("[1]"u8.ToArray(), JsonPatchDocument.Empty.ApplyToUtf8("[ 1 ]"u8));
    }

    /// <summary>Every node of the tree with its path, so instance identity can be checked after a failed apply.</summary>
    private static List<(string Path, JsonNode? Node)> Snapshot(JsonNode? root)
    {
        var nodes = new List<(string, JsonNode?)>();
        Visit(root, string.Empty);
        return nodes;

        void Visit(JsonNode? node, string path)
        {
            nodes.Add((path, node));
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, child) in obj)
                    {
                        Visit(child, path + "/" + JsonPointer.Escape(key));
                    }

                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        Visit(array[i], path + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }
    }

    private static void AssertSameNodes(List<(string Path, JsonNode? Node)> before, JsonNode? root, string because)
    {
        var after = Snapshot(root);
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Path, after[i].Path);
            Assert.True(ReferenceEquals(before[i].Node, after[i].Node), $"{because}: the node at '{before[i].Path}' was replaced by another instance.");
        }
    }
}
