using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

/// <summary>
/// The plain-form parser against the general one: whatever it accepts, the general parser accepts too and builds the
/// same operations (same pointers, same values, integers kept as integers exactly where the general parser keeps them).
/// Everything it refuses goes to the general parser, so errors need no separate check here.
/// </summary>
public sealed class PlainPatchParserTests
{
    private const int Iterations = 1000;

    private static readonly string[] PlainKeys = ["a", "id", "tags", "0", "01", "-", "x y", "é", "\U0001F680", ""];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "10", "123456789012345678", "-123456789012345678", "1234567890123456789",
        "-9223372036854775808", "9223372036854775807", "9223372036854775808", "1.5", "1e5", "1E+5", "-2.5e-3", "0.0",
        "1.0", "100000000000000000000000000000",
    ];

    private static readonly byte[] Noise = "  \t\n\r\"\\,:{}[]0-.eE+tfnx/~\u0001"u8.ToArray();

    public static TheoryData<string> PlainPatches =>
    [
        """[{"op":"test","path":"/messages/123/author","value":"ann"},{"op":"replace","path":"/messages/123/text","value":"hello, edited"},{"op":"replace","path":"/messages/123/edited","value":true},{"op":"replace","path":"/messages/124/tags/0","value":"answer"},{"op":"add","path":"/messages/125","value":{"id":125,"author":"cat","text":"new here","likes":0,"tags":[],"edited":false}},{"op":"copy","path":"/messages/125/tags","from":"/messages/123/tags"},{"op":"move","path":"/messages/126","from":"/messages/125"},{"op":"remove","path":"/messages/126"}]""",
        """ [ { "value" : [ 1 , -0 , 1.5e3 , null , { } , [ ] ] , "path" : "" , "op" : "add" } ] """,
        "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"\u00e9\U0001F680\"}]\r\n\t",
        """[{"op":"move","path":"/a","from":"/b","value":1}]""",
        """[{"op":"add","path":"/a","from":"/b","value":1}]""",
        """[{"op":"add","path":"/~0~1","value":-9223372036854775808}]""",
        """[]""",
        """[{"op":"add","path":"/a\u002fb~1c","value":{"a\nb":"\"quoted\" \\ \/ \b\f\n\r\t \u00e9\ud83d\ude80","\u0061":1}}]""",
        """[{"op":"copy","from":"/\u00e9","path":"/x\u0000y"}]""",
        """[{"op":"add","path":"/a","value":1,"comment":{"ignored":[1.5,"\n"]},"x":null}]""",
        "[{\"op\":\"test\",\"path\":\"/" + new string('a', 300) + "\\u0062\",\"value\":\"" + new string('b', 300) + "\\n\"}]",
    ];

    public static TheoryData<string> RefusedPatches =>
    [
        """[{"op":"add","path":"/a","value":{"x":1,"x":2}}]""",
        """[{"op":"remove","path":"/a","value":{"x":1,"x":2}}]""",
        """[{"op":"add","path":"/a","value":1,"op":"add"}]""",
        """[{"op":"add","path":"/a","value":1,"comment":{"x":1,"x":2}}]""",
        """[{"\u006fp":"add","path":"/a","value":1}]""",
        """[{"op":"add","path":"/a","value":01}]""",
        """[{"op":"add","path":"/a","value":1.}]""",
        """[{"op":"add","path":"/a","value":truex}]""",
        """[{"op":"add","path":"/a","value":1}]x""",
        """[{"op":"add","path":"/a","value":1},]""",
        """[{"op":"add","path":"/a"}]""",
        """[{"op":"move","path":"/a"}]""",
        """[{"op":"update","path":"/a","value":1}]""",
        """[{"op":"add","path":"a","value":1}]""",
        """[{"op":"add","path":"/a","value":1}/**/]""",
        """[{"op":"add","path":"/a","value":"\x"}]""",
        """[{"op":"add","path":"/a","value":"\u00g0"}]""",
        """[{"op":"add","path":"/a","value":"\u00"}]""",
        """[{"op":"add","path":"/a","value":"\"}]""",
        """[{"op":"\u0061dd","path":"/a","value":1}]""",
        "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"" + new string('x', 40) + "\u0001\"}]",
        "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"" + new string('x', 40) + "\\q\"}]",
        "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"" + new string('x', 40),
        """{"op":"add","path":"/a","value":1}""",
        "\uFEFF[]",
    ];

    [Theory]
    [MemberData(nameof(PlainPatches))]
    public void TryParse_PlainPatch_AcceptedAndSameAsGeneralParser(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);

        Assert.True(TryParsePlain(utf8, JsonPatchParseOptions.Default, out var plain));
        AssertSame(JsonPatchDocument.ParseWithReader(utf8, JsonPatchParseOptions.Default), plain, json);
    }

    [Theory]
    [MemberData(nameof(RefusedPatches))]
    public void TryParse_NotPlainOrInvalid_Refused(string json) =>
        Assert.False(TryParsePlain(Encoding.UTF8.GetBytes(json), JsonPatchParseOptions.Default, out _));

    [Fact]
    public void Parse_ManyOperations_SameAsGeneralParser()
    {
        var json = "[" + string.Join(',', Array.ConvertAll(new int[40], static _ => """{"op":"add","path":"/a","value":[1]}""")) + "]";
        var utf8 = Encoding.UTF8.GetBytes(json);

        Assert.True(TryParsePlain(utf8, JsonPatchParseOptions.Default, out var plain));
        AssertSame(JsonPatchDocument.ParseWithReader(utf8, JsonPatchParseOptions.Default), plain, json);
        Assert.False(TryParsePlain(utf8, new JsonPatchParseOptions { MaxOperations = 39 }, out _));
        Assert.True(TryParsePlain(utf8, new JsonPatchParseOptions { MaxOperations = 40 }, out _));
    }

    [Fact]
    public void TryParse_AroundTheDepthLimit_NeverAcceptsWhatTheReaderRefuses()
    {
        for (var maxDepth = 2; maxDepth <= 8; maxDepth++)
        {
            for (var nesting = 0; nesting <= 8; nesting++)
            {
                var json = """[{"op":"add","path":"/a","value":""" + new string('[', nesting) + new string(']', nesting) + "}]";
                var utf8 = Encoding.UTF8.GetBytes(json);
                var options = new JsonPatchParseOptions { MaxDepth = maxDepth };
                if (TryParsePlain(utf8, options, out var plain))
                {
                    AssertSame(JsonPatchDocument.ParseWithReader(utf8, options), plain, $"MaxDepth {maxDepth}: {json}");
                }
            }
        }

        // The default limit leaves real records on the fast path.
        var deep = """[{"op":"add","path":"/a","value":""" + new string('[', 40) + new string(']', 40) + "}]";
        Assert.True(TryParsePlain(Encoding.UTF8.GetBytes(deep), JsonPatchParseOptions.Default, out _));
    }

    [Fact]
    public void TryParse_RandomPatchesAndMutations_AcceptsOnlyValidJsonAndBuildsTheSame()
    {
        var accepted = 0;
        for (var seed = 0; seed < Iterations; seed++)
        {
            var random = new RandomJson(30_000 + seed);
            var original = seed % 2 == 0 ? PlainPatch(random) : RandomPatch(random);
            if (Check(original, $"seed {seed}"))
            {
                accepted++;
            }

            for (var mutation = 0; mutation < 20; mutation++)
            {
                if (Check(Mutate(original, random), $"seed {seed}, mutation {mutation}"))
                {
                    accepted++;
                }
            }
        }

        // Enough mutants stay plain and valid for the comparison to mean something.
        Assert.InRange(accepted, Iterations, int.MaxValue);

        static bool Check(byte[] utf8, string context)
        {
            if (!TryParsePlain(utf8, JsonPatchParseOptions.Default, out var plain))
            {
                return false;
            }

            var text = Encoding.UTF8.GetString(utf8);
            using (JsonDocument.Parse(utf8))
            {
                // Accepted text must be JSON by System.Text.Json's own reading.
            }

            AssertSame(JsonPatchDocument.ParseWithReader(utf8, JsonPatchParseOptions.Default), plain, $"{context}: {text}");
            return true;
        }
    }

    private static bool TryParsePlain(byte[] utf8, JsonPatchParseOptions options, out OperationData[] operations)
    {
        operations = [];
        if (!JsonElementChecks.IsUnicodeText(utf8))
        {
            // The parser is only ever called on text that passed this check.
            return false;
        }

        var buffer = default(OperationBuffer);
        try
        {
            if (!PlainPatchParser.TryParse(utf8, options, ref buffer))
            {
                return false;
            }

            operations = buffer.ToArray();
            return true;
        }
        finally
        {
            buffer.Dispose();
        }
    }

    private static void AssertSame(JsonPatchDocument general, OperationData[] plain, string context)
    {
        var expected = general.Operations;
        Assert.True(expected.Length == plain.Length, $"{context}: {expected.Length} operations, plain parser {plain.Length}");
        for (var i = 0; i < plain.Length; i++)
        {
            var (e, p) = (expected[i], plain[i]);
            Assert.True(e.Op == p.Op && e.Path == p.Path && e.From == p.From, $"{context}: operation {i} differs");
            Assert.True(e.Value.Kind == p.Value.Kind, $"{context}: operation {i} value kind {e.Value.Kind} vs {p.Value.Kind}");
            if (e.Value.Kind != PatchValueKind.None)
            {
                Assert.Equal(Describe(e.Value.CreateNode()), Describe(p.Value.CreateNode()));
            }
        }
    }

    /// <summary>The value's JSON with, for every scalar, the .NET type its node holds (an integer kept in place or an element).</summary>
    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject obj => "{" + string.Join(',', MapMembers(obj)) + "}",
        JsonArray array => "[" + string.Join(',', MapItems(array)) + "]",
        JsonValue value => (value.TryGetValue<long>(out _) ? "long:" : value.TryGetValue<string>(out _) ? "string:" : value.TryGetValue<JsonElement>(out _) ? "element:" : "other:") + value.ToJsonString(),
        _ => throw new InvalidOperationException(),
    };

    private static IEnumerable<string> MapMembers(JsonObject obj)
    {
        foreach (var (name, value) in obj)
        {
            yield return JsonSerializer.Serialize(name) + ":" + Describe(value);
        }
    }

    private static IEnumerable<string> MapItems(JsonArray array)
    {
        foreach (var item in array)
        {
            yield return Describe(item);
        }
    }

    /// <summary>A patch in the form writers produce, with sprinkled whitespace and the odd extra or repeated member.</summary>
    private static byte[] PlainPatch(RandomJson random)
    {
        var text = new StringBuilder("[");
        var count = random.Next(5);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(Space(random)).Append(',');
            }

            var members = new List<string>
            {
                "\"op\":" + Space(random) + "\"" + random.Pick(new[] { "add", "remove", "replace", "move", "copy", "test" }) + "\"",
                "\"path\":\"" + PlainPointer(random) + "\"",
            };
            if (random.Chance(0.5))
            {
                members.Add("\"from\":\"" + PlainPointer(random) + "\"");
            }

            if (random.Chance(0.8))
            {
                members.Add("\"value\":" + Space(random) + PlainValue(random, 3));
            }

            if (random.Chance(0.05))
            {
                members.Add(members[random.Next(members.Count)]);
            }

            if (random.Chance(0.05))
            {
                members.Add("\"" + random.Pick(PlainKeys) + "\":" + PlainValue(random, 2));
            }

            // Member order is free.
            for (var j = members.Count - 1; j > 0; j--)
            {
                var k = random.Next(j + 1);
                (members[j], members[k]) = (members[k], members[j]);
            }

            text.Append(Space(random)).Append('{').Append(string.Join(Space(random) + "," + Space(random), members)).Append('}');
        }

        return Encoding.UTF8.GetBytes(text.Append(Space(random)).Append(']').Append(Space(random)).ToString());
    }

    private static string PlainPointer(RandomJson random)
    {
        var pointer = new StringBuilder();
        var depth = random.Next(4);
        for (var i = 0; i < depth; i++)
        {
            pointer.Append('/').Append(random.Chance(0.1) ? "~0~1" : random.Pick(PlainKeys));
        }

        return pointer.ToString();
    }

    private static string PlainValue(RandomJson random, int depth)
    {
        switch (random.Next(depth > 0 ? 8 : 6))
        {
            case 0: return "null";
            case 1: return random.Chance(0.5) ? "true" : "false";
            case 2:
            case 3: return random.Pick(Numbers);
            case 4: return "\"" + random.Pick(PlainKeys) + "\"";
            case 5:
                // Past the bytes read one at a time, with or without escapes.
                return "\"" + new string('s', 20 + random.Next(40)) + random.Pick(new[] { "", "\\n", "\\u00e9", "\\\"", "\\\\" }) + "tail\"";
            case 6:
                var members = new List<string>();
                var count = random.Next(11);
                for (var i = 0; i < count; i++)
                {
                    members.Add("\"" + random.Pick(PlainKeys) + "\":" + Space(random) + PlainValue(random, depth - 1));
                }

                return "{" + Space(random) + string.Join(",", members) + "}";
            default:
                var items = new List<string>();
                var length = random.Next(11);
                for (var i = 0; i < length; i++)
                {
                    items.Add(PlainValue(random, depth - 1));
                }

                return "[" + string.Join("," + Space(random), items) + Space(random) + "]";
        }
    }

    private static string Space(RandomJson random) => random.Chance(0.9) ? string.Empty : random.Pick(new[] { " ", "\n", "\r\n\t", "  " });

    private static byte[] RandomPatch(RandomJson random)
    {
        var operations = new List<JsonPatchOperation>();
        var count = random.Next(5);
        for (var i = 0; i < count; i++)
        {
            operations.Add(random.Operation());
        }

        return JsonPatchDocument.Create(operations).ToUtf8Bytes();
    }

    /// <summary>One to three edits: a byte deleted, inserted, replaced, or a span repeated.</summary>
    private static byte[] Mutate(byte[] original, RandomJson random)
    {
        var bytes = new List<byte>(original);
        var edits = 1 + random.Next(3);
        for (var i = 0; i < edits; i++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(4))
            {
                case 0 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                case 1:
                    bytes.Insert(at, random.Pick(Noise));
                    break;
                case 2 when at < bytes.Count:
                    bytes[at] = random.Pick(Noise);
                    break;
                default:
                    var length = Math.Min(random.Next(12), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return bytes.ToArray();
    }
}
