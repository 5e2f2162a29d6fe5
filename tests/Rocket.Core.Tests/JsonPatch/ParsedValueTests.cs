using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// How the parser holds object and array values (read once into a tree, names from a cache) and looks pointers up by
/// their UTF-8 bytes: every path through it gives the same patch as the plain reading would.
/// </summary>
public sealed class ParsedValueTests
{
    [Fact]
    public void Parse_DuplicateMemberInALargeObject_Refused()
    {
        // Past the pairwise limit the check uses a set: a duplicate of the first member, twenty members later.
        var members = string.Join(',', Enumerable.Range(0, 20).Select(static i => $"\"m{i}\":{i}"));
        var json = """[{"op":"add","path":"/a","value":{""" + members + ""","m0":true}}]""";

        var e = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse(json));

        Assert.Equal(JsonPatchError.InvalidOperation, e.Error);
        Assert.Equal(0, e.OperationIndex);
        Assert.Contains("'m0'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LargeObjectWithoutDuplicates_KeepsEveryMemberInOrder()
    {
        var members = string.Join(',', Enumerable.Range(0, 40).Select(static i => $"\"m{i}\":{i}"));
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":{""" + members + "}}]");

        var added = patch.ApplyTo(new JsonObject())!["a"]!.AsObject();

        Assert.Equal(Enumerable.Range(0, 40).Select(static i => $"m{i}"), added.Select(static m => m.Key));
        Assert.Equal(39, added["m39"]!.GetValue<long>());
    }

    [Fact]
    public void Parse_DuplicateInAValueTheOperationIgnores_Accepted()
    {
        // A remove has no value: RFC 6902 ignores the member, duplicates inside it included.
        var patch = JsonPatchDocument.Parse("""[{"op":"remove","path":"/a","value":{"k":1,"k":2}}]""");

        Assert.False(patch[0].HasValue);
    }

    [Theory]
    [InlineData("/a\\u002fb", new[] { "a", "b" })] // an escaped '/' is a separator once unescaped
    [InlineData("/x\\u007e1y", new[] { "x/y" })] // an escaped '~' still starts an RFC 6901 escape
    [InlineData("/caf\\u00e9", new[] { "café" })]
    public void Parse_EscapedPointer_SameAsItsUnescapedText(string escapedPath, string[] segments)
    {
        var patch = JsonPatchDocument.Parse($$"""[{"op":"remove","path":"{{escapedPath}}"}]""");

        Assert.Equal(segments, patch[0].Path.Segments);
    }

    [Fact]
    public void Parse_SamePointerEscapedAndNot_BothCorrectWhicheverCameFirst()
    {
        var escapedFirst = JsonPatchDocument.Parse("""[{"op":"remove","path":"/p\u0071/r"},{"op":"remove","path":"/pq/r"}]""");
        var plainFirst = JsonPatchDocument.Parse("""[{"op":"remove","path":"/st/u"},{"op":"remove","path":"/s\u0074/u"}]""");

        Assert.All(escapedFirst, static o => Assert.Equal("/pq/r", o.Path.ToString()));
        Assert.All(plainFirst, static o => Assert.Equal("/st/u", o.Path.ToString()));
    }

    [Fact]
    public void Parse_InvalidPointer_RefusedEveryTime()
    {
        // Invalid pointers are never cached: the second parse must refuse it just the same.
        for (var i = 0; i < 2; i++)
        {
            var e = Assert.Throws<JsonPatchException>(() => JsonPatchDocument.Parse("""[{"op":"remove","path":"/a/~2"}]"""));
            Assert.Equal(JsonPatchError.InvalidPointer, e.Error);
        }
    }

    [Fact]
    public void Value_OfAnObject_IsTheCompactJsonAndStableAcrossReads()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value": { "b" : [ 1, 2.50, "\u00e9", null, true, {} ], "c" : { } } }]""");

        var first = patch[0].Value;
        var second = patch[0].Value;

        Assert.Equal("""{"b":[1,2.50,"é",null,true,{}],"c":{}}""", first.GetRawText());
        Assert.True(JsonElement.DeepEquals(first, second));
    }

    [Fact]
    public void Apply_ObjectValue_FreshNodesOnEveryApplication()
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"add","path":"/a","value":{"tags":["x"],"n":1}}]""");

        var one = patch.ApplyTo(new JsonObject())!;
        var two = patch.ApplyTo(new JsonObject())!;
        one["a"]!["tags"]!.AsArray().Add("y");

        Assert.Equal("""{"a":{"tags":["x","y"],"n":1}}""", one.ToJsonString());
        Assert.Equal("""{"a":{"tags":["x"],"n":1}}""", two.ToJsonString());
        Assert.Equal("""[{"op":"add","path":"/a","value":{"tags":["x"],"n":1}}]""", patch.ToString());
    }

    [Theory]
    [InlineData("""{"b":{"y":1.0,"x":[1,"1"]},"a":null}""", true)] // member order ignored, numbers by value
    [InlineData("""{"a":null,"b":{"x":[1,"1"],"y":1}}""", true)]
    [InlineData("""{"a":null,"b":{"x":[1,1],"y":1}}""", false)] // "1" is not 1
    [InlineData("""{"a":null,"b":{"x":["1",1],"y":1}}""", false)] // array order counts
    [InlineData("""{"a":null,"b":{"x":[1,"1"],"y":1,"z":0}}""", false)] // an extra member
    [InlineData("""{"a":null,"b":{"x":[1,"1"]}}""", false)] // a missing member
    [InlineData("""{"a":false,"b":{"x":[1,"1"],"y":1}}""", false)]
    public void Test_ObjectValue_ComparesAsJson(string document, bool equal)
    {
        var patch = JsonPatchDocument.Parse("""[{"op":"test","path":"","value":{"a":null,"b":{"x":[1,"1"],"y":1e0}}}]""");
        var node = JsonNode.Parse(document);

        if (equal)
        {
            Assert.Same(node, patch.ApplyTo(node));
        }
        else
        {
            var e = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(node));
            Assert.Equal(JsonPatchError.TestFailed, e.Error);
        }
    }

    [Fact]
    public void Parse_DeepValueUnderARaisedLimit_ReadableAppliedAndWritten()
    {
        const int Depth = 150;
        var value = new StringBuilder().Insert(0, "[", Depth).Append('1').Insert(Depth + 1, "]", Depth).ToString();
        var json = $$"""[{"op":"add","path":"/a","value":{{value}}}]""";

        var patch = JsonPatchDocument.Parse(Encoding.UTF8.GetBytes(json), new JsonPatchParseOptions { MaxDepth = Depth + 10 });

        Assert.Equal(value, patch[0].Value.GetRawText());
        Assert.Equal(json, patch.ToString());
        var applied = patch.ApplyTo(new JsonObject(), new JsonPatchApplyOptions { MaxDepth = Depth + 10 })!;
        Assert.Equal($$"""{"a":{{value}}}""", applied.ToJsonString(new JsonSerializerOptions { MaxDepth = Depth + 10 }));
    }

    [Fact]
    public void Parse_EscapedAndLongMemberNames_KeptExactly()
    {
        var longName = new string('n', 100); // longer than the name cache keeps
        var patch = JsonPatchDocument.Parse("[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"\\u0061b\":1,\"" + longName + "\":2,\"ab\\n\":3}}]");

        var added = patch.ApplyTo(new JsonObject())!["a"]!.AsObject();

        Assert.Equal(["ab", longName, "ab\n"], added.Select(static m => m.Key));
    }

    [Fact]
    public void Utf8KeyedCache_StopsGrowingWhenFull_AndKeepsWhatItHas()
    {
        var cache = new Utf8KeyedCache<string>(capacity: 2, maxKeyLength: 4);

        cache.TryAdd("a"u8, "A");
        cache.TryAdd("toolong"u8, "X");
        cache.TryAdd("b"u8, "B");
        cache.TryAdd("c"u8, "C");
        cache.TryAdd("a"u8, "other");

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGetValue("a"u8, out var a));
        Assert.Equal("A", a);
        Assert.True(cache.TryGetValue("b"u8, out _));
        Assert.False(cache.TryGetValue("c"u8, out _));
        Assert.False(cache.TryGetValue("toolong"u8, out _));
    }

    [Fact]
    public void Utf8KeyedCache_ManyKeysFromManyThreads_KeepsEachOnceWithItsOwnValue()
    {
        var cache = new Utf8KeyedCache<string>(capacity: 1000, maxKeyLength: 64);
        var keys = Enumerable.Range(0, 5000).Select(static i => $"/messages/{i}/text").ToArray();

        Parallel.For(0, 4, _ =>
        {
            foreach (var key in keys)
            {
                cache.TryAdd(Encoding.UTF8.GetBytes(key), key);
            }
        });

        var kept = 0;
        foreach (var key in keys)
        {
            if (cache.TryGetValue(Encoding.UTF8.GetBytes(key), out var value))
            {
                Assert.Equal(key, value);
                kept++;
            }
        }

        Assert.Equal(cache.Count, kept);
        Assert.InRange(kept, 900, 1000);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(17)] // past what the parser collects on the stack
    [InlineData(100)]
    public void Parse_ManyOperations_AllKeptInOrder(int count)
    {
        var json = "[" + string.Join(',', Enumerable.Range(0, count).Select(static i => $"{{\"op\":\"add\",\"path\":\"/k{i}\",\"value\":[{i},{{\"i\":{i}}}]}}")) + "]";

        var patch = JsonPatchDocument.Parse(json);
        var result = patch.ApplyTo(new JsonObject())!.AsObject();

        Assert.Equal(count, patch.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(static i => $"/k{i}"), patch.Select(static o => o.Path.ToString()));
        Assert.Equal(Enumerable.Range(0, count).Select(static i => $"k{i}"), result.Select(static m => m.Key));
        Assert.Equal(json, patch.ToString());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)] // past the undo entries kept on the stack
    [InlineData(40)]
    public void Apply_FailureAfterManyChanges_RestoresTheDocument(int changes)
    {
        var document = JsonNode.Parse("""{"list":[1,2,3],"o":{"x":1}}""")!;
        var before = document.ToJsonString();
        var operations = Enumerable.Range(0, changes).Select(static i => (i % 4) switch
        {
            0 => $$"""{"op":"add","path":"/list/0","value":{{i}}}""",
            1 => """{"op":"replace","path":"/o/x","value":{"deep":[""" + i + "]}}",
            2 => $$"""{"op":"add","path":"/n{{i}}","value":"v"}""",
            _ => """{"op":"remove","path":"/list/1"}""",
        });
        var patch = JsonPatchDocument.Parse("[" + string.Join(',', operations) + """,{"op":"test","path":"/o","value":"never"}]""");

        var e = Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));

        Assert.Equal(changes, e.OperationIndex);
        Assert.Equal(before, document.ToJsonString());
    }

    [Fact]
    public void Indexer_ReturnsTheSameOperationEveryTime()
    {
        var parsed = JsonPatchDocument.Parse("""[{"op":"remove","path":"/a"},{"op":"add","path":"/b","value":1}]""");
        var built = JsonPatchDocument.Create([JsonPatchOperation.Remove(JsonPointer.Parse("/x"))]);
        var original = built[0];

        Assert.Same(parsed[1], parsed[1]);
        Assert.Same(parsed[0], parsed.Take(1).Single());
        Assert.Same(original, built[0]);
        Assert.Equal("/x", original.Path.ToString());
    }

    [Theory]
    [InlineData("\"x\"", "\"x\"", true)]
    [InlineData("\"x\"", "\"y\"", false)]
    [InlineData("7", "7", true)]
    [InlineData("7", "7.0", true)] // numbers by value
    [InlineData("7", "8", false)]
    [InlineData("7", "\"7\"", false)]
    [InlineData("\"7\"", "7", false)]
    public void Test_AgainstAValueAnEarlierOperationSet_ComparesAsJson(string set, string expected, bool equal)
    {
        // The replaced value is a node made from a .NET string or integer, not one parsed from JSON.
        var patch = JsonPatchDocument.Parse($$"""[{"op":"replace","path":"/a","value":{{set}}},{"op":"test","path":"/a","value":{{expected}}}]""");
        var document = JsonNode.Parse("""{"a":null}""");

        if (equal)
        {
            Assert.Equal($$"""{"a":{{set}}}""", patch.ApplyTo(document)!.ToJsonString());
        }
        else
        {
            Assert.Equal(JsonPatchError.TestFailed, Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document)).Error);
            Assert.Equal("""{"a":null}""", document!.ToJsonString());
        }
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("1.5", false)]
    [InlineData("\"1\"", false)]
    public void Test_IntegerAgainstNodesMadeFromDotNetValues(string expected, bool equal)
    {
        var document = new JsonObject { ["i"] = 1, ["l"] = 1L, ["d"] = 1.0, ["m"] = 1m };
        foreach (var member in new[] { "i", "l", "d", "m" })
        {
            var patch = JsonPatchDocument.Parse($$"""[{"op":"test","path":"/{{member}}","value":{{expected}}}]""");
            if (equal)
            {
                Assert.Same(document, patch.ApplyTo(document));
            }
            else
            {
                Assert.Throws<JsonPatchException>(() => patch.ApplyTo(document));
            }
        }
    }
}
