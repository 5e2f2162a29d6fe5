using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using Rocket.JsonPatch;

namespace Rocket.Core.Tests.JsonPatch;

public sealed class StrictJsonTests
{
    // What RecordChange parsed with before StrictJson: the oracle the differential test compares with.
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    [Theory]
    [InlineData("""{"a":1,"a":2}""", "a")]
    [InlineData("""{"a":1,"\u0061":2}""", "a")]
    [InlineData("""{"\u00e9":1,"é":2}""", "é")]
    [InlineData("""{"b":1,"a":1,"a":2,"b":2}""", "a")]
    [InlineData("""[{"a":1},{"x":{"c":1,"c":2}}]""", "c")]
    public void FindProblem_Duplicate_NamesIt(string json, string name) =>
        Assert.Equal($"it has the member name '{name}' twice in one object", StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void FindProblem_DuplicatesInLargeObject_NamesFirstInDocumentOrder()
    {
        // Past the pairwise limit names are sorted by hash, yet the name reported is the one the pairwise check reports.
        var names = Enumerable.Range(0, 40).Select(static i => $"k{i}").Concat(["k30", "k5"]);
        var json = "{" + string.Join(",", names.Select(static n => $"\"{n}\":0")) + "}";

        Assert.Equal("it has the member name 'k30' twice in one object", StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2""")]
    [InlineData("""{"a":1,"a":2} x""")]
    [InlineData("""[{"a":1,"a":2},]""")]
    public void FindProblem_DuplicateAndSyntaxError_ReportsTheSyntaxErrorAsJsonDocumentDoes(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);

        Assert.Equal(Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(utf8, DocumentOptions)).Message, StrictJson.FindProblem(utf8));
    }

    [Theory]
    [InlineData("""{"\ud800":1}""")]
    [InlineData("""{"\udc00":1,"\udc00":2}""")]
    [InlineData("""{"a":{"\ud800x":1},"b":2}""")]
    public void FindProblem_NameNotUnicode_LeftToIsUnicodeText(string json)
    {
        // JsonDocument threw InvalidOperationException unescaping such a name, which escaped RecordChange unrefused.
        var utf8 = Encoding.UTF8.GetBytes(json);

        Assert.Null(StrictJson.FindProblem(utf8));
        Assert.False(JsonElementChecks.IsUnicodeText(utf8));
    }

    [Theory]
    [InlineData("""{"\u0078":{"\u0079":1},"\u0079":2}""", true)]
    [InlineData("""{"\u0078":{"\u0079":1},"\u0078":2}""", false)]
    [InlineData("""{"\u0078":{"\u0079":{"\u007a":1},"\u007a":2},"\u007a":{"\u0078":3},"\u0079":4}""", true)]
    [InlineData("""{"\u0078":{"\u0079":{"\u007a":1},"\u007a":2},"\u007a":{"\u0078":3},"\u0078":4}""", false)]
    public void FindProblem_EscapedNamesAroundNestedObjects_ComparedWithTheirOwnObject(string json, bool accepted) =>
        Assert.Equal(accepted, StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)) is null);

    [Fact]
    public void FindProblem_ManyNamesOpenAtOnce_ComparedWithTheirOwnObject()
    {
        // More names open than the stack holds: the outer object's names move to a pooled array mid-way, the inner
        // object's names follow them, and the outer object goes on after the inner one closes.
        var members = Enumerable.Range(0, 40).Select(static i => $"\"k{i}\":0").ToList();
        var escaped = Enumerable.Range(0, 40).Select(static i => $"\"\\u006b{i}\":0").ToList();
        string Record(string tail) => "{" + string.Join(",", members) + ",\"in\":{" + string.Join(",", escaped) + "}" + tail + "}";

        Assert.Null(StrictJson.FindProblem(Encoding.UTF8.GetBytes(Record(",\"k40\":0,\"\\u006b41\":0"))));
        Assert.NotNull(StrictJson.FindProblem(Encoding.UTF8.GetBytes(Record(",\"k40\":0,\"\\u006b0\":0"))));
        Assert.NotNull(StrictJson.FindProblem(Encoding.UTF8.GetBytes(Record(",\"in\":0"))));
    }

    [Fact]
    public void FindProblem_LongEscapedNames_Compared()
    {
        // Longer than the first scratch buffer, so it grows while holding earlier names.
        var name = string.Concat(Enumerable.Repeat("\\u00e9", 500));
        var json = $"{{\"\\u0061\":0,\"{name}\":1,\"{name}x\":2,\"{name}\":3}}";

        Assert.Equal($"it has the member name '{new string('é', 500)}' twice in one object", StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void FindProblem_RandomText_RefusesWhatJsonDocumentRefuses()
    {
        var random = new Random(20_260_101);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 20_000; i++)
        {
            var utf8 = Mutate(random, Encoding.UTF8.GetBytes(RandomText(random)));
            var text = Encoding.UTF8.GetString(utf8);
            var isUnicode = JsonElementChecks.IsUnicodeText(utf8);
            var problem = StrictJson.FindProblem(utf8);
            var (verdict, message) = Oracle(utf8);
            counts[verdict] = counts.GetValueOrDefault(verdict) + 1;

            // The reader's message, word for word, whenever the syntax is wrong.
            Assert.True((verdict == "syntax") == (problem is not null && !IsDuplicate(problem)), $"{verdict} vs {problem}: {text}");
            if (verdict == "syntax")
            {
                Assert.Equal(message, problem);
            }
            else if (isUnicode)
            {
                // In Unicode text every name has one unescaped form, and the verdicts agree exactly.
                Assert.True((verdict == "duplicate") == (problem is not null), $"{verdict} vs {problem}: {text}");
            }
        }

        // The generator reaches every verdict often enough for the comparison to mean something.
        Assert.All(new[] { "ok", "syntax", "duplicate", "not-unicode" }, v => Assert.True(counts.GetValueOrDefault(v) > 200, $"{v}: {counts.GetValueOrDefault(v)}"));
    }

    private static bool IsDuplicate(string problem) => problem.StartsWith("it has the member name '", StringComparison.Ordinal);

    private static (string Verdict, string? Message) Oracle(byte[] utf8)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8, DocumentOptions);
            return ("ok", null);
        }
        catch (JsonException e) when (e.GetType() == typeof(JsonException))
        {
            // The reader's errors are a subclass; the duplicate check throws JsonException itself.
            return ("duplicate", e.Message);
        }
        catch (JsonException e)
        {
            return ("syntax", e.Message);
        }
        catch (InvalidOperationException)
        {
            return ("not-unicode", null);
        }
    }

    // Names repeat often, in escaped and plain spellings, so duplicates come both ways; a few are not Unicode text.
    private static readonly string[] Names =
        ["a", "\\u0061", "b", "A", "é", "\\u00e9", "\\u00E9", "\\\\", "\\u005c", "\\/", "/", "\\ud83d\\ude80", "🚀", "", "a b", "\\ud800"];

    private static readonly string[] Scalars = ["0", "-1.5e3", "true", "false", "null", "\"\"", "\"a\"", "\"\\u0061\\n\"", "\"\\udc00\""];

    private static readonly string[] Spaces = ["", "", "", " ", "\n", "\t "];

    private static string RandomText(Random random)
    {
        var text = new StringBuilder();

        // Now and then a deep nest around the depth limit, of arrays and objects mixed.
        var nest = random.Next(20) == 0 ? random.Next(StrictJson.MaxDepth - 2, StrictJson.MaxDepth + 1) : 0;
        var objects = new bool[nest];
        for (var i = 0; i < nest; i++)
        {
            objects[i] = random.Next(2) == 0;
            text.Append(objects[i] ? "{\"n\":" : "[");
        }

        Value(random, text, depth: 3);
        for (var i = nest - 1; i >= 0; i--)
        {
            text.Append(objects[i] ? '}' : ']');
        }

        return text.ToString();
    }

    private static void Value(Random random, StringBuilder text, int depth)
    {
        text.Append(Spaces[random.Next(Spaces.Length)]);
        switch (depth > 0 ? random.Next(4) : 0)
        {
            case 0:
                text.Append(Scalars[random.Next(Scalars.Length)]);
                break;
            case 1:
                text.Append('[');
                var items = random.Next(4);
                for (var i = 0; i < items; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    Value(random, text, depth - 1);
                }

                text.Append(']');
                break;
            default:
                text.Append('{');
                // Mostly small objects, compared pairwise; now and then one past the pairwise limit.
                var large = random.Next(8) == 0;
                var members = large ? random.Next(17, 60) : random.Next(5);
                for (var i = 0; i < members; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    var name = large && random.Next(members) != 0 ? $"k{i}" : Names[random.Next(Names.Length)];
                    text.Append(Spaces[random.Next(Spaces.Length)]).Append('"').Append(name).Append("\":");
                    Value(random, text, depth - 1);
                }

                text.Append('}');
                break;
        }

        text.Append(Spaces[random.Next(Spaces.Length)]);
    }

    // Half the texts get one small edit, which mostly breaks the syntax, sometimes in ways only the strict options catch.
    private static byte[] Mutate(Random random, byte[] utf8)
    {
        if (random.Next(2) == 0 || utf8.Length == 0)
        {
            return utf8;
        }

        var bytes = utf8.ToList();
        var at = random.Next(bytes.Count);
        switch (random.Next(4))
        {
            case 0:
                bytes.RemoveAt(at);
                break;
            case 1:
                bytes.Insert(at, "{}[],:\" \\/*a1"u8[random.Next(13)]);
                break;
            case 2:
                bytes.Insert(at, random.Next(2) == 0 ? (byte)0xFF : (byte)0xC3);
                break;
            default:
                bytes.AddRange(random.Next(2) == 0 ? " 1"u8.ToArray() : "//"u8.ToArray());
                break;
        }

        return bytes.ToArray();
    }
}
