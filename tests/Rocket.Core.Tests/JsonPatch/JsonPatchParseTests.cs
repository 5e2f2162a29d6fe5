using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>Parsing RFC 6902 patch documents: the six operations, member rules, and malformed documents.</summary>
public sealed class JsonPatchParseTests
{
    [Fact]
    public void Parse_AllSixOperations_ReadsEveryMember()
    {
        var patch = JsonPatchDocument.Parse("""
            [
              {"op":"add","path":"/a","value":{"x":[1,2]}},
              {"op":"remove","path":"/b/0"},
              {"op":"replace","path":"/c~1d","value":"e"},
              {"op":"move","from":"/f","path":"/g"},
              {"op":"copy","from":"/h","path":"/i/-"},
              {"op":"test","path":"","value":null}
            ]
            """);

        Assert.Equal(6, patch.Count);
        Assert.Equal(
            [JsonPatchOperationType.Add, JsonPatchOperationType.Remove, JsonPatchOperationType.Replace, JsonPatchOperationType.Move, JsonPatchOperationType.Copy, JsonPatchOperationType.Test],
            patch.Select(static o => o.Op));
        Assert.Equal(["/a", "/b/0", "/c~1d", "/g", "/i/-", ""], patch.Select(static o => o.Path.ToString()));
        Assert.Equal("/f", patch[3].From.ToString());
        Assert.Equal("/h", patch[4].From.ToString());
        Assert.Equal("""{"x":[1,2]}""", patch[0].Value.GetRawText());
        Assert.Equal("\"e\"", patch[2].Value.GetRawText());
        Assert.Equal(JsonValueKind.Null, patch[5].Value.ValueKind);
        Assert.Equal(JsonValueKind.Undefined, patch[1].Value.ValueKind);
        Assert.True(patch[5].HasValue);
        Assert.False(patch[1].HasValue);
        Assert.True(patch[3].HasFrom);
        Assert.False(patch[0].HasFrom);
    }

    [Fact]
    public void Parse_EmptyArray_IsEmptyPatch()
    {
        Assert.Empty(JsonPatchDocument.Parse("[]"u8));
        Assert.Same(JsonPatchDocument.Empty, JsonPatchDocument.Parse(" [ ] "));
    }

    [Fact]
    public void Parse_ValueNull_IsAValue()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":null}]""");

        Assert.Equal(JsonValueKind.Null, patch[0].Value.ValueKind);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("replace")]
    [InlineData("test")]
    public void Parse_MissingValue_InvalidOperation(string op)
    {
        AssertRefused($$"""[{"op":"add","path":"/x","value":1},{"op":"{{op}}","path":"/a"}]""", JsonPatchError.InvalidOperation, 1);
    }

    [Theory]
    [InlineData("""{"op":"update","path":"/a","value":1}""")]
    [InlineData("""{"op":"Add","path":"/a","value":1}""")]
    [InlineData("""{"op":"ADD","path":"/a","value":1}""")]
    [InlineData("""{"op":" add","path":"/a","value":1}""")]
    [InlineData("""{"op":"","path":"/a"}""")]
    [InlineData("""{"op":"merge","path":"/a","value":{}}""")]
    public void Parse_UnknownOp_InvalidOperation(string operation)
    {
        var error = AssertRefused($"[{{\"op\":\"test\",\"path\":\"\",\"value\":1}},{operation}]", JsonPatchError.InvalidOperation, 1);
        Assert.Contains("op", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LegacyUpdate_MessageSaysUseReplace()
    {
        var error = AssertRefused("""[{"op":"update","path":"/messages/1","value":{}}]""", JsonPatchError.InvalidOperation, 0);
        Assert.Contains("replace", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"path":"/a","value":1}""", JsonPatchError.InvalidOperation)] // no op
    [InlineData("""{"op":1,"path":"/a","value":1}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":null,"path":"/a","value":1}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":["add"],"path":"/a","value":1}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"add","value":1}""", JsonPatchError.InvalidOperation)] // no path
    [InlineData("""{"op":"add","path":1,"value":1}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"add","path":null,"value":1}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"remove","path":{}}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"move","path":"/a"}""", JsonPatchError.InvalidOperation)] // no from
    [InlineData("""{"op":"copy","path":"/a"}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"move","from":1,"path":"/a"}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"copy","from":null,"path":"/a"}""", JsonPatchError.InvalidOperation)]
    [InlineData("""{"op":"add","path":"a","value":1}""", JsonPatchError.InvalidPointer)]
    [InlineData("""{"op":"remove","path":"/a~2"}""", JsonPatchError.InvalidPointer)]
    [InlineData("""{"op":"move","from":"a","path":"/b"}""", JsonPatchError.InvalidPointer)]
    [InlineData("""{"op":"copy","from":"/a~","path":"/b"}""", JsonPatchError.InvalidPointer)]
    [InlineData("1", JsonPatchError.InvalidOperation)] // an operation that is not an object
    [InlineData("null", JsonPatchError.InvalidOperation)]
    [InlineData("[]", JsonPatchError.InvalidOperation)]
    [InlineData("\"add\"", JsonPatchError.InvalidOperation)]
    public void Parse_MissingOrMistypedMember_NamesOperationIndex(string operation, JsonPatchError expected)
    {
        AssertRefused($"[{{\"op\":\"remove\",\"path\":\"/x\"}},{{\"op\":\"remove\",\"path\":\"/y\"}},{operation}]", expected, 2);
    }

    [Theory]
    [InlineData("""{"op":"add","path":"/a","value":1,"op":"remove"}""")]
    [InlineData("""{"op":"add","path":"/a","path":"/b","value":1}""")]
    [InlineData("""{"op":"add","path":"/a","value":1,"value":2}""")]
    [InlineData("""{"op":"move","from":"/a","from":"/b","path":"/c"}""")]
    [InlineData("""{"op":"add","path":"/a","\u006fp":"add","value":1}""")] // an escaped name is the same name
    [InlineData("""{"op":"add","path":"/a","value":{"k":1,"k":2}}""")] // inside the value too
    [InlineData("""{"op":"add","path":"/a","value":[{"x":{"k":1,"\u006b":2}}]}""")]
    [InlineData("""{"op":"add","path":"/a","value":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10}}""")]
    public void Parse_DuplicateMember_InvalidOperation(string operation)
    {
        AssertRefused($"[{operation}]", JsonPatchError.InvalidOperation, 0);
    }

    [Fact]
    public void Parse_UnknownMembersAndFromOnAdd_Ignored()
    {
        // RFC 6902 section 4: members not defined for the operation are ignored (A.13's "value" on remove included).
        var patch = JsonPatchDocument.Parse("""[{"op":"remove","path":"/a","value":1,"from":"x~","comment":"c","comment":"d"},{"op":"add","from":"/z","path":"/b","value":2}]""");

        Assert.Equal(JsonValueKind.Undefined, patch[0].Value.ValueKind);
        Assert.True(patch[0].From.IsRoot);
        Assert.True(patch[1].From.IsRoot);
    }

    [Fact]
    public void Parse_MembersInAnyOrder_SameOperation()
    {
        var a = JsonPatchDocument.Parse("""[{"value":[1],"path":"/p","from":"/q","op":"add"}]""");
        var b = JsonPatchDocument.Parse("""[{"op":"add","path":"/p","value":[1]}]""");

        Assert.Equal(a[0], b[0]);
    }

    [Fact]
    public void Parse_EscapedStrings_Unescaped()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"\u0061dd","path":"\/a\u007e1b","value":"\u00e9"}]""");

        Assert.Equal(JsonPatchOperationType.Add, patch[0].Op);
        Assert.Equal(["a/b"], patch[0].Path.Segments);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("[")]
    [InlineData("[{\"op\":\"remove\",\"path\":\"/a\"}")]
    [InlineData("[{\"op\":\"remove\",\"path\":\"/a\"},]")]
    [InlineData("not json")]
    [InlineData("[] []")]
    [InlineData("[]x")]
    [InlineData("[{\"op\":\"remove\",\"path\":\"/a\"}] {")]
    [InlineData("[/*comment*/]")]
    [InlineData("[{'op':'remove','path':'/a'}]")]
    [InlineData("{}")]
    [InlineData("{\"op\":\"remove\",\"path\":\"/a\"}")]
    [InlineData("null")]
    [InlineData("\"[]\"")]
    [InlineData("42")]
    public void Parse_MalformedDocument_MalformedPatchWithIndexMinusOne(string json)
    {
        AssertRefused(json, JsonPatchError.MalformedPatch, -1);
    }

    [Fact]
    public void Parse_InvalidUtf8_MalformedPatch()
    {
        byte[] json = [.. "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\""u8, 0xC3, 0x28, .. "\"}]"u8];

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(json));

        Assert.Equal(JsonPatchError.MalformedPatch, error.Error);
        Assert.Equal(-1, error.OperationIndex);
    }

    [Theory]
    [InlineData("op")]
    [InlineData("path")]
    [InlineData("from")]
    public void Parse_InvalidUtf8InMember_OnlyJsonPatchException(string member)
    {
        // A byte sequence that is not UTF-8 inside a string the parser must decode.
        byte[] bad = [.. "\"/x"u8, 0xFF, .. "\""u8];
        byte[] op = member == "op" ? bad : "\"move\""u8.ToArray();
        byte[] path = member == "path" ? bad : "\"/a\""u8.ToArray();
        byte[] from = member == "from" ? bad : "\"/b\""u8.ToArray();
        byte[] json = [.. "[{\"op\":"u8, .. op, .. ",\"path\":"u8, .. path, .. ",\"from\":"u8, .. from, .. "}]"u8];

        var error = Record.Exception(() => JsonPatchDocument.Parse(json));

        Assert.IsType<JsonPatchException>(error);
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/\ud800","value":1}]""")]
    [InlineData("""[{"op":"\udc00","path":"/a","value":1}]""")]
    [InlineData("""[{"op":"add","path":"/a","value":"x\ud800"}]""")]
    [InlineData("""[{"op":"add","path":"/a","value":"\ud800\u0041"}]""")]
    [InlineData("""[{"op":"add","path":"/a","value":{"\udfff":1}}]""")]
    [InlineData("""[{"op":"move","from":"/\ud83d","path":"/a"}]""")]
    public void Parse_EscapedUnpairedSurrogate_MalformedPatch(string json)
    {
        // RFC 8259 section 8.2: such a string is not Unicode text; System.Text.Json cannot read it back as a string.
        AssertRefused(json, JsonPatchError.MalformedPatch, -1);
    }

    [Fact]
    public void Parse_EscapedSurrogatePairAndEscapedBackslash_Accepted()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/\ud83d\ude80","value":"\\ud800 \\\u0041"}]""");

        Assert.Equal("\U0001F680", patch[0].Path.LastSegment);
        Assert.Equal("\\ud800 \\A", patch[0].Value.GetString());
    }

    [Fact]
    public void ParseString_UnpairedSurrogateChar_MalformedPatchNotReplaced()
    {
        // Encoding.UTF8 would quietly make it U+FFFD, a different path.
        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("[{\"op\":\"add\",\"path\":\"/a\ud800\",\"value\":1}]"));

        Assert.Equal(JsonPatchError.MalformedPatch, error.Error);
        Assert.Equal(-1, error.OperationIndex);
    }

    [Fact]
    public void Parse_MaxDepth_CountsArrayAndOperationAsTwoLevels()
    {
        var options = new JsonPatchParseOptions { MaxDepth = 4 };

        // Depth 4: the patch array, the operation object, and two levels of value.
        Assert.Single(JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":[[1]]}]"""u8, options));

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":[[[1]]]}]"""u8, options));
        Assert.Equal(JsonPatchError.MalformedPatch, error.Error);
        Assert.Equal(-1, error.OperationIndex);
    }

    [Fact]
    public void Parse_DefaultMaxDepth_RefusesHostileNesting()
    {
        var json = "[{\"op\":\"add\",\"path\":\"/a\",\"value\":" + new string('[', 100) + new string(']', 100) + "}]";

        AssertRefused(json, JsonPatchError.MalformedPatch, -1);
        Assert.Equal(64, JsonPatchParseOptions.Default.MaxDepth);
    }

    [Fact]
    public void Parse_MaxOperations_LimitInclusive()
    {
        var options = new JsonPatchParseOptions { MaxOperations = 3 };
        const string Op = "{\"op\":\"remove\",\"path\":\"/a\"}";

        Assert.Equal(3, JsonPatchDocument.Parse(Encoding.UTF8.GetBytes($"[{Op},{Op},{Op}]"), options).Count);

        var error = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(Encoding.UTF8.GetBytes($"[{Op},{Op},{Op},{Op}]"), options));
        Assert.Equal(JsonPatchError.MalformedPatch, error.Error);
        Assert.Equal(-1, error.OperationIndex);
    }

    [Fact]
    public void ParseOptions_OutOfRangeLimits_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new JsonPatchParseOptions { MaxDepth = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new JsonPatchParseOptions { MaxOperations = 0 });
    }

    [Fact]
    public void Parse_StringAndUtf8Overloads_Agree()
    {
        const string Json = """[{"op":"add","path":"/é","value":"ü"},{"op":"copy","from":"/é","path":"/x"}]""";

        Assert.Equal(JsonPatchDocument.Parse(Json), JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(Json)));
    }

    [Fact]
    public void Operation_Equality_ComparesValuesAsJson()
    {
        var one = JsonPatchOperation.Test(JsonPointer.Parse("/a"), Element("""{"x":1,"y":[1,2]}"""));
        var same = JsonPatchOperation.Test(JsonPointer.Parse("/a"), Element("""{"y":[1,2],"x":1}"""));
        var otherValue = JsonPatchOperation.Test(JsonPointer.Parse("/a"), Element("""{"x":1,"y":[2,1]}"""));
        var otherOp = JsonPatchOperation.Add(JsonPointer.Parse("/a"), Element("""{"x":1,"y":[1,2]}"""));

        Assert.Equal(one, same);
        Assert.NotEqual(one, otherValue);
        Assert.NotEqual(one, otherOp);
        Assert.NotEqual(JsonPatchOperation.Move(JsonPointer.Parse("/a"), JsonPointer.Parse("/b")), JsonPatchOperation.Copy(JsonPointer.Parse("/a"), JsonPointer.Parse("/b")));
        Assert.Equal(JsonPatchOperation.Remove(JsonPointer.Parse("/a")), JsonPatchDocument.Parse("""[{"op":"remove","path":"/a"}]""")[0]);
    }

    [Theory]
    [InlineData("1e99999999999", "1e99999999999", true)]
    [InlineData("1e99999999999", "10e99999999998", true)]
    [InlineData("-922337203681e99954775809", "1", false)]
    [InlineData("{\"n\":[1e99999999999]}", "{\"n\":[1e99999999998]}", false)]
    public void Operation_EqualityOfNumbersWithHugeExponents_ByValueWithoutThrowing(string left, string right, bool equal)
    {
        // JsonElement.DeepEquals throws ArgumentOutOfRangeException for an exponent past int's range, which JSON allows.
        var one = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/n","value":{{left}}}]""")[0];
        var other = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/n","value":{{right}}}]""")[0];

        Assert.Equal(equal, one.Equals(other));
        Assert.Equal(equal, other.Equals(one));
    }

    [Fact]
    public void Operation_FactoryWithUndefinedValue_Throws()
    {
        Assert.Throws<ArgumentException>(() => JsonPatchOperation.Add(JsonPointer.Root, default));
    }

    private static JsonElement Element(string json) => JsonElement.Parse(json);

    private static JsonPatchException AssertRefused(string json, JsonPatchError error, int operationIndex)
    {
        // Both overloads; and only JsonPatchException may come out.
        var fromString = Record.Exception(() => JsonPatchDocument.Parse(json));
        var fromUtf8 = Record.Exception(() => JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(json)));

        var exception = Assert.IsType<JsonPatchException>(fromString);
        Assert.IsType<JsonPatchException>(fromUtf8);
        Assert.Equal(error, exception.Error);
        Assert.Equal(operationIndex, exception.OperationIndex);
        Assert.Equal(operationIndex, ((JsonPatchException)fromUtf8!).OperationIndex);
        Assert.False(string.IsNullOrWhiteSpace(exception.Message));
        return exception;
    }
}
